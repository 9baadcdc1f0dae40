/* server.c - the event loop, the listener, signals and the graceful stop.
 *
 * Lifecycle: bind -> connect the store -> serve -> SIGTERM/SIGINT -> stop
 * accepting -> wait for requests in flight (bounded) -> free the store (any
 * request still waiting on Redis is answered 503) -> free evhttp -> return.
 * Must not parse requests: that is api.c. */
#include "server.h"

#include <arpa/inet.h>
#include <event2/event.h>
#include <event2/http.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>
#include <time.h>

#include "config.h"
#include "log.h"
#include "routes.h"
#include "store.h"
#include "version.h"
#include "visits_cache.h"

#define SERVER_DRAIN_MS   10000
#define SERVER_HEADER_MAX 8192
#define SERVER_TIMEOUT_S  30

int64_t server_now(const struct server *srv)
{
    (void)srv;
    return (int64_t)time(NULL);
}

static uint64_t server_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Six random characters that set this process's generated request ids
 * apart from another instance's. */
static void server_request_id_prefix(struct server *srv)
{
    static const char alphabet[] = "abcdefghijkmnpqrstuvwxyz23456789";
    unsigned char raw[6];
    if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw)) {
        uint64_t t = server_mono_ms() ^ (uint64_t)getpid() << 20;
        memcpy(raw, &t, sizeof(raw));
    }
    for (size_t i = 0; i < sizeof(raw); i++)
        srv->request_id_prefix[i] = alphabet[raw[i] & 31];
    srv->request_id_prefix[sizeof(raw)] = '\0';
}

static void server_store_ready_cb(void *arg)
{
    struct server *srv = arg;
    /* On every (re)connection: creating only what is missing is harmless,
     * and brings the polls back into a Redis that lost its data. */
    if (srv->cfg->polls != NULL)
        store_poll_import(srv->store, srv->cfg->polls, server_now(srv));
}

static void server_drain_cb(evutil_socket_t fd, short what, void *arg)
{
    struct server *srv = arg;
    (void)fd;
    (void)what;
    if (srv->inflight == 0) {
        event_base_loopbreak(srv->base);
    } else if (server_mono_ms() >= srv->drain_deadline_ms) {
        log_warn("stopping with %d request(s) unanswered after %d s", srv->inflight,
                 SERVER_DRAIN_MS / 1000);
        event_base_loopbreak(srv->base);
    }
}

static void server_signal_cb(evutil_socket_t sig, short what, void *arg)
{
    struct server *srv = arg;
    (void)what;
    if (srv->stopping) {
        log_warn("second stop signal: stopping now");
        event_base_loopbreak(srv->base);
        return;
    }
    log_info("%s received: finishing %d request(s) in flight, then stopping",
             sig == SIGINT ? "SIGINT" : "SIGTERM", srv->inflight);
    srv->stopping = 1;
    if (srv->listener) {
        evhttp_del_accept_socket(srv->http, srv->listener);
        srv->listener = NULL;
    }
    srv->drain_deadline_ms = server_mono_ms() + SERVER_DRAIN_MS;
    struct timeval tv = {0, 50000};
    event_add(srv->drain_ev, &tv);
}

/* Writes "http://host:port/" of the bound socket into buf. */
static void server_url(struct evhttp_bound_socket *bs, char *buf, size_t size)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    char host[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&ss, &len) == 0) {
        if (ss.ss_family == AF_INET6) {
            const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&ss;
            inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
            port = ntohs(a->sin6_port);
            snprintf(buf, size, "http://[%s]:%d/", host, port);
            return;
        }
        const struct sockaddr_in *a = (const struct sockaddr_in *)&ss;
        inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
        port = ntohs(a->sin_port);
    }
    snprintf(buf, size, "http://%s:%d/", host, port);
}

int server_run(const struct config *cfg)
{
    struct server srv;
    int rc = 1;
    memset(&srv, 0, sizeof(srv));
    srv.cfg = cfg;
    server_request_id_prefix(&srv);
    srv.base = event_base_new();
    srv.http = srv.base ? evhttp_new(srv.base) : NULL;
    if (!srv.http) {
        log_error("cannot create the event loop");
        goto out;
    }
    evhttp_set_timeout(srv.http, SERVER_TIMEOUT_S);
    evhttp_set_max_headers_size(srv.http, SERVER_HEADER_MAX);
    /* Bodies up to 16 times the API limit (at least the editors' 64 KiB)
     * reach the handler, which answers a JSON 413; larger ones are refused by
     * evhttp before they are read. */
    size_t body_cap = cfg->max_body * 16 > 65536 + 1024 ? cfg->max_body * 16 : 65536 + 1024;
    evhttp_set_max_body_size(srv.http, (ev_ssize_t)body_cap);
    evhttp_set_allowed_methods(srv.http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
                                             EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PUT |
                                             EVHTTP_REQ_DELETE | EVHTTP_REQ_PATCH);
    evhttp_set_gencb(srv.http, routes_handle, &srv);

    srv.listener =
        evhttp_bind_socket_with_handle(srv.http, cfg->listen_host, (ev_uint16_t)cfg->listen_port);
    if (!srv.listener) {
        fprintf(stderr,
                "thamdo: THAMDO_LISTEN: cannot listen on %s:%d (in use, or not an address "
                "of this machine)\n",
                cfg->listen_host, cfg->listen_port);
        goto out;
    }

    srv.visits = visits_cache_new(cfg);
    srv.store = store_new(srv.base, cfg);
    store_set_ready_cb(srv.store, server_store_ready_cb, &srv);

    srv.sigint_ev = evsignal_new(srv.base, SIGINT, server_signal_cb, &srv);
    srv.sigterm_ev = evsignal_new(srv.base, SIGTERM, server_signal_cb, &srv);
    srv.drain_ev = event_new(srv.base, -1, EV_PERSIST, server_drain_cb, &srv);
    event_add(srv.sigint_ev, NULL);
    event_add(srv.sigterm_ev, NULL);

    char url[128];
    server_url(srv.listener, url, sizeof(url));
    log_info("thamdo %s listening on %s", THAMDO_VERSION, url);

    event_base_dispatch(srv.base);
    rc = 0;

out:
    /* The store first: requests still waiting on Redis get their 503 while
     * their connections exist; then evhttp closes the connections. */
    store_free(srv.store);
    visits_cache_free(srv.visits); /* after the store: its fetches are answered */
    if (srv.http)
        evhttp_free(srv.http);
    if (srv.sigint_ev)
        event_free(srv.sigint_ev);
    if (srv.sigterm_ev)
        event_free(srv.sigterm_ev);
    if (srv.drain_ev)
        event_free(srv.drain_ev);
    if (srv.base)
        event_base_free(srv.base);
    if (rc == 0)
        log_info("stopped");
    return rc;
}
