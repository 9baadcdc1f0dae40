/* cookie.c - minting, signing and verifying the voter cookie.
 *
 * The HMAC covers the version prefix and the raw id, so a value from another
 * version or another secret never verifies. Decoding is strict: a value must
 * re-encode to exactly the same text, so there is one spelling per id.
 * A value signed with one of the previous secrets verifies too (and says so),
 * so that the caller signs it again with the current one.
 * Must not log, and must not keep any state between calls but the calling
 * thread's copies of the keyed MAC contexts. */
#include "cookie.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <openssl/hmac.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define COOKIE_PREFIX     "v1."
#define COOKIE_PREFIX_LEN 3
#define COOKIE_ID_B64     22
#define COOKIE_MAC_B64    43

int cookie_mint(unsigned char id[COOKIE_ID_LEN])
{
    return RAND_bytes(id, COOKIE_ID_LEN) == 1 ? 0 : -1;
}

size_t cookie_b64url(const unsigned char *in, size_t len, char *out)
{
    int n = EVP_EncodeBlock((unsigned char *)out, in, (int)len);
    while (n > 0 && out[n - 1] == '=')
        n--;
    out[n] = '\0';
    for (int i = 0; i < n; i++) {
        if (out[i] == '+')
            out[i] = '-';
        else if (out[i] == '/')
            out[i] = '_';
    }
    return (size_t)n;
}

/* Strict decode of exactly want bytes from len base64url chars. */
static int cookie_unb64url(const char *in, size_t len, unsigned char *out, size_t want)
{
    char buf[64];
    unsigned char bytes[48];
    char again[68];
    size_t padded = (len + 3) / 4 * 4;
    if (padded >= sizeof(buf) || (want + 2) / 3 * 3 > sizeof(bytes))
        return -1;
    for (size_t i = 0; i < len; i++) {
        char c = in[i];
        if (c == '-')
            c = '+';
        else if (c == '_')
            c = '/';
        else if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
            return -1;
        buf[i] = c;
    }
    for (size_t i = len; i < padded; i++)
        buf[i] = '=';
    int n = EVP_DecodeBlock(bytes, (const unsigned char *)buf, (int)padded);
    if (n < (int)want)
        return -1;
    memcpy(out, bytes, want);
    /* Canonical form only: the bytes must encode back to the same text. */
    if (cookie_b64url(out, want, again) != len || memcmp(again, in, len) != 0)
        return -1;
    return 0;
}

/* The calling thread's copies of the keyed contexts: slot 0 is the current
 * secret's, slot 1 + i previous[i]'s (gen names each one's origin). */
#define COOKIE_SLOTS (1 + COOKIE_PREVIOUS_MAX)
static _Thread_local EVP_MAC_CTX *cookie_tl_ctx[COOKIE_SLOTS];
static _Thread_local unsigned long cookie_tl_gen[COOKIE_SLOTS];
static atomic_ulong cookie_gen_next = 1;

/* Keys one context with secret; NULL when OpenSSL refused. */
static EVP_MAC_CTX *cookie_key_ctx(EVP_MAC *hmac, const unsigned char *secret, size_t len,
                                   unsigned long *gen)
{
    OSSL_PARAM params[2] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "SHA256", 0),
                            OSSL_PARAM_construct_end()};
    EVP_MAC_CTX *ctx = hmac ? EVP_MAC_CTX_new(hmac) : NULL;
    if (!ctx || EVP_MAC_init(ctx, secret, len, params) != 1) {
        EVP_MAC_CTX_free(ctx);
        return NULL;
    }
    *gen = atomic_fetch_add(&cookie_gen_next, 1);
    return ctx;
}

int cookie_conf_key(struct cookie_conf *conf)
{
    cookie_conf_unkey(conf);
    conf->hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    conf->mac = cookie_key_ctx(conf->hmac, conf->secret, conf->secret_len, &conf->mac_gen);
    int ok = conf->mac != NULL;
    for (size_t i = 0; i < conf->n_previous; i++) {
        struct cookie_key *k = &conf->previous[i];
        k->mac = cookie_key_ctx(conf->hmac, k->secret, k->len, &k->gen);
        ok = ok && k->mac != NULL;
    }
    if (!ok) {
        cookie_conf_unkey(conf);
        return -1;
    }
    return 0;
}

void cookie_conf_unkey(struct cookie_conf *conf)
{
    EVP_MAC_CTX_free(conf->mac);
    for (size_t i = 0; i < conf->n_previous; i++) {
        EVP_MAC_CTX_free(conf->previous[i].mac);
        conf->previous[i].mac = NULL;
        conf->previous[i].gen = 0;
    }
    EVP_MAC_free(conf->hmac);
    conf->mac = NULL;
    conf->hmac = NULL;
    conf->mac_gen = 0;
}

void cookie_thread_end(void)
{
    for (size_t i = 0; i < COOKIE_SLOTS; i++) {
        EVP_MAC_CTX_free(cookie_tl_ctx[i]);
        cookie_tl_ctx[i] = NULL;
        cookie_tl_gen[i] = 0;
    }
}

/* This thread's copy of the keyed context mac (made gen) in slot, or NULL. */
static EVP_MAC_CTX *cookie_ctx(size_t slot, const EVP_MAC_CTX *mac, unsigned long gen)
{
    if (!mac)
        return NULL;
    if (cookie_tl_gen[slot] != gen) {
        EVP_MAC_CTX_free(cookie_tl_ctx[slot]);
        cookie_tl_ctx[slot] = EVP_MAC_CTX_dup(mac);
        cookie_tl_gen[slot] = cookie_tl_ctx[slot] ? gen : 0;
    }
    return cookie_tl_ctx[slot];
}

/* The MAC of msg[0..len) under the current secret (which = 0) or previous[which - 1]. */
static void cookie_mac_with(const struct cookie_conf *conf, size_t which, const void *msg,
                            size_t len, unsigned char mac[COOKIE_MAC_LEN])
{
    const struct cookie_key *k = which ? &conf->previous[which - 1] : NULL;
    EVP_MAC_CTX *ctx =
        k ? cookie_ctx(which, k->mac, k->gen) : cookie_ctx(0, conf->mac, conf->mac_gen);
    size_t outlen = 0;
    /* EVP_MAC_init without a key starts over with the key it holds. */
    if (ctx && EVP_MAC_init(ctx, NULL, 0, NULL) == 1 && EVP_MAC_update(ctx, msg, len) == 1 &&
        EVP_MAC_final(ctx, mac, &outlen, COOKIE_MAC_LEN) == 1 && outlen == COOKIE_MAC_LEN)
        return;
    unsigned int maclen = COOKIE_MAC_LEN;
    HMAC(EVP_sha256(), k ? k->secret : conf->secret, (int)(k ? k->len : conf->secret_len), msg, len,
         mac, &maclen);
}

void cookie_mac(const struct cookie_conf *conf, const void *msg, size_t len,
                unsigned char mac[COOKIE_MAC_LEN])
{
    cookie_mac_with(conf, 0, msg, len, mac);
}

/* The MAC of a cookie's id: over "v1." || id. */
static void cookie_id_mac(const struct cookie_conf *conf, size_t which,
                          const unsigned char id[COOKIE_ID_LEN], unsigned char mac[COOKIE_MAC_LEN])
{
    unsigned char msg[COOKIE_PREFIX_LEN + COOKIE_ID_LEN];
    memcpy(msg, COOKIE_PREFIX, COOKIE_PREFIX_LEN);
    memcpy(msg + COOKIE_PREFIX_LEN, id, COOKIE_ID_LEN);
    cookie_mac_with(conf, which, msg, sizeof(msg), mac);
}

void cookie_sign(const struct cookie_conf *conf, const unsigned char id[COOKIE_ID_LEN],
                 char out[COOKIE_VALUE_LEN + 1])
{
    unsigned char mac[COOKIE_MAC_LEN];
    char b64[48];
    cookie_id_mac(conf, 0, id, mac);
    memcpy(out, COOKIE_PREFIX, COOKIE_PREFIX_LEN);
    size_t off = COOKIE_PREFIX_LEN;
    cookie_b64url(id, COOKIE_ID_LEN, b64);
    memcpy(out + off, b64, COOKIE_ID_B64);
    off += COOKIE_ID_B64;
    out[off++] = '.';
    cookie_b64url(mac, COOKIE_MAC_LEN, b64);
    memcpy(out + off, b64, COOKIE_MAC_B64);
    off += COOKIE_MAC_B64;
    out[off] = '\0';
}

int cookie_verify(const struct cookie_conf *conf, const char *value, size_t len,
                  unsigned char id[COOKIE_ID_LEN])
{
    unsigned char got_id[COOKIE_ID_LEN];
    unsigned char got_mac[COOKIE_MAC_LEN];
    unsigned char want_mac[COOKIE_MAC_LEN];

    if (len != COOKIE_VALUE_LEN || memcmp(value, COOKIE_PREFIX, COOKIE_PREFIX_LEN) != 0 ||
        value[COOKIE_PREFIX_LEN + COOKIE_ID_B64] != '.')
        return -1;
    if (cookie_unb64url(value + COOKIE_PREFIX_LEN, COOKIE_ID_B64, got_id, COOKIE_ID_LEN) != 0 ||
        cookie_unb64url(value + COOKIE_PREFIX_LEN + COOKIE_ID_B64 + 1, COOKIE_MAC_B64, got_mac,
                        COOKIE_MAC_LEN) != 0)
        return -1;
    for (size_t which = 0; which <= conf->n_previous; which++) {
        cookie_id_mac(conf, which, got_id, want_mac);
        if (CRYPTO_memcmp(got_mac, want_mac, COOKIE_MAC_LEN) == 0) {
            memcpy(id, got_id, COOKIE_ID_LEN);
            return which ? COOKIE_PREVIOUS : 0;
        }
    }
    return -1;
}

int cookie_from_header(const struct cookie_conf *conf, const char *header,
                       unsigned char id[COOKIE_ID_LEN])
{
    size_t name_len = strlen(conf->name);
    const char *p = header;
    int found = -1;
    unsigned char got_id[COOKIE_ID_LEN];
    while (p && *p) {
        while (*p == ' ' || *p == '\t' || *p == ';')
            p++;
        const char *end = strchr(p, ';');
        size_t pair_len = end ? (size_t)(end - p) : strlen(p);
        while (pair_len > 0 && (p[pair_len - 1] == ' ' || p[pair_len - 1] == '\t'))
            pair_len--;
        if (pair_len > name_len && memcmp(p, conf->name, name_len) == 0 && p[name_len] == '=') {
            const char *v = p + name_len + 1;
            size_t vlen = pair_len - name_len - 1;
            if (vlen >= 2 && v[0] == '"' && v[vlen - 1] == '"') {
                v++;
                vlen -= 2;
            }
            int got = cookie_verify(conf, v, vlen, got_id);
            if (got == 0 || (got == COOKIE_PREVIOUS && found < 0)) {
                memcpy(id, got_id, COOKIE_ID_LEN);
                found = got;
            }
            if (got == 0)
                break;
        }
        p = end;
    }
    OPENSSL_cleanse(got_id, sizeof(got_id));
    return found;
}

int cookie_set_header(const struct cookie_conf *conf, const unsigned char id[COOKIE_ID_LEN],
                      char *out, size_t size)
{
    static const char *const samesite[] = {"Lax", "Strict", "None"};
    char value[COOKIE_VALUE_LEN + 1];
    cookie_sign(conf, id, value);
    int n = snprintf(out, size, "%s=%s; Path=/; Max-Age=%lld; HttpOnly; SameSite=%s%s%s",
                     conf->name, value, conf->max_age, samesite[conf->samesite],
                     conf->secure ? "; Secure" : "", conf->partitioned ? "; Partitioned" : "");
    OPENSSL_cleanse(value, sizeof(value));
    if (n < 0 || (size_t)n >= size)
        return -1;
    return n;
}

int cookie_parse_samesite(const char *s, enum cookie_samesite *out)
{
    if (strcasecmp(s, "lax") == 0)
        *out = COOKIE_SAMESITE_LAX;
    else if (strcasecmp(s, "strict") == 0)
        *out = COOKIE_SAMESITE_STRICT;
    else if (strcasecmp(s, "none") == 0)
        *out = COOKIE_SAMESITE_NONE;
    else
        return -1;
    return 0;
}
