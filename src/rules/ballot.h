/* ballot.h - the options a reader chose, read from a request body.
 *
 * Accepts application/json {"options":["a","b"]} and
 * application/x-www-form-urlencoded option=a&option=b. Owns: the syntax
 * checks (JSON shape, slugs, duplicates folded); whether the options belong
 * to the poll and fit max_choices is decided in the atomic vote step.
 * Must not allocate beyond the call, log, or know about Redis. */
#ifndef THAMDO_BALLOT_H
#define THAMDO_BALLOT_H

#include <stddef.h>

#include "poll.h"
#include "text.h"

enum ballot_format {
    BALLOT_JSON = 0,
    BALLOT_FORM,
};

struct ballot {
    size_t n;
    char options[POLL_OPTIONS_MAX][TEXT_SLUG_MAX + 1];
    const char *ptrs[POLL_OPTIONS_MAX]; /* options[i], for passing as an array */
};

/* Parses body[0..len). 0 on success; otherwise -1 and *code is one of
 * "invalid_json", "no_option", "invalid_option", "too_many_options". */
int ballot_parse(struct ballot *b, enum ballot_format format, const char *body, size_t len,
                 const char **code);

#endif
