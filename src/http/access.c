/* access.c - the access-log line and the request metrics of one answer.
 *
 * One clock read per answer serves both. The route is the pattern of the
 * route table that took the request (r->route, set by dispatch.c), so the
 * figures have a bounded set of labels whatever paths clients send. Must not
 * log cookies, tokens, voter ids, query strings or client addresses. */
#include "access.h"

#include <time.h>

#include "dispatch.h"
#include "http_util.h"
#include "log.h"
#include "metrics.h"
#include "request.h"
#include "router.h"

void access_record(const struct request *r, int status)
{
    struct timespec end;
    clock_gettime(CLOCK_MONOTONIC, &end);
    int64_t us = (int64_t)(end.tv_sec - r->started.tv_sec) * 1000000 +
                 (end.tv_nsec - r->started.tv_nsec) / 1000;
    if (us < 0)
        us = 0;
    metrics_request(r->route, status, (uint64_t)us);
    if (!log_enabled(LOG_INFO))
        return;
    char path[128], route[ROUTER_LABEL_MAX];
    const struct route *rt = dispatch_route(r->route);
    http_log_path(r->req, path, sizeof(path));
    if (rt)
        router_label(rt->pattern, route, sizeof(route));
    struct log_request q = {
        .method = http_method_name(r->method),
        .route = rt ? route : "other",
        .path = path,
        .status = status,
        .code = status >= 400 ? (r->error_code[0] ? r->error_code : "-") : NULL,
        .ms = (double)us / 1e3,
        .request_id = r->id,
    };
    log_request(&q);
}
