/* retention.h - the voters of closed polls forgotten after
 * THAMDO_VOTER_RETENTION_DAYS.
 *
 * One sweeper per instance (worker 0 makes one): a sweep when the store is
 * first ready, then one every hour. A sweep walks the polls that have a meta
 * hash, one at a time, and for each calls poll_forget.lua until it says the
 * poll is open, kept or forgotten (a forgotten poll is chunk after chunk of
 * 4,096 voter buckets: 17 round trips, one at a time, so that readers' calls
 * go between them). Redis unavailable: the sweep stops there and starts again
 * at the next ready or hour. Must not know HTTP; every Redis call is the
 * store's. */
#ifndef THAMDO_RETENTION_H
#define THAMDO_RETENTION_H

struct event_base;
struct store;
struct config;
struct retention;

/* NULL when cfg says to keep the voters (0 days). */
struct retention *retention_new(struct event_base *base, struct store *st,
                                const struct config *cfg);
/* The store is ready (called on every (re)connection): the first sweep, or
 * the one a lost connection cut short. */
void retention_ready(struct retention *rt);
/* After store_free() (which ends a step under way with NULL); NULL is fine. */
void retention_free(struct retention *rt);

#endif
