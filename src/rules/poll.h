/* poll.h - the poll model: definitions, their checks, their public views.
 *
 * A definition is kept in Redis as JSON, the "stored form":
 *   {"id","question","options":[{"id","label"}],"max_choices",
 *    "opens_at":unix|null,"closes_at":unix|null,"status":"open"|"closed",
 *    "results_visibility":"always"|"after_vote"|"after_close"|"never",
 *    "created_at":unix}
 * The scripts in Redis read what they check from a small hash derived from it
 * (struct poll_meta, poll_meta_args), never the JSON.
 * Owns: checking a definition, rendering a definition and its results for
 * readers. Must not talk to Redis or HTTP. */
#ifndef THAMDO_POLL_H
#define THAMDO_POLL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define POLL_OPTIONS_MIN 2
#define POLL_OPTIONS_MAX 50
#define POLL_ID_LATEST   "latest" /* reserved: the widget's name for the newest open poll */
#define POLL_TEXT_MAX    500      /* characters (code points) of a question or a label */
#define POLL_VOTES_MAX   1000000000000000LL /* votes of one option counted at most (10^15) */

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

/* Checks a definition read back from Redis, which anybody with access to it
 * may have changed: NULL when it has the stored form's fields with their
 * types (and times within 1970..9999), else a short reason for the log.
 * Integral reals (1.0) are rewritten as integers in def. A poll stored by an
 * older version passes this check before its meta hash is written (the
 * upgrade), so a ballot is never counted for a definition the service then
 * refuses to show. Every other function here expects a definition that passed. */
const char *poll_stored_check(json_t *def);

enum poll_state poll_state_at(const json_t *def, int64_t now);

/* 1 when a reader may see the results now. */
int poll_results_visible(const json_t *def, int64_t now, int voted);

/* The public view of a definition (times as RFC 3339, effective status). */
json_t *poll_public_view(const json_t *def, int64_t now);

enum poll_list_status {
    POLL_LIST_OPEN = 0, /* accepting votes now */
    POLL_LIST_CLOSED,   /* closed by an editor or past closes_at */
    POLL_LIST_ALL,      /* either (never upcoming) */
};

/* The public list, {"polls":[{id, question, status, opens_at, closes_at}],
 * "total", "limit", "offset"}: of polls ([{"def": checked stored form}]),
 * those not archived whose state now is which (upcoming polls never), newest
 * first (opens_at, or created_at without one, descending; then id), limit of
 * them from offset; total counts them all. */
json_t *poll_public_list(const json_t *polls, int64_t now, enum poll_list_status which,
                         size_t limit, size_t offset);

/* Results: counts is an object option id -> votes (missing ids count 0,
 * ids that are not options of def are ignored). Each percent is a number
 * with one decimal, poll_percent_tenths(votes, total) / 10. */
json_t *poll_results(const json_t *def, const json_t *counts, long long voters);

/* The results as JSON text, written faster than poll_results() with
 * json_dumps() and to the same bytes: the parts that depend only on the
 * definition (each option's id and label, JSON-escaped) are made once by
 * poll_results_frames(), and poll_results_text() writes the numbers between
 * them. Both return malloc'd memory (free, or poll_frames_free). */
struct poll_frames {
    size_t n;
    char *head;    /* {"poll_id":"<id>","total": */
    char **option; /* {"id":"<id>","label":"<label>","votes": */
    char **opt_id; /* each option's id, to find its votes in counts */
};
struct poll_frames *poll_results_frames(const json_t *def);
void poll_frames_free(struct poll_frames *f);
char *poll_results_text(const struct poll_frames *f, const json_t *counts, long long voters,
                        size_t *len);

/* The votes of def's options in counts (each within 0..POLL_VOTES_MAX). */
long long poll_total(const json_t *def, const json_t *counts);

/* One option's share of total in tenths of a percent, rounded half up from
 * exact integers, each option on its own: (2*1000*votes + total) /
 * (2*total); 0 when total is 0. 1 of 3 -> 333 (33.3%), 2 of 3 -> 667.
 * Equal votes always give equal shares; the shares of a poll add up to
 * 99.9..100.1%. */
long long poll_percent_tenths(long long votes, long long total);

/* What the scripts in Redis check for a poll, kept beside its definition in a
 * small hash (the scripts never decode the JSON): derived from a definition
 * that passed poll_stored_check() or poll_validate(). Strings point into the
 * buffers of the struct or to constants. */
struct poll_meta {
    const char *status;                  /* "open", or "" for any other (closed) */
    char opens_at[24];                   /* Unix seconds, or "" when unset */
    char closes_at[24];                  /* the same */
    const char *archived;                /* "1" or "0" */
    char max_choices[24];                /* 1..50 */
    const char *allow_change;            /* "1" or "0" */
    char version[24];                    /* 0 when the definition has none */
    char options[POLL_OPTIONS_MAX * 65]; /* the option ids "a,b,c", in order */
    char written_at[24]; /* updated_at (the write's time): a poll closed by it closed then */
};

void poll_meta_args(const json_t *def, struct poll_meta *m);

/* Splits a stored choice "a,b" into a new JSON array of strings. */
json_t *poll_choice_array(const char *choice, size_t len);

#endif
