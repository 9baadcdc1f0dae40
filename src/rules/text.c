/* text.c - validation and parsing of untrusted text.
 *
 * Every function here is pure and bounded by the length it is given; none
 * allocates, logs, or consults the locale or the TZ variable. */
#include "text.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int text_is_slug(const char *s, size_t len)
{
    if (len == 0 || len > TEXT_SLUG_MAX)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
            return 0;
    }
    return 1;
}

/* Decodes the character at s[*i] (len bytes in all) into *cp and moves *i past
 * it. -1 on a malformed sequence (overlong, surrogate, truncated, out of
 * range). */
static int text_next_char(const unsigned char *s, size_t len, size_t *i, uint32_t *cp)
{
    unsigned char c = s[*i];
    size_t n;
    if (c < 0x80) {
        *cp = c;
        (*i)++;
        return 0;
    }
    if (c >= 0xc2 && c <= 0xdf) {
        n = 1;
        *cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 2;
        *cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 3;
        *cp = c & 0x07;
    } else {
        return -1;
    }
    if (len - *i - 1 < n)
        return -1;
    for (size_t k = 1; k <= n; k++) {
        if ((s[*i + k] & 0xc0) != 0x80)
            return -1;
        *cp = (*cp << 6) | (s[*i + k] & 0x3f);
    }
    if ((n == 2 && *cp < 0x800) || (n == 3 && (*cp < 0x10000 || *cp > 0x10ffff)))
        return -1; /* overlong or out of range */
    if (*cp >= 0xd800 && *cp <= 0xdfff)
        return -1; /* surrogate */
    *i += n + 1;
    return 0;
}

size_t text_utf8_next(const char *s, size_t len)
{
    size_t i = 0;
    uint32_t cp;
    return text_next_char((const unsigned char *)s, len, &i, &cp) == 0 ? i : 0;
}

/* 1 when s[0..len) is well-formed UTF-8 and ok() accepts each character. */
static int text_all_chars(const char *str, size_t len, int (*ok)(uint32_t cp))
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    uint32_t cp;
    while (i < len) {
        if (text_next_char(s, len, &i, &cp) != 0 || !ok(cp))
            return 0;
    }
    return 1;
}

/* No C0 control other than tab and newline, no DEL. */
static int text_plain_char(uint32_t cp)
{
    return (cp >= 0x20 || cp == '\t' || cp == '\n') && cp != 0x7f;
}

/* No control at all (C0, DEL, C1), no line or paragraph separator, no
 * bidirectional embedding, override or isolate. */
static int text_line_char(uint32_t cp)
{
    return cp >= 0x20 && !(cp >= 0x7f && cp <= 0x9f) && cp != 0x2028 && cp != 0x2029 &&
           !(cp >= 0x202a && cp <= 0x202e) && !(cp >= 0x2066 && cp <= 0x2069);
}

int text_is_utf8(const char *str, size_t len)
{
    return text_all_chars(str, len, text_plain_char);
}

int text_is_line(const char *str, size_t len)
{
    return text_all_chars(str, len, text_line_char);
}

int text_parse_int(const char *s, long long min, long long max, long long *out)
{
    if (s == NULL || *s == '\0')
        return -1;
    for (const char *p = s; *p; p++) {
        if (!((*p >= '0' && *p <= '9') || (p == s && *p == '-')))
            return -1;
    }
    errno = 0;
    char *end = NULL;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

int text_parse_bool(const char *s, int *out)
{
    static const char *const yes[] = {"1", "true", "yes", "on"};
    static const char *const no[] = {"0", "false", "no", "off"};
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = 1;
            return 0;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = 0;
            return 0;
        }
    }
    return -1;
}

/* Reads exactly n digits at s into *out. */
static int text_digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

static int text_is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar. */
static int64_t text_days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int text_parse_rfc3339(const char *s, int64_t *out)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int Y, M, D, h, mi, sec;
    size_t len = strlen(s);
    if (len < 20)
        return -1;
    if (text_digits(s, 4, &Y) || s[4] != '-' || text_digits(s + 5, 2, &M) || s[7] != '-' ||
        text_digits(s + 8, 2, &D) || (s[10] != 'T' && s[10] != 't') || text_digits(s + 11, 2, &h) ||
        s[13] != ':' || text_digits(s + 14, 2, &mi) || s[16] != ':' || text_digits(s + 17, 2, &sec))
        return -1;
    if (Y < 1970 || M < 1 || M > 12 || D < 1 || h > 23 || mi > 59 || sec > 59)
        return -1;
    int dim = mdays[M - 1] + (M == 2 && text_is_leap(Y));
    if (D > dim)
        return -1;

    const char *p = s + 19;
    if (*p == '.') {
        p++;
        const char *start = p;
        while (*p >= '0' && *p <= '9')
            p++;
        if (p == start)
            return -1;
    }
    int offset = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om;
        if (text_digits(p + 1, 2, &oh) || p[3] != ':' || text_digits(p + 4, 2, &om) || oh > 23 ||
            om > 59)
            return -1;
        offset = (oh * 60 + om) * 60 * (*p == '-' ? -1 : 1);
        p += 6;
    } else {
        return -1;
    }
    if (*p != '\0')
        return -1;

    int64_t t = text_days_from_civil(Y, M, D) * 86400 + h * 3600 + mi * 60 + sec - offset;
    if (t < TEXT_TIME_MIN || t > TEXT_TIME_MAX)
        return -1; /* an offset moved it out of 1970..9999 */
    *out = t;
    return 0;
}

int text_format_rfc3339(int64_t t, char *buf, size_t size)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (size > 0)
        buf[0] = '\0';
    if (t < TEXT_TIME_MIN || t > TEXT_TIME_MAX || gmtime_r(&tt, &tm) == NULL ||
        strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
        if (size > 0)
            buf[0] = '\0';
        return -1;
    }
    return 0;
}

size_t text_utf8_chars(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += ((unsigned char)s[i] & 0xC0) != 0x80; /* every byte but a continuation starts one */
    return n;
}

uint64_t text_hash64(const char *s, size_t len)
{
    uint64_t h = 14695981039346656037ULL;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    return h;
}
