/* test_client.c - the reader's address (client.h): hops in every written
 * form, IPv4-mapped IPv6 as IPv4, the THAMDO_TRUSTED_PROXIES ranges, and the
 * walk over Forwarded and X-Forwarded-For: an untrusted peer's headers are
 * never read, the right-most untrusted hop wins, a hop that does not parse
 * ends the walk, Forwarded wins over X-Forwarded-For; the buckets (IPv4
 * address, IPv6 /64). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "client.h"

/* The address written in s (must parse). */
static struct client_addr addr(const char *s)
{
    struct client_addr a;
    assert_int_equal(client_parse_addr(s, strlen(s), &a), 0);
    return a;
}

/* The address out as text, for readable failures. */
static const char *text(const struct client_addr *a, char buf[64])
{
    inet_ntop(a->family, a->bytes, buf, 64);
    return buf;
}

static struct client_trust trust(const char *list)
{
    struct client_trust t;
    const char *why = NULL;
    assert_int_equal(client_trust_parse(&t, list, &why), 0);
    return t;
}

/* The client for a peer, the trusted list and the two headers, as text. */
static const char *walk(const char *peer, const char *trusted, const char *fwd, const char *xff,
                        char buf[64])
{
    struct client_addr p = addr(peer), out;
    struct client_trust t = trust(trusted);
    assert_int_equal(client_from_headers(&p, &t, fwd, xff, &out), 0);
    return text(&out, buf);
}

static void test_client_parses_every_hop_form(void **state)
{
    (void)state;
    char b[64];
    struct client_addr a = addr("192.0.2.7");
    assert_int_equal(a.family, AF_INET);
    assert_string_equal(text(&a, b), "192.0.2.7");
    a = addr("192.0.2.7:8443");
    assert_string_equal(text(&a, b), "192.0.2.7");
    a = addr("2001:db8::1");
    assert_int_equal(a.family, AF_INET6);
    assert_string_equal(text(&a, b), "2001:db8::1");
    a = addr("[2001:db8::1]");
    assert_string_equal(text(&a, b), "2001:db8::1");
    a = addr("[2001:db8::1]:443");
    assert_string_equal(text(&a, b), "2001:db8::1");
    a = addr("::ffff:198.51.100.9"); /* IPv4-mapped IPv6 is IPv4 */
    assert_int_equal(a.family, AF_INET);
    assert_string_equal(text(&a, b), "198.51.100.9");
    a = addr("[::ffff:198.51.100.9]:80");
    assert_int_equal(a.family, AF_INET);

    const char *bad[] = {"",
                         "unknown",
                         "_hidden",
                         "192.0.2",
                         "192.0.2.256",
                         "192.0.2.7:",
                         "192.0.2.7:65536",
                         "192.0.2.7:123456",
                         "192.0.2.7:80x",
                         "[192.0.2.7]",
                         "[2001:db8::1",
                         "[2001:db8::1]x",
                         "[2001:db8::1]:",
                         "2001:db8::1:80:",
                         "fe80::1%eth0",
                         " 192.0.2.7",
                         "192.0.2.7 ",
                         "01.2.3.4",
                         "1111:2222:3333:4444:5555:6666:7777:8888:9999:0000:aaaa:bbbb:cccc:dddd:"
                         "eeee:ffff:1"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct client_addr x;
        if (client_parse_addr(bad[i], strlen(bad[i]), &x) == 0)
            fail_msg("'%s' parsed", bad[i]);
    }
    struct client_addr x;
    assert_int_equal(client_parse_addr("1.2.3.4\0", 8, &x), -1); /* a NUL inside */
}

static void test_client_trust_list(void **state)
{
    (void)state;
    struct client_trust t = trust(" 10.0.0.0/8, 192.168.1.7\t2001:db8:aa::/48 ::1");
    assert_int_equal(t.n, 4);
    struct client_addr a;
    a = addr("10.200.3.4");
    assert_int_equal(client_trusted(&t, &a), 1);
    a = addr("11.0.0.1");
    assert_int_equal(client_trusted(&t, &a), 0);
    a = addr("192.168.1.7");
    assert_int_equal(client_trusted(&t, &a), 1);
    a = addr("192.168.1.8");
    assert_int_equal(client_trusted(&t, &a), 0);
    a = addr("2001:db8:aa:ffff::1");
    assert_int_equal(client_trusted(&t, &a), 1);
    a = addr("2001:db8:ab::1");
    assert_int_equal(client_trusted(&t, &a), 0);
    a = addr("::1");
    assert_int_equal(client_trusted(&t, &a), 1);
    a = addr("::ffff:10.1.1.1"); /* mapped: the IPv4 range holds it */
    assert_int_equal(client_trusted(&t, &a), 1);

    /* Bits past the prefix are not part of the range; /0 trusts every address of its family;
     * a mapped range is an IPv4 range. */
    t = trust("172.16.5.9/12");
    a = addr("172.31.0.1");
    assert_int_equal(client_trusted(&t, &a), 1);
    t = trust("0.0.0.0/0");
    a = addr("203.0.113.1");
    assert_int_equal(client_trusted(&t, &a), 1);
    a = addr("2001:db8::1");
    assert_int_equal(client_trusted(&t, &a), 0);
    t = trust("::ffff:10.0.0.0/104");
    a = addr("10.3.2.1");
    assert_int_equal(client_trusted(&t, &a), 1);
    t = trust("");
    assert_int_equal(t.n, 0);
    assert_int_equal(client_trusted(&t, &a), 0);

    const char *bad[] = {"10.0.0.0/33",        "10.0.0.0/",   "10.0.0.0/-1", "::/129",
                         "10.0.0.0/8/8",       "example.com", "10.0.0.0/8x", "[::1]",
                         "::ffff:10.0.0.0/95", "10.0.0.1:80"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *why = NULL;
        if (client_trust_parse(&t, bad[i], &why) == 0)
            fail_msg("'%s' accepted", bad[i]);
        assert_non_null(why);
    }
    /* At most CLIENT_TRUST_MAX ranges. */
    char many[CLIENT_TRUST_MAX * 16 + 32] = "";
    for (int i = 0; i <= CLIENT_TRUST_MAX; i++)
        snprintf(many + strlen(many), sizeof(many) - strlen(many), "10.0.%d.0/24,", i);
    const char *why = NULL;
    assert_int_equal(client_trust_parse(&t, many, &why), -1);
}

static void test_client_untrusted_peer_headers_never_read(void **state)
{
    (void)state;
    char b[64];
    assert_string_equal(walk("203.0.113.5", "", "for=198.51.100.1", "198.51.100.2", b),
                        "203.0.113.5");
    assert_string_equal(walk("203.0.113.5", "10.0.0.0/8", NULL, "198.51.100.2", b), "203.0.113.5");
    /* A trusted peer without a forwarded header is the client. */
    assert_string_equal(walk("10.0.0.1", "10.0.0.0/8", NULL, NULL, b), "10.0.0.1");
}

static void test_client_x_forwarded_for_walk(void **state)
{
    (void)state;
    char b[64];
    const char *t = "10.0.0.0/8, 127.0.0.1";
    /* The right-most hop that is not a trusted proxy; a client's own claims to its left are not
     * read. */
    assert_string_equal(walk("127.0.0.1", t, NULL, "1.1.1.1, 198.51.100.7", b), "198.51.100.7");
    assert_string_equal(walk("127.0.0.1", t, NULL, "1.1.1.1, 198.51.100.7, 10.1.1.1", b),
                        "198.51.100.7");
    /* Every hop trusted: the left-most. */
    assert_string_equal(walk("127.0.0.1", t, NULL, "10.0.0.3, 10.0.0.2", b), "10.0.0.3");
    /* A hop that does not parse ends the walk with the last address walked. */
    assert_string_equal(walk("127.0.0.1", t, NULL, "198.51.100.7, unknown, 10.0.0.2", b),
                        "10.0.0.2");
    assert_string_equal(walk("127.0.0.1", t, NULL, "198.51.100.7, garbage", b), "127.0.0.1");
    /* Empty items are skipped, white space trimmed, ports and brackets read. */
    assert_string_equal(walk("127.0.0.1", t, NULL, " ,198.51.100.7:5000 ,, ", b), "198.51.100.7");
    assert_string_equal(walk("127.0.0.1", t, NULL, "[2001:db8::5]:80", b), "2001:db8::5");
    assert_string_equal(walk("127.0.0.1", t, NULL, "", b), "127.0.0.1");
    /* Several headers, joined in order. */
    assert_string_equal(walk("127.0.0.1", t, NULL, "198.51.100.1, 198.51.100.2, 10.0.0.9", b),
                        "198.51.100.2");
    /* Mapped addresses are IPv4, for the trust check too. */
    assert_string_equal(walk("::ffff:127.0.0.1", t, NULL, "::ffff:198.51.100.3", b),
                        "198.51.100.3");
}

static void test_client_forwarded_walk(void **state)
{
    (void)state;
    char b[64];
    const char *t = "10.0.0.0/8, 127.0.0.1, 2001:db8:1::/48";
    assert_string_equal(walk("127.0.0.1", t, "for=198.51.100.7", NULL, b), "198.51.100.7");
    assert_string_equal(
        walk("127.0.0.1", t,
             "for=192.0.2.43;proto=https, For=\"[2001:db8:cafe::17]:4711\";by=10.0.0.1", NULL, b),
        "2001:db8:cafe::17");
    assert_string_equal(
        walk("127.0.0.1", t, "for=192.0.2.43, for=\"[2001:db8:1::9]\"; proto=http ;by=x", NULL, b),
        "192.0.2.43");
    /* Forwarded wins over X-Forwarded-For whenever it came. */
    assert_string_equal(walk("127.0.0.1", t, "for=198.51.100.8", "198.51.100.9", b),
                        "198.51.100.8");
    assert_string_equal(walk("127.0.0.1", t, "", "198.51.100.9", b), "127.0.0.1");
    /* for=unknown, obfuscated names, an element without for=, two for=, garbage: the walk ends. */
    assert_string_equal(walk("127.0.0.1", t, "for=198.51.100.1, for=unknown", NULL, b),
                        "127.0.0.1");
    assert_string_equal(
        walk("127.0.0.1", t, "for=198.51.100.1, for=_hidden, for=10.0.0.5", NULL, b), "10.0.0.5");
    assert_string_equal(walk("127.0.0.1", t, "for=198.51.100.1, proto=https", NULL, b),
                        "127.0.0.1");
    assert_string_equal(walk("127.0.0.1", t, "for=198.51.100.1;for=198.51.100.2", NULL, b),
                        "127.0.0.1");
    assert_string_equal(walk("127.0.0.1", t, "for=198.51.100.1, for 198.51.100.2", NULL, b),
                        "127.0.0.1");
    assert_string_equal(walk("127.0.0.1", t, "for=\"198.51.100.1", NULL, b), "127.0.0.1");
    /* A quoted comma does not split an element. */
    assert_string_equal(
        walk("127.0.0.1", t, "for=198.51.100.1;ext=\"a, for=198.51.100.66\"", NULL, b),
        "198.51.100.1");
    /* Quoted pairs. */
    assert_string_equal(walk("127.0.0.1", t, "for=\"198.51.100.\\4\"", NULL, b), "198.51.100.4");
}

static void test_client_walks_only_the_last_hops(void **state)
{
    (void)state;
    char b[64], list[CLIENT_HOPS_MAX * 12 + 64];
    /* 198.51.100.1 then more trusted hops than are walked: the left-most walked. */
    snprintf(list, sizeof(list), "198.51.100.1");
    for (int i = 0; i < CLIENT_HOPS_MAX + 5; i++)
        snprintf(list + strlen(list), sizeof(list) - strlen(list), ",10.0.%d.%d", i / 200,
                 i % 200 + 1);
    assert_string_equal(walk("127.0.0.1", "10.0.0.0/8,127.0.0.1", NULL, list, b), "10.0.0.6");
}

static void test_client_buckets(void **state)
{
    (void)state;
    unsigned char a[CLIENT_BUCKET_MAX], c[CLIENT_BUCKET_MAX];
    struct client_addr x = addr("198.51.100.7");
    assert_int_equal(client_bucket(&x, a), 5);
    assert_int_equal(a[0], '4');
    assert_memory_equal(a + 1, x.bytes, 4);
    /* One IPv6 /64 is one bucket. */
    x = addr("2001:db8:1:2:aaaa::1");
    struct client_addr y = addr("2001:db8:1:2:bbbb::99");
    assert_int_equal(client_bucket(&x, a), 9);
    assert_int_equal(client_bucket(&y, c), 9);
    assert_int_equal(a[0], '6');
    assert_memory_equal(a, c, 9);
    y = addr("2001:db8:1:3::1");
    client_bucket(&y, c);
    assert_memory_not_equal(a, c, 9);
    assert_int_equal(client_bucket(NULL, a), 1);
    assert_int_equal(a[0], '0');
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_client_parses_every_hop_form),
        cmocka_unit_test(test_client_trust_list),
        cmocka_unit_test(test_client_untrusted_peer_headers_never_read),
        cmocka_unit_test(test_client_x_forwarded_for_walk),
        cmocka_unit_test(test_client_forwarded_walk),
        cmocka_unit_test(test_client_walks_only_the_last_hops),
        cmocka_unit_test(test_client_buckets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
