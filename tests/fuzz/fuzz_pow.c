/* fuzz_pow.c - the proof-of-work answer (src/http/pow.c).
 *
 * The input is an X-Thamdo-Proof header, checked against the fuzz poll and bucket. Properties:
 * pow_check never reads outside the header; what it answers is one of its results; the proof is
 * filled exactly when the MAC verified (an id of 32 hex, the token's difficulty) and zeroed
 * otherwise; POW_OK means the hash of the header has the token's difficulty in zero bits. Then a
 * token minted for a poll id and bucket made from the input, solved here at a low difficulty,
 * checks POW_OK, is POW_MISMATCH for another poll or bucket and POW_EXPIRED at its second; with
 * one character of its token changed (position and character from the input) it is forged or
 * malformed. Must not check anything pow.h does not promise. */
#include <openssl/sha.h>

#include "fuzz.h"
#include "pow.h"

#define FUZZ_POLL    "lunch-2026"
#define FUZZ_BUCKET  "0123456789abcdef"
#define FUZZ_NOW     1900000000LL
#define FUZZ_EXPIRES 4000000000LL

static struct cookie_conf fuzz_conf;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_cookie_conf(&fuzz_conf);
    FUZZ_CHECK(cookie_conf_key(&fuzz_conf) == 0);
    return 0;
}

static int fuzz_zero_bits(const char *s)
{
    unsigned char d[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)s, strlen(s), d);
    return pow_zero_bits(d);
}

/* The whole input as a header. */
static void fuzz_header(const uint8_t *data, size_t size)
{
    char *header = fuzz_strndup(data, size);
    struct pow_proof proof;
    enum pow_result r = pow_check(&fuzz_conf, header, FUZZ_POLL, FUZZ_BUCKET, FUZZ_NOW, &proof);
    FUZZ_CHECK(r <= POW_OK && r >= POW_UNSOLVED);
    if (r == POW_MALFORMED || r == POW_FORGED) {
        FUZZ_CHECK(proof.difficulty == 0 && proof.expires == 0 && proof.id[0] == '\0');
    } else {
        FUZZ_CHECK(proof.difficulty >= 1 && proof.difficulty <= POW_DIFFICULTY_MAX);
        FUZZ_CHECK(strlen(proof.id) == POW_ID_HEX && strspn(proof.id, "0123456789abcdef") == 32);
        FUZZ_CHECK(r != POW_OK || fuzz_zero_bits(header) >= proof.difficulty);
        FUZZ_CHECK(r != POW_EXPIRED || FUZZ_NOW >= proof.expires);
    }
    free(header);
}

/* A token minted from the input's first bytes, solved, checked and altered. */
static void fuzz_minted(const uint8_t *data, size_t size)
{
    static const char slug[] = "abcdefghijklmnopqrstuvwxyz0123456789-";
    static const char hex[] = "0123456789abcdef";
    if (size < 4)
        return;
    int difficulty = 1 + data[0] % 4;
    size_t plen = 1 + data[1] % TEXT_SLUG_MAX;
    char poll[TEXT_SLUG_MAX + 1], bucket[17];
    for (size_t i = 0; i < plen; i++)
        poll[i] = slug[(i + 2 < size ? data[i + 2] : i) % (sizeof(slug) - 1)];
    poll[plen] = '\0';
    for (size_t i = 0; i < 16; i++)
        bucket[i] = hex[(data[size - 1] + i * 7) % 16];
    bucket[16] = '\0';

    char token[POW_TOKEN_MAX + 1], header[POW_TOKEN_MAX + 32];
    FUZZ_CHECK(pow_mint(&fuzz_conf, poll, bucket, difficulty, FUZZ_EXPIRES, token) == 0);
    for (unsigned a = 0;; a++) {
        snprintf(header, sizeof(header), "%s:%u", token, a);
        if (fuzz_zero_bits(header) >= difficulty)
            break;
        FUZZ_CHECK(a < 1u << 20);
    }
    struct pow_proof proof;
    FUZZ_CHECK(pow_check(&fuzz_conf, header, poll, bucket, FUZZ_NOW, &proof) == POW_OK);
    FUZZ_CHECK(proof.difficulty == difficulty && proof.expires == FUZZ_EXPIRES);
    FUZZ_CHECK(pow_check(&fuzz_conf, header, poll, bucket, FUZZ_EXPIRES, &proof) == POW_EXPIRED);
    char other[TEXT_SLUG_MAX + 2];
    snprintf(other, sizeof(other), "%s%c", poll, plen < TEXT_SLUG_MAX ? 'x' : '\0');
    if (plen == TEXT_SLUG_MAX)
        other[0] = other[0] == 'a' ? 'b' : 'a';
    FUZZ_CHECK(pow_check(&fuzz_conf, header, other, bucket, FUZZ_NOW, &proof) == POW_MISMATCH);
    bucket[0] = bucket[0] == '0' ? '1' : '0';
    FUZZ_CHECK(pow_check(&fuzz_conf, header, poll, bucket, FUZZ_NOW, &proof) == POW_MISMATCH);
    bucket[0] = bucket[0] == '0' ? '1' : '0';

    size_t tlen = strlen(token);
    size_t at = data[2] % tlen;
    char c = (char)data[3];
    if (c != header[at] && c != '\0') {
        header[at] = c;
        enum pow_result r = pow_check(&fuzz_conf, header, poll, bucket, FUZZ_NOW, &proof);
        FUZZ_CHECK(r == POW_FORGED || r == POW_MALFORMED);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_header(data, size);
    fuzz_minted(data, size);
    return 0;
}
