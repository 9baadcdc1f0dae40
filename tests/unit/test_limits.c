/* test_limits.c - the edges where untrusted text and times meet output:
 * one-line texts (text_is_line), the 1970..9999 bounds of RFC 3339 parsing
 * and formatting (text.h) and of the local calendar (clock.h, which once read
 * uninitialised fields when localtime_r failed), CSV formula guards and
 * decimals (csv.h), percentages and NULL in HTML (html.h), and form fields
 * decoded with their lengths (form.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <event2/buffer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "csv.h"
#include "form.h"
#include "html.h"
#include "text.h"

/* The evbuffer's contents as a NUL-terminated string (freed by the caller). */
static char *drain(struct evbuffer *b)
{
    size_t n = evbuffer_get_length(b);
    char *s = malloc(n + 1);
    evbuffer_remove(b, s, n);
    s[n] = '\0';
    evbuffer_free(b);
    return s;
}

static int is_line(const char *s)
{
    return text_is_line(s, strlen(s));
}

/* ---- text_is_line ---- */

static void test_text_line_accepts_vietnamese_and_marks(void **state)
{
    (void)state;
    assert_true(is_line("B\xe1\xba\xa1n quan t\xc3\xa2m chuy\xc3\xaan m\xe1\xbb\xa5"
                        "c n\xc3\xa0o?"));
    assert_true(is_line("\xe2\x80\x8f" /* U+200F right-to-left mark */ "abc"));
    assert_true(is_line("\xc2\xa0" /* U+00A0 no-break space */));
    assert_true(is_line("\xf0\x9f\x98\x80"));
}

static void test_text_line_refuses_controls_separators_and_bidi_overrides(void **state)
{
    (void)state;
    assert_false(is_line("a\tb"));
    assert_false(is_line("a\nb"));
    assert_false(is_line("a\rb"));
    assert_false(is_line("\x7f"));
    assert_false(is_line("\xc2\x80"));     /* U+0080 */
    assert_false(is_line("\xc2\x9f"));     /* U+009F */
    assert_false(is_line("\xe2\x80\xa8")); /* U+2028 */
    assert_false(is_line("\xe2\x80\xa9")); /* U+2029 */
    assert_false(is_line("\xe2\x80\xaa")); /* U+202A */
    assert_false(is_line("\xe2\x80\xae")); /* U+202E */
    assert_false(is_line("\xe2\x81\xa6")); /* U+2066 */
    assert_false(is_line("\xe2\x81\xa9")); /* U+2069 */
    assert_false(is_line("\xc0\xaf"));     /* overlong: still not UTF-8 */
    assert_false(text_is_line("a\0b", 3));
    assert_true(is_line("\xe2\x80\xab" + 3)); /* empty rest: fine */
    assert_true(is_line("\xe2\x81\xaa"));     /* U+206A is not an isolate */
}

/* ---- times from 1970 to 9999 ---- */

static void test_text_rfc3339_refuses_instants_outside_1970_to_9999(void **state)
{
    (void)state;
    int64_t t = 42;
    assert_int_equal(text_parse_rfc3339("1970-01-01T00:00:00+07:00", &t), -1);
    assert_int_equal(text_parse_rfc3339("9999-12-31T23:59:59-00:01", &t), -1);
    assert_int_equal(t, 42);
    assert_int_equal(text_parse_rfc3339("1970-01-01T00:00:00Z", &t), 0);
    assert_int_equal(t, TEXT_TIME_MIN);
    assert_int_equal(text_parse_rfc3339("9999-12-31T23:59:59Z", &t), 0);
    assert_int_equal(t, TEXT_TIME_MAX);
}

static void test_text_format_rfc3339_refuses_out_of_range(void **state)
{
    (void)state;
    char buf[32] = "junk";
    assert_int_equal(text_format_rfc3339(67000000000000000LL, buf, sizeof(buf)), -1);
    assert_string_equal(buf, "");
    assert_int_equal(text_format_rfc3339(TEXT_TIME_MAX, buf, sizeof(buf)), 0);
    assert_string_equal(buf, "9999-12-31T23:59:59Z");
    assert_int_equal(text_format_rfc3339(0, buf, 5), -1); /* too small */
    assert_string_equal(buf, "");
}

static void test_clock_never_writes_an_unconverted_time(void **state)
{
    (void)state;
    char buf[40];
    clock_set_zone("Asia/Ho_Chi_Minh");
    /* localtime_r fails for this one: no garbage, an empty string and -1. */
    memset(buf, 'x', sizeof(buf));
    assert_int_equal(clock_format_local(67000000000000000LL, buf, sizeof(buf)), -1);
    assert_string_equal(buf, "");
    memset(buf, 'x', sizeof(buf));
    assert_int_equal(clock_format_date(INT64_MAX, buf, sizeof(buf)), -1);
    assert_string_equal(buf, "");
    assert_int_equal(clock_format_week(INT64_MAX, buf, sizeof(buf)), -1);
    assert_int_equal(clock_format_month(INT64_MAX, buf, sizeof(buf)), -1);
    assert_string_equal(buf, "");
    /* The calendar moves on whatever it is handed. */
    assert_true(clock_next_day(67000000000000000LL) > 67000000000000000LL);
    assert_true(clock_day_start(67000000000000000LL) <= 67000000000000000LL);
    (void)clock_week_start(INT64_MIN);
    (void)clock_month_start(INT64_MAX);
    assert_int_equal(clock_format_local(0, buf, 10), -1); /* too small */
    assert_string_equal(buf, "");
}

static void test_clock_last_hours_of_9999_are_written_in_utc(void **state)
{
    (void)state;
    char buf[40];
    clock_set_zone("Asia/Ho_Chi_Minh");
    /* 9999-12-31T20:00Z is already year 10000 in Viet Nam: written in UTC. */
    assert_int_equal(clock_format_local(TEXT_TIME_MAX - 4 * 3600 + 1, buf, sizeof(buf)), 0);
    assert_string_equal(buf, "9999-12-31T20:00:00Z");
    assert_int_equal(clock_format_local(TEXT_TIME_MAX - 8 * 3600 + 1, buf, sizeof(buf)), 0);
    assert_string_equal(buf, "9999-12-31T23:00:00+07:00");
    assert_int_equal(clock_format_local(0, buf, sizeof(buf)), 0);
    assert_string_equal(buf, "1970-01-01T08:00:00+08:00"); /* the zone's offset then */
}

static void test_clock_day_before_1970_is_refused(void **state)
{
    (void)state;
    int64_t t = 42;
    clock_set_zone("Asia/Ho_Chi_Minh");
    /* Local midnight of 1 January 1970 (UTC+8 then) is 1969-12-31T16:00Z. */
    assert_int_equal(clock_parse_day_or_time("1970-01-01", &t), -1);
    assert_int_equal(clock_parse_day_or_time("1970-01-02", &t), 0);
    assert_int_equal(t, 86400 - 8 * 3600);
    assert_int_equal(clock_parse_day_or_time("9999-12-31", &t), 0);
}

/* ---- csv ---- */

static void test_csv_tab_or_cr_in_front_is_a_formula_too(void **state)
{
    (void)state;
    struct evbuffer *b = evbuffer_new();
    csv_field(b, "\t=1+2", 0);
    csv_field(b, "\r=cmd", 0);
    csv_field(b, "\tplain", 1);
    char *s = drain(b);
    assert_string_equal(s, "\"'\t=1+2\",\"'\r=cmd\",\"'\tplain\"\r\n");
    free(s);
}

static void test_csv_tenths_have_one_decimal(void **state)
{
    (void)state;
    struct evbuffer *b = evbuffer_new();
    csv_tenths(b, 333, 0);
    csv_tenths(b, 1000, 0);
    csv_tenths(b, 0, 0);
    csv_tenths(b, 5, 1);
    char *s = drain(b);
    assert_string_equal(s, "33.3,100.0,0.0,0.5\r\n");
    free(s);
}

/* ---- html ---- */

static void test_html_percent_by_language(void **state)
{
    (void)state;
    char buf[16];
    html_format_percent(333, 0, buf, sizeof(buf));
    assert_string_equal(buf, "33,3%");
    html_format_percent(333, 1, buf, sizeof(buf));
    assert_string_equal(buf, "33.3%");
    html_format_percent(500, 0, buf, sizeof(buf));
    assert_string_equal(buf, "50%");
    html_format_percent(1000, 1, buf, sizeof(buf));
    assert_string_equal(buf, "100%");
    html_format_percent(1, 0, buf, sizeof(buf));
    assert_string_equal(buf, "0,1%");
    html_format_percent(0, 1, buf, sizeof(buf));
    assert_string_equal(buf, "0%");
}

static void test_html_escape_of_null_writes_nothing(void **state)
{
    (void)state;
    struct evbuffer *b = evbuffer_new();
    html_escape(b, NULL);
    html_escape(b, "a&b");
    char *s = drain(b);
    assert_string_equal(s, "a&amp;b");
    free(s);
}

/* ---- form fields ---- */

struct seen {
    char text[256];
};

static int collect(void *arg, const char *key, size_t key_len, const char *value, size_t value_len)
{
    struct seen *s = arg;
    size_t o = strlen(s->text);
    snprintf(s->text + o, sizeof(s->text) - o, "[%zu:%s=%zu:", key_len, key, value_len);
    o = strlen(s->text);
    for (size_t i = 0; i < value_len && o + 4 < sizeof(s->text); i++)
        s->text[o++] = value[i] ? value[i] : '0';
    s->text[o] = '\0';
    snprintf(s->text + o, sizeof(s->text) - o, "]");
    return strcmp(key, "stop") == 0;
}

static void test_form_fields_keep_their_decoded_length(void **state)
{
    (void)state;
    struct seen s = {""};
    const char *q = "a=1&&b=x%00y&c+d=e+f&bare&=v&e=%zz";
    assert_int_equal(form_each(q, strlen(q), collect, &s), 0);
    assert_string_equal(s.text, "[1:a=1:1][1:b=3:x0y][3:c d=3:e f][4:bare=0:][0:=1:v][1:e=3:%zz]");
}

static void test_form_fields_stop_when_asked_and_read_only_len(void **state)
{
    (void)state;
    struct seen s = {""};
    const char *q = "a=1&stop=2&c=3";
    assert_int_equal(form_each(q, strlen(q), collect, &s), 1);
    assert_string_equal(s.text, "[1:a=1:1][4:stop=1:2]");
    struct seen t = {""};
    assert_int_equal(form_each("a=12345", 4, collect, &t), 0);
    assert_string_equal(t.text, "[1:a=2:12]");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_line_accepts_vietnamese_and_marks),
        cmocka_unit_test(test_text_line_refuses_controls_separators_and_bidi_overrides),
        cmocka_unit_test(test_text_rfc3339_refuses_instants_outside_1970_to_9999),
        cmocka_unit_test(test_text_format_rfc3339_refuses_out_of_range),
        cmocka_unit_test(test_clock_never_writes_an_unconverted_time),
        cmocka_unit_test(test_clock_last_hours_of_9999_are_written_in_utc),
        cmocka_unit_test(test_clock_day_before_1970_is_refused),
        cmocka_unit_test(test_csv_tab_or_cr_in_front_is_a_formula_too),
        cmocka_unit_test(test_csv_tenths_have_one_decimal),
        cmocka_unit_test(test_html_percent_by_language),
        cmocka_unit_test(test_html_escape_of_null_writes_nothing),
        cmocka_unit_test(test_form_fields_keep_their_decoded_length),
        cmocka_unit_test(test_form_fields_stop_when_asked_and_read_only_len),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
