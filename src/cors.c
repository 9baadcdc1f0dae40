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
    }
}

int cors_add_preflight_headers(struct request *r)
{
    const char *origin = request_header(r, "Origin");
    if (!origin || !cors_origin_listed(r->srv->cfg, origin))
        return 0;
    request_add_header(r, "Access-Control-Allow-Methods", "GET, POST, OPTIONS");
    request_add_header(r, "Access-Control-Allow-Headers", "Content-Type");
    request_add_header(r, "Access-Control-Max-Age", "600");
    return 1;
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
    return 1;
}
