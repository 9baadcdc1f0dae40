/* cors.h - which other web origins may use the API from a browser.
 *
 * THAMDO_ALLOWED_ORIGINS lists them ("https://portal.example.vn,..."). An
 * allowed Origin gets Access-Control-Allow-Origin with credentials; any other
 * gets no CORS headers at all. A POST (API vote, no-JS embed form) from a
 * page that is neither on the list nor the service's own origin is refused,
 * so a foreign page cannot vote in a reader's name. Owns: these decisions
 * and their headers. Must not reply. */
#ifndef THAMDO_CORS_H
#define THAMDO_CORS_H

struct config;
struct request;

/* 1 when origin ("scheme://host[:port]") is on the list. */
int cors_origin_listed(const struct config *cfg, const char *origin);

/* Adds Vary: Origin, and the allow headers when the request's Origin is listed. */
void cors_add_headers(struct request *r);

/* Adds the preflight headers (methods, headers, max age) when the Origin is
 * listed. 1 when it was. */
int cors_add_preflight_headers(struct request *r);

/* 1 when a state-changing request may proceed: its Origin (or, without one,
 * its Referer) is listed or is this service's own origin, or the request
 * carries neither (not from a browser page). */
int cors_source_allowed(const struct request *r);

/* Checks and normalises one origin in place (lower case, no trailing '/').
 * 0 when it is "http(s)://host[:port]". */
int cors_normalise_origin(char *origin);

#endif
