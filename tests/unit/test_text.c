/* test_text.c - checks and conversions of untrusted text (text.h), and the
 * two string parsers of the configuration (config.h).
 *
 * Covers: text_is_slug; text_is_utf8 (overlongs, surrogates, truncation,
 * out-of-range lead bytes, control characters); text_parse_int bounds and
 * junk; text_parse_bool; text_parse_rfc3339 (zones, fractions, calendar
 * checks, junk) and its round trip with text_format_rfc3339;
 * config_parse_redis_url and config_parse_listen. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "text.h"

#define T_2026_11_28_10Z 1795860000 /* 2026-11-28T10:00:00Z */

static int is_slug(const char *s)
{
    return text_is_slug(s, strlen(s));
}

static int is_utf8(const char *s)
{
    return text_is_utf8(s, strlen(s));
}

/* ---- text_is_slug ---- */

static void test_text_slug_accepts_lowercase_digits_and_dash(void **state)
{
    (void)state;
    assert_true(is_slug("a"));
    assert_true(is_slug("tin-tuc"));
    assert_true(is_slug("0-9"));
    assert_true(is_slug("-"));
    assert_true(is_slug("abcdefghijklmnopqrstuvwxyz0123456789"));
}

static void test_text_slug_refuses_other_characters(void **state)
{
    (void)state;
    assert_false(is_slug("A"));
    assert_false(is_slug("tin_tuc"));
    assert_false(is_slug("a b"));
    assert_false(is_slug("a.b"));
    assert_false(is_slug("a/b"));
    assert_false(is_slug("\xc3\xa9"));
    assert_false(text_is_slug("a\0b", 3));
}

static void test_text_slug_length_is_1_to_64(void **state)
{
    (void)state;
    char s[TEXT_SLUG_MAX + 2];
    memset(s, 'a', sizeof(s));
    assert_false(text_is_slug(s, 0));
    assert_true(text_is_slug(s, 1));
    assert_true(text_is_slug(s, TEXT_SLUG_MAX));
    assert_false(text_is_slug(s, TEXT_SLUG_MAX + 1));
}

/* ---- text_is_utf8 ---- */

static void test_text_utf8_accepts_vietnamese(void **state)
{
    (void)state;
    assert_true(is_utf8("B\xe1\xba\xa1n quan t\xc3\xa2m")); /* Bạn quan tâm */
    assert_true(is_utf8("Th\xe1\xbb\x83 thao, \xc4\x91\xe1\xbb\x9di s\xe1\xbb\x91ng"));
    assert_true(is_utf8("plain ASCII"));
    assert_true(text_is_utf8("", 0));
}

static void test_text_utf8_accepts_four_byte_sequences(void **state)
{
    (void)state;
    assert_true(is_utf8("\xf0\x9f\x98\x80"));         /* U+1F600 */
    assert_true(is_utf8("\xf4\x8f\xbf\xbf"));         /* U+10FFFF */
    assert_true(is_utf8("\xef\xbf\xbd"));             /* U+FFFD */
    assert_true(is_utf8("\xed\x9f\xbf\xee\x80\x80")); /* U+D7FF, U+E000 */
}

static void test_text_utf8_refuses_overlongs(void **state)
{
    (void)state;
    assert_false(is_utf8("\xc0\xaf")); /* '/' in two bytes */
    assert_false(is_utf8("\xc1\xbf"));
    assert_false(is_utf8("\xe0\x80\xaf"));     /* '/' in three bytes */
    assert_false(is_utf8("\xe0\x9f\xbf"));     /* U+07FF in three bytes */
    assert_false(is_utf8("\xf0\x80\x80\xaf")); /* '/' in four bytes */
    assert_false(is_utf8("\xf0\x8f\xbf\xbf")); /* U+FFFF in four bytes */
}

static void test_text_utf8_refuses_surrogates(void **state)
{
    (void)state;
    assert_false(is_utf8("\xed\xa0\x80")); /* U+D800 */
    assert_false(is_utf8("\xed\xbf\xbf")); /* U+DFFF */
    assert_false(is_utf8("ok \xed\xb0\x80 ok"));
}

static void test_text_utf8_refuses_truncated_sequences(void **state)
{
    (void)state;
    assert_false(is_utf8("\xc3"));
    assert_false(is_utf8("abc\xe1\xba"));
    assert_false(is_utf8("\xf0\x9f\x98"));
    assert_false(is_utf8("\xe1\xba"
                         "a")); /* continuation replaced by ASCII */
    /* the length bounds the check even when more bytes follow */
    assert_false(text_is_utf8("\xc3\xa2", 1));
    assert_false(text_is_utf8("\xf0\x9f\x98\x80", 3));
}

static void test_text_utf8_refuses_bytes_that_never_start_a_character(void **state)
{
    (void)state;
    assert_false(is_utf8("\xf5\x80\x80\x80"));
    assert_false(is_utf8("\xf4\x90\x80\x80")); /* U+110000 */
    assert_false(is_utf8("\xf8\x88\x80\x80\x80"));
    assert_false(is_utf8("\xff"));
    assert_false(is_utf8("\x80")); /* lone continuation */
    assert_false(is_utf8("a\xbf"
                         "b"));
}

static void test_text_utf8_refuses_control_characters(void **state)
{
    (void)state;
    assert_false(is_utf8("bell\a"));
    assert_false(is_utf8("\x01"));
    assert_false(is_utf8("\x1f"));
    assert_false(is_utf8("cr\r\n"));
    assert_false(is_utf8("del\x7f"));
    assert_false(is_utf8("esc\x1b[0m"));
    assert_false(text_is_utf8("a\0b", 3));
}

static void test_text_utf8_accepts_tab_and_newline(void **state)
{
    (void)state;
    assert_true(is_utf8("one\ttwo\nthree"));
    assert_true(is_utf8("\n"));
    assert_true(is_utf8("\t"));
}

/* ---- text_parse_int ---- */

static void test_text_parse_int_reads_a_whole_number(void **state)
{
    (void)state;
    long long v = 0;
    assert_int_equal(text_parse_int("12", 0, 100, &v), 0);
    assert_int_equal(v, 12);
    assert_int_equal(text_parse_int("-5", -10, 10, &v), 0);
    assert_int_equal(v, -5);
    assert_int_equal(text_parse_int("007", 0, 10, &v), 0);
    assert_int_equal(v, 7);
}

static void test_text_parse_int_bounds_are_inclusive(void **state)
{
    (void)state;
    long long v = 0;
    assert_int_equal(text_parse_int("50", 50, 60000, &v), 0);
    assert_int_equal(v, 50);
    assert_int_equal(text_parse_int("60000", 50, 60000, &v), 0);
    assert_int_equal(v, 60000);
    assert_int_equal(text_parse_int("49", 50, 60000, &v), -1);
    assert_int_equal(text_parse_int("60001", 50, 60000, &v), -1);
    assert_int_equal(text_parse_int("-1", 0, 15, &v), -1);
}

static void test_text_parse_int_full_range(void **state)
{
    (void)state;
    long long v = 0;
    assert_int_equal(text_parse_int("9223372036854775807", LLONG_MIN, LLONG_MAX, &v), 0);
    assert_true(v == LLONG_MAX);
    assert_int_equal(text_parse_int("-9223372036854775808", LLONG_MIN, LLONG_MAX, &v), 0);
    assert_true(v == LLONG_MIN);
}

static void test_text_parse_int_refuses_overflow(void **state)
{
    (void)state;
    long long v = 0;
    assert_int_equal(text_parse_int("9223372036854775808", LLONG_MIN, LLONG_MAX, &v), -1);
    assert_int_equal(text_parse_int("-9223372036854775809", LLONG_MIN, LLONG_MAX, &v), -1);
    assert_int_equal(text_parse_int("99999999999999999999999", LLONG_MIN, LLONG_MAX, &v), -1);
}

static void test_text_parse_int_refuses_junk(void **state)
{
    (void)state;
    static const char *const junk[] = {"12a", "",    "-",   " 1",  "1 ", "+1",  "0x10",
                                       "1.0", "1e3", "--1", "1-2", "a",  "\t1", "1\n"};
    long long v = 0;
    for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
        if (text_parse_int(junk[i], LLONG_MIN, LLONG_MAX, &v) != -1)
            fail_msg("\"%s\" accepted as %lld", junk[i], v);
    }
}

/* ---- text_parse_bool ---- */

static void test_text_parse_bool_accepts_the_four_spellings(void **state)
{
    (void)state;
    static const char *const yes[] = {"1", "true", "yes", "on", "TRUE", "Yes", "ON"};
    static const char *const no[] = {"0", "false", "no", "off", "False", "NO", "Off"};
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        int v = 0;
        assert_int_equal(text_parse_bool(yes[i], &v), 0);
        if (v != 1)
            fail_msg("\"%s\" read as %d", yes[i], v);
    }
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
        int v = 1;
        assert_int_equal(text_parse_bool(no[i], &v), 0);
        if (v != 0)
            fail_msg("\"%s\" read as %d", no[i], v);
    }
}

static void test_text_parse_bool_refuses_others(void **state)
{
    (void)state;
    static const char *const bad[] = {"", "2", "y", "n", "t", "enabled", " true", "true ", "10"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int v = 7;
        if (text_parse_bool(bad[i], &v) != -1)
            fail_msg("\"%s\" accepted", bad[i]);
    }
}

/* ---- text_parse_rfc3339 / text_format_rfc3339 ---- */

static int64_t parse_ok(const char *s)
{
    int64_t t = -12345;
    if (text_parse_rfc3339(s, &t) != 0)
        fail_msg("\"%s\" refused", s);
    return t;
}

static void assert_time_refused(const char *s)
{
    int64_t t = 0;
    if (text_parse_rfc3339(s, &t) != -1)
        fail_msg("\"%s\" accepted as %lld", s, (long long)t);
}

static void test_text_rfc3339_utc(void **state)
{
    (void)state;
    assert_int_equal(parse_ok("2026-11-28T10:00:00Z"), T_2026_11_28_10Z);
    assert_int_equal(parse_ok("1970-01-01T00:00:00Z"), 0);
    assert_int_equal(parse_ok("2026-12-31T23:59:59Z"), 1798761599);
    assert_int_equal(parse_ok("2038-01-19T03:14:08Z"), INT64_C(2147483648));
}

static void test_text_rfc3339_offsets_are_subtracted(void **state)
{
    (void)state;
    assert_int_equal(parse_ok("2026-11-28T17:00:00+07:00"), T_2026_11_28_10Z);
    assert_int_equal(parse_ok("2026-11-28T04:30:00-05:30"), T_2026_11_28_10Z);
    assert_int_equal(parse_ok("2026-11-28T10:00:00+00:00"), T_2026_11_28_10Z);
    assert_int_equal(parse_ok("2026-11-28T10:00:00-00:00"), T_2026_11_28_10Z);
    /* the offset moves the date too */
    assert_int_equal(parse_ok("2026-11-29T03:00:00+17:00"), T_2026_11_28_10Z);
}

static void test_text_rfc3339_fraction_is_dropped(void **state)
{
    (void)state;
    assert_int_equal(parse_ok("2026-11-28T10:00:00.5Z"), T_2026_11_28_10Z);
    assert_int_equal(parse_ok("2026-11-28T10:00:00.999999999Z"), T_2026_11_28_10Z);
    assert_int_equal(parse_ok("2026-11-28T17:00:00.123+07:00"), T_2026_11_28_10Z);
    assert_time_refused("2026-11-28T10:00:00.Z");
}

static void test_text_rfc3339_feb_29_only_in_leap_years(void **state)
{
    (void)state;
    assert_int_equal(parse_ok("2024-02-29T00:00:00Z"), 1709164800);
    assert_int_equal(parse_ok("2000-02-29T00:00:00Z"), 951782400);
    assert_time_refused("2026-02-29T00:00:00Z");
    assert_time_refused("2100-02-29T00:00:00Z");
    assert_time_refused("2024-02-30T00:00:00Z");
}

static void test_text_rfc3339_refuses_out_of_range_fields(void **state)
{
    (void)state;
    assert_time_refused("2026-13-01T00:00:00Z");
    assert_time_refused("2026-00-01T00:00:00Z");
    assert_time_refused("2026-01-00T00:00:00Z");
    assert_time_refused("2026-01-32T00:00:00Z");
    assert_time_refused("2026-04-31T00:00:00Z");
    assert_time_refused("2026-01-01T24:00:00Z");
    assert_time_refused("2026-01-01T00:60:00Z");
    assert_time_refused("2026-01-01T00:00:61Z");
    assert_time_refused("2026-01-01T00:00:00+24:00");
    assert_time_refused("2026-01-01T00:00:00+07:60");
}

static void test_text_rfc3339_refuses_a_missing_zone(void **state)
{
    (void)state;
    assert_time_refused("2026-11-28T10:00:00");
    assert_time_refused("2026-11-28T10:00:00.5");
    assert_time_refused("2026-11-28T10:00:00+07");
    assert_time_refused("2026-11-28T10:00:00+0700");
    assert_time_refused("2026-11-28T10:00:00+");
}

static void test_text_rfc3339_refuses_trailing_junk(void **state)
{
    (void)state;
    assert_time_refused("2026-11-28T10:00:00Zx");
    assert_time_refused("2026-11-28T10:00:00Z ");
    assert_time_refused("2026-11-28T10:00:00+07:00:00");
    assert_time_refused("2026-11-28T10:00:00+07:00Z");
}

static void test_text_rfc3339_refuses_other_shapes(void **state)
{
    (void)state;
    assert_time_refused("");
    assert_time_refused("2026-11-28");
    assert_time_refused("2026-11-28 10:00:00");
    assert_time_refused("2026/11/28T10:00:00Z");
    assert_time_refused("26-11-28T10:00:00Z");
    assert_time_refused("2026-11-28T10:00Z");
    assert_time_refused("2026-1-28T10:00:00Z");
    assert_time_refused(" 2026-11-28T10:00:00Z");
    assert_time_refused("tomorrow at ten o'clock Z");
}

static void test_text_format_rfc3339_writes_utc(void **state)
{
    (void)state;
    char buf[32];
    text_format_rfc3339(T_2026_11_28_10Z, buf, sizeof(buf));
    assert_string_equal(buf, "2026-11-28T10:00:00Z");
    text_format_rfc3339(0, buf, sizeof(buf));
    assert_string_equal(buf, "1970-01-01T00:00:00Z");
    text_format_rfc3339(1709251199, buf, sizeof(buf));
    assert_string_equal(buf, "2024-02-29T23:59:59Z");
}

static void test_text_format_then_parse_round_trips(void **state)
{
    (void)state;
    static const int64_t times[] = {0,          1,          951782400,        1709164800,
                                    1709251199, 1798761599, T_2026_11_28_10Z, 2147483648,
                                    4102444799};
    char buf[32];
    for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
        text_format_rfc3339(times[i], buf, sizeof(buf));
        assert_int_equal(strlen(buf), 20);
        if (parse_ok(buf) != times[i])
            fail_msg("%lld -> %s -> %lld", (long long)times[i], buf, (long long)parse_ok(buf));
    }
}

static void test_text_parse_then_format_normalises_to_utc(void **state)
{
    (void)state;
    char buf[32];
    text_format_rfc3339(parse_ok("2026-12-01T00:00:00+07:00"), buf, sizeof(buf));
    assert_string_equal(buf, "2026-11-30T17:00:00Z");
}

/* ---- config_parse_redis_url ---- */

static struct config_redis redis;

static void redis_ok(const char *url)
{
    const char *why = NULL;
    memset(&redis, 0x55, sizeof(redis));
    if (config_parse_redis_url(url, &redis, &why) != 0)
        fail_msg("%s refused: %s", url, why ? why : "(no reason)");
}

static void redis_refused(const char *url)
{
    const char *why = NULL;
    if (config_parse_redis_url(url, &redis, &why) != -1)
        fail_msg("%s accepted", url);
    assert_non_null(why);
    assert_true(why[0] != '\0');
}

static void test_config_redis_url_tcp_with_db(void **state)
{
    (void)state;
    redis_ok("redis://127.0.0.1:6379/2");
    assert_int_equal(redis.kind, CONFIG_REDIS_TCP);
    assert_string_equal(redis.host, "127.0.0.1");
    assert_int_equal(redis.port, 6379);
    assert_int_equal(redis.db, 2);
    assert_string_equal(redis.username, "");
    assert_string_equal(redis.password, "");
}

static void test_config_redis_url_password_only(void **state)
{
    (void)state;
    redis_ok("redis://:pw@h:1");
    assert_int_equal(redis.kind, CONFIG_REDIS_TCP);
    assert_string_equal(redis.username, "");
    assert_string_equal(redis.password, "pw");
    assert_string_equal(redis.host, "h");
    assert_int_equal(redis.port, 1);
    assert_int_equal(redis.db, 0);
}

static void test_config_redis_url_user_and_password(void **state)
{
    (void)state;
    redis_ok("redis://user:pw@h:1");
    assert_string_equal(redis.username, "user");
    assert_string_equal(redis.password, "pw");
    assert_string_equal(redis.host, "h");
    assert_int_equal(redis.port, 1);
}

static void test_config_redis_url_password_may_hold_at_sign(void **state)
{
    (void)state;
    redis_ok("redis://:p@ss@h:1");
    assert_string_equal(redis.password, "p@ss");
    assert_string_equal(redis.host, "h");
}

static void test_config_redis_url_host_alone_uses_port_6379(void **state)
{
    (void)state;
    redis_ok("redis://h");
    assert_int_equal(redis.kind, CONFIG_REDIS_TCP);
    assert_string_equal(redis.host, "h");
    assert_int_equal(redis.port, 6379);
    assert_int_equal(redis.db, 0);
    redis_ok("redis://cache.internal/3");
    assert_string_equal(redis.host, "cache.internal");
    assert_int_equal(redis.port, 6379);
    assert_int_equal(redis.db, 3);
}

static void test_config_redis_url_ipv6_host(void **state)
{
    (void)state;
    redis_ok("redis://[::1]:6380/1");
    assert_string_equal(redis.host, "::1");
    assert_int_equal(redis.port, 6380);
    assert_int_equal(redis.db, 1);
}

static void test_config_redis_url_unix_socket_with_db(void **state)
{
    (void)state;
    redis_ok("unix:///tmp/r.sock?db=3");
    assert_int_equal(redis.kind, CONFIG_REDIS_UNIX);
    assert_string_equal(redis.path, "/tmp/r.sock");
    assert_int_equal(redis.db, 3);
    redis_ok("unix:///run/redis.sock");
    assert_string_equal(redis.path, "/run/redis.sock");
    assert_int_equal(redis.db, 0);
}

static void test_config_redis_url_refuses_other_schemes(void **state)
{
    (void)state;
    redis_refused("http://x");
    redis_refused("rediss://h:6379");
    redis_refused("h:6379");
    redis_refused("");
    redis_refused("redis://");
}

static void test_config_redis_url_refuses_bad_ports(void **state)
{
    (void)state;
    redis_refused("redis://h:0");
    redis_refused("redis://h:65536");
    redis_refused("redis://h:");
    redis_refused("redis://h:port");
    redis_refused("redis://:6379");
}

static void test_config_redis_url_refuses_db_out_of_range(void **state)
{
    (void)state;
    redis_refused("redis://h:6379/16");
    redis_refused("redis://h:6379/-1");
    redis_refused("redis://h:6379/x");
    redis_refused("unix:///tmp/r.sock?db=16");
    redis_refused("unix:///tmp/r.sock?db=");
    redis_refused("unix:///tmp/r.sock?database=1");
}

static void test_config_redis_url_refuses_a_relative_unix_path(void **state)
{
    (void)state;
    redis_refused("unix://tmp/r.sock");
    redis_refused("unix://");
}

static void test_config_redis_url_refuses_credentials_without_colon(void **state)
{
    (void)state;
    redis_refused("redis://user@h:1");
}

/* CONFIG_HOST_MAX is 255: a longer host must be refused whether or not the
 * URL names a port, and an accepted host must fit r->host with its NUL. */
static void test_config_redis_url_host_longer_than_255_is_refused(void **state)
{
    (void)state;
    char url[400];
    char host[CONFIG_HOST_MAX + 2];
    memset(host, 'h', CONFIG_HOST_MAX + 1);
    host[CONFIG_HOST_MAX + 1] = '\0';

    snprintf(url, sizeof(url), "redis://%s:6379", host);
    redis_refused(url);
    snprintf(url, sizeof(url), "redis://%s", host);
    const char *why = NULL;
    int rc = config_parse_redis_url(url, &redis, &why);
    if (rc == 0 && memchr(redis.host, '\0', sizeof(redis.host)) == NULL)
        fail_msg("a %d-byte host without a port was accepted and r->host holds no NUL: "
                 "it was copied past the end of the field",
                 CONFIG_HOST_MAX + 1);
    assert_int_equal(rc, -1);
}

static void test_config_redis_url_host_of_255_is_accepted(void **state)
{
    (void)state;
    char url[400];
    char host[CONFIG_HOST_MAX + 1];
    memset(host, 'h', CONFIG_HOST_MAX);
    host[CONFIG_HOST_MAX] = '\0';
    snprintf(url, sizeof(url), "redis://%s", host);
    redis_ok(url);
    assert_string_equal(redis.host, host);
    assert_int_equal(redis.port, 6379);
    snprintf(url, sizeof(url), "redis://%s:7000", host);
    redis_ok(url);
    assert_string_equal(redis.host, host);
    assert_int_equal(redis.port, 7000);
}

/* ---- config_parse_listen ---- */

static void test_config_listen_ipv4_host_and_port(void **state)
{
    (void)state;
    char host[CONFIG_HOST_MAX + 1];
    int port = 0;
    assert_int_equal(config_parse_listen("127.0.0.1:8080", host, sizeof(host), &port), 0);
    assert_string_equal(host, "127.0.0.1");
    assert_int_equal(port, 8080);
    assert_int_equal(config_parse_listen("localhost:65535", host, sizeof(host), &port), 0);
    assert_string_equal(host, "localhost");
    assert_int_equal(port, 65535);
}

static void test_config_listen_bracketed_ipv6(void **state)
{
    (void)state;
    char host[CONFIG_HOST_MAX + 1];
    int port = 0;
    assert_int_equal(config_parse_listen("[::1]:80", host, sizeof(host), &port), 0);
    assert_string_equal(host, "::1");
    assert_int_equal(port, 80);
}

static void test_config_listen_refuses_malformed(void **state)
{
    (void)state;
    static const char *const bad[] = {
        ":80",     "host",  "host:", "host:65536", "host:-1",  "host:8a",  "::1:80",
        "[::1]80", "[::1]", "[]:80", "[::1:80",    "host: 80", "host:80 ", ""};
    char host[CONFIG_HOST_MAX + 1];
    int port = 0;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (config_parse_listen(bad[i], host, sizeof(host), &port) != -1)
            fail_msg("\"%s\" accepted as %s port %d", bad[i], host, port);
    }
}

static void test_config_listen_refuses_a_host_too_long_for_the_buffer(void **state)
{
    (void)state;
    char host[8];
    int port = 0;
    assert_int_equal(config_parse_listen("1234567:80", host, sizeof(host), &port), 0);
    assert_string_equal(host, "1234567");
    assert_int_equal(config_parse_listen("12345678:80", host, sizeof(host), &port), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_slug_accepts_lowercase_digits_and_dash),
        cmocka_unit_test(test_text_slug_refuses_other_characters),
        cmocka_unit_test(test_text_slug_length_is_1_to_64),
        cmocka_unit_test(test_text_utf8_accepts_vietnamese),
        cmocka_unit_test(test_text_utf8_accepts_four_byte_sequences),
        cmocka_unit_test(test_text_utf8_refuses_overlongs),
        cmocka_unit_test(test_text_utf8_refuses_surrogates),
        cmocka_unit_test(test_text_utf8_refuses_truncated_sequences),
        cmocka_unit_test(test_text_utf8_refuses_bytes_that_never_start_a_character),
        cmocka_unit_test(test_text_utf8_refuses_control_characters),
        cmocka_unit_test(test_text_utf8_accepts_tab_and_newline),
        cmocka_unit_test(test_text_parse_int_reads_a_whole_number),
        cmocka_unit_test(test_text_parse_int_bounds_are_inclusive),
        cmocka_unit_test(test_text_parse_int_full_range),
        cmocka_unit_test(test_text_parse_int_refuses_overflow),
        cmocka_unit_test(test_text_parse_int_refuses_junk),
        cmocka_unit_test(test_text_parse_bool_accepts_the_four_spellings),
        cmocka_unit_test(test_text_parse_bool_refuses_others),
        cmocka_unit_test(test_text_rfc3339_utc),
        cmocka_unit_test(test_text_rfc3339_offsets_are_subtracted),
        cmocka_unit_test(test_text_rfc3339_fraction_is_dropped),
        cmocka_unit_test(test_text_rfc3339_feb_29_only_in_leap_years),
        cmocka_unit_test(test_text_rfc3339_refuses_out_of_range_fields),
        cmocka_unit_test(test_text_rfc3339_refuses_a_missing_zone),
        cmocka_unit_test(test_text_rfc3339_refuses_trailing_junk),
        cmocka_unit_test(test_text_rfc3339_refuses_other_shapes),
        cmocka_unit_test(test_text_format_rfc3339_writes_utc),
        cmocka_unit_test(test_text_format_then_parse_round_trips),
        cmocka_unit_test(test_text_parse_then_format_normalises_to_utc),
        cmocka_unit_test(test_config_redis_url_tcp_with_db),
        cmocka_unit_test(test_config_redis_url_password_only),
        cmocka_unit_test(test_config_redis_url_user_and_password),
        cmocka_unit_test(test_config_redis_url_password_may_hold_at_sign),
        cmocka_unit_test(test_config_redis_url_host_alone_uses_port_6379),
        cmocka_unit_test(test_config_redis_url_ipv6_host),
        cmocka_unit_test(test_config_redis_url_unix_socket_with_db),
        cmocka_unit_test(test_config_redis_url_refuses_other_schemes),
        cmocka_unit_test(test_config_redis_url_refuses_bad_ports),
        cmocka_unit_test(test_config_redis_url_refuses_db_out_of_range),
        cmocka_unit_test(test_config_redis_url_refuses_a_relative_unix_path),
        cmocka_unit_test(test_config_redis_url_refuses_credentials_without_colon),
        cmocka_unit_test(test_config_redis_url_host_longer_than_255_is_refused),
        cmocka_unit_test(test_config_redis_url_host_of_255_is_accepted),
        cmocka_unit_test(test_config_listen_ipv4_host_and_port),
        cmocka_unit_test(test_config_listen_bracketed_ipv6),
        cmocka_unit_test(test_config_listen_refuses_malformed),
        cmocka_unit_test(test_config_listen_refuses_a_host_too_long_for_the_buffer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
