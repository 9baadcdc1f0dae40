/* test_router.c - matching a method and a path to a handler (router.h).
 *
 * Covers, on a route table like the service's: literal and ":param" matches,
 * paths that must not match (trailing slash, empty or over-long segment,
 * unknown), BAD_METHOD with the allowed set (GET implies HEAD, OPTIONS always
 * added), HEAD served by a GET route, and the Allow header text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "router.h"

enum { H_LIST = 1, H_POLL, H_VOTE, H_HEALTH, H_RESULTS };

static const struct route routes[] = {
    {"/api/v1/polls", ROUTER_GET, H_LIST, 0, NULL},
    {"/api/v1/polls/:id", ROUTER_GET, H_POLL, 0, NULL},
    {"/api/v1/polls/:id/votes", ROUTER_POST, H_VOTE, 0, NULL},
    {"/api/v1/polls/:id/results", ROUTER_GET, H_RESULTS, 0, NULL},
    {"/healthz", ROUTER_GET, H_HEALTH, 0, NULL},
};
#define NROUTES (sizeof(routes) / sizeof(routes[0]))

static enum router_result match(unsigned method, const char *path, struct route_match *m)
{
    memset(m, 0, sizeof(*m));
    m->handler = -1;
    return router_match(routes, NROUTES, method, path, m);
}

static void assert_not_found(unsigned method, const char *path)
{
    struct route_match m;
    enum router_result r = match(method, path, &m);
    if (r != ROUTER_NOT_FOUND)
        fail_msg("%s gave %d, want NOT_FOUND", path, (int)r);
}

static void test_router_literal_path_matches(void **state)
{
    (void)state;
    struct route_match m;
    assert_int_equal(match(ROUTER_GET, "/api/v1/polls", &m), ROUTER_FOUND);
    assert_int_equal(m.handler, H_LIST);
    assert_ptr_equal(m.route, &routes[0]);
    assert_int_equal(m.nparams, 0);
    assert_int_equal(match(ROUTER_GET, "/healthz", &m), ROUTER_FOUND);
    assert_int_equal(m.handler, H_HEALTH);
}

static void test_router_param_is_captured(void **state)
{
    (void)state;
    struct route_match m;
    assert_int_equal(match(ROUTER_GET, "/api/v1/polls/chuyen-muc", &m), ROUTER_FOUND);
    assert_int_equal(m.handler, H_POLL);
    assert_int_equal(m.nparams, 1);
    assert_string_equal(m.params[0], "chuyen-muc");
}

static void test_router_param_before_a_literal_is_captured(void **state)
{
    (void)state;
    struct route_match m;
    assert_int_equal(match(ROUTER_POST, "/api/v1/polls/abc/votes", &m), ROUTER_FOUND);
    assert_int_equal(m.handler, H_VOTE);
    assert_int_equal(m.nparams, 1);
    assert_string_equal(m.params[0], "abc");
    assert_int_equal(match(ROUTER_GET, "/api/v1/polls/abc/results", &m), ROUTER_FOUND);
    assert_int_equal(m.handler, H_RESULTS);
    assert_string_equal(m.params[0], "abc");
}

static void test_router_captures_the_segment_verbatim(void **state)
{
    (void)state;
    struct route_match m;
    /* decoding and checking the id is the handler's job */
    assert_int_equal(match(ROUTER_GET, "/api/v1/polls/A%20b.c", &m), ROUTER_FOUND);
    assert_string_equal(m.params[0], "A%20b.c");
}

static void test_router_several_params_are_captured_in_order(void **state)
{
    (void)state;
    static const struct route two[] = {{"/a/:x/b/:y", ROUTER_GET, 7, 0, NULL}};
    struct route_match m;
    assert_int_equal(router_match(two, 1, ROUTER_GET, "/a/one/b/two", &m), ROUTER_FOUND);
    assert_int_equal(m.handler, 7);
    assert_int_equal(m.nparams, 2);
    assert_string_equal(m.params[0], "one");
    assert_string_equal(m.params[1], "two");
}

static void test_router_trailing_slash_does_not_match(void **state)
{
    (void)state;
    assert_not_found(ROUTER_GET, "/api/v1/polls/");
    assert_not_found(ROUTER_GET, "/healthz/");
    assert_not_found(ROUTER_GET, "/api/v1/polls/abc/");
    assert_not_found(ROUTER_POST, "/api/v1/polls/abc/votes/");
}

static void test_router_unknown_path_is_not_found(void **state)
{
    (void)state;
    assert_not_found(ROUTER_GET, "/");
    assert_not_found(ROUTER_GET, "");
    assert_not_found(ROUTER_GET, "/nope");
    assert_not_found(ROUTER_GET, "/api/v1");
    assert_not_found(ROUTER_GET, "/api/v1/pollsx");
    assert_not_found(ROUTER_GET, "/API/v1/polls");
    assert_not_found(ROUTER_GET, "/api/v1/polls/abc/other");
    assert_not_found(ROUTER_GET, "/api/v1/polls/abc/votes/extra");
    assert_not_found(ROUTER_GET, "/healthzz");
    assert_not_found(ROUTER_GET, "healthz");
}

static void test_router_empty_segment_does_not_match(void **state)
{
    (void)state;
    assert_not_found(ROUTER_POST, "/api/v1/polls//votes");
    assert_not_found(ROUTER_GET, "//healthz");
    assert_not_found(ROUTER_GET, "/api//v1/polls");
}

static void test_router_param_of_64_bytes_matches(void **state)
{
    (void)state;
    char path[128];
    struct route_match m;
    strcpy(path, "/api/v1/polls/");
    size_t off = strlen(path);
    memset(path + off, 'p', ROUTER_PARAM_MAX);
    path[off + ROUTER_PARAM_MAX] = '\0';
    assert_int_equal(match(ROUTER_GET, path, &m), ROUTER_FOUND);
    assert_int_equal(strlen(m.params[0]), ROUTER_PARAM_MAX);
}

static void test_router_param_longer_than_64_does_not_match(void **state)
{
    (void)state;
    char path[256];
    strcpy(path, "/api/v1/polls/");
    size_t off = strlen(path);
    memset(path + off, 'p', ROUTER_PARAM_MAX + 1);
    path[off + ROUTER_PARAM_MAX + 1] = '\0';
    assert_not_found(ROUTER_GET, path);
    strcat(path, "/votes");
    assert_not_found(ROUTER_POST, path);
}

static void test_router_wrong_method_is_bad_method_with_allow(void **state)
{
    (void)state;
    struct route_match m;
    assert_int_equal(match(ROUTER_POST, "/api/v1/polls/abc", &m), ROUTER_BAD_METHOD);
    assert_int_equal(m.allow, ROUTER_GET | ROUTER_HEAD | ROUTER_OPTIONS);
    assert_int_equal(match(ROUTER_GET, "/api/v1/polls/abc/votes", &m), ROUTER_BAD_METHOD);
    assert_int_equal(m.allow, ROUTER_POST | ROUTER_OPTIONS);
    assert_int_equal(match(ROUTER_DELETE, "/healthz", &m), ROUTER_BAD_METHOD);
    assert_int_equal(m.allow, ROUTER_GET | ROUTER_HEAD | ROUTER_OPTIONS);
}

static void test_router_head_does_not_imply_post(void **state)
{
    (void)state;
    struct route_match m;
    assert_int_equal(match(ROUTER_HEAD, "/api/v1/polls/abc/votes", &m), ROUTER_BAD_METHOD);
    assert_int_equal(m.allow & ROUTER_HEAD, 0);
}

static void test_router_options_is_bad_method_listing_the_allowed_set(void **state)
{
    (void)state;
    struct route_match m;
    assert_int_equal(match(ROUTER_OPTIONS, "/api/v1/polls", &m), ROUTER_BAD_METHOD);
    assert_int_equal(m.allow, ROUTER_GET | ROUTER_HEAD | ROUTER_OPTIONS);
}

static void test_router_allow_is_the_union_of_routes_on_the_path(void **state)
{
    (void)state;
    static const struct route both[] = {
        {"/things/:id", ROUTER_GET, 1, 0, NULL},
        {"/things/:id", ROUTER_PUT | ROUTER_DELETE, 2, 0, NULL},
    };
    struct route_match m;
    assert_int_equal(router_match(both, 2, ROUTER_PATCH, "/things/x", &m), ROUTER_BAD_METHOD);
    assert_int_equal(m.allow,
                     ROUTER_GET | ROUTER_HEAD | ROUTER_PUT | ROUTER_DELETE | ROUTER_OPTIONS);
    assert_int_equal(router_match(both, 2, ROUTER_DELETE, "/things/x", &m), ROUTER_FOUND);
    assert_int_equal(m.handler, 2);
    assert_string_equal(m.params[0], "x");
}

static void test_router_head_matches_a_get_route(void **state)
{
    (void)state;
    struct route_match m;
    assert_int_equal(match(ROUTER_HEAD, "/api/v1/polls/abc", &m), ROUTER_FOUND);
    assert_int_equal(m.handler, H_POLL);
    assert_string_equal(m.params[0], "abc");
    assert_int_equal(match(ROUTER_HEAD, "/healthz", &m), ROUTER_FOUND);
    assert_int_equal(m.handler, H_HEALTH);
}

static void test_router_found_reports_the_allowed_set(void **state)
{
    (void)state;
    struct route_match m;
    assert_int_equal(match(ROUTER_GET, "/api/v1/polls", &m), ROUTER_FOUND);
    assert_int_equal(m.allow, ROUTER_GET | ROUTER_HEAD | ROUTER_OPTIONS);
}

static void test_router_allow_header_text(void **state)
{
    (void)state;
    char buf[128];
    router_allow_header(ROUTER_GET | ROUTER_HEAD | ROUTER_OPTIONS, buf, sizeof(buf));
    assert_string_equal(buf, "GET, HEAD, OPTIONS");
    router_allow_header(ROUTER_POST | ROUTER_OPTIONS, buf, sizeof(buf));
    assert_string_equal(buf, "POST, OPTIONS");
    router_allow_header(ROUTER_OPTIONS | ROUTER_GET, buf, sizeof(buf));
    assert_string_equal(buf, "GET, OPTIONS");
    router_allow_header(0, buf, sizeof(buf));
    assert_string_equal(buf, "");
}

static void test_router_allow_header_from_a_bad_method_match(void **state)
{
    (void)state;
    struct route_match m;
    char buf[128];
    assert_int_equal(match(ROUTER_PUT, "/healthz", &m), ROUTER_BAD_METHOD);
    router_allow_header(m.allow, buf, sizeof(buf));
    assert_string_equal(buf, "GET, HEAD, OPTIONS");
}

static void test_router_allow_header_never_overflows(void **state)
{
    (void)state;
    char buf[12];
    memset(buf, 'x', sizeof(buf));
    router_allow_header(ROUTER_GET | ROUTER_HEAD | ROUTER_OPTIONS, buf, sizeof(buf));
    assert_true(memchr(buf, '\0', sizeof(buf)) != NULL);
    assert_memory_equal(buf, "GET, HEAD", 9);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_router_literal_path_matches),
        cmocka_unit_test(test_router_param_is_captured),
        cmocka_unit_test(test_router_param_before_a_literal_is_captured),
        cmocka_unit_test(test_router_captures_the_segment_verbatim),
        cmocka_unit_test(test_router_several_params_are_captured_in_order),
        cmocka_unit_test(test_router_trailing_slash_does_not_match),
        cmocka_unit_test(test_router_unknown_path_is_not_found),
        cmocka_unit_test(test_router_empty_segment_does_not_match),
        cmocka_unit_test(test_router_param_of_64_bytes_matches),
        cmocka_unit_test(test_router_param_longer_than_64_does_not_match),
        cmocka_unit_test(test_router_wrong_method_is_bad_method_with_allow),
        cmocka_unit_test(test_router_head_does_not_imply_post),
        cmocka_unit_test(test_router_options_is_bad_method_listing_the_allowed_set),
        cmocka_unit_test(test_router_allow_is_the_union_of_routes_on_the_path),
        cmocka_unit_test(test_router_head_matches_a_get_route),
        cmocka_unit_test(test_router_found_reports_the_allowed_set),
        cmocka_unit_test(test_router_allow_header_text),
        cmocka_unit_test(test_router_allow_header_from_a_bad_method_match),
        cmocka_unit_test(test_router_allow_header_never_overflows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
