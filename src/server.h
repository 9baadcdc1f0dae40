/* server.h - one event loop serving HTTP: its evhttp, its store, its signals.
 *
 * Owns: the event base, the listener, the store and the count of requests
 * in flight; the graceful stop (stop accepting, finish what is in flight for
 * up to 10 s, then answer the rest 503 and exit). The configuration is
 * borrowed and read-only. Must not hold per-request state: that belongs to
 * the request (api.c). */
#ifndef THAMDO_SERVER_H
#define THAMDO_SERVER_H

#include <stdint.h>

#include "cors.h"

struct config;
struct event_base;
struct evhttp;
struct evhttp_bound_socket;
struct event;
struct store;
struct visits_cache;

struct server {
    const struct config *cfg;
    struct event_base *base;
    struct evhttp *http;
    struct evhttp_bound_socket *listener;
    struct store *store;
    struct visits_cache *visits; /* the counter's figures and calendar (visits_cache.c) */
    struct event *sigint_ev, *sigterm_ev, *drain_ev;
    int inflight;              /* requests received and not yet answered */
    char request_id_prefix[8]; /* random, per process: generated request ids */
    unsigned long long request_seq;
    struct cors_log cors_log; /* refused origins logged lately */
    int stopping;             /* a stop signal arrived */
    uint64_t drain_deadline_ms;
};

/* Serves until SIGINT or SIGTERM. Returns the process exit status. */
int server_run(const struct config *cfg);

/* Unix seconds by the service's clock. */
int64_t server_now(const struct server *srv);

#endif
