/* cors.c - the origin allowlist, CORS headers and the source check of POSTs.
 *
 * Comparison is exact on "scheme://host[:port]" after lower-casing. The
 * service's own origin is recognised by comparing the Origin's host[:port]
 * with the Host header (the scheme is not compared: behind a TLS proxy the
 * service itself sees plain HTTP). Must not reply or log header values. */
#include "cors.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "log.h"
#include "request.h"
#include "server.h"

int cors_normalise_origin(char *o)
{
    size_t len = strlen(o);
    while (len > 0 && o[len - 1] == '/')
        o[--len] = '\0';
    for (size_t i = 0; i < len; i++)
        o[i] = (char)tolower((unsigned char)o[i]);
    const char *host;
    if (strncmp(o, "http://", 7) == 0)
        host = o + 7;
    else if (strncmp(o, "https://", 8) == 0)
        host = o + 8;
    else
        return -1;
    if (*host == '\0')
        return -1;
    for (const char *p = host; *p; p++) {
        if (!(isalnum((unsigned char)*p) || *p == '.' || *p == '-' || *p == ':' || *p == '[' ||
              *p == ']'))
            return -1;
    }
    return 0;
}

int cors_origin_listed(const struct config *cfg, const char *origin)
{
    char buf[CONFIG_ORIGIN_LEN];
    size_t len = strlen(origin);
    if (len == 0 || len >= sizeof(buf))
        return 0;
    memcpy(buf, origin, len + 1);
    if (cors_normalise_origin(buf) != 0)
        return 0;
    for (size_t i = 0; i < cfg->n_origins; i++) {
        if (strcmp(buf, cfg->allowed_origins[i]) == 0)
            return 1;
    }
    return 0;
}

/* 1 when url ("scheme://host[:port][/...]") names the host of the Host header. */
static int cors_is_own(const char *url, const char *host)
{
    if (!host || !url)
        return 0;
    const char *p = strstr(url, "://");
    if (!p)
        return 0;
    p += 3;
    size_t n = strcspn(p, "/?#");
    return n == strlen(host) && strncasecmp(p, host, n) == 0;
}

/* The origin part of a Referer, into buf. */
static int cors_referer_origin(const char *referer, char *buf, size_t size)
{
    const char *p = strstr(referer, "://");
    if (!p)
        return -1;
    size_t n = (size_t)(p + 3 - referer) + strcspn(p + 3, "/?#");
    if (n >= size)
        return -1;
    memcpy(buf, referer, n);
    buf[n] = '\0';
    return 0;
}

void cors_add_headers(struct request *r)
{
    request_add_header(r, "Vary", "Origin");
    const char *origin = request_header(r, "Origin");
    if (origin && cors_origin_listed(r->srv->cfg, origin)) {
        request_add_header(r, "Access-Control-Allow-Origin", origin);
        request_add_header(r, "Access-Control-Allow-Credentials", "true");
        /* the widget says when to try again after a 429 */
        request_add_header(r, "Access-Control-Expose-Headers", "Retry-After");
    }
}

static void cors_add_method_headers(struct request *r)
{
    request_add_header(r, "Access-Control-Allow-Methods", "GET, POST, OPTIONS");
    request_add_header(r, "Access-Control-Allow-Headers",
                       "Content-Type, " CORS_CUSTOM_HEADER ", " CORS_PROOF_HEADER);
    request_add_header(r, "Access-Control-Max-Age", "600");
}

int cors_add_preflight_headers(struct request *r)
{
    const char *origin = request_header(r, "Origin");
    if (!origin || !cors_origin_listed(r->srv->cfg, origin))
        return 0;
    cors_add_method_headers(r);
    return 1;
}

int cors_origin_refused(const struct request *r)
{
    const char *origin = request_header(r, "Origin");
    return origin && !cors_is_own(origin, request_header(r, "Host")) &&
           !cors_origin_listed(r->srv->cfg, origin);
}

/* 1 when s can be echoed as an Origin: "null", or "scheme://host[:port]"
 * of bounded length. */
static int cors_echoable(const char *s)
{
    char buf[CONFIG_ORIGIN_LEN];
    size_t len = strlen(s);
    if (strcmp(s, "null") == 0)
        return 1;
    if (len == 0 || len >= sizeof(buf))
        return 0;
    memcpy(buf, s, len + 1);
    return cors_normalise_origin(buf) == 0;
}

void cors_add_refusal_headers(struct request *r, int preflight)
{
    const char *origin = request_header(r, "Origin");
    if (!origin || !cors_echoable(origin))
        return;
    request_add_header(r, "Access-Control-Allow-Origin", origin);
    request_add_header(r, "Access-Control-Allow-Credentials", "true");
    if (preflight)
        cors_add_method_headers(r);
}

/* The origin as it may be logged: printable ASCII, bounded. */
static void cors_log_text(const char *origin, char *out, size_t size)
{
    size_t o = 0;
    for (const char *p = origin; *p && o + 1 < size; p++)
        out[o++] = (*p > 0x20 && *p < 0x7f && *p != '"') ? *p : '?';
    out[o] = '\0';
}

void cors_log_refused(struct cors_log *log, const char *origin, int64_t now)
{
    char text[CORS_LOG_ORIGIN_MAX + 1];
    struct cors_log_slot *match = NULL, *spare = NULL;
    cors_log_text(origin, text, sizeof(text));
    for (size_t i = 0; i < CORS_LOG_SLOTS && !match; i++) {
        struct cors_log_slot *s = &log->slot[i];
        if (s->origin[0] != '\0' && strcmp(s->origin, text) == 0)
            match = s;
        else if (!spare && (s->origin[0] == '\0' || now - s->logged_at >= CORS_LOG_INTERVAL_S))
            spare = s;
    }
    if (match && now - match->logged_at < CORS_LOG_INTERVAL_S) {
        match->suppressed++;
        return;
    }
    if (match) {
        log_warn("origin_refused",
                 "origin refused: \"%s\" is not in THAMDO_ALLOWED_ORIGINS (%lu more refusals "
                 "not logged in the last %d minutes)",
                 text, match->suppressed, CORS_LOG_INTERVAL_S / 60);
        match->logged_at = now;
        match->suppressed = 0;
        return;
    }
    if (!spare) {
        log->overflow++;
        if (log->overflow_logged_at == 0 || now - log->overflow_logged_at >= CORS_LOG_INTERVAL_S) {
            log_warn("origin_refused_many",
                     "origin refused: more than %d origins refused within %d minutes; %lu "
                     "refusals of further origins not logged one by one",
                     CORS_LOG_SLOTS, CORS_LOG_INTERVAL_S / 60, log->overflow);
            log->overflow = 0;
            log->overflow_logged_at = now;
        }
        return;
    }
    log_warn("origin_refused",
             "origin refused: \"%s\" is not in THAMDO_ALLOWED_ORIGINS; its API requests get 403 "
             "origin_not_allowed (logged at most once per %d minutes)",
             text, CORS_LOG_INTERVAL_S / 60);
    memcpy(spare->origin, text, sizeof(text));
    spare->logged_at = now;
    spare->suppressed = 0;
}

int cors_source_allowed(const struct request *r)
{
    const char *host = request_header(r, "Host");
    const char *origin = request_header(r, "Origin");
    if (origin) {
        /* "null" (sandboxed or privacy-stripped pages) is never trusted. */
        return cors_is_own(origin, host) || cors_origin_listed(r->srv->cfg, origin);
    }
    const char *referer = request_header(r, "Referer");
    if (referer) {
        char ro[CONFIG_ORIGIN_LEN];
        return cors_is_own(referer, host) || (cors_referer_origin(referer, ro, sizeof(ro)) == 0 &&
                                              cors_origin_listed(r->srv->cfg, ro));
    }
    /* Neither: a browser that says another site's page sent it (its Origin
     * and Referer withheld) is refused; "same-origin", "none" (typed by the
     * reader) and clients that send no such header go on. */
    const char *site = request_header(r, "Sec-Fetch-Site");
    return !site || (strcasecmp(site, "cross-site") != 0 && strcasecmp(site, "same-site") != 0);
}

int cors_custom_header(const struct request *r)
{
    const char *v = request_header(r, CORS_CUSTOM_HEADER);
    return v && strcmp(v, "1") == 0;
}
