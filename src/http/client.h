/* client.h - the reader's network address, and the proxies trusted to name it.
 *
 * API:
 *   client_trust_parse()   THAMDO_TRUSTED_PROXIES (a CIDR list) at start;
 *   client_address()       per request: the socket peer, or what a trusted
 *                          proxy says of the hop before it;
 *   client_from_headers()  the same walk over given header values (tests, fuzzing);
 *   client_bucket()        the bytes that identify the address's rate-limit
 *                          bucket (IPv4 address, IPv6 /64).
 * Owns: parsing addresses, CIDR ranges, Forwarded (RFC 7239) and
 * X-Forwarded-For. Pure but for client_address(), which reads the request's
 * connection and headers. Must not log or keep an address: callers hash the
 * bucket (identity.c) and drop the rest. */
#ifndef THAMDO_CLIENT_H
#define THAMDO_CLIENT_H

#include <stddef.h>

struct request;

#define CLIENT_TRUST_MAX  64 /* ranges in THAMDO_TRUSTED_PROXIES */
#define CLIENT_HOPS_MAX   64 /* right-most hops of a forwarded header that are walked */
#define CLIENT_BUCKET_MAX 9  /* client_bucket(): a tag byte and 4 or 8 address bytes */

struct client_addr {
    int family; /* AF_INET or AF_INET6 */
    unsigned char bytes[16];
};

/* One range: the first prefix bits of bytes (family's length). */
struct client_cidr {
    int family;
    int prefix;
    unsigned char bytes[16];
};

struct client_trust {
    size_t n;
    struct client_cidr cidr[CLIENT_TRUST_MAX];
};

/* Parses a list of ranges separated by commas or white space: "10.0.0.0/8,
 * 192.168.1.7, ::1, 2001:db8::/32" (an address alone is the range of that
 * address). 0; -1 with *why (a constant string) on the first bad item. An
 * empty list trusts nobody. */
int client_trust_parse(struct client_trust *t, const char *list, const char **why);

/* 1 when a is inside one of t's ranges. */
int client_trusted(const struct client_trust *t, const struct client_addr *a);

/* Parses one hop of len bytes: "192.0.2.1", "192.0.2.1:443", "2001:db8::1",
 * "[2001:db8::1]" or "[2001:db8::1]:443". IPv4-mapped IPv6 comes out as IPv4.
 * 0, or -1 (anything else: "unknown", obfuscated names, zones, garbage). */
int client_parse_addr(const char *s, size_t len, struct client_addr *out);

/* The reader's address: the socket peer; when the peer is in THAMDO_TRUSTED_PROXIES, the right-most
 * hop of Forwarded (for=, RFC 7239; if any Forwarded header is present) else X-Forwarded-For (all
 * such headers in order) that is not itself a trusted proxy (all trusted: the left-most). A hop
 * that does not parse ends the walk: the last address walked is the client. X-Real-IP, Client-IP,
 * Via and forwarded headers from an untrusted peer are never read. IPv4-mapped IPv6 is IPv4. 0, or
 * -1 when the peer address is unknown (then the bucket is "unknown", one shared bucket). */
int client_address(const struct request *r, struct client_addr *out);

/* Pure parser for tests and fuzzing: same walk over given header values. */
int client_from_headers(const struct client_addr *peer, const struct client_trust *trusted,
                        const char *forwarded /* joined, or NULL */,
                        const char *xff /* joined, or NULL */, struct client_addr *out);

/* Writes the bucket of a (NULL: the unknown address) into out: a tag byte
 * ('4', '6'; '0' for the unknown address) then the IPv4 address or the
 * IPv6 /64. Returns the length: 5, 9 (or 1). */
size_t client_bucket(const struct client_addr *a, unsigned char out[CLIENT_BUCKET_MAX]);

#endif
