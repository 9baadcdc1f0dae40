/* store.c - the one module that talks to Redis (hiredis async on libevent).
 *
 * The command link (link.c) connects, loads every script of src/store/lua on each
 * new connection (a restarted or failed-over Redis has lost its script
 * cache), and reconnects with backoff; the store builds commands on it.
 *
 * Commands: each is a struct store_call, owned by the store. It carries its
 * own timer, so a caller hears back within the command timeout even though
 * hiredis 0.14 cannot time out or cancel a command:
 *   - not sent (link down): the timer fires at once, reports NULL, frees it;
 *   - sent: the timer reports NULL at the deadline and marks it reported;
 *     hiredis always calls back later (with the reply, or NULL when the link
 *     dies) and that callback frees it, dropping a late reply.
 * A NOSCRIPT error re-sends the call once as EVAL with the script body.
 * An acknowledged write (store_call_send_acked) with THAMDO_REDIS_WAIT_REPLICAS
 * = N is followed on the same connection by WAIT N <ms>, ms what remains of
 * the command timeout less a margin, so that WAIT answers first; the script's
 * reply is copied and held until WAIT answers: N replicas or more, the caller
 * gets it; fewer, NULL (503: the write may or may not survive a failover, and
 * sending it again is safe, a vote being counted once per voter).
 * Where the links connect (a host name, or the primary the Sentinels name):
 * locate.c. Any reply proves a link alive (link_alive). With replicas to
 * wait for, acknowledged writes go on a link of their own (WAIT blocks its
 * connection: reads must not queue behind it); the store is ready when both
 * links are.
 * Must not know about HTTP, and must not block. */
#include "store.h"

#include <event2/event.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "link.h"
#include "locate.h"
#include "log.h"
#include "metrics.h"
#include "lua_scripts.h" /* generated from the files in src/store/lua */
#include "store_call.h"

struct store_script {
    const char *name;
    const unsigned char *body;
    size_t len;
    char sha[41];
};

struct store {
    struct event_base *base;
    const struct config *cfg;
    struct locate *locate;   /* where the links connect */
    struct link *link;       /* the command link */
    struct link *wlink;      /* acknowledged writes when waiting for replicas: their
                                WAITs hold up no read */
    struct store_feed *feed; /* the subscriber link, once started */
    store_ready_cb *ready_cb;
    void *ready_arg;
    struct store_call *calls; /* every live call, for store_free() */
    struct store_script scripts[STORE_NSCRIPTS];
};

static struct timeval store_tv(int ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    return tv;
}

/* ---------------------------------------------------------------- link --- */

/* On every new connection: a restarted or failed-over Redis has lost its
 * script cache, so the scripts are loaded again. */
static void store_link_setup(struct link *l, void *arg)
{
    struct store *st = arg;
    for (int i = 0; i < STORE_NSCRIPTS; i++) {
        const char *argv[3] = {"SCRIPT", "LOAD", (const char *)st->scripts[i].body};
        size_t len[3] = {6, 4, st->scripts[i].len};
        link_setup_command(l, 3, argv, len);
    }
}

static void store_link_ready(void *arg)
{
    struct store *st = arg;
    if (st->ready_cb)
        st->ready_cb(st->ready_arg);
}

/* --------------------------------------------------------------- calls --- */

void store_call_free(struct store_call *c)
{
    struct store *st = c->st;
    if (c->held)
        freeReplyObject(c->held);
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
    if (c->submitted && !c->reported) {
        metrics_inc(METRICS_REDIS_TIMEOUTS);
        log_warn("redis_timeout", "redis %s: no answer within %d ms", c->what,
                 c->st->cfg->redis_timeout_ms);
    }
    store_call_report(c, NULL);
    if (c->submitted == 0 && !c->kept)
        store_call_free(c);
}

/* A deep copy of a reply, freed by freeReplyObject() (hiredis frees the
 * replies it hands to callbacks as soon as they return). */
redisReply *store_reply_copy(const redisReply *r)
{
    redisReply *c = calloc(1, sizeof(*c));
    if (!c)
        abort();
    c->type = r->type;
    c->integer = r->integer;
    if (r->str) {
        c->str = malloc(r->len + 1);
        if (!c->str)
            abort();
        memcpy(c->str, r->str, r->len);
        c->str[r->len] = '\0';
        c->len = r->len;
    }
    if (r->type == REDIS_REPLY_ARRAY && r->elements > 0) {
        c->element = calloc(r->elements, sizeof(*c->element));
        if (!c->element)
            abort();
        c->elements = r->elements;
        for (size_t i = 0; i < r->elements; i++)
            c->element[i] = store_reply_copy(r->element[i]);
    }
    return c;
}

/* The milliseconds WAIT may block: the command timeout less a margin, so its
 * answer arrives before the call's timer fires; never 0 (WAIT 0 blocks for
 * ever). */
static int store_wait_ms(const struct store *st)
{
    int budget = st->cfg->redis_timeout_ms;
    int margin = budget / 10 > 20 ? budget / 10 : 20;
    return budget - margin > 1 ? budget - margin : 1;
}

/* Sends WAIT N after what c sent: 0, or -1 (then c is not acknowledged). */
static int store_call_wait(struct store_call *c, redisAsyncContext *ac);

static void store_wait_cb(redisAsyncContext *ac, void *r, void *privdata)
{
    struct store_call *c = privdata;
    struct store *st = c->st;
    const redisReply *reply = r;
    c->submitted--;
    c->waits_answered++;
    if (reply && link_owns(c->link, ac))
        link_alive(c->link);
    if (c->waits_answered == c->waits_sent && !c->reported) {
        /* The last WAIT: it covers the script's last sending. */
        int want = st->cfg->redis_wait_replicas;
        long long got = reply && reply->type == REDIS_REPLY_INTEGER ? reply->integer : -1;
        if (c->held && got >= want) {
            store_call_report(c, c->held);
        } else if (c->held) {
            if (got >= 0)
                log_warn("redis_wait_short",
                         "redis %s: %lld of %d replicas acknowledged it within %d ms; "
                         "answering 503 (it may or may not survive a failover)",
                         c->what, got, want, store_wait_ms(st));
            else
                log_error("redis_wait_failed", "redis %s: WAIT failed: %s", c->what,
                          reply && reply->type == REDIS_REPLY_ERROR ? reply->str : "no reply");
            store_call_report(c, NULL);
        }
    }
    if (c->submitted == 0) {
        if (!c->reported)
            store_call_report(c, NULL);
        if (!c->kept)
            store_call_free(c);
    }
}

static int store_call_wait(struct store_call *c, redisAsyncContext *ac)
{
    char n[16], ms[16];
    snprintf(n, sizeof(n), "%d", c->st->cfg->redis_wait_replicas);
    snprintf(ms, sizeof(ms), "%d", store_wait_ms(c->st));
    const char *argv[3] = {"WAIT", n, ms};
    size_t len[3] = {4, strlen(n), strlen(ms)};
    int ok = ac ? redisAsyncCommandArgv(ac, store_wait_cb, c, 3, argv, len) == REDIS_OK
                : link_command(c->link, store_wait_cb, c, 3, argv, len) == 0;
    if (!ok)
        return -1;
    c->submitted++;
    c->waits_sent++;
    return 0;
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
    c->submitted--;
    if (reply && link_owns(c->link, ac))
        link_alive(c->link); /* any reply proves the connection alive */

    if (!c->reported && !c->retried && store_call_is(reply, "NOSCRIPT") && link_owns(c->link, ac)) {
        /* The script cache was flushed: send the body once, and keep going. */
        c->retried = 1;
        c->argv[0] = "EVAL";
        c->argvlen[0] = 4;
        c->argv[1] = (const char *)st->scripts[c->script].body;
        c->argvlen[1] = st->scripts[c->script].len;
        if (redisAsyncCommandArgv(ac, store_call_reply_cb, c, c->argc, c->argv, c->argvlen) ==
            REDIS_OK) {
            c->submitted++;
            /* The WAIT already sent covers the failed EVALSHA only: another
             * follows the EVAL, and only the last WAIT's answer counts. */
            if (c->waits_sent > 0 && store_call_wait(c, ac) != 0)
                c->waits_sent++; /* never answered: the call reports NULL */
            const char *argv[3] = {"SCRIPT", "LOAD", (const char *)st->scripts[c->script].body};
            size_t len[3] = {6, 4, st->scripts[c->script].len};
            redisAsyncCommandArgv(ac, NULL, NULL, 3, argv, len);
            return;
        }
    }
    if (reply)
        metrics_observe_since(METRICS_REDIS_RTT, c->sent_us);
    if (reply && reply->type == REDIS_REPLY_ERROR) {
        metrics_inc(METRICS_REDIS_ERRORS);
        log_error("redis_error", "redis %s: %s", c->what, reply->str);
        /* A replica after a failover, or a Redis still loading: find the
         * primary again rather than fail every command. */
        if ((store_call_is(reply, "READONLY") || store_call_is(reply, "LOADING") ||
             store_call_is(reply, "MASTERDOWN")) &&
            link_owns(c->link, ac)) {
            int readonly = store_call_is(reply, "READONLY");
            link_drop(c->link, reply->str); /* our WAIT, if any, gets NULL */
            if (readonly)
                locate_not_primary(st->locate);
        }
        reply = NULL;
    }
    if (reply && c->waits_sent > 0 && !c->reported) {
        c->held = store_reply_copy(reply); /* reported when the WAIT answers */
    } else {
        store_call_report(c, reply);
    }
    if (c->submitted == 0 && !c->kept)
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
    /* PREFIX{poll:ID}:SUFFIX by copies: the prefix and the id are bounded (64). */
    char key[256];
    const char *parts[5] = {c->st->cfg->key_prefix, "{poll:", poll_id, "}:", suffix};
    size_t len = 0;
    for (size_t i = 0; i < 5; i++) {
        size_t n = strlen(parts[i]);
        if (len + n >= sizeof(key))
            abort();
        memcpy(key + len, parts[i], n);
        len += n;
    }
    store_call_arg(c, key, len);
}

/* Sends the call, or arranges for it to report NULL at once when down. */
void store_call_send(struct store_call *c)
{
    struct store *st = c->st;
    struct timeval tv = store_tv(st->cfg->redis_timeout_ms);
    c->link = c->acked && st->wlink ? st->wlink : st->link;
    if (link_command(c->link, store_call_reply_cb, c, c->argc, c->argv, c->argvlen) == 0) {
        c->submitted = 1;
        c->sent_us = metrics_now_us();
        if (c->acked && st->cfg->redis_wait_replicas > 0 && store_call_wait(c, NULL) != 0) {
            /* hiredis queued the script but not the WAIT: never acknowledge
             * a write that was not waited for. */
            c->reported = 1;
            event_del(c->timer);
            c->parse(c, NULL);
            return;
        }
    } else {
        tv = store_tv(0);
    }
    evtimer_add(c->timer, &tv);
}

void store_call_send_acked(struct store_call *c)
{
    c->acked = 1;
    store_call_send(c);
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
    store_script_init(&st->scripts[STORE_SCRIPT_INDEX], "poll_index", poll_index_lua,
                      poll_index_lua_len);
    store_script_init(&st->scripts[STORE_SCRIPT_SALT], "salt", salt_lua, salt_lua_len);
    st->locate = locate_new(base, cfg);
    static const struct link_ops ops = {store_link_setup, store_link_ready, NULL, 0, 1};
    st->link = link_new(base, &cfg->redis, cfg->redis_timeout_ms, "command", &ops, st,
                        locate_primary(st->locate));
    if (cfg->redis_wait_replicas > 0) {
        /* WAIT blocks its connection: votes wait on their own. */
        static const struct link_ops wops = {store_link_setup, NULL, NULL, 1, 1};
        st->wlink = link_new(base, &cfg->redis, cfg->redis_timeout_ms, "write", &wops, st,
                             locate_primary(st->locate));
    }
    return st;
}

void store_set_ready_cb(struct store *st, store_ready_cb *cb, void *arg)
{
    st->ready_cb = cb;
    st->ready_arg = arg;
}

const struct link_target *store_primary_target(const struct store *st)
{
    return locate_primary(st->locate);
}

const char *store_key_prefix(const struct store *st)
{
    return st->cfg->key_prefix;
}

struct event_base *store_base(const struct store *st)
{
    return st->base;
}

const struct config *store_config(const struct store *st)
{
    return st->cfg;
}

void store_attach_feed(struct store *st, struct store_feed *feed)
{
    store_feed_free(st->feed);
    st->feed = feed;
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
    return link_is_ready(st->link) && (!st->wlink || link_is_ready(st->wlink));
}

void store_free(struct store *st)
{
    if (!st)
        return;
    store_feed_free(st->feed);
    link_free(st->link); /* submitted calls report NULL and free themselves */
    link_free(st->wlink);
    st->link = st->wlink = NULL;
    /* Newest first: a follow-up call (store_poll.c) frees the kept call it
     * follows, which is older. */
    while (st->calls) {
        struct store_call *c = st->calls;
        store_call_report(c, NULL);
        store_call_free(c);
    }
    locate_free(st->locate); /* after every link that uses its targets */
    free(st);
}
