/* fuzz_form.c - form bodies and query strings (src/http/form.c).
 *
 * The input is a query string. Properties: form_each hands over NUL-terminated
 * keys and values whose lengths are right (no read past them), no longer than
 * the raw field; form_params answers 0 or -1, each parameter's value is
 * NUL-terminated within FORM_VALUE_MAX, bad exactly when it holds a NUL,
 * truncated exactly when it is too long, and equal to what form_each saw
 * first for that name. */
#include "form.h"
#include "fuzz.h"

struct fuzz_walk {
    size_t fields;
    size_t raw_len;
    const char *names[3];
    int seen[3];
    size_t len[3];
    int nul[3];
    char first[3][FORM_VALUE_MAX];
};

static int fuzz_field(void *arg, const char *key, size_t key_len, const char *value,
                      size_t value_len)
{
    struct fuzz_walk *w = arg;
    FUZZ_CHECK(key[key_len] == '\0' && value[value_len] == '\0');
    FUZZ_CHECK(key_len + value_len <= w->raw_len);
    w->fields++;
    for (size_t i = 0; i < 3; i++) {
        if (w->seen[i] || strlen(w->names[i]) != key_len || memcmp(key, w->names[i], key_len))
            continue;
        w->seen[i] = 1;
        w->len[i] = value_len;
        w->nul[i] = memchr(value, '\0', value_len) != NULL;
        size_t n = value_len < FORM_VALUE_MAX - 1 ? value_len : FORM_VALUE_MAX - 1;
        memcpy(w->first[i], value, n);
        w->first[i][n] = '\0';
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* form_each over exactly size bytes (a body is not NUL-terminated for it). */
    char *raw = malloc(size ? size : 1);
    if (!raw)
        abort();
    if (size)
        memcpy(raw, data, size);
    struct fuzz_walk w = {0, size, {"site", "lang", "from"}, {0}, {0}, {0}, {{0}}};
    FUZZ_CHECK(form_each(raw, size, fuzz_field, &w) == 0);
    free(raw);

    /* form_params over a NUL-terminated query: it stops at the first NUL. */
    char *query = fuzz_strndup(data, size);
    struct form_param params[3] = {{.name = "site"}, {.name = "lang"}, {.name = "from"}};
    int rc = form_params(query, params, 3);
    FUZZ_CHECK(rc == 0 || rc == -1);
    if (strlen(query) == size) {
        for (size_t i = 0; i < 3; i++) {
            const struct form_param *p = &params[i];
            FUZZ_CHECK(p->present == w.seen[i]);
            if (!p->present)
                continue;
            FUZZ_CHECK(strlen(p->value) < FORM_VALUE_MAX);
            FUZZ_CHECK(p->truncated == (w.len[i] >= FORM_VALUE_MAX));
            FUZZ_CHECK(p->bad == w.nul[i]);
            FUZZ_CHECK(p->bad || strcmp(p->value, w.first[i]) == 0);
        }
    }
    free(query);
    FUZZ_CHECK(form_params(NULL, params, 3) == 0 && !params[0].present);
    return 0;
}
