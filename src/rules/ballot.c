/* ballot.c - reading the chosen options from a JSON or form body.
 *
 * A repeated option counts once. More distinct options than any poll can
 * have is too_many_options. An option is checked with its whole length in
 * both forms, so an escaped NUL ("tin-tuc\u0000", "tin-tuc%00") makes it
 * invalid_option rather than "tin-tuc". Must not look at the poll itself. */
#include "ballot.h"

#include <jansson.h>
#include <string.h>

#include "form.h"

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

struct ballot_form {
    struct ballot *b;
    const char **code;
};

static int ballot_form_field(void *arg, const char *key, size_t key_len, const char *value,
                             size_t value_len)
{
    struct ballot_form *f = arg;
    if (!((key_len == 6 && memcmp(key, "option", 6) == 0) ||
          (key_len == 7 && memcmp(key, "options", 7) == 0)))
        return 0;
    /* The decoded length: "tin-tuc%00" is 8 bytes, not the slug "tin-tuc". */
    return ballot_add(f->b, value, value_len, f->code);
}

static int ballot_parse_form(struct ballot *b, const char *body, size_t len, const char **code)
{
    struct ballot_form f = {b, code};
    if (memchr(body, '\0', len) != NULL) {
        *code = "invalid_option";
        return -1;
    }
    if (form_each(body, len, ballot_form_field, &f) != 0)
        return -1;
    if (b->n == 0) {
        *code = "no_option";
        return -1;
    }
    return 0;
}

int ballot_parse(struct ballot *b, enum ballot_format format, const char *body, size_t len,
                 const char **code)
{
    b->n = 0;
    if (format == BALLOT_JSON)
        return ballot_parse_json(b, body, len, code);
    return ballot_parse_form(b, body, len, code);
}
