/* text.h - checks and conversions of untrusted text: slugs, UTF-8, bounded
 * integers, booleans, RFC 3339 timestamps.
 *
 * Owns: nothing but pure functions over caller-owned buffers. Must not
 * allocate, log or depend on the locale or the process time zone. */
#ifndef THAMDO_TEXT_H
#define THAMDO_TEXT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define TEXT_SLUG_MAX 64 /* longest poll or option id */

/* 1 when s[0..len) is a slug: [a-z0-9-]{1,64}. */
int text_is_slug(const char *s, size_t len);

/* 1 when s[0..len) is well-formed UTF-8 (no overlongs, no surrogates, no NUL
 * and no C0 control characters other than tab and newline). */
int text_is_utf8(const char *s, size_t len);

/* Parses a whole decimal integer in [min, max]. 0 on success, -1 otherwise. */
int text_parse_int(const char *s, long long min, long long max, long long *out);

/* Parses 1/0, true/false, yes/no, on/off. 0 on success, -1 otherwise. */
int text_parse_bool(const char *s, int *out);

/* Parses "YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)" into Unix seconds
 * (fraction dropped). 0 on success, -1 otherwise. */
int text_parse_rfc3339(const char *s, int64_t *out);

/* Formats Unix seconds as "YYYY-MM-DDTHH:MM:SSZ" into buf (at least 21 bytes). */
void text_format_rfc3339(int64_t t, char *buf, size_t size);

#endif
