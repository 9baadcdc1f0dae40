/* ballot.c - reading the chosen options from a JSON or form body.
 *
 * A repeated option counts once. More distinct options than any poll can
 * have is too_many_options. Must not look at the poll itself. */
#include "ballot.h"

#include <event2/http.h>
#include <sys/queue.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* Adds one option; 0 or -1 with *code. */
static int ballot_add(struct ballot *b, const char *s, size_t len, const char **code)
{
    if (!text_is_slug(s, len)) {
        *code = "invalid_option";
        return -1;
    }
    for (size_t i = 0; i < b->n; i++) {
        if (strlen(b->options[i]) == len && memcmp(b->options[i], s, len) == 0)
            return 0;
    }
    if (b->n >= POLL_OPTIONS_MAX) {
        *code = "too_many_options";
        return -1;
    }
    memcpy(b->options[b->n], s, len);
    b->options[b->n][len] = '\0';
    b->ptrs[b->n] = b->options[b->n];
    b->n++;
    return 0;
}

static int ballot_parse_json(struct ballot *b, const char *body, size_t len, const char **code)
{
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, NULL);
    int rc = -1;
    *code = "invalid_json";
    if (!json_is_object(root))
        goto done;
    json_t *opts = json_object_get(root, "options");
    if (opts == NULL || (json_is_array(opts) && json_array_size(opts) == 0)) {
        *code = "no_option";
        goto done;
    }
    if (!json_is_array(opts))
        goto done;
    size_t i;
    json_t *o;
    json_array_foreach(opts, i, o)
    {
        if (!json_is_string(o)) {
            *code = "invalid_json";
            goto done;
        }
        if (ballot_add(b, json_string_value(o), json_string_length(o), code) != 0)
            goto done;
    }
    rc = 0;
done:
    json_decref(root);
    return rc;
}

static int ballot_parse_form(struct ballot *b, const char *body, size_t len, const char **code)
{
    struct evkeyvalq fields;
    int rc = -1;
    char *copy = malloc(len + 1);
    if (!copy)
        abort();
    memcpy(copy, body, len);
    copy[len] = '\0';
    TAILQ_INIT(&fields);
    if (memchr(body, '\0', len) != NULL || evhttp_parse_query_str(copy, &fields) != 0) {
        *code = "invalid_option";
        goto done;
    }
    struct evkeyval *kv;
    TAILQ_FOREACH(kv, &fields, next)
    {
        if (strcmp(kv->key, "option") != 0 && strcmp(kv->key, "options") != 0)
            continue;
        if (ballot_add(b, kv->value, strlen(kv->value), code) != 0)
            goto done;
    }
    if (b->n == 0) {
        *code = "no_option";
        goto done;
    }
    rc = 0;
done:
    evhttp_clear_headers(&fields);
    free(copy);
    return rc;
}

int ballot_parse(struct ballot *b, enum ballot_format format, const char *body, size_t len,
                 const char **code)
{
    b->n = 0;
    if (format == BALLOT_JSON)
        return ballot_parse_json(b, body, len, code);
    return ballot_parse_form(b, body, len, code);
}
