/* conn.h - a worker's HTTP connections: one struct per connection, the cap
 * on how many are open, the deadlines of a request's head and body, and the
 * listener's accepting (paused at the cap, backed off when the process runs
 * out of descriptors, closed at a stop without resetting the accept queue).
 *
 * API: conns_new() once the worker's evhttp and listener exist; evhttp then
 * creates each connection's bufferevent through conns (evhttp_set_bevcb),
 * and conns learns of its close (closecb). request.c tells it when a request
 * is handed to a handler (conn_request_begin) and when a stream starts
 * (conn_request_uncount); evhttp tells it when an answer's last byte has left
 * (on_complete). Until then a request counts in srv->inflight. Each request's
 * bytes go to framing.c's scan as they arrive. Must not parse HTTP (evhttp
 * does; framing.c reads the framing) nor answer requests. */
#ifndef THAMDO_CONN_H
#define THAMDO_CONN_H

#include <stddef.h>

struct config;
struct server;
struct conns;
struct evhttp_request;
struct evhttp_connection;

/* Takes over the accepting of srv's listener and the connections of its
 * evhttp; input_max bounds what is read ahead of a connection's handler
 * (a request head and its largest body). Aborts when memory runs out. */
struct conns *conns_new(struct server *srv, size_t input_max);

/* The connections a process of nworkers keeps open at once: cfg's
 * THAMDO_MAX_CONNECTIONS, or the descriptor limit less a reserve for Redis
 * links, files and the loops. *fd_limit: that limit. */
long conns_total(const struct config *cfg, int nworkers, long *fd_limit);

/* After evhttp_free() (which closes every connection). */
void conns_free(struct conns *cs);

/* The most connections this worker keeps open (its share of
 * THAMDO_MAX_CONNECTIONS or of the descriptor limit). */
int conns_cap(const struct conns *cs);

/* A stop: serves what waits in the accept queue, then closes the listener
 * (within a bound); then done(srv) on the loop. */
void conns_stop_listening(struct conns *cs, void (*done)(struct server *));

/* A stop: closes the connections idle between requests now, and those that
 * never sent a byte if they still have not within a second; every other one
 * is closed as soon as its answer has left. */
void conns_close_idle(struct conns *cs);

/* The end of a stop: closes every connection not waiting for its answer. */
void conns_close_unanswered(struct conns *cs);

/* A request was handed to its handler: it counts in flight until its answer
 * has left or its connection closed. */
void conn_request_begin(struct server *srv, struct evhttp_request *req);

/* What the byte-level scan of req's bytes found wrong (enum framing_flaw
 * bits; 0 when its connection is not one of conns'). */
int conn_request_flaws(struct server *srv, struct evhttp_request *req);

/* A stream started on req: no longer counted in flight. */
void conn_request_uncount(struct server *srv, struct evhttp_request *req);

/* Calls cb(evcon, arg) when evcon closes (instead of
 * evhttp_connection_set_closecb, which conns uses itself); cb NULL: none.
 * On the worker thread that accepted evcon. */
void conn_set_closecb(struct evhttp_connection *evcon,
                      void (*cb)(struct evhttp_connection *, void *), void *arg);

#endif
