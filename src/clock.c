/* clock.c - local calendar arithmetic with the system time zone database.
 *
 * Uses localtime_r/mktime under the TZ set once at start; never a fixed
 * offset, so a zone with daylight saving time also works. Must not be
 * handed a zone after start. */
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

void clock_format_local(int64_t t, char *buf, size_t size)
{
    time_t tt = (time_t)t;
    struct tm tm;
    char zone[8];
    localtime_r(&tt, &tm);
    size_t n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
    strftime(zone, sizeof(zone), "%z", &tm); /* +0700 */
    if (strcmp(zone, "+0000") == 0 && size > n + 1)
        snprintf(buf + n, size - n, "Z");
    else if (size > n + 6)
        snprintf(buf + n, size - n, "%.3s:%.2s", zone, zone + 3);
}

void clock_format_date(int64_t t, char *buf, size_t size)
{
    time_t tt = (time_t)t;
    struct tm tm;
    localtime_r(&tt, &tm);
    strftime(buf, size, "%Y-%m-%d", &tm);
}

/* Local midnight of the given date (mday may be out of range: mktime
 * normalises it). */
static int64_t clock_midnight(int year, int mon, int mday)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = year;
    tm.tm_mon = mon;
    tm.tm_mday = mday;
    tm.tm_isdst = -1;
    return (int64_t)mktime(&tm);
}

int64_t clock_day_start(int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    localtime_r(&tt, &tm);
    return clock_midnight(tm.tm_year, tm.tm_mon, tm.tm_mday);
}

int64_t clock_next_day(int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    localtime_r(&tt, &tm);
    return clock_midnight(tm.tm_year, tm.tm_mon, tm.tm_mday + 1);
}

int64_t clock_week_start(int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    localtime_r(&tt, &tm);
    int since_monday = (tm.tm_wday + 6) % 7;
    return clock_midnight(tm.tm_year, tm.tm_mon, tm.tm_mday - since_monday);
}

int64_t clock_month_start(int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    localtime_r(&tt, &tm);
    return clock_midnight(tm.tm_year, tm.tm_mon, 1);
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
        *out = clock_midnight(atoi(s) - 1900, atoi(s + 5) - 1, atoi(s + 8));
        return 0;
    }
    return text_parse_rfc3339(s, out);
}

void clock_format_week(int64_t t, char *buf, size_t size)
{
    time_t tt = (time_t)t;
    struct tm tm;
    localtime_r(&tt, &tm);
    strftime(buf, size, "%G-W%V", &tm);
}

void clock_format_month(int64_t t, char *buf, size_t size)
{
    time_t tt = (time_t)t;
    struct tm tm;
    localtime_r(&tt, &tm);
    strftime(buf, size, "%Y-%m", &tm);
}
