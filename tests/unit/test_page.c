/* test_page.c - the Content-Security-Policy of framed pages
 * (page_frame_csp in page.h): the policy, frame-ancestors 'self' and every
 * allowed origin; with a buffer too small, whole origins are left out, never
 * half of one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "page.h"

static void test_csp_lists_every_allowed_origin(void **state)
{
    (void)state;
    static struct config cfg;
    char csp[PAGE_CSP_MAX];
    snprintf(cfg.allowed_origins[0], CONFIG_ORIGIN_LEN, "https://portal.example.vn");
    snprintf(cfg.allowed_origins[1], CONFIG_ORIGIN_LEN, "http://127.0.0.1:8081");
    cfg.n_origins = 2;
    page_frame_csp(&cfg, "default-src 'none'", csp, sizeof(csp));
    assert_string_equal(csp, "default-src 'none'; frame-ancestors 'self' https://portal.example.vn "
                             "http://127.0.0.1:8081");
    cfg.n_origins = 0;
    page_frame_csp(&cfg, "default-src 'none'", csp, sizeof(csp));
    assert_string_equal(csp, "default-src 'none'; frame-ancestors 'self'");
}

static void test_csp_has_room_for_the_most_and_longest_origins(void **state)
{
    (void)state;
    struct config *cfg = calloc(1, sizeof(*cfg));
    char *csp = malloc(PAGE_CSP_MAX);
    assert_non_null(cfg);
    assert_non_null(csp);
    for (size_t i = 0; i < CONFIG_ORIGINS_MAX; i++) {
        int n = snprintf(cfg->allowed_origins[i], CONFIG_ORIGIN_LEN, "https://%zu.", i);
        memset(cfg->allowed_origins[i] + n, 'a', CONFIG_ORIGIN_LEN - 1 - (size_t)n);
        cfg->allowed_origins[i][CONFIG_ORIGIN_LEN - 1] = '\0';
    }
    cfg->n_origins = CONFIG_ORIGINS_MAX;
    page_frame_csp(cfg, PAGE_POLICY, csp, PAGE_CSP_MAX);
    assert_non_null(strstr(csp, cfg->allowed_origins[CONFIG_ORIGINS_MAX - 1]));
    free(csp);
    free(cfg);
}

static void test_csp_in_a_small_buffer_leaves_out_whole_origins(void **state)
{
    (void)state;
    static struct config cfg;
    char csp[64];
    snprintf(cfg.allowed_origins[0], CONFIG_ORIGIN_LEN, "https://a.vn");
    snprintf(cfg.allowed_origins[1], CONFIG_ORIGIN_LEN, "https://a-much-longer-origin.vn");
    cfg.n_origins = 2;
    page_frame_csp(&cfg, "default-src 'none'", csp, sizeof(csp));
    assert_string_equal(csp, "default-src 'none'; frame-ancestors 'self' https://a.vn");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csp_lists_every_allowed_origin),
        cmocka_unit_test(test_csp_has_room_for_the_most_and_longest_origins),
        cmocka_unit_test(test_csp_in_a_small_buffer_leaves_out_whole_origins),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
