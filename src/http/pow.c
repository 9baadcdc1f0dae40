/* pow.c - minting and checking proof-of-work challenges (pow.h).
 *
 * Parsing is strict and bounded: every field of a token has one spelling
 * (decimal without sign or leading zero, a slug, lowercase hex, base64url of
 * fixed length), so a token that verifies is exactly the text that was
 * minted. The MAC is compared as its base64url text with CRYPTO_memcmp.
 * Must not keep any state, read the clock or log. */
#include "pow.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>

#include "cookie.h"
#include "text.h"

#define POW_PREFIX     "p1."
#define POW_PREFIX_LEN 3
#define POW_BUCKET_HEX 16
#define POW_NONCE_LEN  16
#define POW_NONCE_B64  22
#define POW_MAC_B64    43
#define POW_FIELDS     6 /* after the prefix: expires, difficulty, poll, bucket, nonce, mac */

/* 1 when s[0..len) is lowercase hex. */
static int pow_is_hex(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

/* 1 when s[0..len) is base64url text. */
static int pow_is_b64url(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return 0;
    }
    return 1;
}

/* Parses s[0..len) as a decimal in [1, max] without sign or leading zero. */
static int pow_parse_positive(const char *s, size_t len, int64_t max, int64_t *out)
{
    if (len == 0 || len > 19 || s[0] == '0')
        return -1;
    int64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        int d = s[i] - '0';
        if (v > (max - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

/* The base64url MAC of token[0..len) into out (POW_MAC_B64 + 1 bytes). */
static void pow_mac_text(const struct cookie_conf *conf, const char *token, size_t len,
                         char out[POW_MAC_B64 + 1])
{
    unsigned char mac[COOKIE_MAC_LEN];
    char b64[48];
    cookie_mac(conf, token, len, mac);
    cookie_b64url(mac, sizeof(mac), b64);
    memcpy(out, b64, POW_MAC_B64 + 1);
    OPENSSL_cleanse(mac, sizeof(mac));
}

int pow_mint(const struct cookie_conf *conf, const char *poll_id, const char *bucket,
             int difficulty, int64_t expires, char out[POW_TOKEN_MAX + 1])
{
    unsigned char nonce[POW_NONCE_LEN];
    char nonce_b64[POW_NONCE_B64 + 4];
    char mac[POW_MAC_B64 + 1];
    out[0] = '\0';
    if (!poll_id || !bucket || !text_is_slug(poll_id, strlen(poll_id)) ||
        strlen(bucket) != POW_BUCKET_HEX || !pow_is_hex(bucket, POW_BUCKET_HEX) || difficulty < 1 ||
        difficulty > POW_DIFFICULTY_MAX || expires < 1)
        return -1;
    if (RAND_bytes(nonce, sizeof(nonce)) != 1)
        return -1;
    cookie_b64url(nonce, sizeof(nonce), nonce_b64);
    int n = snprintf(out, POW_TOKEN_MAX + 1, POW_PREFIX "%lld.%d.%s.%s.%s", (long long)expires,
                     difficulty, poll_id, bucket, nonce_b64);
    /* The longest token is 175 chars: the checks above keep n in range. */
    if (n < 0 || (size_t)n + 1 + POW_MAC_B64 > POW_TOKEN_MAX) {
        out[0] = '\0';
        return -1;
    }
    pow_mac_text(conf, out, (size_t)n, mac);
    out[n] = '.';
    memcpy(out + n + 1, mac, POW_MAC_B64 + 1);
    return 0;
}

int pow_zero_bits(const unsigned char digest[32])
{
    int bits = 0;
    for (int i = 0; i < 32; i++) {
        if (digest[i] == 0) {
            bits += 8;
            continue;
        }
        for (unsigned char b = digest[i]; !(b & 0x80); b = (unsigned char)(b << 1))
            bits++;
        break;
    }
    return bits;
}

/* The fields of a token that parsed. */
struct pow_fields {
    const char *f[POW_FIELDS]; /* start of each field after the prefix */
    size_t len[POW_FIELDS];
    int64_t expires;
    int difficulty;
};

/* Splits and checks the shape of token[0..len). 0, or -1 when malformed. */
static int pow_parse(const char *token, size_t len, struct pow_fields *t)
{
    if (len <= POW_PREFIX_LEN || len > POW_TOKEN_MAX ||
        memcmp(token, POW_PREFIX, POW_PREFIX_LEN) != 0)
        return -1;
    const char *p = token + POW_PREFIX_LEN;
    const char *end = token + len;
    for (int i = 0; i < POW_FIELDS; i++) {
        const char *dot = i + 1 < POW_FIELDS ? memchr(p, '.', (size_t)(end - p)) : end;
        if (!dot)
            return -1;
        t->f[i] = p;
        t->len[i] = (size_t)(dot - p);
        p = dot + 1;
    }
    int64_t difficulty = 0;
    if (pow_parse_positive(t->f[0], t->len[0], INT64_MAX, &t->expires) != 0 ||
        pow_parse_positive(t->f[1], t->len[1], POW_DIFFICULTY_MAX, &difficulty) != 0 ||
        !text_is_slug(t->f[2], t->len[2]) || t->len[3] != POW_BUCKET_HEX ||
        !pow_is_hex(t->f[3], t->len[3]) || t->len[4] != POW_NONCE_B64 ||
        !pow_is_b64url(t->f[4], t->len[4]) || t->len[5] != POW_MAC_B64 ||
        !pow_is_b64url(t->f[5], t->len[5]))
        return -1;
    t->difficulty = (int)difficulty;
    return 0;
}

/* 1 when field[0..len) equals the string s. */
static int pow_field_is(const char *field, size_t len, const char *s)
{
    return s && strlen(s) == len && memcmp(field, s, len) == 0;
}

enum pow_result pow_check(const struct cookie_conf *conf, const char *header, const char *poll_id,
                          const char *bucket, int64_t now, struct pow_proof *out)
{
    memset(out, 0, sizeof(*out));
    if (!header)
        return POW_MALFORMED;
    size_t hlen = strnlen(header, POW_TOKEN_MAX + 1 + POW_ANSWER_MAX + 1);
    const char *colon = memrchr(header, ':', hlen);
    if (!colon || header[hlen] != '\0')
        return POW_MALFORMED;
    size_t tlen = (size_t)(colon - header);
    size_t alen = hlen - tlen - 1;
    if (alen < 1 || alen > POW_ANSWER_MAX)
        return POW_MALFORMED;
    for (size_t i = 0; i < alen; i++)
        if (colon[1 + i] < '0' || colon[1 + i] > '9')
            return POW_MALFORMED;
    struct pow_fields t;
    if (pow_parse(header, tlen, &t) != 0)
        return POW_MALFORMED;

    char want[POW_MAC_B64 + 1];
    size_t signed_len = (size_t)(t.f[5] - header) - 1;
    pow_mac_text(conf, header, signed_len, want);
    if (CRYPTO_memcmp(want, t.f[5], POW_MAC_B64) != 0)
        return POW_FORGED;

    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)header, tlen, digest);
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < POW_ID_HEX / 2; i++) {
        out->id[2 * i] = hex[digest[i] >> 4];
        out->id[2 * i + 1] = hex[digest[i] & 15];
    }
    out->id[POW_ID_HEX] = '\0';
    out->difficulty = t.difficulty;
    out->expires = t.expires;

    if (now >= t.expires)
        return POW_EXPIRED;
    if (!pow_field_is(t.f[2], t.len[2], poll_id) || !pow_field_is(t.f[3], t.len[3], bucket))
        return POW_MISMATCH;
    SHA256((const unsigned char *)header, hlen, digest);
    if (pow_zero_bits(digest) < t.difficulty)
        return POW_UNSOLVED;
    return POW_OK;
}

const char *pow_result_name(enum pow_result r)
{
    switch (r) {
    case POW_OK:
        return "ok";
    case POW_MALFORMED:
        return "malformed";
    case POW_FORGED:
        return "forged";
    case POW_EXPIRED:
        return "expired";
    case POW_MISMATCH:
        return "mismatch";
    case POW_UNSOLVED:
        return "unsolved";
    }
    return "unknown";
}
