/* fuzz.h - what the libFuzzer targets of tests/fuzz/ share.
 *
 * Owns: the checks that turn a broken property into a finding (an abort
 * libFuzzer records with its input), NUL-terminated copies of an input, and
 * the test cookie settings. Must not hold product code: every target calls
 * the product's own functions, linked from build/fuzz/libthamdo.a. */
#ifndef THAMDO_FUZZ_H
#define THAMDO_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cookie.h"
#include "text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* A property that failed: says which, then aborts (libFuzzer keeps the input). */
#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, #cond);            \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* A malloc'd copy of data[0..size) with a NUL after it (NUL bytes inside stay). */
static inline char *fuzz_strndup(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        abort();
    if (size > 0)
        memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

/* 1 when s[0..len) is well-formed UTF-8 (control characters allowed). */
static inline int fuzz_is_utf8(const char *s, size_t len)
{
    for (size_t i = 0, n; i < len; i += n) {
        n = text_utf8_next(s + i, len - i);
        if (n == 0)
            return 0;
    }
    return 1;
}

/* The cookie settings of the tests (the secret is the unit tests' one). */
static inline void fuzz_cookie_conf(struct cookie_conf *conf)
{
    static const char secret[] = "an-unguessable-secret-of-at-least-32-bytes!";
    memset(conf, 0, sizeof(*conf));
    snprintf(conf->name, sizeof(conf->name), "%s", "thamdo_vid");
    conf->secret_len = sizeof(secret) - 1;
    memcpy(conf->secret, secret, conf->secret_len);
    conf->samesite = COOKIE_SAMESITE_LAX;
    conf->max_age = 31536000;
}

#endif
