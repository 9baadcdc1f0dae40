/* cookie.h - the signed voter cookie.
 *
 * A voter is a random 128-bit id from OpenSSL's CSPRNG. On the wire it is
 *     v1.<base64url(id), 22 chars>.<base64url(HMAC-SHA256(secret, "v1." || id)), 43 chars>
 * and it is verified in constant time. Owns: minting, signing, verifying and
 * the Set-Cookie attributes. The HMAC is OpenSSL 3's EVP_MAC, fetched and
 * keyed once per process (cookie_conf_key()); each thread duplicates that
 * keyed context once (EVP_MAC_CTX_dup) and re-initialises its copy per
 * cookie, so no fetch, no key schedule and no lock is on the hot path.
 * Must not log cookie values or the secret, and must not trust a value that
 * fails any check: the caller mints a new id. */
#ifndef THAMDO_COOKIE_H
#define THAMDO_COOKIE_H

#include <stddef.h>

#define COOKIE_ID_LEN       16  /* bytes of voter id */
#define COOKIE_SECRET_MIN   32  /* shortest accepted secret, bytes */
#define COOKIE_SECRET_MAX   256 /* longest accepted secret, bytes */
#define COOKIE_VALUE_LEN    (3 + 22 + 1 + 43)
#define COOKIE_NAME_MAX     64
#define COOKIE_PREVIOUS_MAX 8  /* previous secrets still accepted (THAMDO_SECRET_PREVIOUS) */
#define COOKIE_MAC_LEN      32 /* bytes of HMAC-SHA256 */

enum cookie_samesite {
    COOKIE_SAMESITE_LAX = 0,
    COOKIE_SAMESITE_STRICT,
    COOKIE_SAMESITE_NONE,
};

/* One secret and its keyed HMAC context (cookie_conf_key()). */
struct cookie_key {
    unsigned char secret[COOKIE_SECRET_MAX];
    size_t len;
    struct evp_mac_ctx_st *mac; /* keyed with secret, read-only */
    unsigned long gen;          /* tells one keyed context from any other */
};

struct cookie_conf {
    char name[COOKIE_NAME_MAX + 1];
    unsigned char secret[COOKIE_SECRET_MAX];
    size_t secret_len;
    /* Secrets of earlier deployments: a cookie they signed still verifies
     * (cookie_verify() says so) and the reply signs it again with secret. */
    struct cookie_key previous[COOKIE_PREVIOUS_MAX];
    size_t n_previous;
    enum cookie_samesite samesite;
    int secure;
    int partitioned;
    long long max_age;          /* seconds */
    struct evp_mac_st *hmac;    /* cookie_conf_key(): the fetched HMAC */
    struct evp_mac_ctx_st *mac; /* cookie_conf_key(): keyed with secret, read-only */
    unsigned long mac_gen;      /* tells one keyed context from any other */
};

/* Keys the HMAC of conf with its secret and each previous one, once the secret is final (before
 * any thread uses conf). 0, or -1 when OpenSSL refused (then each MAC is
 * computed one-shot). */
int cookie_conf_key(struct cookie_conf *conf);

/* Frees what cookie_conf_key() made (after every thread is done with conf). */
void cookie_conf_unkey(struct cookie_conf *conf);

/* Frees the calling thread's copy of the keyed context. */
void cookie_thread_end(void);

/* Fills id with random bytes. 0 on success, -1 if the CSPRNG failed. */
int cookie_mint(unsigned char id[COOKIE_ID_LEN]);

/* HMAC-SHA256 of msg[0..len) under the current secret into mac, for other
 * signed values (pow.c's challenges); the same keyed context as the cookie's
 * own MAC. Cookie values are signed over "v1." || id, so a MAC made here over
 * any other message is never a cookie's. */
void cookie_mac(const struct cookie_conf *conf, const void *msg, size_t len,
                unsigned char mac[COOKIE_MAC_LEN]);

/* base64url of in[0..len) without padding, NUL-terminated; out must hold
 * 4 * ceil(len / 3) + 1 bytes. Returns the length written. */
size_t cookie_b64url(const unsigned char *in, size_t len, char *out);

/* Writes the signed value (COOKIE_VALUE_LEN chars + NUL) into out. */
void cookie_sign(const struct cookie_conf *conf, const unsigned char id[COOKIE_ID_LEN],
                 char out[COOKIE_VALUE_LEN + 1]);

/* Verifies one cookie value of len bytes; on success stores the id and
 * returns 0 (signed with the current secret) or COOKIE_PREVIOUS (signed with
 * a previous secret: the caller signs it again). Any malformed, truncated,
 * other-version or forged value: -1. */
#define COOKIE_PREVIOUS 1
int cookie_verify(const struct cookie_conf *conf, const char *value, size_t len,
                  unsigned char id[COOKIE_ID_LEN]);

/* Looks through a Cookie request header for conf->name and returns what
 * cookie_verify() says of the first value that verifies (0 or
 * COOKIE_PREVIOUS, with its id); -1 when there is none. A value under the
 * current secret wins over an earlier one under a previous secret. */
int cookie_from_header(const struct cookie_conf *conf, const char *header,
                       unsigned char id[COOKIE_ID_LEN]);

/* Writes the Set-Cookie header value for id into out. Returns the length, or
 * -1 if it does not fit. */
int cookie_set_header(const struct cookie_conf *conf, const unsigned char id[COOKIE_ID_LEN],
                      char *out, size_t size);

int cookie_parse_samesite(const char *s, enum cookie_samesite *out);

#endif
