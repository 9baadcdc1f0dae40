/* identity.c - hashed address buckets and cookie-less reader ids, under the
 * day's salt.
 *
 * Lifecycle of a bucket: identity_bucket() formats the request's day; when
 * the worker holds that day's salt, it hashes at once and continues; else it
 * asks the store (r->bucket_then keeps the continuation across the call, r
 * is the call's argument), keeps the salt it gets, hashes, and continues.
 * Concurrent first requests of a day each ask: salt.lua hands them all the
 * same salt. Each worker keeps the two latest days' salts (a request's clock
 * may name yesterday just after midnight). The address itself is read from
 * the connection each time (client.c) and wiped after hashing. Must not log
 * or keep an address, a salt or a hash input. */
#include "identity.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
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
    unsigned char salt[STORE_SALT_LEN];
};

/* This worker's salts, the latest first. */
static _Thread_local struct identity_salt identity_salts[IDENTITY_SALTS];

static void identity_day(const struct request *r, char day[IDENTITY_DAY_LEN])
{
    if (clock_format_date(r->now, day, IDENTITY_DAY_LEN) != 0)
        snprintf(day, IDENTITY_DAY_LEN, "0000-00-00");
}

static const unsigned char *identity_find(const char *day)
{
    for (size_t i = 0; i < IDENTITY_SALTS; i++) {
        if (identity_salts[i].day[0] && strcmp(identity_salts[i].day, day) == 0)
            return identity_salts[i].salt;
    }
    return NULL;
}

static void identity_keep(const char *day, const unsigned char *salt)
{
    if (identity_find(day))
        return;
    memmove(&identity_salts[1], &identity_salts[0],
            sizeof(identity_salts[0]) * (IDENTITY_SALTS - 1));
    snprintf(identity_salts[0].day, sizeof(identity_salts[0].day), "%s", day);
    memcpy(identity_salts[0].salt, salt, STORE_SALT_LEN);
}

void identity_thread_end(void)
{
    OPENSSL_cleanse(identity_salts, sizeof(identity_salts));
}

/* The bucket bytes of r's address (client_bucket()); wipes the address. */
static size_t identity_bucket_bytes(const struct request *r, unsigned char out[CLIENT_BUCKET_MAX])
{
    struct client_addr a;
    size_t n = client_bucket(client_address(r, &a) == 0 ? &a : NULL, out);
    OPENSSL_cleanse(&a, sizeof(a));
    return n;
}

static void identity_hmac(const unsigned char *salt, const unsigned char *data, size_t len,
                          unsigned char md[32])
{
    unsigned int mdlen = 0;
    if (!HMAC(EVP_sha256(), salt, STORE_SALT_LEN, data, len, md, &mdlen) || mdlen != 32)
        memset(md, 0, 32); /* OpenSSL refused: never a hash of nothing but zeros in practice */
}

static void identity_set_bucket(struct request *r, const unsigned char *salt)
{
    unsigned char in[CLIENT_BUCKET_MAX], md[32];
    size_t n = identity_bucket_bytes(r, in);
    identity_hmac(salt, in, n, md);
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
    identity_set_bucket(r, salt);
    then(r, 1);
}

void identity_bucket(struct request *r, identity_cb *cb)
{
    char day[IDENTITY_DAY_LEN];
    identity_day(r, day);
    const unsigned char *salt = identity_find(day);
    if (salt) {
        identity_set_bucket(r, salt);
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
    const unsigned char *salt = identity_find(day);
    if (!salt) /* identity_bucket() said 1 for this day: only when called out of turn */
        salt = identity_salts[0].salt;
    const char *ua = request_header(r, "User-Agent");
    if (!ua)
        ua = "";
    size_t ua_len = strlen(ua), site_len = strlen(site);
    unsigned char bucket[CLIENT_BUCKET_MAX], md[32];
    size_t n = identity_bucket_bytes(r, bucket);

    /* "r" || bucket bytes || 0 || User-Agent || 0 || site, fed in pieces */
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0),
                           OSSL_PARAM_construct_end()};
    size_t mdlen = 0;
    static const unsigned char zero = 0;
    if (!ctx || EVP_MAC_init(ctx, salt, STORE_SALT_LEN, params) != 1 ||
        EVP_MAC_update(ctx, (const unsigned char *)"r", 1) != 1 ||
        EVP_MAC_update(ctx, bucket, n) != 1 || EVP_MAC_update(ctx, &zero, 1) != 1 ||
        EVP_MAC_update(ctx, (const unsigned char *)ua, ua_len) != 1 ||
        EVP_MAC_update(ctx, &zero, 1) != 1 ||
        EVP_MAC_update(ctx, (const unsigned char *)site, site_len) != 1 ||
        EVP_MAC_final(ctx, md, &mdlen, sizeof(md)) != 1 || mdlen != 32)
        memset(md, 0, sizeof(md));
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
    memcpy(out, md, COOKIE_ID_LEN);
    OPENSSL_cleanse(bucket, sizeof(bucket));
}
