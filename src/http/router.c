/* router.c - matching a method and a path against the route table.
 *
 * Linear over a small table; a capture takes one whole segment of at most
 * ROUTER_PARAM_MAX bytes (longer never matches). Must not reply or allocate. */
#include "router.h"

#include <stdio.h>
#include <string.h>

/* Matches one pattern; fills params on success. */
static int router_try(const char *pattern, const char *path, struct route_match *m)
{
    const char *p = pattern, *s = path;
    m->nparams = 0;
    while (*p && *s) {
        if (*p != '/' || *s != '/')
            return 0;
        p++;
        s++;
        const char *pend = strchr(p, '/');
        const char *send = strchr(s, '/');
        size_t plen = pend ? (size_t)(pend - p) : strlen(p);
        size_t slen = send ? (size_t)(send - s) : strlen(s);
        if (plen > 0 && *p == ':') {
            if (slen == 0 || slen > ROUTER_PARAM_MAX || m->nparams >= ROUTER_MAX_PARAMS)
                return 0;
            memcpy(m->params[m->nparams], s, slen);
            m->params[m->nparams][slen] = '\0';
            m->nparams++;
        } else if (plen != slen || memcmp(p, s, plen) != 0) {
            return 0;
        }
        p += plen;
        s += slen;
    }
    return *p == '\0' && *s == '\0';
}

enum router_result router_match(const struct route *routes, size_t n, unsigned method,
                                const char *path, struct route_match *m)
{
    struct route_match probe;
    unsigned allow = 0;
    int found = -1;
    for (size_t i = 0; i < n; i++) {
        if (!router_try(routes[i].pattern, path, &probe))
            continue;
        unsigned methods = routes[i].methods;
        if (methods & ROUTER_GET)
            methods |= ROUTER_HEAD;
        allow |= methods;
        if (methods & method) {
            /* The first route that takes the request: the others need not be
             * tried (their methods matter only when none takes it). */
            found = (int)i;
            *m = probe;
            break;
        }
    }
    if (allow == 0)
        return ROUTER_NOT_FOUND;
    allow |= ROUTER_OPTIONS;
    if (found < 0) {
        m->allow = allow;
        m->nparams = 0;
        return ROUTER_BAD_METHOD;
    }
    m->route = &routes[found];
    m->handler = routes[found].handler;
    m->allow = allow;
    return ROUTER_FOUND;
}

/* The methods in the order an Allow header lists them. */
static const struct {
    unsigned bit;
    const char *name;
} router_methods[] = {{ROUTER_GET, "GET"},        {ROUTER_HEAD, "HEAD"},
                      {ROUTER_POST, "POST"},      {ROUTER_PUT, "PUT"},
                      {ROUTER_PATCH, "PATCH"},    {ROUTER_DELETE, "DELETE"},
                      {ROUTER_OPTIONS, "OPTIONS"}};

const char *router_method_name(unsigned methods)
{
    for (size_t i = 0; i < sizeof(router_methods) / sizeof(router_methods[0]); i++) {
        if (methods & router_methods[i].bit)
            return router_methods[i].name;
    }
    return "other";
}

void router_allow_header(unsigned methods, char *buf, size_t size)
{
    size_t off = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof(router_methods) / sizeof(router_methods[0]); i++) {
        if (!(methods & router_methods[i].bit))
            continue;
        int n = snprintf(buf + off, size - off, "%s%s", off ? ", " : "", router_methods[i].name);
        if (n < 0 || (size_t)n >= size - off)
            return;
        off += (size_t)n;
    }
}

void router_label(const char *pattern, char *buf, size_t size)
{
    size_t o = 0;
    if (size == 0)
        return;
    for (const char *p = pattern; *p && o + 1 < size;) {
        if (*p != ':') {
            buf[o++] = *p++;
            continue;
        }
        size_t len = strcspn(p + 1, "/");
        if (o + len + 3 > size)
            break;
        buf[o++] = '{';
        memcpy(buf + o, p + 1, len);
        o += len;
        buf[o++] = '}';
        p += 1 + len;
    }
    buf[o] = '\0';
}
