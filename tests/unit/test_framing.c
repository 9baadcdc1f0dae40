/* test_framing.c - the byte-level framing scan (framing.h): a plain head,
 * a plain chunked body and a pipelined request behind them have no flaw;
 * each ambiguous form (bare LF, bare CR, NUL, folded header, chunk sizes
 * "+11", " 11", "0x11", "11 ", too many digits, data not ended by CRLF) is
 * found; and every split of the bytes into two reads finds the same, since
 * bytes arrive as the network delivers them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "framing.h"

#define HEAD       "POST /v HTTP/1.1\r\nHost: x\r\n"
#define CHUNK      HEAD "Transfer-Encoding: chunked\r\n\r\n"
#define FLAWS(lit) flaws_of(lit, sizeof(lit) - 1) /* a literal, NULs included */

/* The flaws of s (n bytes) read in one go, checking every split in two gives the same. */
static int flaws_of(const char *s, size_t n)
{
    struct framing_scan f;
    framing_scan_reset(&f);
    framing_scan_feed(&f, s, n);
    for (size_t cut = 0; cut <= n; cut++) {
        struct framing_scan g;
        framing_scan_reset(&g);
        framing_scan_feed(&g, s, cut);
        framing_scan_feed(&g, s + cut, n - cut);
        if (g.flaws != f.flaws || framing_scan_done(&g) != framing_scan_done(&f))
            fail_msg("split at %zu of %s: flaws %d, in one read %d", cut, s, g.flaws, f.flaws);
    }
    return f.flaws;
}

static void test_framing_plain(void **state)
{
    (void)state;
    assert_int_equal(FLAWS(HEAD "Content-Length: 2\r\n\r\n{}"), 0);
    assert_int_equal(FLAWS(CHUNK "5\r\n{\"opt\r\nc\r\nions\":[\"b\"]}\r\n0\r\n\r\n"), 0);
    assert_int_equal(FLAWS(CHUNK "A\r\n0123456789\r\n0\r\nX-T: 1\r\n\r\n"), 0);
    /* a NUL in chunk data is data; what follows the request is not read */
    assert_int_equal(FLAWS(CHUNK "1\r\n\0\r\n0\r\n\r\nGET\n\0 junk"), 0);
    assert_int_equal(FLAWS(HEAD "\r\n\0\n"), 0); /* a body after the head is not read */
    struct framing_scan f;
    framing_scan_reset(&f);
    framing_scan_feed(&f, HEAD "\r\n", strlen(HEAD "\r\n"));
    assert_true(framing_scan_done(&f));
}

static void test_framing_head_flaws(void **state)
{
    (void)state;
    assert_int_equal(FLAWS("POST /v HTTP/1.1\nHost: x\r\n\r\n"), FRAMING_BARE_EOL);
    assert_int_equal(FLAWS(HEAD "X: a\rb\r\n\r\n"), FRAMING_BARE_EOL);
    assert_int_equal(FLAWS(HEAD "X: a\0b\r\n\r\n"), FRAMING_NUL);
    assert_int_equal(FLAWS("POST /v\0 HTTP/1.1\r\n\r\n"), FRAMING_NUL);
    assert_int_equal(FLAWS(HEAD "X: a\r\n b\r\n\r\n"), FRAMING_FOLD);
    assert_int_equal(FLAWS(HEAD "X: a\r\n\tb\r\n\r\n"), FRAMING_FOLD);
}

static void test_framing_chunk_flaws(void **state)
{
    (void)state;
    const char *bad[] = {
        CHUNK "+11\r\n",
        CHUNK " 11\r\n",
        CHUNK "0x11\r\n",
        CHUNK "11 \r\n",
        CHUNK "\r\n",
        CHUNK ";x\r\n",
        CHUNK "-1\r\n",
        CHUNK "1000000000000000\r\n",
        CHUNK "1\r\nab\r\n0\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int flaws = flaws_of(bad[i], strlen(bad[i]));
        if (flaws != FRAMING_CHUNK)
            fail_msg("%s: flaws %d", bad[i], flaws);
    }
    assert_int_equal(FLAWS(CHUNK "11\n"), FRAMING_BARE_EOL);
    assert_int_equal(FLAWS(CHUNK "1\0\r\n"), FRAMING_NUL);
    assert_int_equal(FLAWS(CHUNK "0\r\nX: a\0\r\n\r\n"), FRAMING_NUL);
    /* "Transfer-Encoding" in any case marks the body as chunked */
    assert_int_equal(FLAWS(HEAD "TRANSFER-ENCODING: chunked\r\n\r\n0x1\r\n"), FRAMING_CHUNK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_framing_plain),
        cmocka_unit_test(test_framing_head_flaws),
        cmocka_unit_test(test_framing_chunk_flaws),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
