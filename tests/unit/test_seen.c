/* test_seen.c - the "voted polls" cookie (seen.h) and the published changes
 * (store_event_parse): a new reader has voted nowhere; a mark sets one bit and
 * asks for the cookie once; an unreadable, missing or foreign cookie means
 * "may have voted anywhere"; messages not in the published form are refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "seen.h"
#include "store.h"

static struct cookie_conf seen_conf(void)
{
    struct cookie_conf c;
    memset(&c, 0, sizeof(c));
    strcpy(c.name, "thamdo_vid");
    c.max_age = 100;
    return c;
}

static void test_seen_new_reader_then_mark(void **state)
{
    (void)state;
    struct cookie_conf conf = seen_conf();
    struct seen s;
    seen_start(&s);
    assert_int_equal(seen_may_have_voted(&s, "chuyen-muc"), 0);
    s.dirty = 0;
    seen_mark(&s, "chuyen-muc");
    assert_int_equal(s.dirty, 1);
    assert_int_equal(seen_may_have_voted(&s, "chuyen-muc"), 1);
    s.dirty = 0;
    seen_mark(&s, "chuyen-muc");
    assert_int_equal(s.dirty, 0); /* already set: no new cookie */

    char header[256], cookie[256];
    assert_true(seen_set_header(&s, &conf, header, sizeof(header)) > 0);
    assert_non_null(strstr(header, "thamdo_vid_voted=s1."));
    assert_non_null(strstr(header, "HttpOnly"));
    /* Read back from a Cookie header among other cookies. */
    size_t n = strcspn(header, ";");
    snprintf(cookie, sizeof(cookie), "other=1; %.*s; thamdo_vid=x", (int)n, header);
    struct seen back = {0};
    seen_from_header(&back, &conf, cookie);
    assert_int_equal(back.known, 1);
    assert_memory_equal(back.mask, s.mask, SEEN_BYTES);
    assert_int_equal(seen_may_have_voted(&back, "chuyen-muc"), 1);
}

static void test_seen_unreadable_means_unknown(void **state)
{
    (void)state;
    struct cookie_conf conf = seen_conf();
    const char *bad[] = {
        "thamdo_vid_voted=s1.0000",                              /* short */
        "thamdo_vid_voted=s2.00000000000000000000000000000000",  /* other version */
        "thamdo_vid_voted=s1.0000000000000000000000000000000g",  /* not hex */
        "thamdo_vid_voted=s1.g0000000000000000000000000000000",  /* not hex, high nibble */
        "thamdo_vid_voted=s1.A0000000000000000000000000000000",  /* upper case */
        "thamdo_vid_voted=s1.000000000000000000000000000000000", /* long */
        "other_voted=s1.00000000000000000000000000000000",       /* another name */
        "",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct seen s = {0};
        seen_from_header(&s, &conf, bad[i]);
        assert_int_equal(s.known, 0);
        assert_int_equal(seen_may_have_voted(&s, "any"), 1);
        seen_mark(&s, "any");
        assert_int_equal(s.dirty, 0); /* an unknown mask is never written */
    }
    struct seen s = {0};
    seen_from_header(&s, &conf, "thamdo_vid_voted=s1.00000000000000000000000000000000");
    assert_int_equal(s.known, 1);
    assert_int_equal(seen_may_have_voted(&s, "any"), 0);
}

static void test_event_parse(void **state)
{
    (void)state;
    struct store_event ev;
    const char *t = "t chuyen-muc 42 17 tin-tuc:10 khac:7";
    assert_int_equal(store_event_parse(t, strlen(t), &ev), 0);
    assert_int_equal(ev.kind, 't');
    assert_int_equal(ev.poll_id_len, 10);
    assert_memory_equal(ev.poll_id, "chuyen-muc", 10);
    assert_int_equal(ev.seq, 42);
    assert_int_equal(ev.voters, 17);
    assert_int_equal(ev.n, 2);
    assert_int_equal(ev.option_len[1], 4);
    assert_memory_equal(ev.option[1], "khac", 4);
    assert_int_equal(ev.votes[0], 10);
    const char *d = "d chuyen-muc 3";
    assert_int_equal(store_event_parse(d, strlen(d), &ev), 0);
    assert_int_equal(ev.kind, 'd');
    assert_int_equal(ev.version, 3);
    const char *bad[] = {"",
                         "t",
                         "x a 1",
                         "d a",
                         "d a 1 2",
                         "d a -1",
                         "t a 1",
                         "t a 1 2 b",
                         "t a 1 2 :3",
                         "t a 1 2 b:",
                         "t a 1 2 b:x",
                         "t a 1 2  b:1",
                         "d a 1234567890123456789"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(store_event_parse(bad[i], strlen(bad[i]), &ev), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seen_new_reader_then_mark),
        cmocka_unit_test(test_seen_unreadable_means_unknown),
        cmocka_unit_test(test_event_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
