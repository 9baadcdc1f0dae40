/* cors.h - which other web origins may use the API from a browser.
 *
 * THAMDO_ALLOWED_ORIGINS lists them ("https://portal.example.vn,..."). An
 * allowed Origin gets Access-Control-Allow-Origin with credentials. An API
 * request from any other page (an Origin that is neither listed nor the
 * service's own) is refused with 403 origin_not_allowed, and that refusal
 * alone is made readable to the page (its Origin echoed), so the widget can
 * tell its reader and its developer what is wrong instead of retrying; the
 * refused origin is logged once per origin per interval. A POST without
 * Origin (no-JS embed form) is checked by its Referer, and one that a browser
 * marks Sec-Fetch-Site: cross-site or same-site needs a listed (or own)
 * Referer then. Owns: these decisions,
 * their headers and the log of refusals. Must not reply. */
#ifndef THAMDO_CORS_H
#define THAMDO_CORS_H

#include <stdint.h>

struct config;
struct request;

#define CORS_LOG_SLOTS      32
#define CORS_LOG_INTERVAL_S 600
#define CORS_LOG_ORIGIN_MAX 100

/* Which refused origins were logged lately (one per event loop). */
struct cors_log_slot {
    char origin[CORS_LOG_ORIGIN_MAX + 1]; /* empty: a free slot */
    int64_t logged_at;                    /* monotonic seconds */
    unsigned long suppressed;             /* refusals since, not logged */
};

struct cors_log {
    struct cors_log_slot slot[CORS_LOG_SLOTS];
    int64_t overflow_logged_at;
    unsigned long overflow; /* refusals not logged because every slot was busy */
};

/* 1 when origin ("scheme://host[:port]") is on the list. */
int cors_origin_listed(const struct config *cfg, const char *origin);

/* Adds Vary: Origin, and the allow headers when the request's Origin is listed. */
void cors_add_headers(struct request *r);

/* Adds the preflight headers (methods, headers, max age) when the Origin is
 * listed. 1 when it was. */
int cors_add_preflight_headers(struct request *r);

/* 1 when a state-changing request may proceed: its Origin (or, without one,
 * its Referer) is listed or is this service's own origin, or the request
 * carries neither (not from a browser page) and no Sec-Fetch-Site that says
 * another site sent it. */
int cors_source_allowed(const struct request *r);

/* The custom request header that no page can send to another origin
 * without a preflight (CORS_CUSTOM_HEADER: 1): a vote with a form body must
 * carry it (a JSON body needs a preflight by itself). */
#define CORS_CUSTOM_HEADER "X-Thamdo"
/* A vote's solved proof of work (ratelimit.c). */
#define CORS_PROOF_HEADER "X-Thamdo-Proof"
int cors_custom_header(const struct request *r);

/* 1 when the request carries an Origin that is neither listed nor this
 * service's own ("null" included). */
int cors_origin_refused(const struct request *r);

/* Makes the refusal readable by the refused page: its Origin echoed with
 * credentials (only when it has the shape of an origin, or is "null"), and
 * for a preflight the methods and headers, so that the request itself
 * reaches its 403. */
void cors_add_refusal_headers(struct request *r, int preflight);

/* Logs a refused origin at most once per CORS_LOG_INTERVAL_S per origin,
 * with the count of refusals not logged since; when more origins than
 * CORS_LOG_SLOTS are refused in one interval, one summary line. now is
 * monotonic seconds. */
void cors_log_refused(struct cors_log *log, const char *origin, int64_t now);

/* Checks and normalises one origin in place (lower case, no trailing '/').
 * 0 when it is "http(s)://host[:port]". */
int cors_normalise_origin(char *origin);

#endif
