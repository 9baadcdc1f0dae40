/* cache.c - one worker's copy of the polls readers ask for (cache.h).
 *
 * Entries live in a hash table by poll id and on a list from the most to
 * the least recently used; past CACHE_ENTRIES the least recently used entry
 * that no fetch holds is dropped. An entry is CONFIRMED when Redis answered
 * for it (a fetch, or a reader's view or vote); a published change updates
 * its tallies (a newer sequence) or sends it to be fetched again (a newer
 * definition), but never counts as a confirmation. Rendered bodies belong
 * to the entry and are dropped whenever what they show changes.
 * Must not call Redis but through the store, and must not block. */
#include "cache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "http_util.h"
#include "store.h"
#include "text.h"

#define CACHE_BUCKETS 1024

struct cache_waiter {
    cache_cb *cb;
    void *arg;
    struct cache_waiter *next;
};

struct cache_poll {
    struct cache *cache;
    char id[TEXT_SLUG_MAX + 1];
    uint64_t hash;
    struct cache_poll *chain;         /* next in its bucket */
    struct cache_poll *newer, *older; /* recency list */
    int known;                        /* Redis answered at least once */
    enum cache_status status;
    json_t *def;    /* CACHE_OK */
    json_t *counts; /* option id -> votes */
    long long version, seq, voters;
    uint64_t confirmed_ms; /* 0: must be fetched before it is served */
    int fetching;          /* a fetch is in flight: the entry stays */
    struct cache_waiter *waiters, **waiters_tail;
    struct poll_frames *frames; /* the results text around the numbers, per version */
    struct cache_body results;  /* rendered on demand */
    struct cache_body view[3];  /* per enum poll_state */
};

struct cache {
    struct store *store;
    struct cache_poll *buckets[CACHE_BUCKETS];
    struct cache_poll *newest, *oldest;
    size_t n;
    cache_changed_cb *changed_cb;
    void *changed_arg;
};

/* ------------------------------------------------------------- bodies --- */

static void cache_body_clear(struct cache_body *b)
{
    free(b->text);
    b->text = NULL;
    b->len = 0;
}

static void cache_body_set(struct cache_body *b, json_t *value)
{
    b->text = http_json_text(value);
    b->len = strlen(b->text);
    json_decref(value);
    snprintf(b->etag, sizeof(b->etag), "\"%016llx\"",
             (unsigned long long)text_hash64(b->text, b->len));
}

static void cache_forget_bodies(struct cache_poll *p)
{
    cache_body_clear(&p->results);
    for (size_t i = 0; i < 3; i++)
        cache_body_clear(&p->view[i]);
}

const struct cache_body *cache_poll_results(struct cache_poll *p)
{
    struct cache_body *b = &p->results;
    if (!b->text) {
        if (!p->frames)
            p->frames = poll_results_frames(p->def);
        b->text = poll_results_text(p->frames, p->counts, p->voters, &b->len);
        snprintf(b->etag, sizeof(b->etag), "\"%016llx\"",
                 (unsigned long long)text_hash64(b->text, b->len));
    }
    return b;
}

const struct cache_body *cache_poll_view(struct cache_poll *p, int64_t now)
{
    enum poll_state state = poll_state_at(p->def, now);
    struct cache_body *b = &p->view[state];
    if (!b->text) {
        json_t *view = poll_public_view(p->def, now);
        json_object_set_new(view, "voted", json_false());
        json_object_set_new(view, "choice", json_null());
        json_object_set_new(view, "results",
                            poll_results_visible(p->def, now, 0)
                                ? poll_results(p->def, p->counts, p->voters)
                                : json_null());
        cache_body_set(b, view);
    }
    return b;
}

enum cache_status cache_poll_status(const struct cache_poll *p)
{
    return p->status;
}

const json_t *cache_poll_def(const struct cache_poll *p)
{
    return p->def;
}

/* ------------------------------------------------------------ entries --- */

static void cache_unlink_recency(struct cache *c, struct cache_poll *p)
{
    if (p->newer)
        p->newer->older = p->older;
    else
        c->newest = p->older;
    if (p->older)
        p->older->newer = p->newer;
    else
        c->oldest = p->newer;
    p->newer = p->older = NULL;
}

static void cache_touch(struct cache *c, struct cache_poll *p)
{
    if (c->newest == p)
        return;
    if (p->newer || p->older || c->oldest == p)
        cache_unlink_recency(c, p); /* on the list already */
    p->older = c->newest;
    if (c->newest)
        c->newest->newer = p;
    c->newest = p;
    if (!c->oldest)
        c->oldest = p;
}

static void cache_entry_free(struct cache *c, struct cache_poll *p)
{
    struct cache_poll **slot = &c->buckets[p->hash % CACHE_BUCKETS];
    while (*slot != p)
        slot = &(*slot)->chain;
    *slot = p->chain;
    cache_unlink_recency(c, p);
    cache_forget_bodies(p);
    poll_frames_free(p->frames);
    json_decref(p->def);
    json_decref(p->counts);
    c->n--;
    free(p);
}

static struct cache_poll *cache_find(struct cache *c, const char *id, size_t len)
{
    uint64_t h = text_hash64(id, len);
    for (struct cache_poll *p = c->buckets[h % CACHE_BUCKETS]; p; p = p->chain) {
        if (p->hash == h && strlen(p->id) == len && memcmp(p->id, id, len) == 0)
            return p;
    }
    return NULL;
}

static struct cache_poll *cache_entry(struct cache *c, const char *id)
{
    size_t len = strlen(id);
    struct cache_poll *p = cache_find(c, id, len);
    if (p) {
        cache_touch(c, p);
        return p;
    }
    /* Make room: the least recently used entry that no fetch holds. */
    for (struct cache_poll *old = c->oldest; c->n >= CACHE_ENTRIES && old; old = old->newer) {
        if (!old->fetching) {
            cache_entry_free(c, old);
            break;
        }
    }
    p = calloc(1, sizeof(*p));
    if (!p)
        abort();
    p->cache = c;
    memcpy(p->id, id, len + 1);
    p->hash = text_hash64(id, len);
    p->chain = c->buckets[p->hash % CACHE_BUCKETS];
    c->buckets[p->hash % CACHE_BUCKETS] = p;
    p->waiters_tail = &p->waiters;
    p->version = -1;
    c->n++;
    cache_touch(c, p);
    return p;
}

static void cache_changed(struct cache_poll *p)
{
    if (p->cache->changed_cb)
        p->cache->changed_cb(p->cache->changed_arg, p->id);
}

/* What Redis said about the poll (reply non-NULL) becomes the entry. A reply
 * with def_current speaks of the definition the entry holds: the caller
 * asked with the entry's version (see cache_known). */
static void cache_confirm(struct cache_poll *p, const struct store_poll_reply *reply)
{
    int was = p->known;
    enum cache_status status = CACHE_OK;
    if (reply->code && strcmp(reply->code, "poll_damaged") == 0)
        status = CACHE_DAMAGED;
    else if (!reply->def && !(reply->def_current && p->def && reply->version == p->version))
        status = CACHE_NOT_FOUND;
    int changed = !was || status != p->status;
    if (status == CACHE_OK) {
        if (reply->def && (!p->def || reply->version != p->version)) {
            poll_frames_free(p->frames);
            p->frames = NULL;
            json_decref(p->def);
            p->def = json_incref(reply->def);
            p->version = reply->version;
            changed = 1;
        }
        /* Tallies go forward only: a published change may have overtaken
         * this reply. */
        if (!p->counts || reply->seq > p->seq || (reply->seq == p->seq && changed)) {
            json_decref(p->counts);
            p->counts = reply->counts ? json_incref(reply->counts) : json_object();
            p->voters = reply->voters;
            if (reply->seq != p->seq)
                changed = 1;
            p->seq = reply->seq;
        }
    } else {
        poll_frames_free(p->frames);
        p->frames = NULL;
        json_decref(p->def);
        json_decref(p->counts);
        p->def = p->counts = NULL;
        p->version = -1;
        p->seq = 0;
    }
    p->status = status;
    p->known = 1;
    p->confirmed_ms = clock_mono_ms();
    if (changed) {
        cache_forget_bodies(p);
        cache_changed(p);
    }
}

static void cache_fetch_cb(void *arg, const struct store_poll_reply *reply)
{
    struct cache_poll *p = arg;
    p->fetching = 0;
    if (reply)
        cache_confirm(p, reply);
    struct cache_waiter *w = p->waiters;
    p->waiters = NULL;
    p->waiters_tail = &p->waiters;
    /* A waiter's callback may ask for this poll again: it finds it fresh, or
     * (store down) starts the next fetch, with an empty waiting list. */
    while (w) {
        struct cache_waiter *next = w->next;
        w->cb(w->arg, reply ? p : NULL);
        free(w);
        w = next;
    }
}

static void cache_fetch(struct cache_poll *p)
{
    if (p->fetching)
        return;
    p->fetching = 1;
    store_poll_view(p->cache->store, p->id, NULL, 0, p->status == CACHE_OK ? p->version : -1,
                    cache_fetch_cb, p);
}

void cache_get(struct cache *c, const char *poll_id, cache_cb *cb, void *arg)
{
    struct cache_poll *p = cache_entry(c, poll_id);
    uint64_t age = clock_mono_ms() - p->confirmed_ms;
    /* While the store's link is down the cache answers nothing: readers get
     * the same 503 as every other route. */
    if (p->known && p->confirmed_ms && age <= CACHE_FRESH_MS && store_is_ready(c->store)) {
        if (age > CACHE_REFRESH_MS)
            cache_fetch(p); /* the next request finds it confirmed again */
        cb(arg, p);
        return;
    }
    struct cache_waiter *w = malloc(sizeof(*w));
    if (!w)
        abort();
    w->cb = cb;
    w->arg = arg;
    w->next = NULL;
    *p->waiters_tail = w;
    p->waiters_tail = &w->next;
    cache_fetch(p);
}

void cache_update(struct cache *c, const char *poll_id, const struct store_poll_reply *reply)
{
    /* A reader's damaged answer may be theirs alone (their voters bucket):
     * the poll is judged by the worker's own fetches. A vote refused during
     * an editor's reset says nothing of the poll. */
    if (!reply || !reply->code || strcmp(reply->code, "poll_damaged") == 0 ||
        strcmp(reply->code, "poll_resetting") == 0)
        return;
    struct cache_poll *p = cache_entry(c, poll_id);
    cache_confirm(p, reply);
}

const json_t *cache_known(struct cache *c, const char *poll_id, long long *version)
{
    struct cache_poll *p = cache_find(c, poll_id, strlen(poll_id));
    if (!p || !p->known || p->status != CACHE_OK) {
        *version = -1;
        return NULL;
    }
    *version = p->version;
    return p->def;
}

const struct cache_body *cache_results_at(struct cache *c, const char *poll_id, long long seq)
{
    struct cache_poll *p = cache_find(c, poll_id, strlen(poll_id));
    if (!p || !p->known || p->status != CACHE_OK || p->seq != seq)
        return NULL;
    return cache_poll_results(p);
}

void cache_forget(struct cache *c, const char *poll_id)
{
    struct cache_poll *p = cache_find(c, poll_id, strlen(poll_id));
    if (p) {
        p->confirmed_ms = 0;
        cache_changed(p);
    }
}

/* -------------------------------------------------------------- feed --- */

static void cache_event_cb(void *arg, const struct store_event *ev)
{
    struct cache *c = arg;
    char id[TEXT_SLUG_MAX + 1];
    if (ev->poll_id_len > TEXT_SLUG_MAX)
        return;
    memcpy(id, ev->poll_id, ev->poll_id_len);
    id[ev->poll_id_len] = '\0';
    struct cache_poll *p = cache_find(c, ev->poll_id, ev->poll_id_len);
    if (!p || !p->known) {
        /* Not held here; its live streams (if any) follow all the same. */
        if (c->changed_cb)
            c->changed_cb(c->changed_arg, id);
        return;
    }
    if (ev->kind == 'd') {
        if (ev->version != p->version) {
            p->confirmed_ms = 0; /* fetched before it is served again */
            cache_changed(p);
        }
        return;
    }
    if (p->status != CACHE_OK || ev->seq <= p->seq)
        return; /* heard already (this worker's own vote), or older */
    json_t *counts = json_object();
    for (size_t i = 0; i < ev->n; i++)
        json_object_setn_new_nocheck(counts, ev->option[i], ev->option_len[i],
                                     json_integer(ev->votes[i]));
    json_decref(p->counts);
    p->counts = counts;
    p->voters = ev->voters;
    p->seq = ev->seq;
    cache_forget_bodies(p);
    cache_changed(p);
}

static void cache_reset_cb(void *arg)
{
    struct cache *c = arg;
    /* Changes published while the feed was away are lost: confirm again, and
     * let the listener read again whatever it follows. */
    for (struct cache_poll *p = c->newest; p; p = p->older)
        p->confirmed_ms = 0;
    if (c->changed_cb)
        c->changed_cb(c->changed_arg, NULL);
}

void cache_listen(struct cache *c, cache_changed_cb *cb, void *arg)
{
    c->changed_cb = cb;
    c->changed_arg = arg;
    store_feed_start(c->store, cache_event_cb, cache_reset_cb, c);
}

/* --------------------------------------------------------- lifecycle --- */

struct cache *cache_new(struct store *st)
{
    struct cache *c = calloc(1, sizeof(*c));
    if (!c)
        abort();
    c->store = st;
    return c;
}

void cache_free(struct cache *c)
{
    if (!c)
        return;
    while (c->oldest) {
        struct cache_poll *p = c->oldest;
        struct cache_waiter *w = p->waiters;
        p->waiters = NULL;
        while (w) {
            struct cache_waiter *next = w->next;
            w->cb(w->arg, NULL);
            free(w);
            w = next;
        }
        cache_entry_free(c, p);
    }
    free(c);
}
