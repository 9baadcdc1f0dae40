/* client.c - the reader's address: socket peer, trusted proxies, forwarded headers.
 *
 * The walk (client_from_headers): start at the socket peer; unless it is a
 * trusted proxy, it is the client and no header is read. Otherwise take the
 * hops its headers list (Forwarded's for= when any Forwarded header came,
 * else X-Forwarded-For), right-most first: each hop that parses replaces the
 * candidate, and the first that is not itself trusted ends the walk; a hop
 * that does not parse ("unknown", an obfuscated name, garbage) ends it with
 * the candidate before it. Only the CLIENT_HOPS_MAX right-most hops are
 * walked. Must not log or keep an address (client.h). */
#include "client.h"

#include <arpa/inet.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include "config.h"
#include "request.h"
#include "server.h"

#define CLIENT_ADDR_TEXT_MAX 64 /* longest hop parsed: "[v6]:port" fits with room */

/* An IPv4-mapped IPv6 address (::ffff:a.b.c.d) becomes IPv4. */
static void client_unmap(struct client_addr *a)
{
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (a->family == AF_INET6 && memcmp(a->bytes, mapped, 12) == 0) {
        memmove(a->bytes, a->bytes + 12, 4);
        memset(a->bytes + 4, 0, 12);
        a->family = AF_INET;
    }
}

/* An address without brackets or port, NUL-terminated. */
static int client_parse_bare(const char *s, struct client_addr *out)
{
    memset(out, 0, sizeof(*out));
    if (strchr(s, ':')) {
        if (inet_pton(AF_INET6, s, out->bytes) != 1)
            return -1;
        out->family = AF_INET6;
        client_unmap(out);
        return 0;
    }
    if (inet_pton(AF_INET, s, out->bytes) != 1)
        return -1;
    out->family = AF_INET;
    return 0;
}

/* 1..5 decimal digits, at most 65535. */
static int client_port_ok(const char *p)
{
    size_t n = strspn(p, "0123456789");
    return n >= 1 && n <= 5 && p[n] == '\0' && atoi(p) <= 65535;
}

int client_parse_addr(const char *s, size_t len, struct client_addr *out)
{
    char buf[CLIENT_ADDR_TEXT_MAX + 1];
    if (len == 0 || len > CLIENT_ADDR_TEXT_MAX || memchr(s, '\0', len))
        return -1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    if (buf[0] == '[') {
        char *close = strchr(buf, ']');
        if (!close || (close[1] != '\0' && (close[1] != ':' || !client_port_ok(close + 2))))
            return -1;
        *close = '\0';
        if (!strchr(buf + 1, ':'))
            return -1; /* brackets hold IPv6 only */
        return client_parse_bare(buf + 1, out);
    }
    char *colon = strchr(buf, ':');
    if (colon && !strchr(colon + 1, ':')) { /* one colon: IPv4 with a port */
        if (!client_port_ok(colon + 1))
            return -1;
        *colon = '\0';
        if (strchr(buf, ':') || client_parse_bare(buf, out) != 0 || out->family != AF_INET)
            return -1;
        return 0;
    }
    return client_parse_bare(buf, out);
}

/* ------------------------------------------------------------- ranges --- */

static int client_in(const struct client_cidr *c, const struct client_addr *a)
{
    if (c->family != a->family)
        return 0;
    int full = c->prefix / 8, rest = c->prefix % 8;
    if (memcmp(c->bytes, a->bytes, (size_t)full) != 0)
        return 0;
    if (rest == 0)
        return 1;
    unsigned char mask = (unsigned char)(0xff << (8 - rest));
    return (c->bytes[full] & mask) == (a->bytes[full] & mask);
}

int client_trusted(const struct client_trust *t, const struct client_addr *a)
{
    for (size_t i = 0; i < t->n; i++) {
        if (client_in(&t->cidr[i], a))
            return 1;
    }
    return 0;
}

/* One range of len bytes into c. */
static int client_cidr_parse(const char *s, size_t len, struct client_cidr *c, const char **why)
{
    char buf[CLIENT_ADDR_TEXT_MAX + 1];
    if (len > CLIENT_ADDR_TEXT_MAX) {
        *why = "a range is too long";
        return -1;
    }
    memcpy(buf, s, len);
    buf[len] = '\0';
    char *slash = strchr(buf, '/');
    if (slash)
        *slash = '\0';
    struct client_addr a;
    int was_v6 = strchr(buf, ':') != NULL;
    if (client_parse_bare(buf, &a) != 0) {
        *why = "expected addresses or CIDR ranges like 10.0.0.0/8, 192.0.2.7, ::1 or "
               "2001:db8::/32, separated by commas";
        return -1;
    }
    int max = a.family == AF_INET ? 32 : 128;
    int prefix = max;
    if (slash) {
        const char *p = slash + 1;
        size_t n = strspn(p, "0123456789");
        int bound = was_v6 ? 128 : 32; /* a mapped range is written in IPv6 bits */
        if (n < 1 || n > 3 || p[n] != '\0' || atoi(p) > bound) {
            *why = "a prefix length must be 0 to 32 (IPv4) or 0 to 128 (IPv6)";
            return -1;
        }
        prefix = atoi(p);
        if (was_v6 && a.family == AF_INET) { /* ::ffff:10.0.0.0/104 */
            if (prefix < 96) {
                *why = "an IPv4-mapped range needs a prefix of at least 96";
                return -1;
            }
            prefix -= 96;
        }
    }
    memset(c, 0, sizeof(*c));
    c->family = a.family;
    c->prefix = prefix;
    /* The bits past the prefix are not part of the range. */
    for (int i = 0; i < max / 8; i++) {
        int keep = prefix - 8 * i;
        unsigned char mask = keep >= 8 ? 0xff : keep <= 0 ? 0 : (unsigned char)(0xff << (8 - keep));
        c->bytes[i] = a.bytes[i] & mask;
    }
    return 0;
}

int client_trust_parse(struct client_trust *t, const char *list, const char **why)
{
    t->n = 0;
    const char *p = list;
    for (;;) {
        p += strspn(p, ", \t\r\n");
        size_t len = strcspn(p, ", \t\r\n");
        if (len == 0)
            return 0;
        if (t->n >= CLIENT_TRUST_MAX) {
            *why = "lists too many ranges (64 at most)";
            return -1;
        }
        if (client_cidr_parse(p, len, &t->cidr[t->n], why) != 0)
            return -1;
        t->n++;
        p += len;
    }
}

/* --------------------------------------------------------------- hops --- */

/* The right-most hops of a header, in order: a ring of the last CLIENT_HOPS_MAX. */
struct client_hops {
    size_t total;
    struct {
        int ok;
        struct client_addr a;
    } hop[CLIENT_HOPS_MAX];
};

static void client_hop_add(struct client_hops *h, int ok, const struct client_addr *a)
{
    size_t i = h->total++ % CLIENT_HOPS_MAX;
    h->hop[i].ok = ok;
    if (ok)
        h->hop[i].a = *a;
}

static int client_ows(char c)
{
    return c == ' ' || c == '\t';
}

/* X-Forwarded-For: addresses separated by commas; empty items are skipped. */
static void client_xff_hops(const char *s, struct client_hops *h)
{
    while (*s) {
        size_t len = strcspn(s, ",");
        const char *b = s, *e = s + len;
        while (b < e && client_ows(*b))
            b++;
        while (e > b && client_ows(e[-1]))
            e--;
        if (e > b) {
            struct client_addr a;
            int ok = client_parse_addr(b, (size_t)(e - b), &a) == 0;
            client_hop_add(h, ok, &a);
        }
        s += len;
        if (*s == ',')
            s++;
    }
}

/* RFC 7230 tchar. */
static int client_tchar(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* One value of a Forwarded pair at *sp (token or quoted string) into buf;
 * *sp moves past it. Returns its length, or -1 when it is malformed or too
 * long (then *sp is past what was read). */
static int client_fwd_value(const char **sp, char buf[CLIENT_ADDR_TEXT_MAX + 1])
{
    const char *s = *sp;
    size_t n = 0;
    int bad = 0;
    if (*s == '"') {
        s++;
        for (; *s && *s != '"'; s++) {
            if (*s == '\\' && s[1])
                s++;
            if (n < CLIENT_ADDR_TEXT_MAX)
                buf[n++] = *s;
            else
                bad = 1;
        }
        if (*s != '"')
            bad = 1; /* unterminated: the rest of the header is this value */
        else
            s++;
    } else {
        for (; client_tchar((unsigned char)*s) || *s == ':' || *s == '[' || *s == ']'; s++) {
            if (n < CLIENT_ADDR_TEXT_MAX)
                buf[n++] = *s;
            else
                bad = 1;
        }
    }
    *sp = s;
    buf[n] = '\0';
    return bad || n == 0 ? -1 : (int)n;
}

/* Forwarded: elements separated by commas, each pairs name=value separated
 * by semicolons; the hop is the element's for= (an element without exactly
 * one for= that parses is a hop that does not parse). */
static void client_forwarded_hops(const char *s, struct client_hops *h)
{
    while (*s) {
        int ok = 1, fors = 0;
        struct client_addr a = {0};
        while (client_ows(*s))
            s++;
        if (*s == ',') { /* an empty element */
            s++;
            continue;
        }
        while (*s && *s != ',') {
            while (client_ows(*s))
                s++;
            const char *name = s;
            while (client_tchar((unsigned char)*s))
                s++;
            size_t name_len = (size_t)(s - name);
            char value[CLIENT_ADDR_TEXT_MAX + 1];
            int vlen = -1;
            if (name_len > 0 && *s == '=') {
                s++;
                vlen = client_fwd_value(&s, value);
            }
            if (vlen < 0) {
                ok = 0;
            } else if (name_len == 3 && strncasecmp(name, "for", 3) == 0) {
                fors++;
                if (client_parse_addr(value, (size_t)vlen, &a) != 0)
                    ok = 0;
            }
            while (client_ows(*s))
                s++;
            if (*s == ';') {
                s++;
            } else if (*s && *s != ',') {
                ok = 0; /* garbage: skip to the next element */
                while (*s && *s != ',' && *s != '"')
                    s++;
                if (*s == '"') /* a quote starts a string that may hold commas */
                    (void)client_fwd_value(&s, value);
            }
        }
        client_hop_add(h, ok && fors == 1, &a);
        if (*s == ',')
            s++;
    }
}

int client_from_headers(const struct client_addr *peer, const struct client_trust *trusted,
                        const char *forwarded, const char *xff, struct client_addr *out)
{
    *out = *peer;
    if (!client_trusted(trusted, peer) || (!forwarded && !xff))
        return 0;
    struct client_hops *h = malloc(sizeof(*h));
    if (!h)
        abort();
    h->total = 0;
    if (forwarded)
        client_forwarded_hops(forwarded, h);
    else
        client_xff_hops(xff, h);
    size_t walked = 0;
    for (size_t i = h->total; i > 0 && walked < CLIENT_HOPS_MAX; i--, walked++) {
        const struct client_addr *a = &h->hop[(i - 1) % CLIENT_HOPS_MAX].a;
        if (!h->hop[(i - 1) % CLIENT_HOPS_MAX].ok)
            break;
        *out = *a;
        if (!client_trusted(trusted, a))
            break;
    }
    free(h);
    return 0;
}

/* ------------------------------------------------------------ request --- */

/* The values of every input header called name, joined with ", " (malloc'd),
 * or NULL when there is none. */
static char *client_join(const struct request *r, const char *name)
{
    struct evkeyvalq *in = evhttp_request_get_input_headers(r->req);
    struct evkeyval *kv;
    size_t total = 0;
    int count = 0;
    TAILQ_FOREACH(kv, in, next)
    {
        if (strcasecmp(kv->key, name) == 0) {
            total += strlen(kv->value) + 2;
            count++;
        }
    }
    if (count == 0)
        return NULL;
    char *joined = malloc(total + 1), *p = joined;
    if (!joined)
        abort();
    TAILQ_FOREACH(kv, in, next)
    {
        if (strcasecmp(kv->key, name) != 0)
            continue;
        size_t n = strlen(kv->value);
        if (p != joined) {
            memcpy(p, ", ", 2);
            p += 2;
        }
        memcpy(p, kv->value, n);
        p += n;
    }
    *p = '\0';
    return joined;
}

int client_address(const struct request *r, struct client_addr *out)
{
    struct evhttp_connection *conn = evhttp_request_get_connection(r->req);
    const struct sockaddr *sa = conn ? evhttp_connection_get_addr(conn) : NULL;
    struct client_addr peer;
    memset(&peer, 0, sizeof(peer));
    if (sa && sa->sa_family == AF_INET) {
        peer.family = AF_INET;
        memcpy(peer.bytes, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
    } else if (sa && sa->sa_family == AF_INET6) {
        peer.family = AF_INET6;
        memcpy(peer.bytes, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
        client_unmap(&peer);
    } else {
        memset(out, 0, sizeof(*out));
        return -1;
    }
    const struct client_trust *trusted = &r->srv->cfg->trusted_proxies;
    if (!client_trusted(trusted, &peer)) {
        *out = peer;
        return 0;
    }
    char *forwarded = client_join(r, "Forwarded");
    char *xff = forwarded ? NULL : client_join(r, "X-Forwarded-For");
    client_from_headers(&peer, trusted, forwarded, xff, out);
    free(forwarded);
    free(xff);
    return 0;
}

size_t client_bucket(const struct client_addr *a, unsigned char out[CLIENT_BUCKET_MAX])
{
    if (!a) {
        out[0] = '0';
        return 1;
    }
    size_t n = a->family == AF_INET ? 4 : 8;
    out[0] = a->family == AF_INET ? '4' : '6';
    memcpy(out + 1, a->bytes, n);
    return n + 1;
}
