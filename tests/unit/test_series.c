/* test_series.c - the time series arithmetic (series.h): hourly tallies placed
 * in their bucket by the hour's start, buckets of unequal length (local days
 * of 23 and 25 hours), tallies outside the range, of unknown options or not
 * positive left out, sums that stop at LLONG_MAX, boundaries that must rise. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>

#include "series.h"

#define H 3600

static void test_series_hours_land_in_their_bucket(void **state)
{
    (void)state;
    const int64_t bounds[] = {10 * H, 11 * H, 12 * H, 13 * H};
    struct series s;
    assert_int_equal(series_init(&s, bounds, 3, 2), 0);
    series_add(&s, 10, 0, 2);
    series_add(&s, 11, 1, 3);
    series_add(&s, 12, 0, 4);
    series_add(&s, 12, 0, 1); /* added, in any order */
    series_add(&s, 10, 1, 5);
    assert_int_equal(series_votes(&s, 0, 0), 2);
    assert_int_equal(series_votes(&s, 0, 1), 5);
    assert_int_equal(series_votes(&s, 1, 1), 3);
    assert_int_equal(series_votes(&s, 1, 0), 0);
    assert_int_equal(series_votes(&s, 2, 0), 5);
    series_free(&s);
}

static void test_series_unequal_buckets(void **state)
{
    (void)state;
    /* Two local days: one of 23 hours (clocks forward), one of 25. */
    const int64_t bounds[] = {100 * H, 123 * H, 148 * H};
    struct series s;
    assert_int_equal(series_init(&s, bounds, 2, 1), 0);
    for (int64_t h = 100; h < 148; h++)
        series_add(&s, h, 0, 1);
    assert_int_equal(series_votes(&s, 0, 0), 23);
    assert_int_equal(series_votes(&s, 1, 0), 25);
    series_free(&s);
}

static void test_series_leaves_out_what_is_not_in_it(void **state)
{
    (void)state;
    const int64_t bounds[] = {10 * H, 12 * H};
    struct series s;
    assert_int_equal(series_init(&s, bounds, 1, 2), 0);
    series_add(&s, 9, 0, 7);   /* before */
    series_add(&s, 12, 0, 7);  /* the end is not in it */
    series_add(&s, 10, 2, 7);  /* no such option */
    series_add(&s, 10, 0, -3); /* not positive */
    series_add(&s, 10, 0, 0);
    series_add(&s, INT64_MAX, 0, 7); /* an hour beyond any time */
    series_add(&s, INT64_MIN, 1, 7);
    series_add(&s, 11, 1, 1);
    assert_int_equal(series_votes(&s, 0, 0), 0);
    assert_int_equal(series_votes(&s, 0, 1), 1);
    assert_int_equal(series_votes(&s, 1, 0), 0); /* no such bucket */
    series_free(&s);
}

static void test_series_sums_stop_at_the_maximum(void **state)
{
    (void)state;
    const int64_t bounds[] = {0, H};
    struct series s;
    assert_int_equal(series_init(&s, bounds, 1, 1), 0);
    series_add(&s, 0, 0, LLONG_MAX - 1);
    series_add(&s, 0, 0, 5);
    assert_true(series_votes(&s, 0, 0) == LLONG_MAX);
    series_free(&s);
}

static void test_series_refuses_bounds_that_do_not_rise(void **state)
{
    (void)state;
    const int64_t flat[] = {H, H};
    const int64_t down[] = {2 * H, 3 * H, H};
    struct series s;
    assert_int_equal(series_init(&s, flat, 1, 1), -1);
    assert_int_equal(series_init(&s, down, 2, 1), -1);
    const int64_t none[] = {H};
    assert_int_equal(series_init(&s, none, 0, 3), 0); /* an empty series is a series */
    series_add(&s, 1, 0, 1);
    assert_int_equal(series_votes(&s, 0, 0), 0);
    series_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_series_hours_land_in_their_bucket),
        cmocka_unit_test(test_series_unequal_buckets),
        cmocka_unit_test(test_series_leaves_out_what_is_not_in_it),
        cmocka_unit_test(test_series_sums_stop_at_the_maximum),
        cmocka_unit_test(test_series_refuses_bounds_that_do_not_rise),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
