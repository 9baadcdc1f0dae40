/* visits_cache.h - per worker (one per struct server, srv->visits): the
 * visitor counter's figures of each site, at most one second old, and the
 * calendar labels of the current minute.
 *
 * API:
 *   visits_cache_new()/visits_cache_free()  with the worker (free it after
 *                                            the store: a fetch still waiting
 *                                            is answered by store_free);
 *   visits_cache_period()                    the labels of now's minute;
 *   visits_cache_recorded()                  a reader's view was recorded;
 *   visits_cache_figures()                   answer a request with the figures;
 *   visits_cache_forget()                    the bases changed: fetch again.
 * Must not talk to Redis except through store.h, nor know about HTTP. */
#ifndef THAMDO_VISITS_CACHE_H
#define THAMDO_VISITS_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

struct config;
struct request;
struct visits_cache;

/* Gets the figures (NULL: the store is unavailable) and answers r. */
typedef void visits_cache_cb(struct request *r, const struct store_visit_counts *counts);

struct visits_cache *visits_cache_new(const struct config *cfg);
void visits_cache_free(struct visits_cache *vc);

/* The labels and lifetimes of the minute of now (Unix seconds by the
 * service's clock): computed with clock.h when the minute changes, so that a
 * request does not take the C library's time zone lock. Valid until the next
 * call. */
const struct store_visit_period *visits_cache_period(struct visits_cache *vc, int64_t now);

/* A reader's view of site (an index of cfg->sites) at now was recorded, and
 * Redis answered counts (store_recorded_cb's): the cached figures of that
 * minute take them in (a count never goes back), so that every answer of
 * this worker includes the view. */
void visits_cache_recorded(struct visits_cache *vc, size_t site, int64_t now,
                           const long long *counts);

/* Calls cb(r, figures of site at r->now): at once from memory when they were
 * fetched within the same second of the service's clock, less than a second
 * ago (and the store is
 * connected: otherwise the fetch answers NULL); otherwise after one
 * fetch shared by every request of the site and minute that arrives while it
 * is on its way. online_self: the request is a reader on the page (a view or
 * a ping), so "online" is at least 1 in its answer. */
void visits_cache_figures(struct visits_cache *vc, struct store *st, size_t site, struct request *r,
                          int online_self, visits_cache_cb *cb);

/* The next figures of site are fetched again (its bases were just written). */
void visits_cache_forget(struct visits_cache *vc, size_t site);

/* figures = counts + bases, stopping at LLONG_MAX; online at least
 * online_self. Pure. */
void visits_cache_sum(const struct store_visit_stored *s, int online_self,
                      struct store_visit_counts *out);

#endif
