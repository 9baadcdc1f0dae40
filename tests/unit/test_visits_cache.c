/* test_visits_cache.c - the counter's figures in a worker's memory
 * (visits_cache.h): counts plus bases stopping at LLONG_MAX, "online" at
 * least 1 for the reader on the page, and the calendar labels of a minute in
 * Asia/Ho_Chi_Minh (+07:00), recomputed when the minute changes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <string.h>

#include "clock.h"
#include "config.h"
#include "visits_cache.h"

static void test_visits_cache_sum_adds_bases_and_stops_at_llong_max(void **state)
{
    (void)state;
    struct store_visit_stored s = {.count = {2, 3, 4, 5, 6, 0}, .base = {10, 0, LLONG_MAX, 1, 0}};
    struct store_visit_counts c;
    visits_cache_sum(&s, 0, &c);
    assert_int_equal(c.v[STORE_VISIT_TODAY], 12);
    assert_int_equal(c.v[STORE_VISIT_YESTERDAY], 3);
    assert_true(c.v[STORE_VISIT_WEEK] == LLONG_MAX);
    assert_int_equal(c.v[STORE_VISIT_MONTH], 6);
    assert_int_equal(c.v[STORE_VISIT_TOTAL], 6);
    assert_int_equal(c.v[STORE_VISIT_ONLINE], 0);
    visits_cache_sum(&s, 1, &c);
    assert_int_equal(c.v[STORE_VISIT_ONLINE], 1); /* the reader on the page */
    s.count[STORE_VISIT_ONLINE] = 7;
    visits_cache_sum(&s, 1, &c);
    assert_int_equal(c.v[STORE_VISIT_ONLINE], 7);
}

static void test_visits_cache_period_once_a_minute(void **state)
{
    (void)state;
    static struct config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.n_sites = 1;
    cfg.online_minutes = 5;
    struct visits_cache *vc = visits_cache_new(&cfg);
    /* 2026-03-10T16:59:59Z = 23:59:59 local on March 10 (a Tuesday). */
    const struct store_visit_period *p = visits_cache_period(vc, 1773161999);
    assert_string_equal(p->day, "2026-03-10");
    assert_string_equal(p->yesterday, "2026-03-09");
    assert_string_equal(p->week, "2026-W11");
    assert_string_equal(p->month, "2026-03");
    assert_int_equal(p->minute, 1773161999 / 60);
    assert_int_equal(p->online_minutes, 5);
    p = visits_cache_period(vc, 1773162000); /* 00:00:00 local, March 11 */
    assert_string_equal(p->day, "2026-03-11");
    assert_string_equal(p->yesterday, "2026-03-10");
    visits_cache_free(vc);
}

int main(void)
{
    clock_set_zone("Asia/Ho_Chi_Minh");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_visits_cache_sum_adds_bases_and_stops_at_llong_max),
        cmocka_unit_test(test_visits_cache_period_once_a_minute),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
