/* integrity.h - GET /admin/v1/polls/:id/integrity: the editors' integrity summary.
 *
 * Owns: turning a poll's integrity counters and address buckets (written by
 * the vote script) into the summary: per hour ballots counted, duplicates,
 * rate-limited refusals, challenges issued and solved; the share of first
 * ballots from the busiest 1, 5 and 10 buckets (hashed ids only); hours of
 * at least INTEGRITY_FLAG_TIMES the median of the poll's hours with ballots
 * (and at least INTEGRITY_FLAG_MIN ballots) flagged. Reads only. */
#ifndef THAMDO_INTEGRITY_H
#define THAMDO_INTEGRITY_H

#include <jansson.h>

struct request;

#define INTEGRITY_FLAG_TIMES 5
#define INTEGRITY_FLAG_MIN   20
#define INTEGRITY_TOP        10

/* The summary (new object) of counters ("<hour>:<kind>" -> n) and the busiest
 * buckets ([{bucket, ballots}], most first), without the hours' start times:
 * each hour is {"hour": unix hour, ...}. Pure: no I/O. */
json_t *integrity_summary(const json_t *counters, long long buckets, const json_t *busiest);

void integrity_get(struct request *r);

#endif
