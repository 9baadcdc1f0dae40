/* series.c - summing hourly tallies into the buckets of a time series.
 *
 * A tally is placed by binary search over the bucket boundaries, so a series
 * costs O(tallies x log buckets + buckets x options), however long the range
 * and however sparse the votes. Must not do I/O or read JSON. */
#include "series.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

int series_init(struct series *s, const int64_t *bounds, size_t n_buckets, size_t n_options)
{
    memset(s, 0, sizeof(*s));
    for (size_t i = 0; i < n_buckets; i++) {
        if (bounds[i] >= bounds[i + 1])
            return -1;
    }
    s->bounds = malloc((n_buckets + 1) * sizeof(*s->bounds));
    size_t cells = n_buckets * n_options;
    s->votes = calloc(cells > 0 ? cells : 1, sizeof(*s->votes));
    if (!s->bounds || !s->votes)
        abort();
    memcpy(s->bounds, bounds, (n_buckets + 1) * sizeof(*s->bounds));
    s->n_buckets = n_buckets;
    s->n_options = n_options;
    return 0;
}

void series_add(struct series *s, int64_t hour, size_t option, long long votes)
{
    if (option >= s->n_options || votes <= 0 || s->n_buckets == 0 || hour > INT64_MAX / 3600 ||
        hour < INT64_MIN / 3600)
        return;
    int64_t t = hour * 3600;
    if (t < s->bounds[0] || t >= s->bounds[s->n_buckets])
        return;
    size_t lo = 0, hi = s->n_buckets; /* bounds[lo] <= t < bounds[hi] */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->bounds[mid] <= t)
            lo = mid;
        else
            hi = mid;
    }
    long long *cell = &s->votes[lo * s->n_options + option];
    *cell = *cell > LLONG_MAX - votes ? LLONG_MAX : *cell + votes;
}

long long series_votes(const struct series *s, size_t bucket, size_t option)
{
    if (bucket >= s->n_buckets || option >= s->n_options)
        return 0;
    return s->votes[bucket * s->n_options + option];
}

void series_free(struct series *s)
{
    free(s->bounds);
    free(s->votes);
    memset(s, 0, sizeof(*s));
}
