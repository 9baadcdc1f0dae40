/* server.h - one worker: an event loop serving HTTP with its evhttp, its
 * listener and its store.
 *
 * Owns, per worker: the event base, the listener (one SO_REUSEPORT socket of
 * the process's port), the store (its own Redis link), the count of requests
 * in flight, the request ids, the log of refused origins; the graceful stop
 * (readiness fails for THAMDO_LAME_DUCK_MS, the listener closes once its
 * accept queue is served, the open connections finish for up to
 * THAMDO_DRAIN_MS, then the rest waiting on Redis are answered 503 and
 * written for up to 1 s more). Nothing mutable is shared with another worker, except the two
 * flags each publishes for the others (ready, busy), written only by its own
 * thread. The configuration is borrowed and read-only. Starting the threads,
 * signals and the exit status are proc.c's. Must not hold per-request state:
 * that belongs to the request (request.c). */
#ifndef THAMDO_SERVER_H
#define THAMDO_SERVER_H

#include <stdatomic.h>
#include <stdint.h>
#include <sys/socket.h>

#include "cors.h"

struct config;
struct event_base;
struct evhttp;
struct evhttp_bound_socket;
struct evhttp_request;
struct event;
struct store;
struct cache;
struct events;
struct visits_cache;
struct retention;
struct conns;

struct server {
    const struct config *cfg;
    int worker_id;          /* 0..nworkers-1; worker 0 imports THAMDO_POLLS_FILE */
    int nworkers;           /* workers of the process */
    struct server *workers; /* all of them (workers[worker_id] is this one) */
    struct event_base *base;
    struct evhttp *http;
    struct evhttp_bound_socket *listener;
    /* THAMDO_ADMIN_LISTEN: a second socket of the same evhttp (same
     * connections, cap and deadlines), serving /admin only */
    struct evhttp_bound_socket *admin_listener;
    struct sockaddr_storage admin_addr; /* where it is bound (the port is every worker's) */
    struct store *store;
    struct cache *cache;   /* this loop's copy of the polls, fed by every instance's changes */
    struct events *events; /* live results streams (events.c) */
    struct visits_cache *visits; /* the counter's figures and calendar (visits_cache.c) */
    struct retention *retention; /* worker 0: the voter retention sweep (retention.c) */
    struct conns *conns;         /* its connections, the cap, the deadlines (conn.c) */
    struct event *stop_ev, *drain_ev, *log_ev, *status_ev, *lame_ev;
    int stop_fd;                /* eventfd: proc.c adds 1 per stop signal */
    int stop_requests;          /* stop signals seen (2: hurry) */
    int inflight;               /* requests received whose answer has not left */
    int conns_open;             /* connections open (conn.c keeps it) */
    char request_id_prefix[16]; /* random per process, then the worker id */
    unsigned long long request_seq;
    struct cors_log cors_log; /* refused origins logged lately */
    int stopping;             /* a stop signal arrived: /readyz fails */
    int listener_closing;     /* the stop is taking the accept queue */
    int listener_closed;      /* the stop closed the listener: draining */
    int final;                /* the store is freed: the last answers are being written */
    uint64_t drain_deadline_ms, flush_deadline_ms;
    atomic_int ready_pub; /* published for the other workers: the store is ready */
    atomic_int busy_pub;  /* published: not known to have drained (1 until it has) */
};

/* Sets up worker id of n (workers is the array of all of them) and binds
 * its listener to addr. 0; -1 when the loop cannot be made, -2 when the
 * address cannot be bound (nothing logged: the caller says which setting). */
int server_init(struct server *srv, const struct config *cfg, int id, int n, struct server *workers,
                const struct sockaddr *addr, socklen_t addrlen);

/* Binds the worker's admin listener (THAMDO_ADMIN_LISTEN) to addr, on the
 * same evhttp as the public one. 0; -2 when the address cannot be bound. */
int server_listen_admin(struct server *srv, const struct sockaddr *addr, socklen_t addrlen);

/* 1 when req came through the admin listener. */
int server_on_admin(const struct server *srv, struct evhttp_request *req);

/* The address the listener is bound to (with the real port). 0 or -1. */
int server_bound_addr(const struct server *srv, struct sockaddr_storage *ss, socklen_t *len);

/* Runs the loop on the calling thread until it stops; frees the worker's
 * loop, store and connections before returning. */
void server_serve(struct server *srv);

/* Frees a worker that never served (start-up failed). */
void server_discard(struct server *srv);

/* 1 when this worker and every other one can reach Redis. */
int server_ready(const struct server *srv);

/* Unix seconds by the service's clock. */
int64_t server_now(const struct server *srv);

#endif
