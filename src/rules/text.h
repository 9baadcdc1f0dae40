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

/* Every time the service accepts lies in [TEXT_TIME_MIN, TEXT_TIME_MAX]:
 * 1970-01-01T00:00:00Z to 9999-12-31T23:59:59Z, whatever it was written as. */
#define TEXT_TIME_MIN 0LL
#define TEXT_TIME_MAX 253402300799LL

/* 1 when s[0..len) is a slug: [a-z0-9-]{1,64}. */
int text_is_slug(const char *s, size_t len);

/* 1 when s[0..len) is well-formed UTF-8 (no overlongs, no surrogates, no NUL
 * and no C0 control characters other than tab and newline). */
int text_is_utf8(const char *s, size_t len);

/* 1 when s[0..len) is well-formed UTF-8 fit for one line of text shown to
 * readers (a question, a label): no control character at all (C0 with tab
 * and newline, DEL, C1), no line or paragraph separator (U+2028, U+2029) and
 * no bidirectional embedding, override or isolate (U+202A..U+202E,
 * U+2066..U+2069), which could reorder the text around it. */
int text_is_line(const char *s, size_t len);

/* The length in bytes of the well-formed UTF-8 character at s (len > 0
 * bytes there), or 0 when it is malformed. */
size_t text_utf8_next(const char *s, size_t len);

/* The number of characters (code points) of the UTF-8 text s[0..len). */
size_t text_utf8_chars(const char *s, size_t len);

/* Parses a whole decimal integer in [min, max]. 0 on success, -1 otherwise. */
int text_parse_int(const char *s, long long min, long long max, long long *out);

/* Parses 1/0, true/false, yes/no, on/off. 0 on success, -1 otherwise. */
int text_parse_bool(const char *s, int *out);

/* Parses "YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)" into Unix seconds
 * (fraction dropped). 0 on success; -1 on anything else, and for an instant
 * outside [TEXT_TIME_MIN, TEXT_TIME_MAX]. */
int text_parse_rfc3339(const char *s, int64_t *out);

/* Formats Unix seconds as "YYYY-MM-DDTHH:MM:SSZ" into buf (at least 21 bytes).
 * 0, or -1 with buf empty when t is out of range or buf too small. */
int text_format_rfc3339(int64_t t, char *buf, size_t size);

/* FNV-1a, 64 bits, of s[0..len): for hash tables and entity tags, never for secrets. */
uint64_t text_hash64(const char *s, size_t len);

#endif
