/* identity.c - hashed address buckets and cookie-less reader ids, under the
 * day's salt.
 *
 * Lifecycle of a bucket: identity_bucket() formats the request's day; when
 * the worker holds that day's salt, it hashes at once and continues; else it
 * asks the store (r->bucket_then keeps the continuation across the call, r
 * is the call's argument), keeps the salt it gets, hashes, and continues.
 * Concurrent first requests of a day each ask: salt.lua hands them all the
 * same salt. Each worker keeps the two latest days' salts (a request's clock
 * may name yesterday just after midnight), each as an HMAC context keyed once,
 * so no fetch and no key schedule is on the hot path. The address itself is read from
 * the connection each time (client.c) and wiped after hashing. Must not log
 * or keep an address, a salt or a hash input. */
#include "identity.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <stdio.h>
#include <string.h>

#include "client.h"
#include "clock.h"
#include "server.h"
#include "store.h"

#define IDENTITY_DAY_LEN 11 /* "2026-11-28" + NUL */
#define IDENTITY_SALTS   2

struct identity_salt {
    char day[IDENTITY_DAY_LEN]; /* empty: none */
    EVP_MAC_CTX *mac;           /* HMAC-SHA256 keyed with the day's salt, once; NULL: refused */
};

/* This worker's salts, the latest first, and the HMAC they key (fetched once). */
static _Thread_local struct identity_salt identity_salts[IDENTITY_SALTS];
static _Thread_local EVP_MAC *identity_hmac_alg;

static void identity_day(const struct request *r, char day[IDENTITY_DAY_LEN])
{
    if (clock_format_date(r->now, day, IDENTITY_DAY_LEN) != 0)
        snprintf(day, IDENTITY_DAY_LEN, "0000-00-00");
}

static struct identity_salt *identity_find(const char *day)
{
    for (size_t i = 0; i < IDENTITY_SALTS; i++) {
        if (identity_salts[i].day[0] && strcmp(identity_salts[i].day, day) == 0)
            return &identity_salts[i];
    }
    return NULL;
}

/* Keeps the day's salt as a keyed context (the salt itself is not kept). */
static void identity_keep(const char *day, const unsigned char *salt)
{
    if (identity_find(day))
        return;
    EVP_MAC_CTX_free(identity_salts[IDENTITY_SALTS - 1].mac);
    memmove(&identity_salts[1], &identity_salts[0],
            sizeof(identity_salts[0]) * (IDENTITY_SALTS - 1));
    struct identity_salt *s = &identity_salts[0];
    snprintf(s->day, sizeof(s->day), "%s", day);
    if (!identity_hmac_alg)
        identity_hmac_alg = EVP_MAC_fetch(NULL, "HMAC", NULL);
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0),
                           OSSL_PARAM_construct_end()};
    s->mac = identity_hmac_alg ? EVP_MAC_CTX_new(identity_hmac_alg) : NULL;
    if (s->mac && EVP_MAC_init(s->mac, salt, STORE_SALT_LEN, params) != 1) {
        EVP_MAC_CTX_free(s->mac);
        s->mac = NULL;
    }
}

void identity_thread_end(void)
{
    for (size_t i = 0; i < IDENTITY_SALTS; i++) {
        EVP_MAC_CTX_free(identity_salts[i].mac);
        memset(&identity_salts[i], 0, sizeof(identity_salts[i]));
    }
    EVP_MAC_free(identity_hmac_alg);
    identity_hmac_alg = NULL;
}

/* The bucket bytes of r's address (client_bucket()); wipes the address. */
static size_t identity_bucket_bytes(const struct request *r, unsigned char out[CLIENT_BUCKET_MAX])
{
    struct client_addr a;
    size_t n = client_bucket(client_address(r, &a) == 0 ? &a : NULL, out);
    OPENSSL_cleanse(&a, sizeof(a));
    return n;
}

/* HMAC-SHA256 under salt s of the n pieces, one after the other. All zeros
 * when OpenSSL refused (never a hash of real input in practice). */
static void identity_hmac(const struct identity_salt *s, const void *const *piece,
                          const size_t *len, size_t n, unsigned char md[32])
{
    size_t mdlen = 0;
    /* EVP_MAC_init without a key starts over with the key it holds. */
    int ok = s && s->mac && EVP_MAC_init(s->mac, NULL, 0, NULL) == 1;
    for (size_t i = 0; ok && i < n; i++)
        ok = EVP_MAC_update(s->mac, piece[i], len[i]) == 1;
    if (!ok || EVP_MAC_final(s->mac, md, &mdlen, 32) != 1 || mdlen != 32)
        memset(md, 0, 32);
}

static void identity_set_bucket(struct request *r, const struct identity_salt *s)
{
    unsigned char in[CLIENT_BUCKET_MAX], md[32];
    const void *piece[1] = {in};
    size_t len[1] = {identity_bucket_bytes(r, in)};
    identity_hmac(s, piece, len, 1, md);
    for (int i = 0; i < IDENTITY_BUCKET_HEX / 2; i++)
        snprintf(r->bucket + 2 * i, 3, "%02x", md[i]);
    OPENSSL_cleanse(in, sizeof(in));
}

static void identity_salt_cb(void *arg, const unsigned char *salt)
{
    struct request *r = arg;
    void (*then)(struct request *, int) = r->bucket_then;
    r->bucket_then = NULL;
    if (!salt) {
        then(r, 0);
        return;
    }
    char day[IDENTITY_DAY_LEN];
    identity_day(r, day);
    identity_keep(day, salt);
    identity_set_bucket(r, identity_find(day));
    then(r, 1);
}

void identity_bucket(struct request *r, identity_cb *cb)
{
    char day[IDENTITY_DAY_LEN];
    identity_day(r, day);
    const struct identity_salt *s = identity_find(day);
    if (s) {
        identity_set_bucket(r, s);
        cb(r, 1);
        return;
    }
    r->bucket_then = cb;
    store_salt_get(r->srv->store, day, identity_salt_cb, r);
}

void identity_reader(const struct request *r, const char *site, unsigned char out[COOKIE_ID_LEN])
{
    char day[IDENTITY_DAY_LEN];
    identity_day(r, day);
    const struct identity_salt *s = identity_find(day);
    if (!s) /* identity_bucket() said 1 for this day: only when called out of turn */
        s = &identity_salts[0];
    const char *ua = request_header(r, "User-Agent");
    if (!ua)
        ua = "";
    unsigned char bucket[CLIENT_BUCKET_MAX], md[32];
    static const unsigned char zero = 0;
    /* "r" || bucket bytes || 0 || User-Agent || 0 || site */
    const void *piece[6] = {"r", bucket, &zero, ua, &zero, site};
    size_t len[6] = {1, identity_bucket_bytes(r, bucket), 1, strlen(ua), 1, strlen(site)};
    identity_hmac(s, piece, len, 6, md);
    memcpy(out, md, COOKIE_ID_LEN);
    OPENSSL_cleanse(bucket, sizeof(bucket));
}
