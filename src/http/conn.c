/* conn.c - a worker's HTTP connections (see conn.h): one struct conn per
 * accepted connection, made in evhttp's bufferevent callback and freed in
 * one place (conn_release), from evhttp's close callback.
 *
 * States of a connection (a comment, because evhttp's own are private):
 *   IDLE  no request byte yet (fresh, or between requests: evhttp's 30 s
 *         read timeout applies);
 *   HEAD  a request's first byte came: its head must be whole within
 *         THAMDO_HEADER_TIMEOUT_MS (a scan of the bytes read finds its end,
 *         the first empty line, as evhttp reads it);
 *   BODY  the head is whole: the body must be within THAMDO_BODY_TIMEOUT_MS;
 *   BUSY  a handler has the request (request_new) until the answer's last
 *         byte has left (on_complete), or a stream runs.
 * A deadline missed closes the connection without an answer. evhttp reads
 * on while it writes an answer (to see a close): a read high-water mark
 * bounds what a client that sends without reading can park here.
 *
 * The hook: evhttp's bufferevent callback gets no connection, so the
 * connection is found one loop turn later (its event callback argument),
 * holding a reference on the bufferevent until then; if evhttp freed it in
 * between, the callbacks are gone and the conn is released.
 *
 * Framing: every byte of a request's head (and of a chunked body) goes to
 * its framing scan (framing.h) as it arrives, before evhttp parses it; the
 * handler learns what it found (conn_request_flaws).
 *
 * Accepting: at the cap the listener is disabled until a connection
 * closes; when accept fails otherwise (EMFILE, ENFILE...) it is disabled for
 * CONNS_BACKOFF_MS, and said at most once per CONNS_LOG_MS. Must not parse
 * or answer requests. */
#include "conn.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <stdlib.h>
#include <string.h>
#include <sys/poll.h> /* not <poll.h>: src/poll.h is the poll module */
#include <sys/queue.h>
#include <sys/resource.h>

#include "clock.h"
#include "config.h"
#include "framing.h"
#include "log.h"
#include "metrics.h"
#include "server.h"

#define CONNS_BACKOFF_MS     100   /* accepting paused after a failed accept */
#define CONNS_LOG_MS         10000 /* at most one line this often about accepting */
#define CONNS_STOP_GRACE_MS  1000  /* a stop: a fresh connection's first byte by then */
#define CONNS_STOP_ACCEPT_MS 1000  /* a stop: longest taking of the accept queue */
#define CONNS_RESERVE        32    /* descriptors kept for the process... */
#define CONNS_RESERVE_WORKER 16    /* ...and for each worker (Redis links, loop, eventfds) */
#define CONNS_HEAD_SCAN_MAX  16384 /* bytes of a head scanned (evhttp stops at 8 KiB) */

enum conn_state { CONN_IDLE, CONN_HEAD, CONN_BODY, CONN_BUSY };
enum conns_pause { CONNS_PAUSE_CAP = 1, CONNS_PAUSE_BACKOFF = 2 };

struct conn {
    struct conns *cs;
    struct bufferevent *bev;
    struct evhttp_connection *evcon; /* NULL until hooked */
    struct evbuffer_cb_entry *in_cb;
    struct event *timer; /* the hook, then the deadline of the state */
    enum conn_state state;
    int fd;
    int hooked;
    int counted;     /* counts in srv->inflight */
    int served;      /* an answer has left: idle means kept alive */
    int close_asked; /* a stop: close when not busy */
    int line_len;    /* head scan: bytes of the current line (CR aside) */
    int lines;       /* head scan: lines ended */
    size_t scanned;
    struct framing_scan framing; /* the request's bytes, read strictly (framing.h) */
    void (*user_closecb)(struct evhttp_connection *, void *);
    void *user_closecb_arg;
    LIST_ENTRY(conn) link;
};

LIST_HEAD(conn_list, conn);

struct conns {
    struct server *srv;
    struct conn_list all;
    struct conn **by_fd; /* hooked connections by descriptor */
    size_t by_fd_len;
    size_t input_max;
    int cap;
    int paused;   /* enum conns_pause bits */
    int taking;   /* a stop takes the accept queue: no pause at the cap */
    int stopping; /* conns_close_idle was called */
    int final;    /* conns_close_unanswered was called */
    struct event *backoff_ev, *stop_ev;
    void (*listen_done)(struct server *);
    uint64_t stop_accept_until;
    uint64_t cap_logged, error_logged; /* ms of the last line (0: never) */
    unsigned long errors_unlogged;
};

long conns_total(const struct config *cfg, int nworkers, long *fd_limit)
{
    struct rlimit rl;
    long soft = 1L << 20;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
        soft = (long)rl.rlim_cur;
    if (fd_limit)
        *fd_limit = soft;
    long n = nworkers < 1 ? 1 : nworkers;
    long total = cfg->max_connections > 0 ? cfg->max_connections
                                          : soft - CONNS_RESERVE - CONNS_RESERVE_WORKER * n;
    return total < n ? n : total;
}

int conns_cap(const struct conns *cs)
{
    return cs->cap;
}

/* ---------------------------------------------------------------- accepting */

/* The listener while srv has one (the stop and server_discard free it). */
static struct evconnlistener *conns_lev(const struct conns *cs)
{
    return cs->srv->listener ? evhttp_bound_socket_get_listener(cs->srv->listener) : NULL;
}

static void conns_pause(struct conns *cs, int why)
{
    if (!cs->paused && conns_lev(cs))
        evconnlistener_disable(conns_lev(cs));
    cs->paused |= why;
}

static void conns_resume(struct conns *cs, int why)
{
    if (!(cs->paused & why))
        return;
    cs->paused &= ~why;
    if (!cs->paused && conns_lev(cs))
        evconnlistener_enable(conns_lev(cs));
}

static void conns_backoff_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    conns_resume(arg, CONNS_PAUSE_BACKOFF);
}

/* Every worker's conns, by worker id: the listener's error callback gets
 * the evhttp (evhttp_bind_listener's argument), not conns. Written on the
 * main thread before the workers start, read-only afterwards. */
static struct {
    const struct evhttp *http; /* compared only: another worker's is never read */
    struct conns *cs;
} conns_registry[CONFIG_THREADS_MAX];

/* accept() failed with other than EAGAIN/EINTR/ECONNABORTED: out of
 * descriptors or memory. Waiting is all that helps. */
static void conns_accept_error_cb(struct evconnlistener *lev, void *arg)
{
    struct conns *cs = NULL;
    int err = EVUTIL_SOCKET_ERROR();
    for (size_t i = 0; i < CONFIG_THREADS_MAX && !cs; i++) {
        if (conns_registry[i].http == arg)
            cs = conns_registry[i].cs;
    }
    if (!cs) {
        evconnlistener_disable(lev); /* cannot happen; never spin */
        return;
    }
    conns_pause(cs, CONNS_PAUSE_BACKOFF);
    struct timeval tv = {0, CONNS_BACKOFF_MS * 1000};
    evtimer_add(cs->backoff_ev, &tv);
    uint64_t now = clock_mono_ms();
    cs->errors_unlogged++;
    if (cs->error_logged == 0 || now - cs->error_logged >= CONNS_LOG_MS) {
        log_warn("accept_failed",
                 "worker %d: cannot accept connections: %s (%d open here); accepting again "
                 "in %d ms (%lu failure(s) since the last such line)",
                 cs->srv->worker_id, strerror(err), cs->srv->conns_open, CONNS_BACKOFF_MS,
                 cs->errors_unlogged);
        cs->error_logged = now;
        cs->errors_unlogged = 0;
    }
}

/* ---------------------------------------------------------------- one connection */

static void conn_release(struct conn *c)
{
    struct conns *cs = c->cs;
    struct server *srv = cs->srv;
    if (c->counted)
        srv->inflight--;
    evbuffer_remove_cb_entry(bufferevent_get_input(c->bev), c->in_cb);
    if (c->hooked && c->fd >= 0 && (size_t)c->fd < cs->by_fd_len && cs->by_fd[c->fd] == c)
        cs->by_fd[c->fd] = NULL;
    LIST_REMOVE(c, link);
    event_free(c->timer);
    if (!c->hooked)
        bufferevent_decref(c->bev); /* evhttp let it go (and closed the socket): this frees it */
    free(c);
    srv->conns_open--;
    metrics_gauge_add(METRICS_CONNECTIONS_OPEN, -1);
    if (srv->conns_open < cs->cap)
        conns_resume(cs, CONNS_PAUSE_CAP);
}

static void conn_closed_cb(struct evhttp_connection *evcon, void *arg)
{
    struct conn *c = arg;
    if (c->user_closecb)
        c->user_closecb(evcon, c->user_closecb_arg);
    conn_release(c);
}

static void conn_arm(struct conn *c, enum conn_state state, int ms)
{
    c->state = state;
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    evtimer_add(c->timer, &tv);
}

static void conn_head_start(struct conn *c)
{
    c->line_len = 0;
    c->lines = 0;
    c->scanned = 0;
    framing_scan_reset(&c->framing);
    conn_arm(c, CONN_HEAD, c->cs->srv->cfg->header_timeout_ms);
}

/* The head's end is still looked for (evhttp gives up on a longer head). */
static int conn_scanning_head(const struct conn *c)
{
    return c->state == CONN_HEAD && c->scanned < CONNS_HEAD_SCAN_MAX;
}

/* Looks in s for the empty line ending the head (a line ends with LF, a CR
 * before it aside, as evhttp reads lines). */
static void conn_scan_head(struct conn *c, const char *s, size_t k)
{
    for (size_t j = 0; j < k; j++) {
        if (s[j] == '\n') {
            if (c->line_len == 0 && c->lines > 0) {
                conn_arm(c, CONN_BODY, c->cs->srv->cfg->body_timeout_ms);
                return;
            }
            c->lines++;
            c->line_len = 0;
        } else if (s[j] != '\r') {
            c->line_len++;
        }
    }
    c->scanned += k;
}

/* Reads the request's bytes in buf from offset: each goes to its framing
 * scan (framing.h), and those of the head to the search for its end. */
static void conn_scan(struct conn *c, struct evbuffer *buf, size_t from)
{
    size_t len = evbuffer_get_length(buf);
    while (from < len && (conn_scanning_head(c) || !framing_scan_done(&c->framing))) {
        struct evbuffer_ptr p;
        struct evbuffer_iovec v[4];
        if (evbuffer_ptr_set(buf, &p, from, EVBUFFER_PTR_SET) != 0)
            return;
        int n = evbuffer_peek(buf, (ev_ssize_t)(len - from), &p, v, 4);
        if (n <= 0)
            return;
        for (int i = 0; i < n && i < 4 && from < len; i++) {
            size_t k = v[i].iov_len < len - from ? v[i].iov_len : len - from;
            framing_scan_feed(&c->framing, v[i].iov_base, k);
            if (conn_scanning_head(c))
                conn_scan_head(c, v[i].iov_base, k);
            from += k;
        }
    }
}

static void conn_input_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
    struct conn *c = arg;
    if (info->n_added == 0)
        return;
    if (c->state == CONN_IDLE && c->hooked)
        conn_head_start(c);
    size_t len = evbuffer_get_length(buf);
    size_t from = len >= info->n_added ? len - info->n_added : 0;
    if (c->state == CONN_HEAD || c->state == CONN_BODY)
        conn_scan(c, buf, from);
}

/* Finds the connection evhttp made around c's bufferevent, one loop turn
 * after it was made. */
static void conn_hook(struct conn *c)
{
    struct conns *cs = c->cs;
    bufferevent_data_cb rcb, wcb;
    bufferevent_event_cb ecb;
    void *arg = NULL;
    bufferevent_getcb(c->bev, &rcb, &wcb, &ecb, &arg);
    if (ecb == NULL || arg == NULL) {
        conn_release(c);
        return;
    }
    c->evcon = arg;
    c->fd = (int)bufferevent_getfd(c->bev);
    if (c->fd >= 0) {
        if ((size_t)c->fd >= cs->by_fd_len) {
            size_t n = cs->by_fd_len ? cs->by_fd_len : 256;
            while (n <= (size_t)c->fd)
                n *= 2;
            struct conn **grown = realloc(cs->by_fd, n * sizeof(*grown));
            if (!grown)
                abort();
            memset(grown + cs->by_fd_len, 0, (n - cs->by_fd_len) * sizeof(*grown));
            cs->by_fd = grown;
            cs->by_fd_len = n;
        }
        cs->by_fd[c->fd] = c;
    }
    evhttp_connection_set_closecb(c->evcon, conn_closed_cb, c);
    c->hooked = 1;
    bufferevent_decref(c->bev); /* evhttp's own reference keeps it */
    if (cs->final) {
        evhttp_connection_free(c->evcon); /* frees c */
        return;
    }
    if (evbuffer_get_length(bufferevent_get_input(c->bev)) > 0) {
        conn_head_start(c);
        conn_scan(c, bufferevent_get_input(c->bev), 0);
    } else if (cs->stopping) {
        conn_arm(c, CONN_IDLE, CONNS_STOP_GRACE_MS);
    }
}

static void conn_timer_cb(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;
    (void)fd;
    (void)what;
    if (!c->hooked) {
        conn_hook(c);
        return;
    }
    if (c->state == CONN_BUSY)
        return; /* a deadline or a close of a state already left */
    if (c->state == CONN_HEAD || c->state == CONN_BODY)
        log_debug("request_deadline",
                  "worker %d: closing a connection: request %s not whole within %d ms",
                  c->cs->srv->worker_id, c->state == CONN_HEAD ? "head" : "body",
                  c->state == CONN_HEAD ? c->cs->srv->cfg->header_timeout_ms
                                        : c->cs->srv->cfg->body_timeout_ms);
    evhttp_connection_free(c->evcon); /* frees c (closecb) */
}

/* The conns of the worker running on this thread (set when it accepts). */
static _Thread_local struct conns *conns_here;

static struct bufferevent *conns_bev_cb(struct event_base *base, void *arg)
{
    struct conns *cs = arg;
    conns_here = cs;
    struct bufferevent *bev = bufferevent_socket_new(base, -1, 0);
    if (!bev)
        return NULL; /* evhttp makes one of its own (not counted) */
    struct conn *c = calloc(1, sizeof(*c));
    if (!c)
        abort();
    c->cs = cs;
    c->bev = bev;
    c->fd = -1;
    c->state = CONN_IDLE;
    c->timer = evtimer_new(base, conn_timer_cb, c);
    if (!c->timer)
        abort();
    bufferevent_incref(bev);
    bufferevent_setwatermark(bev, EV_READ, 0, cs->input_max);
    c->in_cb = evbuffer_add_cb(bufferevent_get_input(bev), conn_input_cb, c);
    LIST_INSERT_HEAD(&cs->all, c, link);
    event_active(c->timer, EV_TIMEOUT, 1); /* the hook, once evhttp has made its connection */
    struct server *srv = cs->srv;
    metrics_gauge_add(METRICS_CONNECTIONS_OPEN, 1);
    if (++srv->conns_open >= cs->cap && !cs->taking) {
        conns_pause(cs, CONNS_PAUSE_CAP);
        uint64_t now = clock_mono_ms();
        if (cs->cap_logged == 0 || now - cs->cap_logged >= CONNS_LOG_MS) {
            log_warn("connection_cap_reached",
                     "worker %d: %d connections open, its share of THAMDO_MAX_CONNECTIONS: "
                     "accepting again when one closes",
                     srv->worker_id, srv->conns_open);
            cs->cap_logged = now;
        }
    }
    return bev;
}

static struct conn *conns_find(struct conns *cs, struct evhttp_connection *evcon)
{
    if (!cs || !evcon)
        return NULL;
    struct bufferevent *bev = evhttp_connection_get_bufferevent(evcon);
    evutil_socket_t fd = bev ? bufferevent_getfd(bev) : -1;
    if (fd < 0 || (size_t)fd >= cs->by_fd_len)
        return NULL;
    struct conn *c = cs->by_fd[fd];
    return c && c->evcon == evcon ? c : NULL;
}

/* evhttp: the answer's last byte has left (before the next request). */
static void conn_complete_cb(struct evhttp_request *req, void *arg)
{
    struct conn *c = arg;
    (void)req;
    c->served = 1;
    if (c->counted) {
        c->counted = 0;
        c->cs->srv->inflight--;
    }
    struct evbuffer *in = bufferevent_get_input(c->bev);
    if (evbuffer_get_length(in) > 0 && !c->cs->final) {
        conn_head_start(c); /* the next request, sent ahead */
        conn_scan(c, in, 0);
        return;
    }
    c->state = CONN_IDLE;
    evtimer_del(c->timer);
    if (c->cs->stopping) /* closed on the loop's next turn, outside evhttp */
        event_active(c->timer, EV_TIMEOUT, 1);
}

void conn_request_begin(struct server *srv, struct evhttp_request *req)
{
    struct conn *c = conns_find(srv->conns, evhttp_request_get_connection(req));
    if (!c)
        return;
    c->state = CONN_BUSY;
    evtimer_del(c->timer);
    if (!c->counted) {
        c->counted = 1;
        srv->inflight++;
    }
    evhttp_request_set_on_complete_cb(req, conn_complete_cb, c);
}

int conn_request_flaws(struct server *srv, struct evhttp_request *req)
{
    struct conn *c = conns_find(srv->conns, evhttp_request_get_connection(req));
    return c ? c->framing.flaws : 0;
}

void conn_request_uncount(struct server *srv, struct evhttp_request *req)
{
    struct conn *c = conns_find(srv->conns, evhttp_request_get_connection(req));
    if (c && c->counted) {
        c->counted = 0;
        srv->inflight--;
    }
}

void conn_set_closecb(struct evhttp_connection *evcon,
                      void (*cb)(struct evhttp_connection *, void *), void *arg)
{
    struct conn *c = conns_find(conns_here, evcon);
    if (c) {
        c->user_closecb = cb;
        c->user_closecb_arg = arg;
    } else {
        evhttp_connection_set_closecb(evcon, cb, arg);
    }
}

/* ---------------------------------------------------------------- stopping */

static void conns_stop_accept_cb(evutil_socket_t fd, short what, void *arg)
{
    struct conns *cs = arg;
    struct server *srv = cs->srv;
    (void)fd;
    (void)what;
    if (srv->listener) {
        /* Readable: connections wait in the queue; the listener takes them. */
        struct pollfd p = {evhttp_bound_socket_get_fd(srv->listener), POLLIN, 0};
        if (poll(&p, 1, 0) == 1 && (p.revents & POLLIN) &&
            clock_mono_ms() < cs->stop_accept_until) {
            struct timeval tv = {0, 1000};
            evtimer_add(cs->stop_ev, &tv);
            return;
        }
        evhttp_del_accept_socket(srv->http, srv->listener);
        srv->listener = NULL;
    }
    if (cs->listen_done) {
        void (*done)(struct server *) = cs->listen_done;
        cs->listen_done = NULL;
        done(srv);
    }
}

void conns_stop_listening(struct conns *cs, void (*done)(struct server *))
{
    cs->listen_done = done;
    cs->taking = 1;
    cs->stop_accept_until = clock_mono_ms() + CONNS_STOP_ACCEPT_MS;
    evtimer_del(cs->backoff_ev);
    conns_resume(cs, CONNS_PAUSE_CAP | CONNS_PAUSE_BACKOFF);
    conns_stop_accept_cb(-1, 0, cs);
}

void conns_close_idle(struct conns *cs)
{
    cs->stopping = 1;
    struct conn *c = LIST_FIRST(&cs->all);
    while (c) {
        struct conn *next = LIST_NEXT(c, link);
        if (c->hooked && c->state == CONN_IDLE) {
            if (c->served)
                evhttp_connection_free(c->evcon); /* frees c */
            else
                conn_arm(c, CONN_IDLE, CONNS_STOP_GRACE_MS);
        }
        c = next;
    }
}

void conns_close_unanswered(struct conns *cs)
{
    cs->stopping = 1;
    cs->final = 1;
    struct conn *c = LIST_FIRST(&cs->all);
    while (c) {
        struct conn *next = LIST_NEXT(c, link);
        if (c->hooked && c->state != CONN_BUSY) {
            evhttp_connection_free(c->evcon); /* frees c */
        } else if (c->hooked) {
            /* Its answer may still be written; nothing more is read. */
            struct evbuffer *in = bufferevent_get_input(c->bev);
            evbuffer_drain(in, evbuffer_get_length(in));
        }
        c = next;
    }
}

/* ---------------------------------------------------------------- setup */

struct conns *conns_new(struct server *srv, size_t input_max)
{
    struct conns *cs = calloc(1, sizeof(*cs));
    if (!cs)
        abort();
    cs->srv = srv;
    cs->input_max = input_max;
    LIST_INIT(&cs->all);
    long total = conns_total(srv->cfg, srv->nworkers, NULL);
    long n = srv->nworkers < 1 ? 1 : srv->nworkers;
    long cap = (total + n - 1) / n;
    cs->cap = cap > 1000000000L ? 1000000000 : (int)cap;
    cs->backoff_ev = evtimer_new(srv->base, conns_backoff_cb, cs);
    cs->stop_ev = evtimer_new(srv->base, conns_stop_accept_cb, cs);
    if (!cs->backoff_ev || !cs->stop_ev)
        abort();
    if (conns_lev(cs))
        evconnlistener_set_error_cb(conns_lev(cs), conns_accept_error_cb);
    evhttp_set_bevcb(srv->http, conns_bev_cb, cs);
    if (srv->worker_id >= 0 && srv->worker_id < CONFIG_THREADS_MAX) {
        conns_registry[srv->worker_id].http = srv->http;
        conns_registry[srv->worker_id].cs = cs;
    }
    return cs;
}

void conns_free(struct conns *cs)
{
    if (!cs)
        return;
    /* evhttp_free() released every hooked one; what is left was never hooked. */
    while (!LIST_EMPTY(&cs->all))
        conn_release(LIST_FIRST(&cs->all));
    event_free(cs->backoff_ev);
    event_free(cs->stop_ev);
    free(cs->by_fd);
    free(cs);
}
