/* store_feed.c - the changes every instance publishes, heard on a second link.
 *
 * The scripts PUBLISH on <key_prefix>events after each write that changes
 * what readers see (store.h: struct store_event). The feed holds a
 * subscriber link (link.c) and turns each message into a struct
 * store_event for its one listener, the worker's cache. Each (re)subscription
 * is reported, since messages published while the link was away are lost.
 * Must not keep what it hears (the listener does), and must not send any
 * command but SUBSCRIBE and PING on its link. */
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "link.h"
#include "log.h"
#include "store.h"
#include "store_call.h"

struct store_feed {
    struct link *link;
    char channel[CONFIG_PREFIX_MAX + 16];
    size_t channel_len;
    store_event_cb *cb;
    store_feed_reset_cb *reset;
    void *arg;
    int bad_logged; /* a message not in the published form was logged */
};

/* A whole number of at most 18 digits at s[0..len). */
static int store_feed_number(const char *s, size_t len, long long *out)
{
    if (len == 0 || len > 18)
        return -1;
    long long v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

/* The next space-separated word of [*p, end): its start and length. */
static int store_feed_word(const char **p, const char *end, const char **word, size_t *len)
{
    const char *s = *p;
    const char *e = memchr(s, ' ', (size_t)(end - s));
    if (!e)
        e = end;
    if (e == s)
        return -1;
    *word = s;
    *len = (size_t)(e - s);
    *p = e < end ? e + 1 : end;
    return 0;
}

int store_event_parse(const char *msg, size_t len, struct store_event *ev)
{
    const char *p = msg, *end = msg + len, *w;
    size_t wl;
    memset(ev, 0, sizeof(*ev));
    if (len < 4 || (msg[0] != 't' && msg[0] != 'd') || msg[1] != ' ')
        return -1;
    ev->kind = msg[0];
    p += 2;
    if (store_feed_word(&p, end, &ev->poll_id, &ev->poll_id_len) != 0 || ev->poll_id_len > 64)
        return -1;
    if (ev->kind == 'd')
        return store_feed_word(&p, end, &w, &wl) == 0 && p == end &&
                       store_feed_number(w, wl, &ev->version) == 0
                   ? 0
                   : -1;
    if (store_feed_word(&p, end, &w, &wl) != 0 || store_feed_number(w, wl, &ev->seq) != 0 ||
        store_feed_word(&p, end, &w, &wl) != 0 || store_feed_number(w, wl, &ev->voters) != 0)
        return -1;
    while (p < end) {
        if (ev->n == STORE_EVENT_OPTIONS_MAX || store_feed_word(&p, end, &w, &wl) != 0)
            return -1;
        const char *colon = memchr(w, ':', wl);
        if (!colon || colon == w ||
            store_feed_number(colon + 1, (size_t)(w + wl - colon - 1), &ev->votes[ev->n]) != 0)
            return -1;
        ev->option[ev->n] = w;
        ev->option_len[ev->n] = (size_t)(colon - w);
        ev->n++;
    }
    return 0;
}

static void store_feed_reply_cb(redisAsyncContext *ac, void *r, void *privdata)
{
    struct store_feed *f = privdata;
    const redisReply *reply = r;
    if (reply == NULL || !link_owns(f->link, ac))
        return; /* the link is going away */
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 2 ||
        reply->element[0]->type != REDIS_REPLY_STRING) {
        link_drop(f->link, reply->type == REDIS_REPLY_ERROR ? reply->str : "unexpected reply");
        return;
    }
    const char *kind = reply->element[0]->str;
    link_alive(f->link);
    if (strcmp(kind, "message") != 0 || reply->elements != 3 ||
        reply->element[2]->type != REDIS_REPLY_STRING)
        return; /* subscribe, pong */
    struct store_event ev;
    if (store_event_parse(reply->element[2]->str, reply->element[2]->len, &ev) != 0) {
        if (!f->bad_logged)
            log_warn("redis_bad_message",
                     "redis channel %s: a message not in the form the service publishes "
                     "was ignored",
                     f->channel);
        f->bad_logged = 1;
        return;
    }
    f->cb(f->arg, &ev);
}

static void store_feed_setup(struct link *l, void *arg)
{
    struct store_feed *f = arg;
    const char *argv[2] = {"SUBSCRIBE", f->channel};
    size_t len[2] = {9, f->channel_len};
    link_setup_subscribe(l, 2, argv, len, store_feed_reply_cb, f);
}

static void store_feed_ready(void *arg)
{
    struct store_feed *f = arg;
    f->reset(f->arg);
}

void store_feed_start(struct store *st, store_event_cb *cb, store_feed_reset_cb *reset, void *arg)
{
    const struct config *cfg = store_config(st);
    struct store_feed *f = calloc(1, sizeof(*f));
    if (!f)
        abort();
    f->cb = cb;
    f->reset = reset;
    f->arg = arg;
    int n = snprintf(f->channel, sizeof(f->channel), "%sevents", cfg->key_prefix);
    f->channel_len = (size_t)n;
    static const struct link_ops ops = {store_feed_setup, store_feed_ready, NULL, 1, 1};
    f->link = link_new(store_base(st), &cfg->redis, cfg->redis_timeout_ms, "feed", &ops, f,
                       store_primary_target(st));
    link_set_ping_callback(f->link, store_feed_reply_cb, f);
    store_attach_feed(st, f);
}

void store_feed_free(struct store_feed *f)
{
    if (!f)
        return;
    link_free(f->link);
    free(f);
}
