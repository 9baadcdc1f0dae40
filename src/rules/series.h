/* series.h - the arithmetic of a poll's time series: hourly tallies summed
 * into buckets (hours, or local days of unequal length).
 *
 * API:
 *   series_init()   the bucket boundaries (ascending) and the number of options;
 *   series_add()    one stored tally: hour (Unix seconds / 3600), option index, votes;
 *                   each added once, in any order, so the stored tallies are
 *                   walked once whatever the range;
 *   series_votes()  the sum of one bucket and option;
 *   series_free().
 * Pure: no I/O, no JSON, no clock. Must not know how tallies are stored. */
#ifndef THAMDO_SERIES_H
#define THAMDO_SERIES_H

#include <stddef.h>
#include <stdint.h>

struct series {
    size_t n_buckets, n_options;
    int64_t *bounds;  /* n_buckets + 1 ascending Unix times: bucket i is [bounds[i], bounds[i+1]) */
    long long *votes; /* n_buckets * n_options sums */
};

/* Takes n_buckets + 1 ascending boundaries (copied). 0, or -1 when they are
 * not ascending. */
int series_init(struct series *s, const int64_t *bounds, size_t n_buckets, size_t n_options);

/* Adds votes of option at hour (counted at the hour's start) to its bucket;
 * a tally outside the range, of an unknown option or not positive is left
 * out. Sums stop at LLONG_MAX. */
void series_add(struct series *s, int64_t hour, size_t option, long long votes);

long long series_votes(const struct series *s, size_t bucket, size_t option);

void series_free(struct series *s);

#endif
