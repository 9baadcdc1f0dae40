/* fuzz_cookie.c - the signed voter cookie (src/http/cookie.c).
 *
 * The input is a Cookie header. Properties: cookie_from_header and
 * cookie_verify never read outside what they are given; a value that verifies
 * is the one spelling of its id (signing the id gives it back byte for byte);
 * any 16 bytes signed verify to themselves, and flipping one character of
 * that value makes it fail. Must not check anything the cookie does not
 * promise (cookie.h). */
#include "fuzz.h"

static struct cookie_conf fuzz_conf;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_cookie_conf(&fuzz_conf);
    FUZZ_CHECK(cookie_conf_key(&fuzz_conf) == 0);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned char id[COOKIE_ID_LEN];
    char value[COOKIE_VALUE_LEN + 1];

    /* The whole input as one value, in a buffer of exactly its size. */
    char *exact = malloc(size ? size : 1);
    if (!exact)
        abort();
    if (size)
        memcpy(exact, data, size);
    if (cookie_verify(&fuzz_conf, exact, size, id) == 0) {
        cookie_sign(&fuzz_conf, id, value);
        FUZZ_CHECK(size == COOKIE_VALUE_LEN && memcmp(value, exact, size) == 0);
    }
    free(exact);

    /* The input as a Cookie header: a value found there is canonical too. */
    char *header = fuzz_strndup(data, size);
    if (cookie_from_header(&fuzz_conf, header, id) == 0) {
        cookie_sign(&fuzz_conf, id, value);
        FUZZ_CHECK(strstr(header, value) != NULL);
    }
    free(header);

    /* Round trip: the first 16 bytes as an id. */
    if (size >= COOKIE_ID_LEN) {
        unsigned char back[COOKIE_ID_LEN];
        cookie_sign(&fuzz_conf, data, value);
        FUZZ_CHECK(strlen(value) == COOKIE_VALUE_LEN);
        FUZZ_CHECK(cookie_verify(&fuzz_conf, value, COOKIE_VALUE_LEN, back) == 0);
        FUZZ_CHECK(memcmp(back, data, COOKIE_ID_LEN) == 0);
        char set[256];
        FUZZ_CHECK(cookie_set_header(&fuzz_conf, data, set, sizeof(set)) > 0);
        char line[300];
        snprintf(line, sizeof(line), "a=b; %.*s", COOKIE_NAME_MAX + 1 + COOKIE_VALUE_LEN, set);
        FUZZ_CHECK(cookie_from_header(&fuzz_conf, line, back) == 0);
        FUZZ_CHECK(memcmp(back, data, COOKIE_ID_LEN) == 0);
        if (size > COOKIE_ID_LEN) {
            size_t at = data[COOKIE_ID_LEN] % COOKIE_VALUE_LEN;
            char c = (char)(size > COOKIE_ID_LEN + 1 ? data[COOKIE_ID_LEN + 1] : 'A');
            if (c != value[at]) {
                value[at] = c;
                FUZZ_CHECK(cookie_verify(&fuzz_conf, value, COOKIE_VALUE_LEN, back) != 0);
            }
        }
    }
    return 0;
}
