/* test_pow.c - the proof-of-work challenge (pow.h).
 *
 * Covers: the exact wire shape of a token and its MAC (checked against a
 * one-shot HMAC over everything before the last dot); a solved challenge is
 * accepted and its proof carries the token's difficulty, expiry and id
 * (SHA-256 of the token); the difficulty boundary (exactly d zero bits pass
 * at d, fail at d + 1); expiry at now == expires; another poll or bucket;
 * every altered field is forged or malformed; another secret; every
 * malformed header (separator, answer length and digits, field counts and
 * spellings, lengths); minting refuses out-of-range arguments and the
 * longest token fits; counting zero bits; a keyed conf gives the same MAC. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>

#include "cookie.h"
#include "pow.h"

#define TEST_POLL    "lunch-2026"
#define TEST_BUCKET  "0123456789abcdef"
#define TEST_EXPIRES 1900000000LL
#define TEST_NOW     (TEST_EXPIRES - 60)

static void make_conf(struct cookie_conf *conf, const char *secret)
{
    memset(conf, 0, sizeof(*conf));
    snprintf(conf->name, sizeof(conf->name), "%s", "thamdo_vid");
    conf->secret_len = strlen(secret);
    memcpy(conf->secret, secret, conf->secret_len);
}

static void default_conf(struct cookie_conf *conf)
{
    make_conf(conf, "an-unguessable-secret-of-at-least-32-bytes!");
}

static int zero_bits_of(const char *s)
{
    unsigned char d[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)s, strlen(s), d);
    return pow_zero_bits(d);
}

/* The first answer (counting from 0) whose hash has bits zero bits: exactly
 * that many when exact, at least that many otherwise; header gets "token:answer". */
static void solve(const char *token, int bits, int exact, char *header, size_t size)
{
    for (unsigned long long a = 0; a < 100000000ULL; a++) {
        snprintf(header, size, "%s:%llu", token, a);
        int got = zero_bits_of(header);
        if (exact ? got == bits : got >= bits)
            return;
    }
    fail_msg("no answer found");
}

static void mint(const struct cookie_conf *conf, int difficulty, char token[POW_TOKEN_MAX + 1])
{
    assert_int_equal(pow_mint(conf, TEST_POLL, TEST_BUCKET, difficulty, TEST_EXPIRES, token), 0);
}

static enum pow_result check(const struct cookie_conf *conf, const char *header)
{
    struct pow_proof proof;
    return pow_check(conf, header, TEST_POLL, TEST_BUCKET, TEST_NOW, &proof);
}

/* A challenge of the default conf, minted at difficulty and answered with the first answer
 * that has at least that many zero bits. */
struct challenge {
    struct cookie_conf conf;
    char token[POW_TOKEN_MAX + 1];
    char header[256];
};

static void solved(struct challenge *c, int difficulty)
{
    default_conf(&c->conf);
    mint(&c->conf, difficulty, c->token);
    solve(c->token, difficulty, 0, c->header, sizeof(c->header));
}

/* ---- wire shape ---- */

static void test_pow_token_has_the_exact_wire_shape(void **state)
{
    (void)state;
    struct cookie_conf conf;
    char token[POW_TOKEN_MAX + 1];
    default_conf(&conf);
    mint(&conf, 14, token);
    const char *head = "p1.1900000000.14." TEST_POLL "." TEST_BUCKET ".";
    assert_memory_equal(token, head, strlen(head));
    assert_int_equal(strlen(token), strlen(head) + 22 + 1 + 43);
    assert_int_equal(token[strlen(head) + 22], '.');
    for (size_t i = strlen(head); token[i]; i++)
        assert_non_null(
            strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.", token[i]));
}

static void test_pow_token_mac_is_hmac_sha256_of_everything_before_the_last_dot(void **state)
{
    (void)state;
    struct cookie_conf conf;
    char token[POW_TOKEN_MAX + 1];
    default_conf(&conf);
    mint(&conf, 10, token);
    const char *dot = strrchr(token, '.');
    unsigned char mac[32];
    unsigned int maclen = sizeof(mac);
    HMAC(EVP_sha256(), conf.secret, (int)conf.secret_len, (const unsigned char *)token,
         (size_t)(dot - token), mac, &maclen);
    char b64[48];
    cookie_b64url(mac, sizeof(mac), b64);
    assert_string_equal(dot + 1, b64);
}

static void test_pow_tokens_differ_by_their_random_part(void **state)
{
    (void)state;
    struct cookie_conf conf;
    char a[POW_TOKEN_MAX + 1], b[POW_TOKEN_MAX + 1];
    default_conf(&conf);
    mint(&conf, 14, a);
    mint(&conf, 14, b);
    assert_string_not_equal(a, b);
}

/* A token written by hand (random part fixed) with a one-shot HMAC verifies:
 * the format is the documented one, not merely what pow_mint writes. */
static void test_pow_hand_written_token_verifies(void **state)
{
    (void)state;
    struct cookie_conf conf;
    default_conf(&conf);
    const char *body = "p1.1900000000.4.a.ffffffffffffffff.AAAAAAAAAAAAAAAAAAAAAA";
    unsigned char mac[32];
    unsigned int maclen = sizeof(mac);
    HMAC(EVP_sha256(), conf.secret, (int)conf.secret_len, (const unsigned char *)body, strlen(body),
         mac, &maclen);
    char b64[48], token[POW_TOKEN_MAX + 1], header[256];
    cookie_b64url(mac, sizeof(mac), b64);
    snprintf(token, sizeof(token), "%s.%s", body, b64);
    solve(token, 4, 0, header, sizeof(header));
    struct pow_proof proof;
    assert_int_equal(pow_check(&conf, header, "a", "ffffffffffffffff", TEST_NOW, &proof), POW_OK);
    assert_int_equal(proof.difficulty, 4);
}

/* ---- accepted ---- */

static void test_pow_solved_challenge_is_accepted_with_its_proof(void **state)
{
    (void)state;
    struct challenge c;
    solved(&c, 8);
    struct pow_proof proof;
    assert_int_equal(pow_check(&c.conf, c.header, TEST_POLL, TEST_BUCKET, TEST_NOW, &proof),
                     POW_OK);
    assert_int_equal(proof.difficulty, 8);
    assert_int_equal(proof.expires, TEST_EXPIRES);
    unsigned char d[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)c.token, strlen(c.token), d);
    char want[33];
    for (int i = 0; i < 16; i++)
        snprintf(want + 2 * i, 3, "%02x", d[i]);
    assert_string_equal(proof.id, want);
}

static void test_pow_same_token_with_another_answer_has_the_same_id(void **state)
{
    (void)state;
    struct cookie_conf conf;
    char token[POW_TOKEN_MAX + 1], h1[256], h2[256];
    default_conf(&conf);
    mint(&conf, 1, token);
    solve(token, 1, 0, h1, sizeof(h1));
    /* The next answer with at least one zero bit. */
    unsigned long long a = strtoull(strrchr(h1, ':') + 1, NULL, 10) + 1;
    for (;; a++) {
        snprintf(h2, sizeof(h2), "%s:%llu", token, a);
        if (zero_bits_of(h2) >= 1)
            break;
    }
    struct pow_proof p1, p2;
    assert_int_equal(pow_check(&conf, h1, TEST_POLL, TEST_BUCKET, TEST_NOW, &p1), POW_OK);
    assert_int_equal(pow_check(&conf, h2, TEST_POLL, TEST_BUCKET, TEST_NOW, &p2), POW_OK);
    assert_string_equal(p1.id, p2.id);
}

static void test_pow_exactly_difficulty_zero_bits_pass_and_one_fewer_fails(void **state)
{
    (void)state;
    struct cookie_conf conf;
    char token[POW_TOKEN_MAX + 1], header[256];
    default_conf(&conf);
    mint(&conf, 6, token);
    solve(token, 6, 1, header, sizeof(header));
    assert_int_equal(check(&conf, header), POW_OK);
    solve(token, 5, 1, header, sizeof(header));
    assert_int_equal(check(&conf, header), POW_UNSOLVED);
}

static void test_pow_keyed_conf_checks_as_the_one_shot(void **state)
{
    (void)state;
    struct cookie_conf plain, keyed;
    char token[POW_TOKEN_MAX + 1], header[256];
    default_conf(&plain);
    default_conf(&keyed);
    assert_int_equal(cookie_conf_key(&keyed), 0);
    mint(&plain, 4, token);
    solve(token, 4, 0, header, sizeof(header));
    assert_int_equal(check(&keyed, header), POW_OK);
    mint(&keyed, 4, token);
    solve(token, 4, 0, header, sizeof(header));
    assert_int_equal(check(&plain, header), POW_OK);
    cookie_conf_unkey(&keyed);
    cookie_thread_end();
}

/* ---- refused ---- */

static void test_pow_expires_at_its_second(void **state)
{
    (void)state;
    struct challenge c;
    struct pow_proof proof;
    solved(&c, 2);
    assert_int_equal(pow_check(&c.conf, c.header, TEST_POLL, TEST_BUCKET, TEST_EXPIRES - 1, &proof),
                     POW_OK);
    assert_int_equal(pow_check(&c.conf, c.header, TEST_POLL, TEST_BUCKET, TEST_EXPIRES, &proof),
                     POW_EXPIRED);
    /* The token is authentic: the proof is filled. */
    assert_int_equal(proof.difficulty, 2);
    assert_int_equal(proof.expires, TEST_EXPIRES);
    assert_int_equal(strlen(proof.id), 32);
}

static void test_pow_other_poll_or_bucket_is_a_mismatch(void **state)
{
    (void)state;
    struct challenge c;
    struct pow_proof proof;
    solved(&c, 2);
    assert_int_equal(pow_check(&c.conf, c.header, "other", TEST_BUCKET, TEST_NOW, &proof),
                     POW_MISMATCH);
    assert_int_equal(pow_check(&c.conf, c.header, "lunch-202", TEST_BUCKET, TEST_NOW, &proof),
                     POW_MISMATCH);
    assert_int_equal(pow_check(&c.conf, c.header, TEST_POLL, "0123456789abcdee", TEST_NOW, &proof),
                     POW_MISMATCH);
    assert_int_equal(pow_check(&c.conf, c.header, TEST_POLL, "", TEST_NOW, &proof), POW_MISMATCH);
    assert_int_equal(pow_check(&c.conf, c.header, NULL, NULL, TEST_NOW, &proof), POW_MISMATCH);
    assert_int_equal(proof.difficulty, 2);
}

static void test_pow_unsolved_answer_is_refused(void **state)
{
    (void)state;
    struct cookie_conf conf;
    char token[POW_TOKEN_MAX + 1], header[256];
    default_conf(&conf);
    mint(&conf, 20, token);
    solve(token, 0, 1, header, sizeof(header));
    assert_int_equal(check(&conf, header), POW_UNSOLVED);
}

static void test_pow_other_secret_is_forged(void **state)
{
    (void)state;
    struct cookie_conf conf, other;
    char token[POW_TOKEN_MAX + 1], header[256];
    struct pow_proof proof;
    default_conf(&conf);
    make_conf(&other, "another-unguessable-secret-of-32-bytes!!");
    mint(&other, 2, token);
    solve(token, 2, 0, header, sizeof(header));
    assert_int_equal(pow_check(&conf, header, TEST_POLL, TEST_BUCKET, TEST_NOW, &proof),
                     POW_FORGED);
    assert_int_equal(proof.difficulty, 0);
    assert_int_equal(proof.id[0], '\0');
}

/* Changing any one character of the token to another that keeps its shape
 * is forged: the MAC covers every field. */
static void test_pow_every_altered_character_is_forged_or_malformed(void **state)
{
    (void)state;
    struct cookie_conf conf;
    char token[POW_TOKEN_MAX + 1], header[256];
    default_conf(&conf);
    mint(&conf, 1, token);
    size_t len = strlen(token);
    int forged = 0;
    for (size_t i = 0; i < len; i++) {
        const char *subst = token[i] == '.' ? "-" : (token[i] == '1' ? "2" : "1");
        snprintf(header, sizeof(header), "%s:0", token);
        header[i] = subst[0];
        enum pow_result r = check(&conf, header);
        assert_true(r == POW_FORGED || r == POW_MALFORMED);
        forged += r == POW_FORGED;
    }
    /* Most positions keep the shape (digits, slug, hex, base64url). */
    assert_true(forged > (int)len / 2);
}

static void test_pow_raised_difficulty_is_forged(void **state)
{
    (void)state;
    struct challenge c;
    solved(&c, 3);
    /* "p1.1900000000.3." -> ".2.": the same length, a lower difficulty. */
    char *d = strstr(c.header, ".3.");
    assert_non_null(d);
    d[1] = '2';
    assert_int_equal(check(&c.conf, c.header), POW_FORGED);
}

static void test_pow_malformed_headers_are_refused(void **state)
{
    (void)state;
    struct cookie_conf conf;
    char token[POW_TOKEN_MAX + 1], header[512];
    default_conf(&conf);
    mint(&conf, 1, token);
    struct pow_proof proof;
    assert_int_equal(pow_check(&conf, NULL, TEST_POLL, TEST_BUCKET, TEST_NOW, &proof),
                     POW_MALFORMED);
    const char *answers[] = {"",   "-1", "+1", " 1", "1 ", "1a", "0x1", "123456789012345678901",
                             "1:1"};
    for (size_t i = 0; i < sizeof(answers) / sizeof(answers[0]); i++) {
        snprintf(header, sizeof(header), "%s:%s", token, answers[i]);
        assert_int_equal(check(&conf, header), POW_MALFORMED);
    }
    /* 20 digits is the longest answer: well-formed (it merely fails or passes). */
    snprintf(header, sizeof(header), "%s:%s", token, "12345678901234567890");
    assert_int_not_equal(check(&conf, header), POW_MALFORMED);
    assert_int_equal(check(&conf, token), POW_MALFORMED);
    assert_int_equal(check(&conf, ""), POW_MALFORMED);
    assert_int_equal(check(&conf, ":1"), POW_MALFORMED);
    snprintf(header, sizeof(header), "x%s:1", token);
    assert_int_equal(check(&conf, header), POW_MALFORMED);
    snprintf(header, sizeof(header), "%s.:1", token);
    assert_int_equal(check(&conf, header), POW_MALFORMED);
    snprintf(header, sizeof(header), "%s:1%s", token, "                                   ");
    assert_int_equal(check(&conf, header), POW_MALFORMED);
}

/* Each field spelled otherwise is malformed, whatever the MAC. */
static void test_pow_field_spellings_are_strict(void **state)
{
    (void)state;
    struct cookie_conf conf;
    default_conf(&conf);
    const char *nonce = "AAAAAAAAAAAAAAAAAAAAAA";
    const char *mac = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    const char *bad[][4] = {
        /* expires, difficulty, poll, bucket */
        {"01900000000", "1", "a", TEST_BUCKET},
        {"0", "1", "a", TEST_BUCKET},
        {"+1900000000", "1", "a", TEST_BUCKET},
        {"99999999999999999999", "1", "a", TEST_BUCKET},
        {"", "1", "a", TEST_BUCKET},
        {"1900000000", "0", "a", TEST_BUCKET},
        {"1900000000", "33", "a", TEST_BUCKET},
        {"1900000000", "01", "a", TEST_BUCKET},
        {"1900000000", "", "a", TEST_BUCKET},
        {"1900000000", "1", "", TEST_BUCKET},
        {"1900000000", "1", "A", TEST_BUCKET},
        {"1900000000", "1", "a_b", TEST_BUCKET},
        {"1900000000", "1", "a", "0123456789ABCDEF"},
        {"1900000000", "1", "a", "0123456789abcde"},
        {"1900000000", "1", "a", "0123456789abcdef0"},
        {"1900000000", "1", "a", "0123456789abcdeg"},
    };
    char header[512];
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(header, sizeof(header), "p1.%s.%s.%s.%s.%s.%s:1", bad[i][0], bad[i][1], bad[i][2],
                 bad[i][3], nonce, mac);
        assert_int_equal(check(&conf, header), POW_MALFORMED);
    }
    /* The same shape with good fields is only forged. */
    snprintf(header, sizeof(header), "p1.1900000000.1.a.%s.%s.%s:1", TEST_BUCKET, nonce, mac);
    assert_int_equal(check(&conf, header), POW_FORGED);
    /* Nonce and MAC lengths and alphabets. */
    snprintf(header, sizeof(header), "p1.1900000000.1.a.%s.%.21s.%s:1", TEST_BUCKET, nonce, mac);
    assert_int_equal(check(&conf, header), POW_MALFORMED);
    snprintf(header, sizeof(header), "p1.1900000000.1.a.%s.%s.%.42s:1", TEST_BUCKET, nonce, mac);
    assert_int_equal(check(&conf, header), POW_MALFORMED);
    snprintf(header, sizeof(header), "p1.1900000000.1.a.%s.AAAAAAAAAAAAAAAAAAAAA+.%s:1",
             TEST_BUCKET, mac);
    assert_int_equal(check(&conf, header), POW_MALFORMED);
    snprintf(header, sizeof(header), "p2.1900000000.1.a.%s.%s.%s:1", TEST_BUCKET, nonce, mac);
    assert_int_equal(check(&conf, header), POW_MALFORMED);
    snprintf(header, sizeof(header), "p1.1900000000.1.a.%s.%s:1", TEST_BUCKET, mac);
    assert_int_equal(check(&conf, header), POW_MALFORMED);
}

static void test_pow_over_long_header_is_malformed(void **state)
{
    (void)state;
    struct cookie_conf conf;
    default_conf(&conf);
    char header[1024];
    memset(header, '1', sizeof(header) - 1);
    header[sizeof(header) - 1] = '\0';
    memcpy(header, "p1.", 3);
    header[500] = ':';
    assert_int_equal(check(&conf, header), POW_MALFORMED);
}

/* ---- minting ---- */

static void test_pow_mint_refuses_out_of_range_arguments(void **state)
{
    (void)state;
    struct cookie_conf conf;
    char token[POW_TOKEN_MAX + 1];
    default_conf(&conf);
    assert_int_equal(pow_mint(&conf, TEST_POLL, TEST_BUCKET, 0, TEST_EXPIRES, token), -1);
    assert_string_equal(token, "");
    assert_int_equal(pow_mint(&conf, TEST_POLL, TEST_BUCKET, 33, TEST_EXPIRES, token), -1);
    assert_int_equal(pow_mint(&conf, TEST_POLL, TEST_BUCKET, 1, 0, token), -1);
    assert_int_equal(pow_mint(&conf, "Bad", TEST_BUCKET, 1, TEST_EXPIRES, token), -1);
    assert_int_equal(pow_mint(&conf, "", TEST_BUCKET, 1, TEST_EXPIRES, token), -1);
    assert_int_equal(pow_mint(&conf, NULL, TEST_BUCKET, 1, TEST_EXPIRES, token), -1);
    assert_int_equal(pow_mint(&conf, TEST_POLL, "0123456789ABCDEF", 1, TEST_EXPIRES, token), -1);
    assert_int_equal(pow_mint(&conf, TEST_POLL, "0123", 1, TEST_EXPIRES, token), -1);
    assert_int_equal(pow_mint(&conf, TEST_POLL, NULL, 1, TEST_EXPIRES, token), -1);
}

static void test_pow_longest_token_fits_and_verifies(void **state)
{
    (void)state;
    struct cookie_conf conf;
    char token[POW_TOKEN_MAX + 1], header[256];
    char poll[65];
    default_conf(&conf);
    memset(poll, 'z', 64);
    poll[64] = '\0';
    assert_int_equal(pow_mint(&conf, poll, TEST_BUCKET, 32, INT64_MAX, token), 0);
    assert_true(strlen(token) <= POW_TOKEN_MAX);
    /* Unsolvable here at 32 bits, but authentic and well-formed. */
    snprintf(header, sizeof(header), "%s:0", token);
    struct pow_proof proof;
    enum pow_result r = pow_check(&conf, header, poll, TEST_BUCKET, TEST_NOW, &proof);
    assert_int_equal(r, zero_bits_of(header) >= 32 ? POW_OK : POW_UNSOLVED);
    assert_int_equal(proof.expires, INT64_MAX);
    assert_int_equal(proof.difficulty, 32);
}

/* ---- zero bits ---- */

static void test_pow_zero_bits_counts_leading_zeros(void **state)
{
    (void)state;
    unsigned char d[32];
    memset(d, 0, sizeof(d));
    assert_int_equal(pow_zero_bits(d), 256);
    d[0] = 0x80;
    assert_int_equal(pow_zero_bits(d), 0);
    d[0] = 0x01;
    assert_int_equal(pow_zero_bits(d), 7);
    d[0] = 0;
    d[1] = 0x10;
    assert_int_equal(pow_zero_bits(d), 11);
    d[1] = 0;
    d[31] = 1;
    assert_int_equal(pow_zero_bits(d), 255);
    /* SHA-256("abc") = ba7816bf...: no leading zero. */
    assert_int_equal(zero_bits_of("abc"), 0);
}

static void test_pow_result_names(void **state)
{
    (void)state;
    assert_string_equal(pow_result_name(POW_OK), "ok");
    assert_string_equal(pow_result_name(POW_FORGED), "forged");
    assert_string_equal(pow_result_name(POW_UNSOLVED), "unsolved");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pow_token_has_the_exact_wire_shape),
        cmocka_unit_test(test_pow_token_mac_is_hmac_sha256_of_everything_before_the_last_dot),
        cmocka_unit_test(test_pow_tokens_differ_by_their_random_part),
        cmocka_unit_test(test_pow_hand_written_token_verifies),
        cmocka_unit_test(test_pow_solved_challenge_is_accepted_with_its_proof),
        cmocka_unit_test(test_pow_same_token_with_another_answer_has_the_same_id),
        cmocka_unit_test(test_pow_exactly_difficulty_zero_bits_pass_and_one_fewer_fails),
        cmocka_unit_test(test_pow_keyed_conf_checks_as_the_one_shot),
        cmocka_unit_test(test_pow_expires_at_its_second),
        cmocka_unit_test(test_pow_other_poll_or_bucket_is_a_mismatch),
        cmocka_unit_test(test_pow_unsolved_answer_is_refused),
        cmocka_unit_test(test_pow_other_secret_is_forged),
        cmocka_unit_test(test_pow_every_altered_character_is_forged_or_malformed),
        cmocka_unit_test(test_pow_raised_difficulty_is_forged),
        cmocka_unit_test(test_pow_malformed_headers_are_refused),
        cmocka_unit_test(test_pow_field_spellings_are_strict),
        cmocka_unit_test(test_pow_over_long_header_is_malformed),
        cmocka_unit_test(test_pow_mint_refuses_out_of_range_arguments),
        cmocka_unit_test(test_pow_longest_token_fits_and_verifies),
        cmocka_unit_test(test_pow_zero_bits_counts_leading_zeros),
        cmocka_unit_test(test_pow_result_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
