/* clock.h - the service's clock and its calendar in the configured time zone.
 *
 * The zone (THAMDO_TIMEZONE, Asia/Ho_Chi_Minh by default) comes from the
 * system's time zone database and is set once, by clock_set_zone() at start,
 * before anything else runs; afterwards it is only read. Owns: local days,
 * ISO weeks (Monday first) and months, and local ISO 8601 formatting. The
 * test-only clock (THAMDO_MODE=test with THAMDO_TEST_CLOCK) is applied in
 * request.c through clock_parse_test_now(). */
#ifndef THAMDO_CLOCK_H
#define THAMDO_CLOCK_H

#include <stddef.h>
#include <stdint.h>

/* Sets the process time zone (TZ) once at start. */
void clock_set_zone(const char *zone);

/* "2026-11-28T22:05:00+07:00" in the configured zone; in UTC
 * ("9999-12-31T20:00:00Z") when the local year would have five digits.
 * 0, or -1 with buf empty when t cannot be written (or buf is too small:
 * 26 bytes always suffice). */
int clock_format_local(int64_t t, char *buf, size_t size);

/* "2026-11-28" (local date of t). 0, or -1 with buf empty. */
int clock_format_date(int64_t t, char *buf, size_t size);

/* "2026-W48" (ISO 8601 week-based year and week) and "2026-11". 0, or -1
 * with buf empty. */
int clock_format_week(int64_t t, char *buf, size_t size);
int clock_format_month(int64_t t, char *buf, size_t size);

/* Start of the local day, ISO week (Monday) and month containing t. */
/* Milliseconds of the monotonic clock (for timeouts and ages, never for dates). */
uint64_t clock_mono_ms(void);

int64_t clock_day_start(int64_t t);
int64_t clock_week_start(int64_t t);
int64_t clock_month_start(int64_t t);

/* Start of the local day after the one containing t (days are not always
 * 24 hours long where clocks change). */
int64_t clock_next_day(int64_t t);

/* Parses "YYYY-MM-DD" (local midnight) or an RFC 3339 time. 0 or -1; -1 too
 * for an instant outside TEXT_TIME_MIN..TEXT_TIME_MAX (text.h). */
int clock_parse_day_or_time(const char *s, int64_t *out);

#endif
