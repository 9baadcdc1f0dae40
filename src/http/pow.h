/* pow.h - the proof-of-work challenge of a vote past the soft rate limit.
 *
 * A challenge is stateless: a token signed with the cookie secret that names
 * the poll, the reader's address bucket, a difficulty and an expiry:
 *   p1.<expires unix>.<difficulty 1..32>.<poll id>.<bucket hex16>.<16 random bytes b64url>.<mac>
 * where mac = b64url(HMAC-SHA256(secret, everything before the last dot)).
 * The reader answers with the X-Thamdo-Proof header "<token>:<answer>": a
 * decimal counter such that SHA-256(token ":" answer) starts with at least
 * difficulty zero bits. Single use is the caller's: it records the proof's id
 * (struct pow_proof) until the token expires.
 * Owns: minting and checking tokens and answers, pure (no clock, no Redis,
 * no HTTP). Must not log, and must not accept a token whose MAC does not
 * verify against the current secret (previous secrets are not tried: a
 * challenge lives minutes). */
#ifndef THAMDO_POW_H
#define THAMDO_POW_H

#include <stdint.h>

struct cookie_conf;

#define POW_TOKEN_MAX      200
#define POW_DIFFICULTY_MAX 32
#define POW_ANSWER_MAX     20 /* decimal digits of an answer */
#define POW_ID_HEX         32 /* hex chars of a proof's id */

enum pow_result {
    POW_OK = 0,
    POW_MALFORMED = -1, /* not "<token>:<answer>" of the documented shape */
    POW_FORGED = -2,    /* the MAC does not verify */
    POW_EXPIRED = -3,   /* now >= expires */
    POW_MISMATCH = -4,  /* other poll or bucket */
    POW_UNSOLVED = -5,  /* the answer's hash has too few leading zero bits */
};

/* Mints a token for poll_id (a slug) and bucket (16 lowercase hex chars) into
 * out. 0, or -1 when an argument is out of range (difficulty 1..32, expires
 * > 0) or the CSPRNG failed (out is then empty). */
int pow_mint(const struct cookie_conf *conf, const char *poll_id, const char *bucket,
             int difficulty, int64_t expires, char out[POW_TOKEN_MAX + 1]);

struct pow_proof {
    int difficulty;          /* the token's */
    int64_t expires;         /* the token's, unix seconds */
    char id[POW_ID_HEX + 1]; /* hex of the first 16 bytes of SHA-256(token): its single-use key */
};

/* Checks header = "<token>:<answer>" (answer 1..20 decimal digits). POW_OK
 * when the MAC verifies (constant time), now < expires, poll and bucket
 * match, and SHA-256(token ":" answer) starts with at least the token's
 * difficulty zero bits; otherwise the first check that failed, in that
 * order. out is filled whenever the MAC verified (POW_OK, POW_EXPIRED,
 * POW_MISMATCH, POW_UNSOLVED), zeroed otherwise; the caller compares
 * out->difficulty with what it requires now. header may be NULL. */
enum pow_result pow_check(const struct cookie_conf *conf, const char *header, const char *poll_id,
                          const char *bucket, int64_t now, struct pow_proof *out);

/* The number of leading zero bits of a SHA-256 digest (0..256). */
int pow_zero_bits(const unsigned char digest[32]);

/* A short English name of a result, for metrics and tests ("ok", "malformed", ...). */
const char *pow_result_name(enum pow_result r);

#endif
