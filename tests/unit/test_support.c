/* test_support.c - the small helper modules: robots by User-Agent (bots.h),
 * CSV fields, their formula guard and decimals (csv.h), HTML escaping, number
 * and percent formatting (html.h), the admin token check (auth.h), and the
 * local calendar of clock.h in Asia/Ho_Chi_Minh and in a zone with daylight
 * saving time (Europe/Berlin). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <event2/buffer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "bots.h"
#include "clock.h"
#include "config.h"
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

static void test_bots_known_crawlers_and_tools_are_robots(void **state)
{
    (void)state;
    assert_true(
        bots_is_robot("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"));
    assert_true(bots_is_robot("Mozilla/5.0 (compatible; bingbot/2.0)"));
    assert_true(bots_is_robot("coccocbot-web/1.0"));
    assert_true(bots_is_robot("UptimeRobot/2.0"));
    assert_true(bots_is_robot("curl/7.88.1"));
    assert_true(bots_is_robot("python-requests/2.31"));
    assert_true(bots_is_robot(""));
    assert_true(bots_is_robot(NULL));
}

static void test_bots_browsers_are_readers(void **state)
{
    (void)state;
    assert_false(
        bots_is_robot("Mozilla/5.0 (Linux; Android 14; SM-A546E) AppleWebKit/537.36 (KHTML, "
                      "like Gecko) Chrome/126.0 Mobile Safari/537.36"));
    assert_false(
        bots_is_robot("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
                      "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"));
    assert_false(bots_is_robot("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:130.0) Gecko/20100101 "
                               "Firefox/130.0"));
    assert_false(
        bots_is_robot("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
                      "coc_coc_browser/120.0 Chrome/120.0 Safari/537.36"));
}

static void test_csv_plain_fields_and_line_end(void **state)
{
    (void)state;
    struct evbuffer *b = evbuffer_new();
    csv_field(b, "Tin tức - Sự kiện", 0);
    csv_number(b, 42, 1);
    char *s = drain(b);
    assert_string_equal(s, "Tin tức - Sự kiện,42\r\n");
    free(s);
}

static void test_csv_quotes_commas_quotes_and_newlines(void **state)
{
    (void)state;
    struct evbuffer *b = evbuffer_new();
    csv_field(b, "a,b", 0);
    csv_field(b, "say \"hi\"", 0);
    csv_field(b, "two\nlines", 1);
    char *s = drain(b);
    assert_string_equal(s, "\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\"\r\n");
    free(s);
}

static void test_csv_formula_is_neutralised(void **state)
{
    (void)state;
    struct evbuffer *b = evbuffer_new();
    csv_field(b, "=HYPERLINK(\"x\")", 0);
    csv_field(b, "+1", 0);
    csv_field(b, "@SUM(A1)", 1);
    char *s = drain(b);
    assert_string_equal(s, "\"'=HYPERLINK(\"\"x\"\")\",\"'+1\",\"'@SUM(A1)\"\r\n");
    free(s);
}

static void test_csv_bom_is_utf8(void **state)
{
    (void)state;
    struct evbuffer *b = evbuffer_new();
    csv_bom(b);
    char *s = drain(b);
    assert_memory_equal(s, "\xEF\xBB\xBF", 3);
    assert_int_equal(strlen(s), 3);
    free(s);
}

static void test_html_escape_every_special_character(void **state)
{
    (void)state;
    struct evbuffer *b = evbuffer_new();
    html_escape(b, "<b>\"Q\" & 'A'</b> Bạn");
    char *s = drain(b);
    assert_string_equal(s, "&lt;b&gt;&quot;Q&quot; &amp; &#39;A&#39;&lt;/b&gt; Bạn");
    free(s);
}

static void test_html_numbers_by_language(void **state)
{
    (void)state;
    char buf[32];
    html_format_number(1777782, 0, buf, sizeof(buf));
    assert_string_equal(buf, "1.777.782");
    html_format_number(1777782, 1, buf, sizeof(buf));
    assert_string_equal(buf, "1,777,782");
    html_format_number(923, 0, buf, sizeof(buf));
    assert_string_equal(buf, "923");
    html_format_number(0, 0, buf, sizeof(buf));
    assert_string_equal(buf, "0");
    html_format_number(1000, 0, buf, sizeof(buf));
    assert_string_equal(buf, "1.000");
}

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

static void test_auth_accepts_each_configured_token_only(void **state)
{
    (void)state;
    static struct config cfg;
    memset(&cfg, 0, sizeof(cfg));
    snprintf(cfg.admin_tokens[0], sizeof(cfg.admin_tokens[0]), "first-token-0123456789");
    snprintf(cfg.admin_tokens[1], sizeof(cfg.admin_tokens[1]), "second-token-0123456789");
    cfg.n_tokens = 2;
    assert_int_equal(auth_prepare(&cfg), 0);
    assert_int_equal(auth_bearer_ok(&cfg, "Bearer first-token-0123456789"), 1);
    assert_int_equal(auth_bearer_ok(&cfg, "bearer second-token-0123456789"), 2);
    assert_false(auth_bearer_ok(&cfg, "Bearer first-token-012345678"));
    assert_false(auth_bearer_ok(&cfg, "Bearer first-token-0123456789x"));
    assert_false(auth_bearer_ok(&cfg, "Basic first-token-0123456789"));
    assert_false(auth_bearer_ok(&cfg, "Bearer "));
    assert_false(auth_bearer_ok(&cfg, "first-token-0123456789"));
    assert_false(auth_bearer_ok(&cfg, NULL));
    cfg.n_tokens = 0;
    assert_false(auth_bearer_ok(&cfg, "Bearer first-token-0123456789"));
}

static void test_auth_actor_is_the_name_or_the_position_never_the_token(void **state)
{
    (void)state;
    static struct config cfg;
    char actor[AUTH_ACTOR_MAX + 1];
    memset(&cfg, 0, sizeof(cfg));
    snprintf(cfg.admin_tokens[0], sizeof(cfg.admin_tokens[0]), "first-token-0123456789");
    snprintf(cfg.admin_token_names[1], sizeof(cfg.admin_token_names[1]), "toa-soan.1");
    snprintf(cfg.admin_tokens[1], sizeof(cfg.admin_tokens[1]), "second-token-0123456789");
    cfg.n_tokens = 2;
    auth_actor(&cfg, 1, actor);
    assert_string_equal(actor, "token-1");
    auth_actor(&cfg, 2, actor);
    assert_string_equal(actor, "toa-soan.1");
}

static int64_t at(const char *rfc3339)
{
    int64_t t;
    assert_int_equal(text_parse_rfc3339(rfc3339, &t), 0);
    return t;
}

static void test_clock_days_weeks_months_in_ho_chi_minh(void **state)
{
    (void)state;
    char buf[40];
    clock_set_zone("Asia/Ho_Chi_Minh");
    /* 2026-11-30 17:30Z is already Tuesday 1 December 00:30 in Viet Nam. */
    int64_t t = at("2026-11-30T17:30:00Z");
    clock_format_date(t, buf, sizeof(buf));
    assert_string_equal(buf, "2026-12-01");
    clock_format_month(t, buf, sizeof(buf));
    assert_string_equal(buf, "2026-12");
    clock_format_week(t, buf, sizeof(buf));
    assert_string_equal(buf, "2026-W49");
    assert_int_equal(clock_day_start(t), at("2026-12-01T00:00:00+07:00"));
    assert_int_equal(clock_week_start(t), at("2026-11-30T00:00:00+07:00"));
    assert_int_equal(clock_month_start(t), at("2026-12-01T00:00:00+07:00"));
    assert_int_equal(clock_next_day(t), at("2026-12-02T00:00:00+07:00"));
    clock_format_local(t, buf, sizeof(buf));
    assert_string_equal(buf, "2026-12-01T00:30:00+07:00");
}

static void test_clock_iso_week_across_the_year_end(void **state)
{
    (void)state;
    char buf[16];
    clock_set_zone("Asia/Ho_Chi_Minh");
    /* 1 January 2027 is a Friday: it belongs to week 53 of 2026. */
    clock_format_week(at("2027-01-01T08:00:00+07:00"), buf, sizeof(buf));
    assert_string_equal(buf, "2026-W53");
    clock_format_week(at("2027-01-04T00:00:00+07:00"), buf, sizeof(buf));
    assert_string_equal(buf, "2027-W01");
}

static void test_clock_day_of_23_hours_with_daylight_saving(void **state)
{
    (void)state;
    char buf[40];
    clock_set_zone("Europe/Berlin");
    /* 29 March 2026: clocks go from 02:00 to 03:00, the day lasts 23 hours. */
    int64_t noon = at("2026-03-29T12:00:00+02:00");
    assert_int_equal(clock_next_day(noon) - clock_day_start(noon), 23 * 3600);
    clock_format_local(noon, buf, sizeof(buf));
    assert_string_equal(buf, "2026-03-29T12:00:00+02:00");
    clock_set_zone("Asia/Ho_Chi_Minh");
}

static void test_clock_parses_a_day_as_local_midnight(void **state)
{
    (void)state;
    int64_t t;
    clock_set_zone("Asia/Ho_Chi_Minh");
    assert_int_equal(clock_parse_day_or_time("2026-03-02", &t), 0);
    assert_int_equal(t, at("2026-03-02T00:00:00+07:00"));
    assert_int_equal(clock_parse_day_or_time("2026-03-02T10:00:00Z", &t), 0);
    assert_int_equal(t, at("2026-03-02T17:00:00+07:00"));
    assert_int_equal(clock_parse_day_or_time("2026-02-30", &t), -1);
    assert_int_equal(clock_parse_day_or_time("yesterday", &t), -1);
}

static void test_form_params_reads_the_named_fields_once(void **state)
{
    (void)state;
    struct form_param p[] = {{.name = "site"}, {.name = "lang"}, {.name = "to"}};
    assert_int_equal(form_params("site=a%20b&lang=en&site=second&other=1", p, 3), 0);
    assert_true(p[0].present);
    assert_string_equal(p[0].value, "a b"); /* the first occurrence, decoded */
    assert_string_equal(p[1].value, "en");
    assert_false(p[2].present);
    assert_int_equal(form_params("lang=x%00y", p, 3), 0);
    assert_true(p[1].bad); /* a NUL byte is not "x" */
    char long_query[300] = "site=";
    memset(long_query + 5, 'z', 200);
    long_query[205] = '\0';
    assert_int_equal(form_params(long_query, p, 3), 0);
    assert_true(p[0].truncated);
    assert_int_equal(strlen(p[0].value), FORM_VALUE_MAX - 1);
    assert_int_equal(form_params("foo", p, 3), -1);
    assert_int_equal(form_params("=1&lang=en", p, 3), -1);
    assert_int_equal(form_params(NULL, p, 3), 0);
    assert_false(p[0].present);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_form_params_reads_the_named_fields_once),
        cmocka_unit_test(test_bots_known_crawlers_and_tools_are_robots),
        cmocka_unit_test(test_bots_browsers_are_readers),
        cmocka_unit_test(test_csv_plain_fields_and_line_end),
        cmocka_unit_test(test_csv_quotes_commas_quotes_and_newlines),
        cmocka_unit_test(test_csv_formula_is_neutralised),
        cmocka_unit_test(test_csv_tab_or_cr_in_front_is_a_formula_too),
        cmocka_unit_test(test_csv_tenths_have_one_decimal),
        cmocka_unit_test(test_html_percent_by_language),
        cmocka_unit_test(test_html_escape_of_null_writes_nothing),
        cmocka_unit_test(test_csv_bom_is_utf8),
        cmocka_unit_test(test_html_escape_every_special_character),
        cmocka_unit_test(test_html_numbers_by_language),
        cmocka_unit_test(test_auth_accepts_each_configured_token_only),
        cmocka_unit_test(test_auth_actor_is_the_name_or_the_position_never_the_token),
        cmocka_unit_test(test_clock_days_weeks_months_in_ho_chi_minh),
        cmocka_unit_test(test_clock_iso_week_across_the_year_end),
        cmocka_unit_test(test_clock_day_of_23_hours_with_daylight_saving),
        cmocka_unit_test(test_clock_parses_a_day_as_local_midnight),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
