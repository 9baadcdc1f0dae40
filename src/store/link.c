/* link.c - one Redis connection that keeps itself up.
 *
 * States:
 *   DOWN --link_connect()--> FINDING (the target looks for the address; a
 *   unix socket needs none) --found--> CONNECTING: AUTH, SELECT, ROLE (a
 *   primary link) and the owner's setup are queued at once --all answered-->
 *   READY --connection lost, no reply at all within the command timeout while
 *   a PING is outstanding, setup refused, or not the primary--> DOWN, and a
 *   reconnect is scheduled with backoff.
 * The health timer drops a connection whose setup does not finish within
 * twice the command timeout (at least 1 s), or from which no reply at all
 * (to the PING or to anything else) arrived for the command timeout while a
 * PING is outstanding (a hung or half-open Redis). A PING queued behind slow
 * scripts does not drop a link whose replies keep arriving.
 * Must not interpret the owner's replies, and must not block. */
#include "link.h"

#include <event2/event.h>
#include <hiredis/adapters/libevent.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "config.h"
#include "log.h"
#include "metrics.h"

#define LINK_BACKOFF_MIN_MS 100
#define LINK_BACKOFF_MAX_MS 1000

struct link {
    struct event_base *base;
    const struct link_target *target; /* NULL: the unix socket of redis->path */
    int finding;                      /* the target is looking for the address */
    char addr[80];                    /* host:port of the connection, for logs */
    uint64_t last_reply;              /* when a reply last arrived */
    const struct config_redis *redis;
    int timeout_ms;
    const char *name;
    struct link_ops ops;
    void *arg;
    redisAsyncContext *ac; /* NULL while down */
    int ready;
    int setup_pending; /* setup replies still awaited */
    int sub_pending;   /* a subscriber link's first reply still awaited */
    uint64_t connect_started;
    int ping_outstanding;
    uint64_t ping_sent;
    redisCallbackFn *ping_cb; /* subscriber links: the owner's callback */
    void *ping_privdata;
    int backoff_ms;
    unsigned int jitter_seed;
    int outage_logged;
    struct event *reconnect_ev;
    struct event *health_ev;
};

static void link_connect(struct link *l);

static struct timeval link_tv(int ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    return tv;
}

static void link_schedule_reconnect(struct link *l)
{
    int ms = l->backoff_ms;
    /* +-20% jitter so that several instances do not reconnect in step. */
    int spread = ms / 5;
    if (spread > 0)
        ms += (int)(rand_r(&l->jitter_seed) % (unsigned)(2 * spread + 1)) - spread;
    l->backoff_ms =
        l->backoff_ms * 2 > LINK_BACKOFF_MAX_MS ? LINK_BACKOFF_MAX_MS : l->backoff_ms * 2;
    struct timeval tv = link_tv(ms);
    evtimer_add(l->reconnect_ev, &tv);
}

static void link_went_down(struct link *l, const char *why)
{
    if (!l->outage_logged && !l->ops.quiet) {
        log_warn("redis_down", "redis unavailable: %s; requests get 503 until it is back", why);
    } else {
        log_debug("redis_link_down", "redis %s link unavailable: %s", l->name, why);
    }
    l->outage_logged = 1;
}

/* Forgets the current connection (already freed or being freed by hiredis). */
static void link_lost(struct link *l, const char *why)
{
    int was_up = l->ac != NULL;
    l->ac = NULL;
    l->ready = 0;
    l->ping_outstanding = 0;
    metrics_link_up(l->name, 0);
    link_went_down(l, why);
    link_schedule_reconnect(l);
    if (was_up && l->ops.down)
        l->ops.down(l->arg);
}

/* What the target found did not answer: it may look again. */
static void link_target_wrong(struct link *l)
{
    if (l->target)
        l->target->wrong(l->target->arg, l);
}

void link_drop(struct link *l, const char *why)
{
    redisAsyncContext *ac = l->ac;
    if (ac == NULL)
        return;
    link_lost(l, why);
    redisAsyncFree(ac); /* pending callbacks get NULL; our disconnect cb ignores it */
}

static void link_connect_cb(const redisAsyncContext *ac, int status)
{
    struct link *l = ac->data;
    if (status == REDIS_OK || l->ac != ac)
        return;
    /* hiredis frees this context itself after a failed connect. */
    link_lost(l, ac->errstr[0] ? ac->errstr : "connection refused");
    link_target_wrong(l);
}

static void link_disconnect_cb(const redisAsyncContext *ac, int status)
{
    struct link *l = ac->data;
    (void)status;
    if (l->ac != ac)
        return; /* dropped by us */
    link_lost(l, ac->errstr[0] ? ac->errstr : "connection closed");
}

static void link_check_ready(struct link *l)
{
    if (l->ready || l->setup_pending > 0 || l->sub_pending)
        return;
    l->ready = 1;
    metrics_link_up(l->name, 1);
    l->backoff_ms = LINK_BACKOFF_MIN_MS;
    if (l->outage_logged && !l->ops.quiet)
        log_info("redis_ready", "redis ready again");
    else if (log_enabled(LOG_DEBUG))
        log_debug("redis_link_ready", "redis %s link ready", l->name);
    l->outage_logged = 0;
    if (l->ops.ready)
        l->ops.ready(l->arg);
}

static void link_setup_cb(redisAsyncContext *ac, void *r, void *privdata)
{
    struct link *l = privdata;
    const redisReply *reply = r;
    if (reply == NULL || l->ac != ac)
        return; /* the connection is going away */
    if (reply->type == REDIS_REPLY_ERROR) {
        /* Redis error texts (WRONGPASS, NOPERM, ...) carry no secret. */
        log_error("redis_setup_refused", "redis refused the connection setup: %s", reply->str);
        link_drop(l, "setup refused");
        return;
    }
    l->setup_pending--;
    link_check_ready(l);
}

/* A primary link's ROLE: master, or the link looks for the primary again. A
 * user whose ACL forbids ROLE cannot check it: READONLY replies still do. */
static void link_role_cb(redisAsyncContext *ac, void *r, void *privdata)
{
    struct link *l = privdata;
    const redisReply *reply = r;
    if (reply == NULL || l->ac != ac)
        return;
    const char *role = reply->type == REDIS_REPLY_ARRAY && reply->elements > 0 &&
                               reply->element[0]->type == REDIS_REPLY_STRING
                           ? reply->element[0]->str
                           : NULL;
    int noperm = reply->type == REDIS_REPLY_ERROR && strncmp(reply->str, "NOPERM", 6) == 0;
    if (!noperm && (!role || strcmp(role, "master") != 0)) {
        log_warn("redis_not_primary",
                 "redis %s link: %s is not the primary (role %s); looking for the primary again",
                 l->name, l->addr, role ? role : "unknown");
        link_drop(l, "not the primary");
        link_target_wrong(l);
        return;
    }
    l->setup_pending--;
    link_check_ready(l);
}

void link_setup_query(struct link *l, int argc, const char **argv, const size_t *len,
                      redisCallbackFn *cb, void *privdata)
{
    if (l->ac && redisAsyncCommandArgv(l->ac, cb, privdata, argc, argv, len) == REDIS_OK)
        l->setup_pending++;
}

void link_setup_answered(struct link *l)
{
    if (!l->ac)
        return; /* dropped meanwhile */
    l->last_reply = clock_mono_ms();
    l->setup_pending--;
    link_check_ready(l);
}

void link_setup_command(struct link *l, int argc, const char **argv, const size_t *len)
{
    if (l->ac && redisAsyncCommandArgv(l->ac, link_setup_cb, l, argc, argv, len) == REDIS_OK)
        l->setup_pending++;
}

void link_setup_subscribe(struct link *l, int argc, const char **argv, const size_t *len,
                          redisCallbackFn *cb, void *privdata)
{
    if (l->ac && redisAsyncCommandArgv(l->ac, cb, privdata, argc, argv, len) == REDIS_OK)
        l->sub_pending = 1;
}

void link_alive(struct link *l)
{
    l->last_reply = clock_mono_ms();
    if (l->ping_cb)
        l->ping_outstanding = 0; /* a subscriber's PING answers to the owner */
    if (l->sub_pending) {
        l->sub_pending = 0;
        link_check_ready(l);
    }
}

void link_set_ping_callback(struct link *l, redisCallbackFn *cb, void *privdata)
{
    l->ping_cb = cb;
    l->ping_privdata = privdata;
}

/* Opens the connection to ip:port (a numeric address), or to the unix socket. */
static void link_open(struct link *l, const char *ip, int port)
{
    const struct config_redis *r = l->redis;
    if (ip)
        snprintf(l->addr, sizeof(l->addr), strchr(ip, ':') ? "[%s]:%d" : "%s:%d", ip, port);
    else
        snprintf(l->addr, sizeof(l->addr), "the unix socket");
    redisAsyncContext *ac = ip ? redisAsyncConnect(ip, port) : redisAsyncConnectUnix(r->path);
    if (ac == NULL)
        abort();
    if (ac->err) {
        link_went_down(l, ac->errstr);
        redisAsyncFree(ac);
        link_schedule_reconnect(l);
        link_target_wrong(l);
        return;
    }
    ac->data = l;
    redisLibeventAttach(ac, l->base);
    redisAsyncSetConnectCallback(ac, link_connect_cb);
    redisAsyncSetDisconnectCallback(ac, link_disconnect_cb);
    l->ac = ac;
    l->ready = 0;
    l->setup_pending = 0;
    l->sub_pending = 0;
    l->ping_outstanding = 0;
    l->connect_started = clock_mono_ms();

    if (r->password[0]) {
        const char *argv[3] = {"AUTH", r->username, r->password};
        size_t len[3] = {4, strlen(r->username), strlen(r->password)};
        if (r->username[0]) {
            link_setup_command(l, 3, argv, len);
        } else {
            argv[1] = r->password;
            len[1] = len[2];
            link_setup_command(l, 2, argv, len);
        }
    }
    if (r->db) {
        char db[8];
        snprintf(db, sizeof(db), "%d", r->db);
        const char *argv[2] = {"SELECT", db};
        size_t len[2] = {6, strlen(db)};
        link_setup_command(l, 2, argv, len);
    }
    if (l->ops.primary) {
        const char *argv[1] = {"ROLE"};
        size_t len[1] = {4};
        link_setup_query(l, 1, argv, len, link_role_cb, l);
    }
    if (l->ops.setup)
        l->ops.setup(l, l->arg);
    if (l->setup_pending == 0 && !l->sub_pending) {
        /* Nothing to set up: a PING proves the connection. */
        const char *argv[1] = {"PING"};
        size_t len[1] = {4};
        link_setup_command(l, 1, argv, len);
    }
    if (l->setup_pending == 0 && !l->sub_pending)
        link_drop(l, "cannot queue setup commands");
}

static void link_connect(struct link *l)
{
    if (!l->target) {
        link_open(l, NULL, 0);
        return;
    }
    l->finding = 1;
    l->target->find(l->target->arg, l);
}

void link_target_found(struct link *l, const char *ip, int port)
{
    if (!l->finding)
        return;
    l->finding = 0;
    link_open(l, ip, port);
}

void link_target_failed(struct link *l, const char *why)
{
    if (!l->finding)
        return;
    l->finding = 0;
    link_went_down(l, why);
    link_schedule_reconnect(l);
}

void link_reconnect_now(struct link *l)
{
    if (l->ac || l->finding)
        return;
    evtimer_del(l->reconnect_ev);
    l->backoff_ms = LINK_BACKOFF_MIN_MS;
    link_connect(l);
}

static void link_reconnect_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    metrics_inc(METRICS_REDIS_RECONNECTS);
    link_connect(arg);
}

static void link_ping_cb(redisAsyncContext *ac, void *r, void *privdata)
{
    struct link *l = privdata;
    if (r != NULL && l->ac == ac) {
        l->ping_outstanding = 0;
        l->last_reply = clock_mono_ms();
    }
}

static void link_health_cb(evutil_socket_t fd, short what, void *arg)
{
    struct link *l = arg;
    (void)fd;
    (void)what;
    if (l->ac == NULL)
        return;
    uint64_t now = clock_mono_ms();
    int limit = l->timeout_ms;
    if (!l->ready) {
        int connect_limit = limit * 2 < 1000 ? 1000 : limit * 2;
        if (now - l->connect_started > (uint64_t)connect_limit)
            link_drop(l, "connection setup timed out");
        return;
    }
    if (l->ping_outstanding) {
        /* Any reply proves the connection alive: a PING queued behind slow
         * scripts is answered late, yet the link is healthy. */
        uint64_t heard = l->last_reply > l->ping_sent ? l->last_reply : l->ping_sent;
        if (now - heard > (uint64_t)limit)
            link_drop(l, "no reply at all within the command timeout");
        return;
    }
    int sent = l->ping_cb ? redisAsyncCommand(l->ac, l->ping_cb, l->ping_privdata, "PING")
                          : redisAsyncCommand(l->ac, link_ping_cb, l, "PING");
    if (sent == REDIS_OK) {
        l->ping_outstanding = 1;
        l->ping_sent = now;
    }
}

struct link *link_new(struct event_base *base, const struct config_redis *redis, int timeout_ms,
                      const char *name, const struct link_ops *ops, void *arg,
                      const struct link_target *target)
{
    struct link *l = calloc(1, sizeof(*l));
    if (!l)
        abort();
    l->base = base;
    l->redis = redis;
    l->timeout_ms = timeout_ms;
    l->name = name;
    l->ops = *ops;
    l->arg = arg;
    l->target = target;
    l->backoff_ms = LINK_BACKOFF_MIN_MS;
    l->jitter_seed = (unsigned int)clock_mono_ms() ^ (unsigned int)(uintptr_t)l;
    l->reconnect_ev = evtimer_new(base, link_reconnect_cb, l);
    l->health_ev = event_new(base, -1, EV_PERSIST, link_health_cb, l);
    if (!l->reconnect_ev || !l->health_ev)
        abort();
    int tick = timeout_ms / 2;
    tick = tick < 100 ? 100 : tick > 1000 ? 1000 : tick;
    struct timeval tv = link_tv(tick);
    event_add(l->health_ev, &tv);
    link_connect(l);
    return l;
}

int link_command(struct link *l, redisCallbackFn *cb, void *privdata, int argc, const char **argv,
                 const size_t *len)
{
    if (!l->ready || !l->ac)
        return -1;
    return redisAsyncCommandArgv(l->ac, cb, privdata, argc, argv, len) == REDIS_OK ? 0 : -1;
}

int link_is_ready(const struct link *l)
{
    return l->ready;
}

int link_owns(const struct link *l, const redisAsyncContext *ac)
{
    return l->ac == ac;
}

void link_free(struct link *l)
{
    if (!l)
        return;
    if (l->target)
        l->target->detach(l->target->arg, l);
    event_free(l->health_ev);
    event_free(l->reconnect_ev);
    redisAsyncContext *ac = l->ac;
    l->ac = NULL;
    l->ready = 0;
    if (ac)
        redisAsyncFree(ac); /* submitted commands get NULL replies */
    free(l);
}
