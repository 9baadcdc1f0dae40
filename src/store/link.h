/* link.h - one Redis connection that keeps itself up (hiredis async on libevent).
 *
 * A link connects, runs its setup (AUTH, SELECT, then its owner's commands:
 * script loads for a command link, SUBSCRIBE for a subscriber link), reports
 * READY, checks its health with PING, and when anything goes wrong drops the
 * connection and reconnects with exponential backoff (100 ms doubling to
 * 5 s, +-20% jitter). A hiredis context is never reused: every reconnect is a
 * new connection that runs the setup again.
 *
 * Owns: the hiredis context, its timers, the connection state. Must not know
 * what the commands mean: the owner (store.c, store_feed.c) does. Part of the
 * store module: nothing outside store*.c and link.c includes this. */
#ifndef THAMDO_LINK_H
#define THAMDO_LINK_H

#include <hiredis/async.h>
#include <stddef.h>

struct event_base;
struct config_redis;
struct link;

struct link_ops {
    /* Queues the owner's setup commands with link_setup_command(); called on
     * every new connection, after AUTH and SELECT. May be NULL. */
    void (*setup)(struct link *l, void *arg);
    /* The setup was answered OK: commands may flow. May be NULL. */
    void (*ready)(void *arg);
    /* The connection went away (the owner's own commands get NULL replies
     * from hiredis). May be NULL. */
    void (*down)(void *arg);
    /* 1: outages are logged at debug level only (a second link of an owner
     * whose first link already tells the operator). */
    int quiet;
};

/* A subscriber link sends its PINGs with the owner's reply callback, since
 * hiredis hands a subscribed context's replies to whichever callback is
 * next in line: every reply the owner sees proves the link alive
 * (link_alive()). */
struct link *link_new(struct event_base *base, const struct config_redis *redis, int timeout_ms,
                      const char *name, const struct link_ops *ops, void *arg);
void link_free(struct link *l);

/* Subscriber links only: the callback (and its argument) their PINGs use. */
void link_set_ping_callback(struct link *l, redisCallbackFn *cb, void *privdata);

/* During ops->setup: queues one setup command. Every setup reply must be OK
 * (or not an error) for the link to become ready. */
void link_setup_command(struct link *l, int argc, const char **argv, const size_t *len);
/* During ops->setup of a subscriber link: queues a command whose replies go to
 * cb (SUBSCRIBE); the link is ready once the setup commands are answered and
 * cb has called link_alive(). */
void link_setup_subscribe(struct link *l, int argc, const char **argv, const size_t *len,
                          redisCallbackFn *cb, void *privdata);

/* Sends one command when the link is ready: 0, and hiredis calls cb exactly
 * once (with NULL when the link dies); -1 when not ready (cb never called). */
int link_command(struct link *l, redisCallbackFn *cb, void *privdata, int argc, const char **argv,
                 const size_t *len);

int link_is_ready(const struct link *l);
/* 1 when ac is this link's current connection (replies from an older one are stale). */
int link_owns(const struct link *l, const redisAsyncContext *ac);
/* A reply arrived on a subscriber link: it is alive (and ready, the first time). */
void link_alive(struct link *l);
/* Drops the connection and reconnects later; safe inside a hiredis callback. */
void link_drop(struct link *l, const char *why);

#endif
