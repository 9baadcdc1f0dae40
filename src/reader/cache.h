/* cache.h - one worker's copy of the polls readers ask for.
 *
 * For each poll asked for lately: its checked definition, version, change
 * sequence, tallies, and the public answers rendered once (the results, and
 * the poll as a reader who has not voted sees it, per state). Kept current by
 * the changes every instance publishes (store_feed_start) and by the answers
 * of the store (cache_update), and never served more than CACHE_FRESH_MS
 * after Redis last confirmed it, even when a published change was lost: an
 * older entry is fetched again, once, for every request waiting on it.
 *
 * Owns: the entries and their rendered bodies. Borrowed by callers during a
 * callback only. Must not answer HTTP requests, and must not be shared
 * between workers. */
#ifndef THAMDO_CACHE_H
#define THAMDO_CACHE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "poll.h"

#define CACHE_FRESH_MS   1000 /* an entry older than this is fetched before it is served */
#define CACHE_REFRESH_MS 500  /* an entry older than this is refreshed while it is served */
#define CACHE_ENTRIES    4096 /* polls kept per worker; the least recently used goes */

struct cache;
struct store;
struct store_poll_reply;

enum cache_status {
    CACHE_OK = 0,
    CACHE_NOT_FOUND, /* no such poll, or archived */
    CACHE_DAMAGED,   /* what Redis holds for it is damaged (logged by the store) */
};

/* A rendered JSON answer and its entity tag ("16 hex digits", quotes included). */
struct cache_body {
    char *text;
    size_t len;
    char etag[20];
};

struct cache_poll;

/* p NULL: the store is unavailable. */
typedef void cache_cb(void *arg, struct cache_poll *p);
/* The poll's tallies or definition changed (any instance); poll_id NULL:
 * changes may have been missed (the feed was away), any poll may have changed. */
typedef void cache_changed_cb(void *arg, const char *poll_id);

struct cache *cache_new(struct store *st);
/* Every request still waiting on a fetch gets NULL. Free the store first. */
void cache_free(struct cache *c);

/* Subscribes to the changes of every instance (the store's feed). */
void cache_listen(struct cache *c, cache_changed_cb *cb, void *arg);

/* Calls cb with the poll: before returning when the entry is fresh, else once
 * its one fetch is answered. */
void cache_get(struct cache *c, const char *poll_id, cache_cb *cb, void *arg);

/* The answer of a store call for the poll (a reader's view or a vote) is at
 * least as new as the cache: it updates the entry. */
void cache_update(struct cache *c, const char *poll_id, const struct store_poll_reply *reply);

/* The poll was changed here (an editor's write): fetched again before it is
 * served, without waiting for the published change. */
void cache_forget(struct cache *c, const char *poll_id);

/* The definition this worker holds for the poll and its version (to pass as a
 * store call's known_version), or NULL and -1. Borrowed: json_incref it to
 * keep it across a store call. */
const json_t *cache_known(struct cache *c, const char *poll_id, long long *version);

/* The results body of the poll when this worker holds exactly the tallies
 * of change sequence seq, else NULL. */
const struct cache_body *cache_results_at(struct cache *c, const char *poll_id, long long seq);

enum cache_status cache_poll_status(const struct cache_poll *p);
/* The checked definition (CACHE_OK only). */
const json_t *cache_poll_def(const struct cache_poll *p);
/* GET /api/v1/polls/:id for a reader who has not voted, as the poll is at now. */
const struct cache_body *cache_poll_view(struct cache_poll *p, int64_t now);
/* GET /api/v1/polls/:id/results. */
const struct cache_body *cache_poll_results(struct cache_poll *p);

#endif
