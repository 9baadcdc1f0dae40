/* link.h - one Redis connection that keeps itself up (hiredis async on libevent).
 *
 * A link connects, runs its setup (AUTH, SELECT, then its owner's commands:
 * script loads for a command link, SUBSCRIBE for a subscriber link), reports
 * READY, checks its health with PING, and when anything goes wrong drops the
 * connection and reconnects with exponential backoff (100 ms doubling to
 * 1 s, +-20% jitter, so service is back within about a second of Redis). A hiredis context is never
 * reused: every reconnect is a new connection that runs the setup again.
 *
 * Where it connects: a unix socket, or the numeric address its target (a
 * struct link_target, locate.c) finds before each connection: a host name
 * resolved without blocking, or the primary the Redis Sentinels name. A
 * primary link (ops->primary) checks ROLE after connecting and tells its
 * target when what it found is not the primary.
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
    /* 1: the link must reach the primary (ROLE master); otherwise it drops the
     * connection and tells its target (wrong). */
    int primary;
};

/* Finds the address of each new connection (locate.c). */
struct link_target {
    /* Calls link_target_found() or link_target_failed(), later or at once. */
    void (*find)(void *arg, struct link *l);
    /* The link is freed: forget it (and any find under way). */
    void (*detach)(void *arg, struct link *l);
    /* What find gave was not right (refused, or not the primary): ask again. */
    void (*wrong)(void *arg, struct link *l);
    void *arg;
};

/* A subscriber link sends its PINGs with the owner's reply callback, since
 * hiredis hands a subscribed context's replies to whichever callback is
 * next in line: every reply the owner sees proves the link alive
 * (link_alive()). */
/* target NULL: redis->path (a unix socket). redis gives AUTH and SELECT. */
struct link *link_new(struct event_base *base, const struct config_redis *redis, int timeout_ms,
                      const char *name, const struct link_ops *ops, void *arg,
                      const struct link_target *target);
void link_free(struct link *l);

/* The target's answer to find: a numeric address (copied), or why none. */
void link_target_found(struct link *l, const char *ip, int port);
void link_target_failed(struct link *l, const char *why);
/* A link that is down connects now rather than after its backoff (a new
 * primary is known). */
void link_reconnect_now(struct link *l);

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
/* A reply arrived (any reply proves the connection alive; on a subscriber
 * link the first one also makes it ready). */
void link_alive(struct link *l);
/* During ops->setup: queues a command whose reply goes to cb; the owner calls
 * link_setup_answered() once it is content with it (or link_drop()). */
void link_setup_query(struct link *l, int argc, const char **argv, const size_t *len,
                      redisCallbackFn *cb, void *privdata);
void link_setup_answered(struct link *l);
/* Drops the connection and reconnects later; safe inside a hiredis callback. */
void link_drop(struct link *l, const char *why);

#endif
