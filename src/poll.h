/* poll.h - the poll model: definitions, their checks, their public views.
 *
 * A definition is kept in Redis as JSON, the "stored form":
 *   {"id","question","options":[{"id","label"}],"max_choices",
 *    "opens_at":unix|null,"closes_at":unix|null,"status":"open"|"closed",
 *    "results_visibility":"always"|"after_vote"|"after_close"|"never",
 *    "created_at":unix}
 * The vote script in Redis reads the same fields, so the two change together.
 * Owns: checking a definition, rendering a definition and its results for
 * readers. Must not talk to Redis or HTTP. */
#ifndef THAMDO_POLL_H
#define THAMDO_POLL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define POLL_OPTIONS_MIN 2
#define POLL_OPTIONS_MAX 50
#define POLL_TEXT_MAX    500 /* bytes of a question or a label */

enum poll_state {
    POLL_OPEN = 0, /* accepting votes now */
    POLL_UPCOMING, /* before opens_at */
    POLL_CLOSED,   /* closed by an editor, or closes_at passed */
};

/* Where a definition is wrong: a JSON path such as "options[2].label" and why. */
struct poll_error {
    char path[96];
    char message[160];
};

#define POLL_ERRORS_MAX 16

/* Every error found in a definition (n may exceed POLL_ERRORS_MAX; only the
 * first ones are kept). */
struct poll_errors {
    size_t n;
    struct poll_error e[POLL_ERRORS_MAX];
};

/* Checks a definition and returns a new stored form, or NULL with every
 * error found in errs. */
json_t *poll_validate(const json_t *in, int64_t now, struct poll_errors *errs);

/* The same, for callers that report only the first error. */
json_t *poll_from_input(const json_t *in, int64_t now, struct poll_error *err);

/* Loads a polls file: {"polls":[...]} or [...]. Returns a new array of stored
 * forms, or NULL with a one-line reason in err. */
json_t *poll_load_file(const char *path, char *err, size_t err_size);

enum poll_state poll_state_at(const json_t *def, int64_t now);

/* 1 when a reader may see the results now. */
int poll_results_visible(const json_t *def, int64_t now, int voted);

/* The public view of a definition (times as RFC 3339, effective status). */
json_t *poll_public_view(const json_t *def, int64_t now);

/* Results: counts is an object option id -> votes (missing ids count 0).
 * Percentages are integers by largest remainder, adding up to 100 when
 * anybody voted. */
json_t *poll_results(const json_t *def, const json_t *counts, long long voters);

/* Splits a stored choice "a,b" into a new JSON array of strings. */
json_t *poll_choice_array(const char *choice, size_t len);

#endif
