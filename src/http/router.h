/* router.h - which handler serves a method and a path.
 *
 * Patterns are literal segments and ":name" captures, e.g.
 * "/api/v1/polls/:id/votes". A path that matches no pattern is NOT_FOUND;
 * one that matches with another method is BAD_METHOD with the allowed set
 * (HEAD is allowed wherever GET is; OPTIONS wherever anything is).
 * Owns: matching only. Must not reply, allocate or decode. */
#ifndef THAMDO_ROUTER_H
#define THAMDO_ROUTER_H

#include <stddef.h>

#define ROUTER_MAX_PARAMS 4
#define ROUTER_PARAM_MAX  64

/* Method bits, the same values as libevent's enum evhttp_cmd_type. */
#define ROUTER_GET     (1u << 0)
#define ROUTER_POST    (1u << 1)
#define ROUTER_HEAD    (1u << 2)
#define ROUTER_PUT     (1u << 3)
#define ROUTER_DELETE  (1u << 4)
#define ROUTER_OPTIONS (1u << 5)
#define ROUTER_PATCH   (1u << 8)

struct request;

struct route {
    const char *pattern;
    unsigned methods;
    int handler;                     /* the caller's handler number, if it wants one */
    unsigned flags;                  /* the caller's flags */
    void (*fn)(struct request *req); /* the caller's handler, if it wants one */
};

struct route_match {
    const struct route *route; /* the matched route (FOUND) */
    int handler;
    unsigned allow; /* methods the path accepts (complete with BAD_METHOD only) */
    size_t nparams;
    char params[ROUTER_MAX_PARAMS][ROUTER_PARAM_MAX + 1];
};

enum router_result {
    ROUTER_FOUND = 0,
    ROUTER_NOT_FOUND,
    ROUTER_BAD_METHOD,
};

enum router_result router_match(const struct route *routes, size_t n, unsigned method,
                                const char *path, struct route_match *m);

/* The pattern as metrics and logs name a route: "/api/v1/polls/:id" is
 * "/api/v1/polls/{id}" (cut to size - 1 bytes). */
#define ROUTER_LABEL_MAX 96
void router_label(const char *pattern, char *buf, size_t size);

/* The name of the first method of a set, in Allow order ("GET" for a GET
 * route), or "other" for none. */
const char *router_method_name(unsigned methods);

/* Writes an Allow header value ("GET, HEAD, OPTIONS") for a method set. */
void router_allow_header(unsigned methods, char *buf, size_t size);

#endif
