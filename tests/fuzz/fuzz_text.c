/* fuzz_text.c - the text helpers that take outside input (src/rules/text.c
 * and clock_parse_day_or_time).
 *
 * The input is one string, given to each. Properties: text_is_line implies
 * text_is_utf8; stepping through valid UTF-8 with text_utf8_next covers it
 * exactly, one step per character that text_utf8_chars counts; a slug is
 * valid UTF-8; an RFC 3339 time that parses lies in 1970..9999 and formats
 * back to a text that parses to the same second; a parsed integer is within
 * its bounds and written back parses to itself. */
#include "clock.h"
#include "fuzz.h"
#include "text.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    clock_set_zone("Asia/Ho_Chi_Minh");
    return 0;
}

static void fuzz_utf8(const char *s, size_t len)
{
    int utf8 = text_is_utf8(s, len), line = text_is_line(s, len);
    FUZZ_CHECK(!line || utf8);
    if (text_is_slug(s, len))
        FUZZ_CHECK(line && len <= TEXT_SLUG_MAX);
    size_t i = 0, chars = 0;
    int wellformed = 1;
    while (i < len) {
        size_t n = text_utf8_next(s + i, len - i);
        FUZZ_CHECK(n <= 4 && n <= len - i);
        if (n == 0) {
            wellformed = 0;
            break;
        }
        i += n;
        chars++;
    }
    FUZZ_CHECK(!utf8 || wellformed);
    if (wellformed)
        FUZZ_CHECK(text_utf8_chars(s, len) == chars);
}

static void fuzz_times(const char *s)
{
    int64_t t, back;
    char buf[40];
    if (text_parse_rfc3339(s, &t) == 0) {
        FUZZ_CHECK(t >= TEXT_TIME_MIN && t <= TEXT_TIME_MAX);
        FUZZ_CHECK(text_format_rfc3339(t, buf, sizeof(buf)) == 0);
        FUZZ_CHECK(text_parse_rfc3339(buf, &back) == 0 && back == t);
        FUZZ_CHECK(clock_format_local(t, buf, sizeof(buf)) == 0);
        FUZZ_CHECK(text_parse_rfc3339(buf, &back) == 0 && back == t);
    }
    if (clock_parse_day_or_time(s, &t) == 0)
        FUZZ_CHECK(t >= TEXT_TIME_MIN && t <= TEXT_TIME_MAX);
}

static void fuzz_numbers(const char *s)
{
    static const long long bounds[][2] = {{0, 100000},
                                          {1, 100},
                                          {-1000, 1000},
                                          {0, TEXT_TIME_MAX},
                                          {-9223372036854775807LL - 1, 9223372036854775807LL}};
    for (size_t i = 0; i < sizeof(bounds) / sizeof(bounds[0]); i++) {
        long long v, back;
        if (text_parse_int(s, bounds[i][0], bounds[i][1], &v) != 0)
            continue;
        FUZZ_CHECK(v >= bounds[i][0] && v <= bounds[i][1]);
        char buf[32];
        snprintf(buf, sizeof(buf), "%lld", v);
        FUZZ_CHECK(text_parse_int(buf, bounds[i][0], bounds[i][1], &back) == 0 && back == v);
    }
    int b;
    if (text_parse_bool(s, &b) == 0)
        FUZZ_CHECK(b == 0 || b == 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_strndup(data, size);
    fuzz_utf8(s, size);
    fuzz_times(s);
    fuzz_numbers(s);
    free(s);
    return 0;
}
