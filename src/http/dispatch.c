/* dispatch.c - dispatching every request to its handler.
 *
 * The table below is the whole HTTP surface of the service. Paths with a
 * ":id" capture get it checked as a slug (else 404 poll_not_found) and copied
 * to r->poll_id before the handler runs. Must not implement endpoints. */
#include "dispatch.h"

#include <event2/http.h>
#include <string.h>
#include <time.h>

#include "admin.h"
#include "api.h"
#include "assets.h"
#include "audit.h"
#include "auth.h"
#include "config.h"
#include "conn.h"
#include "cors.h"
#include "embed.h"
#include "events.h"
#include "exposition.h"
#include "framing.h"
#include "integrity.h"
#include "metrics.h"
#include "page.h"
#include "request.h"
#include "router.h"
#include "server.h"
#include "text.h"
#include "visits.h"

enum dispatch_flags {
    DISPATCH_API = 1 << 0,        /* JSON API: CORS headers, preflight, source check of POST */
    DISPATCH_POLL = 1 << 1,       /* first capture is a poll id */
    DISPATCH_ADMIN = 1 << 2,      /* needs an admin bearer token; 404 when admin is off */
    DISPATCH_ADMIN_PAGE = 1 << 3, /* the dashboard page: 404 when admin is off */
};

/* The demo portal page; with THAMDO_DEMO=false there is nothing at /. */
static void dispatch_demo(struct request *r)
{
    if (!r->srv->cfg->demo) {
        request_reply_error(r, 404, "not_found", "There is nothing at this address.");
        return;
    }
    page_frame_headers(r, PAGE_FRAME_SELF);
    assets_serve(r, "index.html");
}

static void dispatch_widget(struct request *r)
{
    assets_serve(r, "widget.js");
}

static void dispatch_static(struct request *r);

static void dispatch_admin_slash(struct request *r)
{
    request_reply_redirect(r, "/admin/");
}

/* The dashboard: never framed, by any page. */
static void dispatch_admin_page(struct request *r)
{
    page_frame_headers(r, PAGE_FRAME_NONE);
    admin_page(r);
}

static const struct route dispatch_table[] = {
    {"/api/v1/polls", ROUTER_GET, 0, DISPATCH_API, api_poll_list},
    {"/api/v1/polls/:id", ROUTER_GET, 0, DISPATCH_API | DISPATCH_POLL, api_poll_get},
    {"/api/v1/polls/:id/votes", ROUTER_POST, 0, DISPATCH_API | DISPATCH_POLL, api_poll_vote},
    {"/api/v1/polls/:id/results", ROUTER_GET, 0, DISPATCH_API | DISPATCH_POLL, api_poll_results},
    {"/api/v1/polls/:id/events", ROUTER_GET, 0, DISPATCH_API | DISPATCH_POLL, events_open},
    {"/api/v1/visits", ROUTER_GET, 0, DISPATCH_API, visits_read},
    {"/api/v1/visits", ROUTER_POST, 0, DISPATCH_API, visits_record},
    {"/healthz", ROUTER_GET, 0, 0, api_healthz},
    {"/readyz", ROUTER_GET, 0, 0, api_readyz},
    {"/metrics", ROUTER_GET, 0, 0, exposition_metrics},
    {"/embed/polls/:id", ROUTER_GET, 0, DISPATCH_POLL, embed_page},
    {"/embed/polls/:id", ROUTER_POST, 0, DISPATCH_POLL, embed_vote},
    {"/embed/visits", ROUTER_GET, 0, 0, visits_embed},
    {"/", ROUTER_GET, 0, 0, dispatch_demo},
    {"/widget.js", ROUTER_GET, 0, 0, dispatch_widget},
    {"/static/:name", ROUTER_GET, 0, 0, dispatch_static},
    {"/admin", ROUTER_GET, 0, DISPATCH_ADMIN_PAGE, dispatch_admin_slash},
    {"/admin/", ROUTER_GET, 0, DISPATCH_ADMIN_PAGE, dispatch_admin_page},
    {"/admin/v1/polls", ROUTER_GET, 0, DISPATCH_ADMIN, admin_poll_list},
    {"/admin/v1/polls", ROUTER_POST, 0, DISPATCH_ADMIN, admin_poll_create},
    {"/admin/v1/polls/:id", ROUTER_GET, 0, DISPATCH_ADMIN | DISPATCH_POLL, admin_poll_get},
    {"/admin/v1/polls/:id", ROUTER_PATCH, 0, DISPATCH_ADMIN | DISPATCH_POLL, admin_poll_patch},
    {"/admin/v1/polls/:id", ROUTER_DELETE, 0, DISPATCH_ADMIN | DISPATCH_POLL, admin_poll_archive},
    {"/admin/v1/polls/:id/close", ROUTER_POST, 0, DISPATCH_ADMIN | DISPATCH_POLL, admin_poll_close},
    {"/admin/v1/polls/:id/reopen", ROUTER_POST, 0, DISPATCH_ADMIN | DISPATCH_POLL,
     admin_poll_reopen},
    {"/admin/v1/polls/:id/restore", ROUTER_POST, 0, DISPATCH_ADMIN | DISPATCH_POLL,
     admin_poll_restore},
    {"/admin/v1/polls/:id/results", ROUTER_GET, 0, DISPATCH_ADMIN | DISPATCH_POLL,
     admin_poll_results},
    {"/admin/v1/polls/:id/series", ROUTER_GET, 0, DISPATCH_ADMIN | DISPATCH_POLL,
     admin_poll_series},
    {"/admin/v1/polls/:id/reset", ROUTER_POST, 0, DISPATCH_ADMIN | DISPATCH_POLL, admin_poll_reset},
    {"/admin/v1/polls/:id/integrity", ROUTER_GET, 0, DISPATCH_ADMIN | DISPATCH_POLL, integrity_get},
    {"/admin/v1/audit", ROUTER_GET, 0, DISPATCH_ADMIN, audit_list},
    {"/admin/v1/visits", ROUTER_GET, 0, DISPATCH_ADMIN, visits_history},
    {"/admin/v1/visits/base", ROUTER_PUT, 0, DISPATCH_ADMIN, visits_set_bases},
};

#define DISPATCH_N (sizeof(dispatch_table) / sizeof(dispatch_table[0]))
_Static_assert(DISPATCH_N < METRICS_ROUTES_MAX, "every route has its own figures");

int dispatch_route_count(void)
{
    return (int)DISPATCH_N;
}

const struct route *dispatch_route(int i)
{
    return i >= 1 && (size_t)i <= DISPATCH_N ? &dispatch_table[i - 1] : NULL;
}

/* Styles and scripts of the pages. The pages themselves have their own
 * addresses (/ and /admin/), so that THAMDO_DEMO=false really hides the demo. */
static void dispatch_static(struct request *r)
{
    size_t len = strlen(r->asset);
    if (len >= 5 && strcmp(r->asset + len - 5, ".html") == 0) {
        request_reply_error(r, 404, "not_found", "There is nothing at this address.");
        return;
    }
    assets_serve(r, r->asset);
}

/* With THAMDO_ADMIN_LISTEN, the admin listener serves /admin, the
 * dashboard's /static/ files and the probes; the public one all but /admin. */
static int dispatch_on_listener(struct request *r, const char *path, int admin)
{
    if (!r->srv->cfg->admin_listen)
        return 1;
    if (!server_on_admin(r->srv, r->req))
        return !admin;
    return admin || (path && (strncmp(path, "/static/", 8) == 0 || strcmp(path, "/healthz") == 0 ||
                              strcmp(path, "/readyz") == 0 || strcmp(path, "/metrics") == 0));
}

/* An API request from a page whose origin is not allowed: the page may read
 * this refusal (and its preflight passes, so that the request itself gets
 * it), nothing else. */
static void dispatch_refuse_origin(struct request *r)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    cors_log_refused(&r->srv->cors_log, request_header(r, "Origin"), (int64_t)now.tv_sec);
    int preflight = r->method == EVHTTP_REQ_OPTIONS;
    cors_add_refusal_headers(r, preflight);
    if (preflight) {
        request_reply_buffer(r, 204, NULL, NULL);
        return;
    }
    request_reply_error(r, 403, "origin_not_allowed",
                        "This page's origin may not use the poll service: its operator can add "
                        "it to THAMDO_ALLOWED_ORIGINS.");
}

void dispatch_handle(struct evhttp_request *req, void *arg)
{
    struct route_match m;
    char allow[96];
    struct request *r = request_new(arg, req);
    if (framing_refuse(r, conn_request_flaws(r->srv, req)))
        return;
    const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));

    enum router_result res =
        router_match(dispatch_table, DISPATCH_N, (unsigned)r->method, path ? path : "", &m);
    r->route = res == ROUTER_FOUND ? (int)(m.route - dispatch_table) + 1 : 0;
    int admin = path && strncmp(path, "/admin", 6) == 0 && (path[6] == '\0' || path[6] == '/');
    int listener_ok = dispatch_on_listener(r, path, admin); /* before any CORS header */
    int api = path && strncmp(path, "/api/", 5) == 0;
    if (api && listener_ok)
        cors_add_headers(r);

    if ((admin && r->srv->cfg->n_tokens == 0) || !listener_ok) {
        request_reply_error(r, 404, "not_found", "There is nothing at this address.");
        return;
    }
    if (api && cors_origin_refused(r) &&
        !(res == ROUTER_NOT_FOUND && r->method == EVHTTP_REQ_OPTIONS)) {
        if (res == ROUTER_BAD_METHOD) {
            router_allow_header(m.allow, allow, sizeof(allow));
            request_add_header(r, "Allow", allow);
        }
        dispatch_refuse_origin(r);
        return;
    }
    if (res == ROUTER_NOT_FOUND) {
        request_reply_error(r, 404, "not_found", "There is nothing at this address.");
        return;
    }
    if (res == ROUTER_BAD_METHOD) {
        router_allow_header(m.allow, allow, sizeof(allow));
        request_add_header(r, "Allow", allow);
        if (r->method == EVHTTP_REQ_OPTIONS) {
            if (api)
                cors_add_preflight_headers(r);
            request_reply_buffer(r, 204, NULL, NULL);
            return;
        }
        request_reply_error(r, 405, "method_not_allowed", "This method is not allowed here.");
        return;
    }

    unsigned flags = m.route->flags;
    if (flags & DISPATCH_ADMIN)
        r->admin_token = auth_bearer_ok(r->srv->cfg, request_header(r, "Authorization"));
    if ((flags & DISPATCH_ADMIN) && !r->admin_token) {
        request_add_header(r, "WWW-Authenticate", "Bearer realm=\"thamdo admin\"");
        request_reply_error(r, 401, "unauthorized", "A valid admin token is required.");
        return;
    }
    if (m.nparams > 0) {
        size_t len = strlen(m.params[0]); /* the router bounds it to ROUTER_PARAM_MAX */
        if (flags & DISPATCH_POLL) {
            if (!text_is_slug(m.params[0], len)) {
                request_reply_error(r, 404, "poll_not_found", "There is no poll with this id.");
                return;
            }
            memcpy(r->poll_id, m.params[0], len + 1);
        } else {
            memcpy(r->asset, m.params[0], len + 1);
        }
    }
    if ((flags & DISPATCH_API) && r->method == EVHTTP_REQ_POST && !cors_source_allowed(r)) {
        request_reply_error(r, 403, "origin_not_allowed",
                            "Votes are accepted only from the pages this service is set up for.");
        return;
    }
    m.route->fn(r);
}
