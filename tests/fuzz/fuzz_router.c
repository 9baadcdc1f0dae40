/* fuzz_router.c - the route matcher (src/http/router.c) over the service's
 * own table (dispatch_route), behind libevent's parse of the request target.
 *
 * The first byte picks the method, the rest is the request target as it
 * stands in a request line ("/api/v1/polls/x?y", "http://h/p", "*"), parsed
 * with the flags evhttp uses for it. Properties: a match is exact (the
 * pattern with its captures put back is the path, byte for byte), each
 * capture is one non-empty segment of at most ROUTER_PARAM_MAX bytes, so it
 * fits struct request's poll_id and asset; BAD_METHOD lists methods that do
 * not include the request's; the Allow header and the route label fit. */
#include <event2/http.h>

#include "dispatch.h"
#include "fuzz.h"
#include "router.h"
#include "text.h"

static const unsigned fuzz_methods[] = {ROUTER_GET,    ROUTER_POST,    ROUTER_HEAD,  ROUTER_PUT,
                                        ROUTER_DELETE, ROUTER_OPTIONS, ROUTER_PATCH, 1u << 6};

static struct route fuzz_table[64];
static size_t fuzz_n;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    for (int i = 1; i <= dispatch_route_count(); i++)
        fuzz_table[fuzz_n++] = *dispatch_route(i);
    FUZZ_CHECK(fuzz_n > 0 && fuzz_n < sizeof(fuzz_table) / sizeof(fuzz_table[0]));
    return 0;
}

/* The route's pattern with m's captures put back. */
static void fuzz_rebuild(const char *pattern, const struct route_match *m, char *out, size_t size)
{
    size_t o = 0, k = 0;
    for (const char *p = pattern; *p;) {
        if (*p == ':') {
            FUZZ_CHECK(k < m->nparams);
            size_t n = strlen(m->params[k]);
            FUZZ_CHECK(o + n < size);
            memcpy(out + o, m->params[k++], n);
            o += n;
            p += strcspn(p, "/");
        } else {
            FUZZ_CHECK(o + 1 < size);
            out[o++] = *p++;
        }
    }
    FUZZ_CHECK(k == m->nparams);
    out[o] = '\0';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned method = fuzz_methods[data[0] % 8];
    char *target = fuzz_strndup(data + 1, size - 1);
    struct evhttp_uri *uri = evhttp_uri_parse_with_flags(target, EVHTTP_URI_NONCONFORMANT);
    const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
    if (!path)
        path = target; /* the router must take any string */

    struct route_match m;
    memset(&m, 0, sizeof(m));
    enum router_result res = router_match(fuzz_table, fuzz_n, method, path, &m);
    char allow[96], label[ROUTER_LABEL_MAX];
    if (res == ROUTER_FOUND) {
        FUZZ_CHECK(m.route >= fuzz_table && m.route < fuzz_table + fuzz_n);
        FUZZ_CHECK(m.nparams <= ROUTER_MAX_PARAMS);
        unsigned methods = m.route->methods | (m.route->methods & ROUTER_GET ? ROUTER_HEAD : 0);
        FUZZ_CHECK(methods & method);
        for (size_t i = 0; i < m.nparams; i++) {
            size_t n = strlen(m.params[i]);
            FUZZ_CHECK(n >= 1 && n <= ROUTER_PARAM_MAX && n <= TEXT_SLUG_MAX);
            FUZZ_CHECK(strchr(m.params[i], '/') == NULL);
            (void)text_is_slug(m.params[i], n);
        }
        char rebuilt[4096];
        fuzz_rebuild(m.route->pattern, &m, rebuilt, sizeof(rebuilt));
        FUZZ_CHECK(strcmp(rebuilt, path) == 0);
        router_label(m.route->pattern, label, sizeof(label));
        FUZZ_CHECK(strlen(label) < sizeof(label));
    } else if (res == ROUTER_BAD_METHOD) {
        FUZZ_CHECK(m.allow & ROUTER_OPTIONS);
        FUZZ_CHECK((m.allow & method & ~ROUTER_OPTIONS) == 0);
        router_allow_header(m.allow, allow, sizeof(allow));
        FUZZ_CHECK(strstr(allow, "OPTIONS") != NULL);
    } else {
        FUZZ_CHECK(res == ROUTER_NOT_FOUND);
    }
    (void)router_method_name(method);
    if (uri)
        evhttp_uri_free(uri);
    free(target);
    return 0;
}
