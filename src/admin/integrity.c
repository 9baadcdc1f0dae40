/* integrity.c - the editors' integrity summary of a poll.
 *
 *   GET /admin/v1/polls/:id/integrity
 *     store_poll_integrity() -> integrity_summary() (pure) -> the hours' start
 *     times in the configured zone -> 200.
 * The counters are the vote script's (hash <prefix>{poll:ID}:integrity,
 * fields "<hour>:<kind>"); kinds other than the five known are ignored. The
 * shares are of the first ballots counted (the sum of the "ballots" fields),
 * in percent with one decimal, rounded as the results are (poll.h). Must not
 * talk to Redis except through store.h. */
#include "integrity.h"

#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "clock.h"
#include "config.h"
#include "poll.h"
#include "request.h"
#include "server.h"
#include "store.h"

static const char *const integrity_kinds[] = {"ballots", "dup", "limited", "challenged", "solved"};
#define INTEGRITY_NKINDS (sizeof(integrity_kinds) / sizeof(integrity_kinds[0]))

struct integrity_hour {
    long long hour;
    long long n[INTEGRITY_NKINDS];
};

static int integrity_hour_cmp(const void *a, const void *b)
{
    long long x = ((const struct integrity_hour *)a)->hour;
    long long y = ((const struct integrity_hour *)b)->hour;
    return (x > y) - (x < y);
}

static int integrity_ll_cmp(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

/* The hours of counters, sorted, merged by hour; *n set. Caller frees. */
static struct integrity_hour *integrity_hours(const json_t *counters, size_t *n)
{
    size_t cap = json_object_size(counters) + 1, count = 0;
    struct integrity_hour *h = calloc(cap, sizeof(*h));
    if (!h)
        abort();
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)counters, key, v)
    {
        char *end;
        long long hour = strtoll(key, &end, 10);
        if (end == key || *end != ':' || hour < 0)
            continue;
        size_t k = 0;
        while (k < INTEGRITY_NKINDS && strcmp(end + 1, integrity_kinds[k]) != 0)
            k++;
        long long value = json_integer_value(v);
        if (k == INTEGRITY_NKINDS || value <= 0)
            continue;
        h[count].hour = hour;
        memset(h[count].n, 0, sizeof(h[count].n));
        h[count].n[k] = value;
        count++;
    }
    qsort(h, count, sizeof(*h), integrity_hour_cmp);
    size_t out = 0;
    for (size_t i = 0; i < count; i++) {
        if (out > 0 && h[out - 1].hour == h[i].hour) {
            for (size_t k = 0; k < INTEGRITY_NKINDS; k++)
                h[out - 1].n[k] += h[i].n[k];
        } else {
            h[out++] = h[i];
        }
    }
    *n = out;
    return h;
}

/* Twice the median of the ballots of the hours that have any (0: none):
 * twice, so that the mean of the two middle hours stays whole. */
static long long integrity_median2(const struct integrity_hour *h, size_t n)
{
    long long *b = malloc((n + 1) * sizeof(*b));
    size_t m = 0;
    if (!b)
        abort();
    for (size_t i = 0; i < n; i++)
        if (h[i].n[0] > 0)
            b[m++] = h[i].n[0];
    long long median2 = 0;
    if (m > 0) {
        qsort(b, m, sizeof(*b), integrity_ll_cmp);
        median2 = m % 2 ? 2 * b[m / 2] : b[m / 2 - 1] + b[m / 2];
    }
    free(b);
    return median2;
}

json_t *integrity_summary(const json_t *counters, long long buckets, const json_t *busiest)
{
    size_t n;
    struct integrity_hour *h = integrity_hours(counters, &n);
    long long total[INTEGRITY_NKINDS] = {0};
    long long median2 = integrity_median2(h, n);
    json_t *hours = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_pack("{sI}", "hour", (json_int_t)h[i].hour);
        for (size_t k = 0; k < INTEGRITY_NKINDS; k++) {
            json_object_set_new(o, integrity_kinds[k], json_integer(h[i].n[k]));
            total[k] += h[i].n[k];
        }
        long long b = h[i].n[0];
        int flagged = b >= INTEGRITY_FLAG_MIN && 2 * b >= INTEGRITY_FLAG_TIMES * median2;
        json_object_set_new(o, "flagged", json_boolean(flagged));
        json_array_append_new(hours, o);
    }
    free(h);
    json_t *totals = json_object();
    for (size_t k = 0; k < INTEGRITY_NKINDS; k++)
        json_object_set_new(totals, integrity_kinds[k], json_integer(total[k]));

    /* Shares of the busiest 1, 5 and 10 buckets. */
    static const size_t tops[] = {1, 5, 10};
    static const char *const names[] = {"top1", "top5", "top10"};
    json_t *shares = json_object();
    long long sum = 0;
    size_t i;
    const json_t *b;
    size_t t = 0;
    json_array_foreach((json_t *)busiest, i, b)
    {
        sum += json_integer_value(json_object_get(b, "ballots"));
        while (t < 3 && i + 1 == tops[t]) {
            long long part = sum < total[0] ? sum : total[0];
            json_object_set_new(shares, names[t],
                                json_real((double)poll_percent_tenths(part, total[0]) / 10.0));
            t++;
        }
    }
    for (; t < 3; t++) { /* fewer buckets than the top: all of them */
        long long part = sum < total[0] ? sum : total[0];
        json_object_set_new(shares, names[t],
                            json_real((double)poll_percent_tenths(part, total[0]) / 10.0));
    }
    json_t *out = json_pack("{so so}", "totals", totals, "hours", hours);
    json_object_set_new(out, "median_hour_ballots",
                        median2 % 2 ? json_real((double)median2 / 2.0) : json_integer(median2 / 2));
    json_object_set_new(
        out, "flag_rule",
        json_pack("{si si}", "times_median", INTEGRITY_FLAG_TIMES, "at_least", INTEGRITY_FLAG_MIN));
    json_object_set_new(out, "buckets",
                        json_pack("{sI sO so}", "count", (json_int_t)buckets, "busiest", busiest,
                                  "share_percent", shares));
    return out;
}

static void integrity_cb(void *arg, const struct store_poll_integrity *p)
{
    struct request *r = arg;
    char buf[40];
    if (!p) {
        request_reply_unavailable(r);
        return;
    }
    if (p->damaged) {
        api_reply_damaged(r);
        return;
    }
    if (!p->found) {
        request_reply_error(r, 404, "poll_not_found", "There is no poll with this id.");
        return;
    }
    json_t *out = integrity_summary(p->counters, p->buckets, p->busiest);
    size_t i;
    json_t *h;
    json_array_foreach(json_object_get(out, "hours"), i, h)
    {
        long long hour = json_integer_value(json_object_get(h, "hour"));
        if (clock_format_local((int64_t)hour * 3600, buf, sizeof(buf)) == 0)
            json_object_set_new(h, "start", json_string(buf));
        else
            json_object_set_new(h, "start", json_null());
        json_object_del(h, "hour");
    }
    json_object_set_new(out, "poll_id", json_string(r->poll_id));
    json_object_set_new(out, "time_zone", json_string(r->srv->cfg->timezone));
    request_reply_json(r, 200, out);
}

void integrity_get(struct request *r)
{
    store_poll_integrity(r->srv->store, r->poll_id, INTEGRITY_TOP, integrity_cb, r);
}
