/* fuzz_ballot.c - the vote body (src/rules/ballot.c: JSON and form).
 *
 * The first byte chooses the format (even: JSON, odd: form), the rest is the
 * body, handed over in a buffer of exactly its size (the service's body has
 * a NUL after it; ballot_parse must not need one). Properties: the answer is
 * 0 with 1 to 50 distinct slugs, or -1 with one of the documented codes; a
 * ballot that parsed, written back as JSON and as a form, parses to the same
 * options. */
#include <jansson.h>

#include "ballot.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    json_object_seed(1);
    return 0;
}

static void fuzz_same(const struct ballot *a, const struct ballot *b)
{
    FUZZ_CHECK(a->n == b->n);
    for (size_t i = 0; i < a->n; i++)
        FUZZ_CHECK(strcmp(a->options[i], b->options[i]) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    enum ballot_format format = data[0] & 1 ? BALLOT_FORM : BALLOT_JSON;
    size_t len = size - 1;
    char *body = malloc(len ? len : 1);
    if (!body)
        abort();
    if (len)
        memcpy(body, data + 1, len);
    struct ballot b;
    const char *code = NULL;
    int rc = ballot_parse(&b, format, body, len, &code);
    free(body);
    if (rc != 0) {
        FUZZ_CHECK(rc == -1 && code != NULL);
        FUZZ_CHECK(strcmp(code, "invalid_json") == 0 || strcmp(code, "no_option") == 0 ||
                   strcmp(code, "invalid_option") == 0 || strcmp(code, "too_many_options") == 0);
        FUZZ_CHECK(format == BALLOT_JSON || strcmp(code, "invalid_json") != 0);
        return 0;
    }
    FUZZ_CHECK(b.n >= 1 && b.n <= POLL_OPTIONS_MAX);
    for (size_t i = 0; i < b.n; i++) {
        FUZZ_CHECK(b.ptrs[i] == b.options[i]);
        FUZZ_CHECK(text_is_slug(b.options[i], strlen(b.options[i])));
        for (size_t k = 0; k < i; k++)
            FUZZ_CHECK(strcmp(b.options[i], b.options[k]) != 0);
    }

    /* Written back both ways, the same options in the same order. */
    json_t *arr = json_array();
    char form[POLL_OPTIONS_MAX * (TEXT_SLUG_MAX + 8)];
    size_t off = 0;
    for (size_t i = 0; i < b.n; i++) {
        json_array_append_new(arr, json_string(b.options[i]));
        off += (size_t)snprintf(form + off, sizeof(form) - off, "%soption=%s", i ? "&" : "",
                                b.options[i]);
    }
    json_t *obj = json_pack("{so}", "options", arr);
    char *text = json_dumps(obj, JSON_COMPACT);
    json_decref(obj);
    struct ballot again;
    FUZZ_CHECK(ballot_parse(&again, BALLOT_JSON, text, strlen(text), &code) == 0);
    fuzz_same(&b, &again);
    free(text);
    FUZZ_CHECK(ballot_parse(&again, BALLOT_FORM, form, off, &code) == 0);
    fuzz_same(&b, &again);
    return 0;
}
