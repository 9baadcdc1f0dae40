/* store.c - the one module that talks to Redis (hiredis async on libevent).
 *
 * Link lifecycle:
 *   DOWN --store_connect()--> CONNECTING: AUTH, SELECT and SCRIPT LOAD are
 *   queued at once --all answered OK--> READY --link lost, PING unanswered
 *   within the command timeout, or setup refused--> DOWN, and a reconnect is
 *   scheduled with exponential backoff (100 ms doubling to 5 s, with jitter).
 *   A hiredis context is never reused: every reconnect makes a new one and
 *   loads the scripts again, since a restarted or failed-over Redis has lost
 *   its script cache.
 *
 * Commands: each is a struct store_call, owned by the store. It carries its
 * own timer, so a caller hears back within the command timeout even though
 * hiredis 0.14 cannot time out or cancel a command:
 *   - not sent (link down): the timer fires at once, reports NULL, frees it;
 *   - sent: the timer reports NULL at the deadline and marks it reported;
 *     hiredis always calls back later (with the reply, or NULL when the link
 *     dies) and that callback frees it, dropping a late reply.
 * A NOSCRIPT error re-sends the call once as EVAL with the script body.
 * Must not know about HTTP, and must not block. */
#include "store.h"

#include <event2/event.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <hiredis/adapters/libevent.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "log.h"
#include "lua_scripts.h" /* generated from the files in src/lua */
#include "store_int.h"

#define STORE_BACKOFF_MIN_MS 100
#define STORE_BACKOFF_MAX_MS 5000

struct store_script {
    const char *name;
    const unsigned char *body;
    size_t len;
    char sha[41];
};

struct store {
    struct event_base *base;
    const struct config *cfg;
    redisAsyncContext *ac; /* NULL while down */
    int ready;
    int setup_pending;        /* setup replies still awaited */
    uint64_t connect_started; /* monotonic ms */
    int ping_outstanding;
    uint64_t ping_sent;
    int backoff_ms;
    unsigned int jitter_seed;
    int outage_logged;
    struct event *reconnect_ev;
    struct event *health_ev;
    store_ready_cb *ready_cb;
    void *ready_arg;
    struct store_call *calls; /* every live call, for store_free() */
    struct store_script scripts[STORE_NSCRIPTS];
};

static void store_connect(struct store *st);

static uint64_t store_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static struct timeval store_tv(int ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    return tv;
}

/* ---------------------------------------------------------------- link --- */

static void store_schedule_reconnect(struct store *st)
{
    int ms = st->backoff_ms;
    /* +-20% jitter so that several instances do not reconnect in step. */
    int spread = ms / 5;
    if (spread > 0)
        ms += (int)(rand_r(&st->jitter_seed) % (unsigned)(2 * spread + 1)) - spread;
    st->backoff_ms =
        st->backoff_ms * 2 > STORE_BACKOFF_MAX_MS ? STORE_BACKOFF_MAX_MS : st->backoff_ms * 2;
    struct timeval tv = store_tv(ms);
    evtimer_add(st->reconnect_ev, &tv);
}

static void store_went_down(struct store *st, const char *why)
{
    if (!st->outage_logged) {
        log_warn("redis unavailable: %s; requests get 503 until it is back", why);
        st->outage_logged = 1;
    } else {
        log_debug("redis still unavailable: %s", why);
    }
}

/* Drops the current link (if any) and schedules a new one. Safe inside a
 * hiredis callback: hiredis defers the free until the callback returns. */
static void store_drop(struct store *st, const char *why)
{
    redisAsyncContext *ac = st->ac;
    st->ac = NULL;
    st->ready = 0;
    st->ping_outstanding = 0;
    store_went_down(st, why);
    if (ac)
        redisAsyncFree(ac); /* pending calls get NULL; our disconnect cb ignores it */
    store_schedule_reconnect(st);
}

static void store_connect_cb(const redisAsyncContext *ac, int status)
{
    struct store *st = ac->data;
    if (status == REDIS_OK || st->ac != ac)
        return;
    /* hiredis frees this context itself after a failed connect. */
    st->ac = NULL;
    st->ready = 0;
    store_went_down(st, ac->errstr[0] ? ac->errstr : "connection refused");
    store_schedule_reconnect(st);
}

static void store_disconnect_cb(const redisAsyncContext *ac, int status)
{
    struct store *st = ac->data;
    (void)status;
    if (st->ac != ac)
        return; /* we dropped it ourselves */
    st->ac = NULL;
    st->ready = 0;
    st->ping_outstanding = 0;
    store_went_down(st, ac->errstr[0] ? ac->errstr : "connection closed");
    store_schedule_reconnect(st);
}

static void store_setup_cb(redisAsyncContext *ac, void *r, void *privdata)
{
    struct store *st = privdata;
    redisReply *reply = r;
    if (reply == NULL || st->ac != ac)
        return; /* the link is going away */
    if (reply->type == REDIS_REPLY_ERROR) {
        /* Redis error texts (WRONGPASS, NOPERM, ...) carry no secret. */
        log_error("redis refused the connection setup: %s", reply->str);
        store_drop(st, "setup refused");
        return;
    }
    if (--st->setup_pending > 0)
        return;
    st->ready = 1;
    st->backoff_ms = STORE_BACKOFF_MIN_MS;
    if (st->outage_logged || log_enabled(LOG_DEBUG))
        log_info("redis ready again");
    st->outage_logged = 0;
    if (st->ready_cb)
        st->ready_cb(st->ready_arg);
}

static void store_setup_command(struct store *st, int argc, const char **argv, const size_t *len)
{
    if (redisAsyncCommandArgv(st->ac, store_setup_cb, st, argc, argv, len) == REDIS_OK)
        st->setup_pending++;
}

static void store_connect(struct store *st)
{
    const struct config_redis *r = &st->cfg->redis;
    redisAsyncContext *ac = r->kind == CONFIG_REDIS_TCP ? redisAsyncConnect(r->host, r->port)
                                                        : redisAsyncConnectUnix(r->path);
    if (ac == NULL)
        abort();
    if (ac->err) {
        store_went_down(st, ac->errstr);
        redisAsyncFree(ac);
        store_schedule_reconnect(st);
        return;
    }
    ac->data = st;
    redisLibeventAttach(ac, st->base);
    redisAsyncSetConnectCallback(ac, store_connect_cb);
    redisAsyncSetDisconnectCallback(ac, store_disconnect_cb);
    st->ac = ac;
    st->ready = 0;
    st->setup_pending = 0;
    st->ping_outstanding = 0;
    st->connect_started = store_now_ms();

    if (r->password[0]) {
        const char *argv[3] = {"AUTH", r->username, r->password};
        size_t len[3] = {4, strlen(r->username), strlen(r->password)};
        if (r->username[0])
            store_setup_command(st, 3, argv, len);
        else {
            argv[1] = r->password;
            len[1] = len[2];
            store_setup_command(st, 2, argv, len);
        }
    }
    if (r->db) {
        char db[8];
        snprintf(db, sizeof(db), "%d", r->db);
        const char *argv[2] = {"SELECT", db};
        size_t len[2] = {6, strlen(db)};
        store_setup_command(st, 2, argv, len);
    }
    for (int i = 0; i < STORE_NSCRIPTS; i++) {
        const char *argv[3] = {"SCRIPT", "LOAD", (const char *)st->scripts[i].body};
        size_t len[3] = {6, 4, st->scripts[i].len};
        store_setup_command(st, 3, argv, len);
    }
    /* The first setup command also reports a failed AUTH-less connection. */
    if (st->setup_pending == 0)
        store_drop(st, "cannot queue setup commands");
}

static void store_reconnect_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    store_connect(arg);
}

static void store_ping_cb(redisAsyncContext *ac, void *r, void *privdata)
{
    struct store *st = privdata;
    if (r != NULL && st->ac == ac)
        st->ping_outstanding = 0;
}

/* Periodic: a link that does not finish its setup, or does not answer a PING,
 * within the timeout is dropped (covers a hung or half-open Redis). */
static void store_health_cb(evutil_socket_t fd, short what, void *arg)
{
    struct store *st = arg;
    (void)fd;
    (void)what;
    if (st->ac == NULL)
        return;
    uint64_t now = store_now_ms();
    int limit = st->cfg->redis_timeout_ms;
    if (!st->ready) {
        int connect_limit = limit * 2 < 1000 ? 1000 : limit * 2;
        if (now - st->connect_started > (uint64_t)connect_limit)
            store_drop(st, "connection setup timed out");
        return;
    }
    if (st->ping_outstanding) {
        if (now - st->ping_sent > (uint64_t)limit)
            store_drop(st, "no answer to PING within the command timeout");
        return;
    }
    if (redisAsyncCommand(st->ac, store_ping_cb, st, "PING") == REDIS_OK) {
        st->ping_outstanding = 1;
        st->ping_sent = now;
    }
}

/* --------------------------------------------------------------- calls --- */

static void store_call_free(struct store_call *c)
{
    struct store *st = c->st;
    if (c->prev)
        c->prev->next = c->next;
    else
        st->calls = c->next;
    if (c->next)
        c->next->prev = c->prev;
    for (int i = 0; i < c->argc; i++)
        free(c->owned[i]);
    event_free(c->timer);
    free(c);
}

static void store_call_report(struct store_call *c, const redisReply *reply)
{
    if (c->reported)
        return;
    c->reported = 1;
    event_del(c->timer);
    c->parse(c, reply);
}

static void store_call_timer_cb(evutil_socket_t fd, short what, void *arg)
{
    struct store_call *c = arg;
    (void)fd;
    (void)what;
    if (c->submitted && !c->reported)
        log_warn("redis %s: no answer within %d ms", c->what, c->st->cfg->redis_timeout_ms);
    store_call_report(c, NULL);
    if (!c->submitted)
        store_call_free(c);
}

static int store_call_is(const redisReply *reply, const char *prefix)
{
    return reply && reply->type == REDIS_REPLY_ERROR &&
           strncmp(reply->str, prefix, strlen(prefix)) == 0;
}

static void store_call_reply_cb(redisAsyncContext *ac, void *r, void *privdata)
{
    struct store_call *c = privdata;
    struct store *st = c->st;
    const redisReply *reply = r;
    c->submitted = 0;

    if (!c->reported && !c->retried && store_call_is(reply, "NOSCRIPT") && st->ac == ac) {
        /* The script cache was flushed: send the body once, and keep going. */
        c->retried = 1;
        c->argv[0] = "EVAL";
        c->argvlen[0] = 4;
        c->argv[1] = (const char *)st->scripts[c->script].body;
        c->argvlen[1] = st->scripts[c->script].len;
        if (redisAsyncCommandArgv(ac, store_call_reply_cb, c, c->argc, c->argv, c->argvlen) ==
            REDIS_OK) {
            c->submitted = 1;
            const char *argv[3] = {"SCRIPT", "LOAD", (const char *)st->scripts[c->script].body};
            size_t len[3] = {6, 4, st->scripts[c->script].len};
            redisAsyncCommandArgv(ac, NULL, NULL, 3, argv, len);
            return;
        }
    }
    if (reply && reply->type == REDIS_REPLY_ERROR) {
        log_error("redis %s: %s", c->what, reply->str);
        /* A replica after a failover, or a Redis still loading: find the
         * primary again rather than fail every command. */
        if ((store_call_is(reply, "READONLY") || store_call_is(reply, "LOADING") ||
             store_call_is(reply, "MASTERDOWN")) &&
            st->ac == ac)
            store_drop(st, reply->str);
        reply = NULL;
    }
    store_call_report(c, reply);
    store_call_free(c);
}

struct store_call *store_call_new(struct store *st, enum store_script_id script, const char *what,
                                  store_parse_fn *parse, store_fn *cb, void *arg)
{
    struct store_call *c = calloc(1, sizeof(*c));
    if (!c)
        abort();
    c->st = st;
    c->what = what;
    c->script = script;
    c->parse = parse;
    c->cb = cb;
    c->arg = arg;
    c->timer = evtimer_new(st->base, store_call_timer_cb, c);
    if (!c->timer)
        abort();
    c->next = st->calls;
    if (st->calls)
        st->calls->prev = c;
    st->calls = c;
    c->argv[0] = "EVALSHA";
    c->argvlen[0] = 7;
    c->argv[1] = st->scripts[script].sha;
    c->argvlen[1] = 40;
    c->argc = 2;
    return c;
}

/* Appends a copy of data as the next argument. */
void store_call_arg(struct store_call *c, const void *data, size_t len)
{
    if (c->argc >= STORE_MAX_ARGS)
        abort(); /* callers bound their argument counts */
    char *copy = malloc(len + 1);
    if (!copy)
        abort();
    memcpy(copy, data, len);
    copy[len] = '\0';
    c->owned[c->argc] = copy;
    c->argv[c->argc] = copy;
    c->argvlen[c->argc] = len;
    c->argc++;
}

void store_call_argf(struct store_call *c, const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(buf))
        abort(); /* keys are bounded: prefix <= 64, id <= 64 */
    store_call_arg(c, buf, (size_t)n);
}

void store_call_key(struct store_call *c, const char *poll_id, const char *suffix)
{
    store_call_argf(c, "%s{poll:%s}:%s", c->st->cfg->key_prefix, poll_id, suffix);
}

/* Sends the call, or arranges for it to report NULL at once when down. */
void store_call_send(struct store_call *c)
{
    struct store *st = c->st;
    struct timeval tv = store_tv(st->cfg->redis_timeout_ms);
    if (st->ready && st->ac &&
        redisAsyncCommandArgv(st->ac, store_call_reply_cb, c, c->argc, c->argv, c->argvlen) ==
            REDIS_OK) {
        c->submitted = 1;
    } else {
        tv = store_tv(0);
    }
    evtimer_add(c->timer, &tv);
}

/* ----------------------------------------------------------- lifecycle --- */

static void store_script_init(struct store_script *s, const char *name, const unsigned char *body,
                              size_t len)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    s->name = name;
    s->body = body;
    s->len = len;
    if (EVP_Digest(body, len, md, &mdlen, EVP_sha1(), NULL) != 1 || mdlen != 20)
        abort();
    for (unsigned int i = 0; i < mdlen; i++)
        snprintf(s->sha + 2 * i, 3, "%02x", md[i]);
}

struct store *store_new(struct event_base *base, const struct config *cfg)
{
    struct store *st = calloc(1, sizeof(*st));
    if (!st)
        abort();
    st->base = base;
    st->cfg = cfg;
    st->backoff_ms = STORE_BACKOFF_MIN_MS;
    st->jitter_seed = (unsigned int)store_now_ms();
    store_script_init(&st->scripts[STORE_SCRIPT_VIEW], "poll_view", poll_view_lua,
                      poll_view_lua_len);
    store_script_init(&st->scripts[STORE_SCRIPT_VOTE], "poll_vote", poll_vote_lua,
                      poll_vote_lua_len);
    store_script_init(&st->scripts[STORE_SCRIPT_LIST], "poll_list", poll_list_lua,
                      poll_list_lua_len);
    store_script_init(&st->scripts[STORE_SCRIPT_WRITE], "poll_write", poll_write_lua,
                      poll_write_lua_len);
    store_script_init(&st->scripts[STORE_SCRIPT_STATS], "poll_stats", poll_stats_lua,
                      poll_stats_lua_len);
    store_script_init(&st->scripts[STORE_SCRIPT_VISIT_RECORD], "visit_record", visit_record_lua,
                      visit_record_lua_len);
    store_script_init(&st->scripts[STORE_SCRIPT_VISIT_READ], "visit_read", visit_read_lua,
                      visit_read_lua_len);
    store_script_init(&st->scripts[STORE_SCRIPT_VISIT_HISTORY], "visit_history", visit_history_lua,
                      visit_history_lua_len);
    store_script_init(&st->scripts[STORE_SCRIPT_VISIT_BASE], "visit_base", visit_base_lua,
                      visit_base_lua_len);
    st->reconnect_ev = evtimer_new(base, store_reconnect_cb, st);
    st->health_ev = event_new(base, -1, EV_PERSIST, store_health_cb, st);
    if (!st->reconnect_ev || !st->health_ev)
        abort();
    int tick = cfg->redis_timeout_ms / 2;
    tick = tick < 100 ? 100 : tick > 1000 ? 1000 : tick;
    struct timeval tv = store_tv(tick);
    event_add(st->health_ev, &tv);
    store_connect(st);
    return st;
}

void store_set_ready_cb(struct store *st, store_ready_cb *cb, void *arg)
{
    st->ready_cb = cb;
    st->ready_arg = arg;
}

const char *store_key_prefix(const struct store *st)
{
    return st->cfg->key_prefix;
}

long long store_reply_int(const redisReply *r)
{
    if (r->type == REDIS_REPLY_INTEGER)
        return r->integer;
    if (r->type == REDIS_REPLY_STRING)
        return strtoll(r->str, NULL, 10);
    return 0;
}

json_t *store_reply_object(const redisReply *flat)
{
    json_t *obj = json_object();
    for (size_t i = 0; flat->type == REDIS_REPLY_ARRAY && i + 1 < flat->elements; i += 2) {
        if (flat->element[i]->type == REDIS_REPLY_STRING)
            json_object_set_new(obj, flat->element[i]->str,
                                json_integer(store_reply_int(flat->element[i + 1])));
    }
    return obj;
}

int store_is_ready(const struct store *st)
{
    return st->ready;
}

void store_free(struct store *st)
{
    if (!st)
        return;
    event_free(st->health_ev);
    event_free(st->reconnect_ev);
    redisAsyncContext *ac = st->ac;
    st->ac = NULL;
    st->ready = 0;
    if (ac)
        redisAsyncFree(ac); /* submitted calls report NULL and free themselves */
    while (st->calls) {
        struct store_call *c = st->calls;
        store_call_report(c, NULL);
        store_call_free(c);
    }
    free(st);
}
