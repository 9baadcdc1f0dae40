/* form.c - walking form fields with libevent's percent-decoder.
 *
 * Each field is copied, then decoded by evhttp_uridecode (which reports the
 * decoded length); nothing is kept after the call. */
#include "form.h"

#include <event2/http.h>
#include <stdlib.h>
#include <string.h>

/* A decoded copy of s[0..len) ('+' as a space), its length in *out_len; the
 * caller frees it. */
static char *form_decode(const char *s, size_t len, size_t *out_len)
{
    char *raw = malloc(len + 1);
    if (!raw)
        abort();
    memcpy(raw, s, len);
    raw[len] = '\0';
    char *decoded = evhttp_uridecode(raw, 1, out_len);
    free(raw);
    if (!decoded)
        abort();
    return decoded;
}

int form_each(const char *s, size_t len, form_field_fn *fn, void *arg)
{
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && s[i] != '&')
            continue;
        size_t n = i - start;
        const char *field = s + start;
        start = i + 1;
        if (n == 0)
            continue;
        const char *eq = memchr(field, '=', n);
        size_t key_raw = eq ? (size_t)(eq - field) : n;
        size_t key_len, value_len;
        char *key = form_decode(field, key_raw, &key_len);
        char *value = form_decode(eq ? eq + 1 : "", eq ? n - key_raw - 1 : 0, &value_len);
        int rc = fn(arg, key, key_len, value, value_len);
        free(key);
        free(value);
        if (rc != 0)
            return rc;
    }
    return 0;
}

struct form_params_walk {
    struct form_param *params;
    size_t n;
};

/* 1 when a field of s[0..len) has no '=' or an empty name. */
static int form_malformed(const char *s, size_t len)
{
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && s[i] != '&')
            continue;
        const char *field = s + start;
        size_t n = i - start;
        start = i + 1;
        if (n == 0)
            continue;
        const char *eq = memchr(field, '=', n);
        if (!eq || eq == field)
            return 1;
    }
    return 0;
}

static int form_params_field(void *arg, const char *key, size_t key_len, const char *value,
                             size_t value_len)
{
    struct form_params_walk *w = arg;
    for (size_t i = 0; i < w->n; i++) {
        struct form_param *p = &w->params[i];
        if (p->present || strlen(p->name) != key_len || memcmp(p->name, key, key_len) != 0)
            continue;
        p->present = 1;
        p->bad = strlen(value) != value_len;
        p->truncated = value_len >= FORM_VALUE_MAX;
        size_t n = p->truncated ? FORM_VALUE_MAX - 1 : value_len;
        memcpy(p->value, value, n);
        p->value[n] = '\0';
    }
    return 0;
}

int form_params(const char *query, struct form_param *params, size_t n)
{
    struct form_params_walk w = {params, n};
    for (size_t i = 0; i < n; i++) {
        params[i].present = params[i].bad = params[i].truncated = 0;
        params[i].value[0] = '\0';
    }
    if (!query)
        return 0;
    form_each(query, strlen(query), form_params_field, &w);
    return form_malformed(query, strlen(query)) ? -1 : 0;
}
