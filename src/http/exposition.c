/* exposition.c - GET /metrics.
 *
 * Open to whoever reaches the service's port, like /healthz: it shows
 * counts and durations by route pattern, never a poll, a reader or an
 * address. The README tells operators to keep it off the public side of
 * the reverse proxy. Builds the labels of the route table (one stack array
 * per scrape) and lets metrics.c write the figures. */
#include "exposition.h"

#include <event2/buffer.h>
#include <stdlib.h>

#include "dispatch.h"
#include "metrics.h"
#include "request.h"
#include "router.h"
#include "version.h"

void exposition_metrics(struct request *r)
{
    struct metrics_route routes[METRICS_ROUTES_MAX];
    char labels[METRICS_ROUTES_MAX][ROUTER_LABEL_MAX];
    int n = dispatch_route_count();
    if (n > METRICS_ROUTES_MAX - 1)
        n = METRICS_ROUTES_MAX - 1;
    for (int i = 0; i < n; i++) {
        const struct route *rt = dispatch_route(i + 1);
        router_label(rt->pattern, labels[i], sizeof(labels[i]));
        routes[i].route = labels[i];
        routes[i].method = router_method_name(rt->methods);
    }
    struct evbuffer *b = evbuffer_new();
    if (!b)
        abort();
    metrics_write(b, routes, (size_t)n, THAMDO_VERSION);
    request_add_header(r, "Cache-Control", "no-store");
    request_add_header(r, "X-Content-Type-Options", "nosniff");
    request_reply_buffer(r, 200, "text/plain; version=0.0.4; charset=utf-8", b);
    evbuffer_free(b);
}
