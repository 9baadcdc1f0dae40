/* clock.c - local calendar arithmetic with the system time zone database.
 *
 * Uses localtime_r/mktime under the TZ set once at start; never a fixed
 * offset, so a zone with daylight saving time also works. Every conversion's
 * result is checked: a time the C library cannot convert never leaves
 * uninitialised fields behind (it falls back to UTC, see clock_tm). Must not
 * be handed a zone after start. */
#include "clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "text.h"

void clock_set_zone(const char *zone)
{
    setenv("TZ", zone, 1);
    tzset();
}

/* The UTC fields of t: 1, or -1 with tm set to 1970-01-01 (see clock_tm). */
static int clock_tm_utc(int64_t t, struct tm *tm)
{
    time_t tt = (time_t)t;
    if ((int64_t)tt == t && gmtime_r(&tt, tm) != NULL && tm->tm_year + 1900 >= 0 &&
        tm->tm_year + 1900 <= 9999)
        return 1;
    memset(tm, 0, sizeof(*tm));
    tm->tm_year = 70;
    tm->tm_mday = 1;
    return -1;
}

/* The calendar fields of t in the configured zone: 0. localtime_r fails for
 * times no poll can hold (past about 6.7e16 the year does not fit an int);
 * then, and when the local year would not have four digits (the last hours
 * of 9999 east of UTC), the fields are those of UTC: 1. -1 when even that
 * fails; tm then holds 1970-01-01 so that nothing reads uninitialised bytes. */
static int clock_tm(int64_t t, struct tm *tm)
{
    time_t tt = (time_t)t;
    if ((int64_t)tt == t && localtime_r(&tt, tm) != NULL && tm->tm_year + 1900 >= 0 &&
        tm->tm_year + 1900 <= 9999)
        return 0;
    return clock_tm_utc(t, tm);
}

enum clock_field {
    CLOCK_DATE = 0, /* 2026-11-28 */
    CLOCK_WEEK,     /* 2026-W48 */
    CLOCK_MONTH,    /* 2026-11 */
};

/* One calendar label of t's local (or UTC, see clock_tm) fields; 0, or -1
 * with buf empty. */
static int clock_label(int64_t t, enum clock_field what, char *buf, size_t size)
{
    struct tm tm;
    size_t n = 0;
    if (size == 0)
        return -1;
    if (clock_tm(t, &tm) >= 0) {
        switch (what) {
        case CLOCK_DATE:
            n = strftime(buf, size, "%Y-%m-%d", &tm);
            break;
        case CLOCK_WEEK:
            n = strftime(buf, size, "%G-W%V", &tm);
            break;
        case CLOCK_MONTH:
            n = strftime(buf, size, "%Y-%m", &tm);
            break;
        }
    }
    if (n == 0) {
        buf[0] = '\0';
        return -1;
    }
    return 0;
}

int clock_format_local(int64_t t, char *buf, size_t size)
{
    struct tm tm;
    char zone[8] = "+0000";
    if (size == 0)
        return -1;
    buf[0] = '\0';
    int utc = clock_tm(t, &tm);
    if (utc == 0 && strftime(zone, sizeof(zone), "%z", &tm) != 5)
        utc = clock_tm_utc(t, &tm); /* no usable offset: write the instant in UTC */
    if (utc < 0)
        return -1;
    size_t n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
    int zulu = utc || strcmp(zone, "+0000") == 0;
    int fits = n > 0 && size >= n + (zulu ? 2 : 7);
    if (!fits) {
        buf[0] = '\0';
        return -1;
    }
    if (zulu)
        snprintf(buf + n, size - n, "Z");
    else
        snprintf(buf + n, size - n, "%.3s:%.2s", zone, zone + 3); /* +0700 -> +07:00 */
    return 0;
}

int clock_format_date(int64_t t, char *buf, size_t size)
{
    return clock_label(t, CLOCK_DATE, buf, size);
}

/* Start of the UTC day of t: the answer when the local calendar cannot be
 * used (never for the times a poll or a request can hold). */
static int64_t clock_utc_day(int64_t t)
{
    const int64_t limit = (int64_t)1 << 62; /* far beyond any time; no overflow below */
    t = t < -limit ? -limit : t > limit ? limit : t;
    return t - ((t % 86400) + 86400) % 86400;
}

/* Local midnight of the given date (mday may be out of range: mktime
 * normalises it), or fallback when mktime cannot represent it. */
static int64_t clock_midnight(int year, int mon, int mday, int64_t fallback)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = year;
    tm.tm_mon = mon;
    tm.tm_mday = mday;
    tm.tm_isdst = -1;
    time_t m = mktime(&tm);
    return m == (time_t)-1 ? fallback : (int64_t)m; /* a midnight is never -1 */
}

int64_t clock_day_start(int64_t t)
{
    struct tm tm;
    if (clock_tm(t, &tm) < 0)
        return clock_utc_day(t);
    return clock_midnight(tm.tm_year, tm.tm_mon, tm.tm_mday, clock_utc_day(t));
}

int64_t clock_next_day(int64_t t)
{
    struct tm tm;
    int64_t fallback = clock_utc_day(t) + 86400;
    if (clock_tm(t, &tm) < 0)
        return fallback;
    int64_t next = clock_midnight(tm.tm_year, tm.tm_mon, tm.tm_mday + 1, fallback);
    return next > t ? next : fallback; /* moves forward (for any time below 2^62) */
}

int64_t clock_week_start(int64_t t)
{
    struct tm tm;
    if (clock_tm(t, &tm) < 0)
        return clock_utc_day(t);
    int since_monday = (tm.tm_wday + 6) % 7;
    return clock_midnight(tm.tm_year, tm.tm_mon, tm.tm_mday - since_monday, clock_utc_day(t));
}

int64_t clock_month_start(int64_t t)
{
    struct tm tm;
    if (clock_tm(t, &tm) < 0)
        return clock_utc_day(t);
    return clock_midnight(tm.tm_year, tm.tm_mon, 1, clock_utc_day(t));
}

int clock_parse_day_or_time(const char *s, int64_t *out)
{
    if (strlen(s) == 10 && s[4] == '-' && s[7] == '-') {
        char buf[32];
        int64_t t;
        /* Check the date with the strict RFC 3339 parser, then take local midnight. */
        snprintf(buf, sizeof(buf), "%sT00:00:00Z", s);
        if (text_parse_rfc3339(buf, &t) != 0)
            return -1;
        t = clock_midnight(atoi(s) - 1900, atoi(s + 5) - 1, atoi(s + 8), -1);
        if (t < TEXT_TIME_MIN || t > TEXT_TIME_MAX)
            return -1; /* local midnight of 1970-01-01 east of UTC is before 1970 */
        *out = t;
        return 0;
    }
    return text_parse_rfc3339(s, out);
}

int clock_format_week(int64_t t, char *buf, size_t size)
{
    return clock_label(t, CLOCK_WEEK, buf, size);
}

int clock_format_month(int64_t t, char *buf, size_t size)
{
    return clock_label(t, CLOCK_MONTH, buf, size);
}

uint64_t clock_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}
