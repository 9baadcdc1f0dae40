/* fuzz_forwarded.c - the reader's address behind proxies (src/http/client.c):
 * client_from_headers over Forwarded and X-Forwarded-For, client_parse_addr
 * and client_trust_parse (THAMDO_TRUSTED_PROXIES).
 *
 * The input: byte 0 picks which headers came (bit 0 Forwarded, bit 1
 * X-Forwarded-For) and the peer (bit 2: trusted or not; bit 3: IPv6); the
 * rest is split at the first newline into the Forwarded and the
 * X-Forwarded-For values. The whole input is also one hop and one trusted
 * list. Properties: an untrusted peer is the client whatever the headers
 * say; the client is IPv4 or IPv6 and never IPv4-mapped IPv6; the walk is
 * deterministic; one more trusted proxy at the right end of a short
 * X-Forwarded-For does not change the client (or becomes it, where the
 * walk had stopped at the peer); an address parsed, written by inet_ntop,
 * parses back to itself; every range of a trusted list that parses holds
 * its own network address. */
#include <arpa/inet.h>
#include <sys/socket.h>

#include "client.h"
#include "fuzz.h"

static struct client_trust fuzz_trust;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *why = NULL;
    FUZZ_CHECK(
        client_trust_parse(&fuzz_trust, "127.0.0.1, 10.0.0.0/8, ::1, 2001:db8:1::/48", &why) == 0);
    return 0;
}

static int fuzz_same(const struct client_addr *a, const struct client_addr *b)
{
    return a->family == b->family && memcmp(a->bytes, b->bytes, sizeof(a->bytes)) == 0;
}

static void fuzz_check_addr(const struct client_addr *a)
{
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    FUZZ_CHECK(a->family == AF_INET || a->family == AF_INET6);
    if (a->family == AF_INET6)
        FUZZ_CHECK(memcmp(a->bytes, mapped, 12) != 0);
    else
        FUZZ_CHECK(memcmp(a->bytes + 4, "\0\0\0\0\0\0\0\0\0\0\0\0", 12) == 0);
}

static void fuzz_walk(uint8_t flags, const char *fwd, const char *xff)
{
    struct client_addr peer, out, again;
    const char *peer_text = flags & 8 ? (flags & 4 ? "::1" : "2001:db8:2::7")
                                      : (flags & 4 ? "127.0.0.1" : "203.0.113.9");
    FUZZ_CHECK(client_parse_addr(peer_text, strlen(peer_text), &peer) == 0);
    const char *f = flags & 1 ? fwd : NULL, *x = flags & 2 ? xff : NULL;
    FUZZ_CHECK(client_from_headers(&peer, &fuzz_trust, f, x, &out) == 0);
    fuzz_check_addr(&out);
    if (!(flags & 4))
        FUZZ_CHECK(fuzz_same(&out, &peer));
    FUZZ_CHECK(client_from_headers(&peer, &fuzz_trust, f, x, &again) == 0);
    FUZZ_CHECK(fuzz_same(&out, &again));

    /* One more proxy of ours at the right end of X-Forwarded-For. */
    if (!f && x && strlen(x) <= 100 && (flags & 4)) {
        size_t n = strlen(x);
        char *longer = malloc(n + 16);
        FUZZ_CHECK(longer != NULL);
        memcpy(longer, x, n);
        memcpy(longer + n, ",10.9.8.7", 10);
        struct client_addr proxy;
        FUZZ_CHECK(client_parse_addr("10.9.8.7", 8, &proxy) == 0);
        FUZZ_CHECK(client_from_headers(&peer, &fuzz_trust, NULL, longer, &again) == 0);
        FUZZ_CHECK(fuzz_same(&again, &out) ||
                   (fuzz_same(&again, &proxy) && fuzz_same(&out, &peer)));
        free(longer);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *all = fuzz_strndup(data, size);

    /* The whole input as one hop. */
    struct client_addr a, back;
    if (client_parse_addr(all, size, &a) == 0) {
        fuzz_check_addr(&a);
        char text[INET6_ADDRSTRLEN];
        FUZZ_CHECK(inet_ntop(a.family, a.bytes, text, sizeof(text)) != NULL);
        FUZZ_CHECK(client_parse_addr(text, strlen(text), &back) == 0);
        FUZZ_CHECK(fuzz_same(&a, &back));
    }

    /* The whole input as a trusted list. */
    struct client_trust *t = malloc(sizeof(*t));
    FUZZ_CHECK(t != NULL);
    const char *why = NULL;
    if (client_trust_parse(t, all, &why) == 0) {
        FUZZ_CHECK(t->n <= CLIENT_TRUST_MAX);
        for (size_t i = 0; i < t->n; i++) {
            struct client_addr net = {.family = t->cidr[i].family};
            memcpy(net.bytes, t->cidr[i].bytes, sizeof(net.bytes));
            FUZZ_CHECK(t->cidr[i].prefix >= 0 &&
                       t->cidr[i].prefix <= (net.family == AF_INET ? 32 : 128));
            FUZZ_CHECK(client_trusted(t, &net));
        }
    } else {
        FUZZ_CHECK(why != NULL);
    }
    free(t);

    /* The walk: flags, then "forwarded\nx-forwarded-for". */
    if (size >= 1) {
        char *fwd = all + 1;
        char *nl = strchr(fwd, '\n');
        char *xff = nl ? nl + 1 : fwd + strlen(fwd);
        if (nl)
            *nl = '\0';
        fuzz_walk(data[0], fwd, xff);
    }
    free(all);
    return 0;
}
