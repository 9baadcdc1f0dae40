/* server.c - one worker: its event loop, its listener, its store and its
 * graceful stop.
 *
 * Lifecycle (proc.c drives it): server_init() on the main thread (loop,
 * evhttp, listener, connections, store, timers) -> server_serve() on the
 * worker's thread -> a stop signal (proc.c writes the stop eventfd):
 *   1. stopping: /readyz answers 503, every answer says Connection: close,
 *      live streams end; new connections are still served for
 *      THAMDO_LAME_DUCK_MS (a load balancer's checks see it first);
 *   2. the listener takes what waits in its accept queue, then closes
 *      (conns_stop_listening); connections idle between requests close;
 *   3. draining: until every connection has closed (each after its answer's
 *      last byte has left), and every other worker has drained too, bounded
 *      by THAMDO_DRAIN_MS;
 *   4. final: connections without a request close, the store is freed (a
 *      request still waiting on Redis is answered 503), and those answers
 *      are written for up to SERVER_FLUSH_MS;
 *   5. free evhttp and the loop, return.
 * A second stop signal skips the lame duck and the drain (2 and 4 at once).
 * Must not parse requests: that is dispatch.c and the handlers. */
#include "server.h"

#include <arpa/inet.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "bots.h"
#include "cache.h"
#include "clock.h"
#include "config.h"
#include "conn.h"
#include "cookie.h"
#include "events.h"
#include "identity.h"
#include "log.h"
#include "metrics.h"
#include "dispatch.h"
#include "store.h"
#include "version.h"
#include "visits_cache.h"

#define SERVER_DRAIN_TICK 50000  /* us */
#define SERVER_STATUS_US  100000 /* how often a worker publishes whether its store is ready */
#define SERVER_HEADER_MAX 8192
#define SERVER_TIMEOUT_S  30
#define SERVER_FLUSH_MS   1000 /* the 503s of the final step are written this long at most */

int64_t server_now(const struct server *srv)
{
    (void)srv;
    return (int64_t)time(NULL);
}

/* "<six random characters>-<worker id>": the six set this process's
 * generated request ids apart from another instance's (worker 0 draws them,
 * the others take worker 0's), the worker id sets its workers apart. */
static void server_request_id_prefix(struct server *srv)
{
    static const char alphabet[] = "abcdefghijkmnpqrstuvwxyz23456789";
    char base[7];
    if (srv->worker_id == 0) {
        unsigned char raw[6];
        if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw)) {
            uint64_t t = clock_mono_ms() ^ (uint64_t)getpid() << 20;
            memcpy(raw, &t, sizeof(raw));
        }
        for (size_t i = 0; i < sizeof(raw); i++)
            base[i] = alphabet[raw[i] & 31];
    } else {
        memcpy(base, srv->workers[0].request_id_prefix, 6);
    }
    base[6] = '\0';
    snprintf(srv->request_id_prefix, sizeof(srv->request_id_prefix), "%s-%d", base, srv->worker_id);
}

static void server_store_ready_cb(void *arg)
{
    struct server *srv = arg;
    atomic_store_explicit(&srv->ready_pub, 1, memory_order_relaxed);
    /* On every (re)connection: creating only what is missing is harmless,
     * and brings the polls back into a Redis that lost its data. One worker
     * is enough: they all share the one Redis. */
    if (srv->worker_id == 0 && srv->cfg->polls != NULL)
        store_poll_import(srv->store, srv->cfg->polls, server_now(srv));
}

/* A poll changed (on any instance): its live streams on this worker follow. */
static void server_poll_changed_cb(void *arg, const char *poll_id)
{
    struct server *srv = arg;
    events_poll_changed(srv->events, poll_id);
}

/* 1 when every other worker last published ready (want_ready) or drained
 * (!want_ready). */
static int server_others(const struct server *srv, int want_ready)
{
    for (int i = 0; i < srv->nworkers; i++) {
        const struct server *w = &srv->workers[i];
        if (i == srv->worker_id)
            continue;
        if (want_ready ? !atomic_load_explicit(&w->ready_pub, memory_order_relaxed)
                       : atomic_load_explicit(&w->busy_pub, memory_order_relaxed))
            return 0;
    }
    return 1;
}

int server_ready(const struct server *srv)
{
    return !srv->stopping && srv->store && store_is_ready(srv->store) && server_others(srv, 1);
}

static void server_status_cb(evutil_socket_t fd, short what, void *arg)
{
    struct server *srv = arg;
    (void)fd;
    (void)what;
    atomic_store_explicit(&srv->ready_pub, srv->store && store_is_ready(srv->store),
                          memory_order_relaxed);
}

/* The store and what lives on it; a request still waiting on Redis is
 * answered 503 (its connection still exists). */
static void server_free_services(struct server *srv)
{
    store_free(srv->store);
    srv->store = NULL;
    cache_free(srv->cache);
    srv->cache = NULL;
    events_free(srv->events);
    srv->events = NULL;
    visits_cache_free(srv->visits); /* after the store: its fetches are answered */
    srv->visits = NULL;
}

/* Step 4: nothing new is read; the answers still owed are given. */
static void server_finish(struct server *srv)
{
    if (srv->final)
        return;
    srv->final = 1;
    conns_close_unanswered(srv->conns);
    if (srv->status_ev)
        event_del(srv->status_ev);
    int waiting = srv->inflight;
    server_free_services(srv);
    srv->flush_deadline_ms = clock_mono_ms() + SERVER_FLUSH_MS;
    if (waiting > 0)
        log_info("stop_answering_503",
                 "worker %d: %d request(s) still waiting on Redis or being sent: answered "
                 "503 where not yet, written for up to %d ms",
                 srv->worker_id, waiting, SERVER_FLUSH_MS);
    if (srv->conns_open == 0)
        event_base_loopbreak(srv->base);
}

static void server_drain_cb(evutil_socket_t fd, short what, void *arg)
{
    struct server *srv = arg;
    (void)fd;
    (void)what;
    int busy = srv->conns_open > 0 || srv->inflight > 0;
    atomic_store_explicit(&srv->busy_pub, busy, memory_order_relaxed);
    uint64_t now = clock_mono_ms();
    if (srv->final) {
        if (srv->conns_open > 0 && now < srv->flush_deadline_ms)
            return;
        if (srv->conns_open > 0)
            log_warn("stop_unsent",
                     "worker %d: stopping with %d connection(s) whose answer did not leave "
                     "within %d ms",
                     srv->worker_id, srv->conns_open, SERVER_FLUSH_MS);
        event_base_loopbreak(srv->base);
    } else if (!busy && server_others(srv, 0)) {
        event_base_loopbreak(srv->base);
    } else if (now >= srv->drain_deadline_ms) {
        if (busy)
            log_warn("stop_unanswered",
                     "worker %d: %d connection(s) still open after %d ms (THAMDO_DRAIN_MS)",
                     srv->worker_id, srv->conns_open, srv->cfg->drain_ms);
        server_finish(srv);
    }
}

/* Step 2 is over: the listener is closed. */
static void server_listener_closed(struct server *srv)
{
    srv->listener_closed = 1;
    if (srv->admin_listener) /* editors are not waited for in the accept queue */
        evhttp_del_accept_socket(srv->http, srv->admin_listener);
    srv->admin_listener = NULL;
    conns_close_idle(srv->conns);
    srv->drain_deadline_ms = clock_mono_ms() + (uint64_t)srv->cfg->drain_ms;
    struct timeval tv = {0, SERVER_DRAIN_TICK};
    event_add(srv->drain_ev, &tv);
    if (srv->stop_requests >= 2)
        server_finish(srv);
}

static void server_lame_cb(evutil_socket_t fd, short what, void *arg)
{
    struct server *srv = arg;
    (void)fd;
    (void)what;
    event_del(srv->lame_ev);
    if (srv->listener_closing)
        return;
    srv->listener_closing = 1;
    conns_stop_listening(srv->conns, server_listener_closed);
}

/* proc.c added the count of stop signals to the eventfd. */
static void server_stop_cb(evutil_socket_t fd, short what, void *arg)
{
    struct server *srv = arg;
    uint64_t n = 0;
    (void)what;
    if (read(fd, &n, sizeof(n)) != (ssize_t)sizeof(n) || n == 0)
        return;
    int before = srv->stop_requests;
    srv->stop_requests += n > 2 ? 2 : (int)n;
    if (before == 0) {
        log_debug("worker_draining", "worker %d: finishing %d request(s) in flight, then stopping",
                  srv->worker_id, srv->inflight);
        srv->stopping = 1;
        events_stop(srv->events); /* streams are not waited for: they end now */
    }
    if (srv->stop_requests >= 2) {
        if (srv->listener_closed)
            server_finish(srv);
        else
            server_lame_cb(-1, 0, srv); /* skips the lame duck; then finishes */
        return;
    }
    if (srv->cfg->lame_duck_ms > 0) {
        struct timeval tv = {srv->cfg->lame_duck_ms / 1000, (srv->cfg->lame_duck_ms % 1000) * 1000};
        evtimer_add(srv->lame_ev, &tv);
    } else {
        server_lame_cb(-1, 0, srv);
    }
}

static void server_log_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    log_flush();
}

/* A line went into this thread's empty log buffer: write it within LOG_FLUSH_MS. */
static void server_log_wake(void *arg)
{
    struct server *srv = arg;
    if (srv->log_ev && !event_pending(srv->log_ev, EV_TIMEOUT, NULL)) {
        struct timeval tv = {0, LOG_FLUSH_MS * 1000};
        event_add(srv->log_ev, &tv);
    }
}

/* Binds a listening socket of srv's evhttp to addr into *out: 0; -2 when
 * the address cannot be bound, -1 when evhttp refused. Every worker's socket
 * has SO_REUSEPORT: the kernel spreads the connections of the one port over
 * them. */
static int server_bind(struct server *srv, const struct sockaddr *addr, socklen_t addrlen,
                       struct evhttp_bound_socket **out)
{
    struct evconnlistener *lev = evconnlistener_new_bind(
        srv->base, NULL, NULL,
        LEV_OPT_REUSEABLE | LEV_OPT_REUSEABLE_PORT | LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC,
        -1, addr, (int)addrlen);
    if (!lev)
        return -2;
    *out = evhttp_bind_listener(srv->http, lev);
    if (!*out) {
        evconnlistener_free(lev);
        return -1;
    }
    return 0;
}

int server_init(struct server *srv, const struct config *cfg, int id, int n, struct server *workers,
                const struct sockaddr *addr, socklen_t addrlen)
{
    memset(srv, 0, sizeof(*srv));
    srv->cfg = cfg;
    srv->worker_id = id;
    srv->nworkers = n;
    srv->workers = workers;
    srv->stop_fd = -1;
    atomic_init(&srv->ready_pub, 0);
    atomic_init(&srv->busy_pub, 1);
    server_request_id_prefix(srv);
    srv->base = event_base_new();
    srv->http = srv->base ? evhttp_new(srv->base) : NULL;
    srv->stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (!srv->http || srv->stop_fd < 0)
        return -1;
    evhttp_set_timeout(srv->http, SERVER_TIMEOUT_S);
    evhttp_set_max_headers_size(srv->http, SERVER_HEADER_MAX);
    /* Bodies up to 16 times the API limit (at least the editors' 64 KiB)
     * reach the handler, which answers a JSON 413; larger ones are refused by
     * evhttp before they are read. */
    size_t body_cap = cfg->max_body * 16 > 65536 + 1024 ? cfg->max_body * 16 : 65536 + 1024;
    evhttp_set_max_body_size(srv->http, (ev_ssize_t)body_cap);
    /* CONNECT and TRACE reach the service too (dispatch refuses them in
     * JSON): evhttp's own 501 keeps a CONNECT's connection open. */
    evhttp_set_allowed_methods(srv->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
                                              EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PUT |
                                              EVHTTP_REQ_DELETE | EVHTTP_REQ_PATCH |
                                              EVHTTP_REQ_CONNECT | EVHTTP_REQ_TRACE);
    evhttp_set_gencb(srv->http, dispatch_handle, srv);

    int rc = server_bind(srv, addr, addrlen, &srv->listener);
    if (rc != 0)
        return rc;
    /* What is read ahead of a handler: a head and the largest body. */
    srv->conns = conns_new(srv, body_cap + SERVER_HEADER_MAX + 4096);

    srv->stop_ev = event_new(srv->base, srv->stop_fd, EV_READ | EV_PERSIST, server_stop_cb, srv);
    srv->drain_ev = event_new(srv->base, -1, EV_PERSIST, server_drain_cb, srv);
    srv->log_ev = evtimer_new(srv->base, server_log_cb, srv);
    srv->lame_ev = evtimer_new(srv->base, server_lame_cb, srv);
    if (!srv->stop_ev || !srv->drain_ev || !srv->log_ev || !srv->lame_ev)
        return -1;
    event_add(srv->stop_ev, NULL);
    if (n > 1) {
        srv->status_ev = event_new(srv->base, -1, EV_PERSIST, server_status_cb, srv);
        struct timeval tv = {0, SERVER_STATUS_US};
        if (!srv->status_ev)
            return -1;
        event_add(srv->status_ev, &tv);
    }
    srv->visits = visits_cache_new(cfg);
    srv->store = store_new(srv->base, cfg);
    store_set_ready_cb(srv->store, server_store_ready_cb, srv);
    srv->cache = cache_new(srv->store);
    cache_listen(srv->cache, server_poll_changed_cb, srv);
    srv->events = events_new(srv);
    return 0;
}

int server_listen_admin(struct server *srv, const struct sockaddr *addr, socklen_t addrlen)
{
    int rc = server_bind(srv, addr, addrlen, &srv->admin_listener);
    if (rc != 0)
        return rc;
    socklen_t len = sizeof(srv->admin_addr);
    if (getsockname(evhttp_bound_socket_get_fd(srv->admin_listener),
                    (struct sockaddr *)&srv->admin_addr, &len) != 0)
        return -1;
    return 0;
}

/* The port of an IPv4 or IPv6 address (0 for any other). */
static int server_port_of(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET)
        return ntohs(((const struct sockaddr_in *)ss)->sin_port);
    if (ss->ss_family == AF_INET6)
        return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
    return 0;
}

int server_on_admin(const struct server *srv, struct evhttp_request *req)
{
    if (!srv->cfg->admin_listen)
        return 0;
    struct evhttp_connection *c = evhttp_request_get_connection(req);
    struct bufferevent *bev = c ? evhttp_connection_get_bufferevent(c) : NULL;
    struct sockaddr_storage local;
    socklen_t len = sizeof(local);
    if (!bev || getsockname(bufferevent_getfd(bev), (struct sockaddr *)&local, &len) != 0)
        return 0;
    int port = server_port_of(&local), admin_port = server_port_of(&srv->admin_addr);
    if (port != admin_port)
        return 0;
    if (port != srv->cfg->listen_port || srv->cfg->listen_port == 0)
        return 1;
    /* The same port on two addresses: the address tells them apart. */
    if (local.ss_family == AF_INET && srv->admin_addr.ss_family == AF_INET)
        return ((const struct sockaddr_in *)&local)->sin_addr.s_addr ==
               ((const struct sockaddr_in *)&srv->admin_addr)->sin_addr.s_addr;
    if (local.ss_family == AF_INET6 && srv->admin_addr.ss_family == AF_INET6)
        return memcmp(&((const struct sockaddr_in6 *)&local)->sin6_addr,
                      &((const struct sockaddr_in6 *)&srv->admin_addr)->sin6_addr,
                      sizeof(struct in6_addr)) == 0;
    return 0;
}

int server_bound_addr(const struct server *srv, struct sockaddr_storage *ss, socklen_t *len)
{
    *len = sizeof(*ss);
    if (!srv->listener)
        return -1;
    return getsockname(evhttp_bound_socket_get_fd(srv->listener), (struct sockaddr *)ss, len);
}

void server_discard(struct server *srv)
{
    /* The store first (when the stop has not freed it): requests still
     * waiting on Redis get their 503 while their connections exist; then
     * evhttp closes the connections, the listener first. */
    server_free_services(srv);
    if (srv->http && srv->listener)
        evhttp_del_accept_socket(srv->http, srv->listener);
    srv->listener = NULL;
    if (srv->http && srv->admin_listener)
        evhttp_del_accept_socket(srv->http, srv->admin_listener);
    srv->admin_listener = NULL;
    if (srv->http)
        evhttp_free(srv->http);
    srv->http = NULL;
    conns_free(srv->conns);
    srv->conns = NULL;
    struct event *evs[] = {srv->stop_ev, srv->drain_ev, srv->log_ev, srv->status_ev, srv->lame_ev};
    for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++) {
        if (evs[i])
            event_free(evs[i]);
    }
    srv->stop_ev = srv->drain_ev = srv->log_ev = srv->status_ev = srv->lame_ev = NULL;
    if (srv->base)
        event_base_free(srv->base);
    srv->base = NULL;
    if (srv->stop_fd >= 0)
        close(srv->stop_fd);
    srv->stop_fd = -1;
}

void server_serve(struct server *srv)
{
    log_thread_begin(server_log_wake, srv);
    metrics_thread_begin(srv->worker_id);
    /* Before the first request, so no reader waits for the robot patterns. */
    if (bots_init() == 0 && srv->worker_id == 0)
        log_debug("robot_patterns", "robot patterns: %zu from %s", bots_pattern_count(),
                  bots_source());
    log_info("worker_serving", "worker %d of %d serving", srv->worker_id, srv->nworkers);
    event_base_dispatch(srv->base);
    server_discard(srv);
    atomic_store_explicit(&srv->busy_pub, 0, memory_order_relaxed);
    bots_thread_end();
    cookie_thread_end();
    identity_thread_end();
    log_thread_end();
}
