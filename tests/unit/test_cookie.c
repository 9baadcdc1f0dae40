/* test_cookie.c - the signed voter cookie (cookie.h).
 *
 * Covers: signing and verifying round trips; the exact wire shape; refusal of
 * every altered, truncated, extended, other-version, other-secret, non-base64url
 * and non-canonical value; finding the cookie in a Cookie header; the
 * Set-Cookie attributes; minting; parsing SameSite; the keyed MAC context
 * (cookie_conf_key) gives the same values as a one-shot HMAC, in every thread,
 * and a conf keyed again with another secret is not served a stale copy. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "cookie.h"

#define ID_B64_LEN  22
#define MAC_B64_LEN 43
#define ID_START    3                           /* after "v1." */
#define MAC_START   (ID_START + ID_B64_LEN + 1) /* after "v1.<id>." */

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static const unsigned char test_id[COOKIE_ID_LEN] = {
    0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};

static void make_conf(struct cookie_conf *conf, const char *secret)
{
    memset(conf, 0, sizeof(*conf));
    snprintf(conf->name, sizeof(conf->name), "%s", "thamdo_vid");
    conf->secret_len = strlen(secret);
    memcpy(conf->secret, secret, conf->secret_len);
    conf->samesite = COOKIE_SAMESITE_LAX;
    conf->max_age = 31536000;
}

static void default_conf(struct cookie_conf *conf)
{
    make_conf(conf, "an-unguessable-secret-of-at-least-32-bytes!");
}

static int b64_index(char c)
{
    const char *p = strchr(b64url, c);
    assert_non_null(p);
    return (int)(p - b64url);
}

/* Replaces the base64url char at value[i] with the char whose 6-bit value is
 * the old one XOR mask. */
static void xor_char(char *value, size_t i, int mask)
{
    value[i] = b64url[b64_index(value[i]) ^ mask];
}

static void sign_test_id(const struct cookie_conf *conf, char value[COOKIE_VALUE_LEN + 1])
{
    cookie_sign(conf, test_id, value);
}

static int verify_str(const struct cookie_conf *conf, const char *value)
{
    unsigned char id[COOKIE_ID_LEN];
    return cookie_verify(conf, value, strlen(value), id);
}

/* ---- sign and verify ---- */

static void test_cookie_sign_then_verify_returns_the_id(void **state)
{
    (void)state;
    struct cookie_conf conf;
    char value[COOKIE_VALUE_LEN + 1];
    unsigned char id[COOKIE_ID_LEN];
    default_conf(&conf);
    sign_test_id(&conf, value);
    memset(id, 0x5a, sizeof(id));
    assert_int_equal(cookie_verify(&conf, value, strlen(value), id), 0);
    assert_memory_equal(id, test_id, COOKIE_ID_LEN);
}

static void test_cookie_value_has_the_exact_wire_shape(void **state)
{
    (void)state;
    struct cookie_conf conf;
    char value[COOKIE_VALUE_LEN + 1];
    default_conf(&conf);
    sign_test_id(&conf, value);
    assert_int_equal(strlen(value), COOKIE_VALUE_LEN);
    assert_int_equal(COOKIE_VALUE_LEN, 69);
    assert_memory_equal(value, "v1.", 3);
    assert_int_equal(value[MAC_START - 1], '.');
    for (size_t i = ID_START; i < COOKIE_VALUE_LEN; i++) {
        if (i == MAC_START - 1)
            continue;
        assert_non_null(strchr(b64url, value[i]));
    }
    /* base64url of 00 11 22 33 ... ff, no padding */
    assert_memory_equal(value + ID_START, "ABEiM0RVZneImaq7zN3u_w", ID_B64_LEN);
}

static void test_cookie_signing_is_deterministic(void **state)
{
    (void)state;
    struct cookie_conf conf;
    char a[COOKIE_VALUE_LEN + 1], b[COOKIE_VALUE_LEN + 1];
    default_conf(&conf);
    sign_test_id(&conf, a);
    sign_test_id(&conf, b);
    assert_string_equal(a, b);
}

/* ---- refusals ---- */

static void test_cookie_flipped_char_in_signature_is_refused(void **state)
{
    (void)state;
    struct cookie_conf conf;
    char good[COOKIE_VALUE_LEN + 1], bad[COOKIE_VALUE_LEN + 1];
    default_conf(&conf);
    sign_test_id(&conf, good);
    for (size_t i = MAC_START; i < COOKIE_VALUE_LEN; i++) {
        memcpy(bad, good, sizeof(good));
        xor_char(bad, i, 0x20); /* changes a data bit, even in the last char */
        assert_int_not_equal(bad[i], good[i]);
        if (verify_str(&conf, bad) != -1)
            fail_msg("signature char %zu altered, still accepted", i);
    }
}

static void test_cookie_flipped_char_in_id_is_refused(void **state)
{
    (void)state;
    struct cookie_conf conf;
    char good[COOKIE_VALUE_LEN + 1], bad[COOKIE_VALUE_LEN + 1];
    default_conf(&conf);
    sign_test_id(&conf, good);
    for (size_t i = ID_START; i < ID_START + ID_B64_LEN; i++) {
        memcpy(bad, good, sizeof(good));
        xor_char(bad, i, 0x20);
        if (verify_str(&conf, bad) != -1)
            fail_msg("id char %zu altered, still accepted", i);
    }
}

static void test_cookie_flipped_separator_is_refused(void **state)
{
    (void)state;
    struct cookie_conf conf;
    char bad[COOKIE_VALUE_LEN + 1];
    default_conf(&conf);
    sign_test_id(&conf, bad);
    bad[MAC_START - 1] = '_';
    assert_int_equal(verify_str(&conf, bad), -1);
    sign_test_id(&conf, bad);
    bad[2] = '_';
    assert_int_equal(verify_str(&conf, bad), -1);
}

static void test_cookie_truncated_value_is_refused(void **state)
{
    (void)state;
    struct cookie_conf conf;
    char value[COOKIE_VALUE_LEN + 1];
    unsigned char id[COOKIE_ID_LEN];
    default_conf(&conf);
    sign_test_id(&conf, value);
    for (size_t len = 0; len < COOKIE_VALUE_LEN; len++)
        assert_int_equal(cookie_verify(&conf, value, len, id), -1);
}

static void test_cookie_extended_value_is_refused(void **state)
{
    (void)state;
    struct cookie_conf conf;
    char value[COOKIE_VALUE_LEN + 2];
    default_conf(&conf);
    sign_test_id(&conf, value);
    value[COOKIE_VALUE_LEN] = 'A';
    value[COOKIE_VALUE_LEN + 1] = '\0';
    assert_int_equal(verify_str(&conf, value), -1);
    value[COOKIE_VALUE_LEN] = '=';
    assert_int_equal(verify_str(&conf, value), -1);
}

static void test_cookie_other_version_prefix_is_refused(void **state)
{
    (void)state;
    struct cookie_conf conf;
    char value[COOKIE_VALUE_LEN + 1];
    default_conf(&conf);
    sign_test_id(&conf, value);
    value[1] = '2';
    assert_int_equal(verify_str(&conf, value), -1);
    sign_test_id(&conf, value);
    value[0] = 'V';
    assert_int_equal(verify_str(&conf, value), -1);
}

static void test_cookie_signed_with_another_secret_is_refused(void **state)
{
    (void)state;
    struct cookie_conf mine, theirs;
    char value[COOKIE_VALUE_LEN + 1];
    default_conf(&mine);
    make_conf(&theirs, "another-secret-also-at-least-32-bytes-long");
    cookie_sign(&theirs, test_id, value);
    assert_int_equal(verify_str(&theirs, value), 0);
    assert_int_equal(verify_str(&mine, value), -1);
}

static void test_cookie_secret_differing_in_last_byte_is_refused(void **state)
{
    (void)state;
    struct cookie_conf mine, theirs;
    char value[COOKIE_VALUE_LEN + 1];
    make_conf(&mine, "0123456789abcdef0123456789abcdef");
    make_conf(&theirs, "0123456789abcdef0123456789abcdeF");
    cookie_sign(&theirs, test_id, value);
    assert_int_equal(verify_str(&mine, value), -1);
}

static void test_cookie_non_base64url_chars_are_refused(void **state)
{
    (void)state;
    static const char bad_chars[] = {'+', '/', '=', '!', ' ', '.', '%', '"', '\x80', '\0'};
    struct cookie_conf conf;
    char value[COOKIE_VALUE_LEN + 1];
    unsigned char id[COOKIE_ID_LEN];
    default_conf(&conf);
    static const size_t positions[] = {ID_START, ID_START + 10, MAC_START, MAC_START + 20,
                                       COOKIE_VALUE_LEN - 1};
    for (size_t p = 0; p < sizeof(positions) / sizeof(positions[0]); p++) {
        for (size_t c = 0; c < sizeof(bad_chars); c++) {
            sign_test_id(&conf, value);
            value[positions[p]] = bad_chars[c];
            if (cookie_verify(&conf, value, COOKIE_VALUE_LEN, id) != -1)
                fail_msg("char 0x%02x at %zu accepted", (unsigned char)bad_chars[c], positions[p]);
        }
    }
}

static void test_cookie_empty_value_is_refused(void **state)
{
    (void)state;
    struct cookie_conf conf;
    unsigned char id[COOKIE_ID_LEN];
    default_conf(&conf);
    assert_int_equal(cookie_verify(&conf, "", 0, id), -1);
}

/* The last of the 43 signature chars carries 4 data bits and 2 padding bits;
 * flipping a padding bit spells the same MAC bytes another way. */
static void test_cookie_non_canonical_signature_spelling_is_refused(void **state)
{
    (void)state;
    struct cookie_conf conf;
    char value[COOKIE_VALUE_LEN + 1];
    default_conf(&conf);
    for (int mask = 1; mask <= 3; mask++) {
        sign_test_id(&conf, value);
        xor_char(value, COOKIE_VALUE_LEN - 1, mask);
        if (verify_str(&conf, value) != -1)
            fail_msg("padding bits 0x%x in the signature accepted", mask);
    }
}

/* The last of the 22 id chars carries 2 data bits and 4 padding bits; the
 * HMAC is over the decoded bytes, so only the canonical check can refuse. */
static void test_cookie_non_canonical_id_spelling_is_refused(void **state)
{
    (void)state;
    struct cookie_conf conf;
    char value[COOKIE_VALUE_LEN + 1];
    default_conf(&conf);
    for (int mask = 1; mask <= 0x0f; mask++) {
        sign_test_id(&conf, value);
        xor_char(value, ID_START + ID_B64_LEN - 1, mask);
        if (verify_str(&conf, value) != -1)
            fail_msg("padding bits 0x%x in the id accepted", mask);
    }
}

/* ---- the Cookie request header ---- */

static void test_cookie_from_header_finds_it_among_others(void **state)
{
    (void)state;
    struct cookie_conf conf;
    char value[COOKIE_VALUE_LEN + 1], header[256];
    unsigned char id[COOKIE_ID_LEN] = {0};
    default_conf(&conf);
    sign_test_id(&conf, value);
    snprintf(header, sizeof(header), "a=b; thamdo_vid=%s; c=d", value);
    assert_int_equal(cookie_from_header(&conf, header, id), 0);
    assert_memory_equal(id, test_id, COOKIE_ID_LEN);
}

static void test_cookie_from_header_alone_and_last(void **state)
{
    (void)state;
    struct cookie_conf conf;
    char value[COOKIE_VALUE_LEN + 1], header[256];
    unsigned char id[COOKIE_ID_LEN] = {0};
    default_conf(&conf);
    sign_test_id(&conf, value);
    snprintf(header, sizeof(header), "thamdo_vid=%s", value);
    assert_int_equal(cookie_from_header(&conf, header, id), 0);
    assert_memory_equal(id, test_id, COOKIE_ID_LEN);
    memset(id, 0, sizeof(id));
    snprintf(header, sizeof(header), "a=b;thamdo_vid=%s ", value);
    assert_int_equal(cookie_from_header(&conf, header, id), 0);
    assert_memory_equal(id, test_id, COOKIE_ID_LEN);
}

static void test_cookie_from_header_accepts_a_quoted_value(void **state)
{
    (void)state;
    struct cookie_conf conf;
    char value[COOKIE_VALUE_LEN + 1], header[256];
    unsigned char id[COOKIE_ID_LEN] = {0};
    default_conf(&conf);
    sign_test_id(&conf, value);
    snprintf(header, sizeof(header), "a=b; thamdo_vid=\"%s\"; c=d", value);
    assert_int_equal(cookie_from_header(&conf, header, id), 0);
    assert_memory_equal(id, test_id, COOKIE_ID_LEN);
}

static void test_cookie_from_header_skips_an_invalid_first_and_takes_a_later_valid(void **state)
{
    (void)state;
    struct cookie_conf conf;
    char good[COOKIE_VALUE_LEN + 1], bad[COOKIE_VALUE_LEN + 1], header[512];
    unsigned char id[COOKIE_ID_LEN] = {0};
    default_conf(&conf);
    sign_test_id(&conf, good);
    memcpy(bad, good, sizeof(good));
    xor_char(bad, MAC_START + 5, 0x20);
    snprintf(header, sizeof(header), "thamdo_vid=%s; thamdo_vid=%s", bad, good);
    assert_int_equal(cookie_from_header(&conf, header, id), 0);
    assert_memory_equal(id, test_id, COOKIE_ID_LEN);
}

static void test_cookie_from_header_refuses_only_invalid_values(void **state)
{
    (void)state;
    struct cookie_conf conf;
    char bad[COOKIE_VALUE_LEN + 1], header[256];
    unsigned char id[COOKIE_ID_LEN];
    default_conf(&conf);
    sign_test_id(&conf, bad);
    xor_char(bad, MAC_START + 5, 0x20);
    snprintf(header, sizeof(header), "a=b; thamdo_vid=%s", bad);
    assert_int_equal(cookie_from_header(&conf, header, id), -1);
    assert_int_equal(cookie_from_header(&conf, "", id), -1);
    assert_int_equal(cookie_from_header(&conf, "thamdo_vid=", id), -1);
    assert_int_equal(cookie_from_header(&conf, "thamdo_vid", id), -1);
    assert_int_equal(cookie_from_header(&conf, ";;; ;", id), -1);
}

static void test_cookie_from_header_refuses_another_name(void **state)
{
    (void)state;
    struct cookie_conf conf;
    char value[COOKIE_VALUE_LEN + 1], header[256];
    unsigned char id[COOKIE_ID_LEN];
    default_conf(&conf);
    sign_test_id(&conf, value);
    snprintf(header, sizeof(header), "a=b; other=%s; c=d", value);
    assert_int_equal(cookie_from_header(&conf, header, id), -1);
    snprintf(header, sizeof(header), "thamdo_vid2=%s", value);
    assert_int_equal(cookie_from_header(&conf, header, id), -1);
    snprintf(header, sizeof(header), "THAMDO_VID=%s", value);
    assert_int_equal(cookie_from_header(&conf, header, id), -1);
}

static void test_cookie_from_header_refuses_a_name_that_only_ends_with_ours(void **state)
{
    (void)state;
    struct cookie_conf conf;
    char value[COOKIE_VALUE_LEN + 1], header[256];
    unsigned char id[COOKIE_ID_LEN];
    default_conf(&conf);
    sign_test_id(&conf, value);
    snprintf(header, sizeof(header), "xthamdo_vid=%s", value);
    assert_int_equal(cookie_from_header(&conf, header, id), -1);
    snprintf(header, sizeof(header), "a=b; xthamdo_vid=%s; c=d", value);
    assert_int_equal(cookie_from_header(&conf, header, id), -1);
}

/* ---- Set-Cookie ---- */

static void test_cookie_set_header_has_the_default_attributes(void **state)
{
    (void)state;
    struct cookie_conf conf;
    char value[COOKIE_VALUE_LEN + 1], want[256], out[512];
    default_conf(&conf);
    conf.max_age = 86400;
    sign_test_id(&conf, value);
    int n = cookie_set_header(&conf, test_id, out, sizeof(out));
    assert_int_equal(n, (int)strlen(out));
    snprintf(want, sizeof(want), "thamdo_vid=%s;", value);
    assert_memory_equal(out, want, strlen(want));
    assert_non_null(strstr(out, "; HttpOnly"));
    assert_non_null(strstr(out, "; Path=/"));
    assert_non_null(strstr(out, "; Max-Age=86400"));
    assert_non_null(strstr(out, "; SameSite=Lax"));
    assert_null(strstr(out, "Secure"));
    assert_null(strstr(out, "Partitioned"));
}

static void test_cookie_set_header_value_verifies(void **state)
{
    (void)state;
    struct cookie_conf conf;
    char out[512];
    unsigned char id[COOKIE_ID_LEN] = {0};
    default_conf(&conf);
    assert_true(cookie_set_header(&conf, test_id, out, sizeof(out)) > 0);
    char *semi = strchr(out, ';');
    assert_non_null(semi);
    *semi = '\0';
    assert_int_equal(cookie_from_header(&conf, out, id), 0);
    assert_memory_equal(id, test_id, COOKIE_ID_LEN);
}

static void test_cookie_set_header_secure_only_when_set(void **state)
{
    (void)state;
    struct cookie_conf conf;
    char out[512];
    default_conf(&conf);
    conf.secure = 1;
    assert_true(cookie_set_header(&conf, test_id, out, sizeof(out)) > 0);
    assert_non_null(strstr(out, "; Secure"));
    assert_null(strstr(out, "Partitioned"));
}

static void test_cookie_set_header_partitioned_only_when_set(void **state)
{
    (void)state;
    struct cookie_conf conf;
    char out[512];
    default_conf(&conf);
    conf.secure = 1;
    conf.partitioned = 1;
    assert_true(cookie_set_header(&conf, test_id, out, sizeof(out)) > 0);
    assert_non_null(strstr(out, "; Secure"));
    assert_non_null(strstr(out, "; Partitioned"));
}

static void test_cookie_set_header_samesite_none_and_strict(void **state)
{
    (void)state;
    struct cookie_conf conf;
    char out[512];
    default_conf(&conf);
    conf.samesite = COOKIE_SAMESITE_NONE;
    conf.secure = 1;
    assert_true(cookie_set_header(&conf, test_id, out, sizeof(out)) > 0);
    assert_non_null(strstr(out, "; SameSite=None"));
    assert_null(strstr(out, "Lax"));
    conf.samesite = COOKIE_SAMESITE_STRICT;
    assert_true(cookie_set_header(&conf, test_id, out, sizeof(out)) > 0);
    assert_non_null(strstr(out, "; SameSite=Strict"));
}

static void test_cookie_set_header_too_small_buffer_fails(void **state)
{
    (void)state;
    struct cookie_conf conf;
    char out[512];
    default_conf(&conf);
    int n = cookie_set_header(&conf, test_id, out, sizeof(out));
    assert_true(n > 0);
    assert_int_equal(cookie_set_header(&conf, test_id, out, (size_t)n), -1);
    assert_int_equal(cookie_set_header(&conf, test_id, out, (size_t)n + 1), n);
}

/* ---- minting and SameSite ---- */

static void test_cookie_mint_gives_different_ids(void **state)
{
    (void)state;
    unsigned char a[COOKIE_ID_LEN], b[COOKIE_ID_LEN];
    assert_int_equal(cookie_mint(a), 0);
    assert_int_equal(cookie_mint(b), 0);
    assert_memory_not_equal(a, b, COOKIE_ID_LEN);
}

static void test_cookie_parse_samesite_accepts_any_case(void **state)
{
    (void)state;
    enum cookie_samesite s = COOKIE_SAMESITE_NONE;
    assert_int_equal(cookie_parse_samesite("lax", &s), 0);
    assert_int_equal(s, COOKIE_SAMESITE_LAX);
    assert_int_equal(cookie_parse_samesite("Strict", &s), 0);
    assert_int_equal(s, COOKIE_SAMESITE_STRICT);
    assert_int_equal(cookie_parse_samesite("NONE", &s), 0);
    assert_int_equal(s, COOKIE_SAMESITE_NONE);
}

static void test_cookie_parse_samesite_refuses_others(void **state)
{
    (void)state;
    enum cookie_samesite s = COOKIE_SAMESITE_STRICT;
    assert_int_equal(cookie_parse_samesite("", &s), -1);
    assert_int_equal(cookie_parse_samesite("relaxed", &s), -1);
    assert_int_equal(cookie_parse_samesite("lax ", &s), -1);
    assert_int_equal(cookie_parse_samesite("no", &s), -1);
    assert_int_equal(s, COOKIE_SAMESITE_STRICT);
}

/* ---- the keyed MAC context ---- */

static void test_cookie_keyed_conf_signs_as_the_one_shot_hmac(void **state)
{
    (void)state;
    struct cookie_conf plain, keyed;
    char a[COOKIE_VALUE_LEN + 1], b[COOKIE_VALUE_LEN + 1];
    default_conf(&plain);
    default_conf(&keyed);
    assert_int_equal(cookie_conf_key(&keyed), 0);
    assert_non_null(keyed.mac);
    for (int i = 0; i < 3; i++) { /* the thread's copy is started over for every value */
        sign_test_id(&plain, a);
        sign_test_id(&keyed, b);
        assert_string_equal(a, b);
        assert_int_equal(verify_str(&keyed, a), 0);
    }
    cookie_conf_unkey(&keyed);
    assert_null(keyed.mac);
    cookie_thread_end();
}

static void test_cookie_keyed_again_with_another_secret_is_not_served_a_stale_copy(void **state)
{
    (void)state;
    struct cookie_conf conf, other;
    char first[COOKIE_VALUE_LEN + 1], again[COOKIE_VALUE_LEN + 1], want[COOKIE_VALUE_LEN + 1];
    default_conf(&conf);
    assert_int_equal(cookie_conf_key(&conf), 0);
    sign_test_id(&conf, first);
    make_conf(&other, "another-unguessable-secret-of-32-bytes!!");
    sign_test_id(&other, want);
    memcpy(conf.secret, other.secret, other.secret_len); /* the same conf, keyed again */
    conf.secret_len = other.secret_len;
    assert_int_equal(cookie_conf_key(&conf), 0);
    sign_test_id(&conf, again);
    assert_string_equal(again, want);
    assert_string_not_equal(again, first);
    assert_int_equal(verify_str(&conf, first), -1);
    cookie_conf_unkey(&conf);
    cookie_thread_end();
}

struct cookie_thread_job {
    const struct cookie_conf *conf;
    const char *value;
    int ok;
};

static void *cookie_thread_verify(void *arg)
{
    struct cookie_thread_job *job = arg;
    unsigned char id[COOKIE_ID_LEN];
    for (int i = 0; i < 2000; i++)
        job->ok += cookie_verify(job->conf, job->value, strlen(job->value), id) == 0 &&
                   memcmp(id, test_id, COOKIE_ID_LEN) == 0;
    cookie_thread_end();
    return NULL;
}

static void test_cookie_keyed_conf_verifies_in_several_threads_at_once(void **state)
{
    (void)state;
    struct cookie_conf plain, keyed;
    char value[COOKIE_VALUE_LEN + 1];
    default_conf(&plain);
    default_conf(&keyed);
    sign_test_id(&plain, value);
    assert_int_equal(cookie_conf_key(&keyed), 0);
    pthread_t t[4];
    struct cookie_thread_job jobs[4];
    for (int i = 0; i < 4; i++) {
        jobs[i] = (struct cookie_thread_job){&keyed, value, 0};
        assert_int_equal(pthread_create(&t[i], NULL, cookie_thread_verify, &jobs[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(jobs[i].ok, 2000);
    }
    cookie_conf_unkey(&keyed);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cookie_sign_then_verify_returns_the_id),
        cmocka_unit_test(test_cookie_value_has_the_exact_wire_shape),
        cmocka_unit_test(test_cookie_signing_is_deterministic),
        cmocka_unit_test(test_cookie_flipped_char_in_signature_is_refused),
        cmocka_unit_test(test_cookie_flipped_char_in_id_is_refused),
        cmocka_unit_test(test_cookie_flipped_separator_is_refused),
        cmocka_unit_test(test_cookie_truncated_value_is_refused),
        cmocka_unit_test(test_cookie_extended_value_is_refused),
        cmocka_unit_test(test_cookie_other_version_prefix_is_refused),
        cmocka_unit_test(test_cookie_signed_with_another_secret_is_refused),
        cmocka_unit_test(test_cookie_secret_differing_in_last_byte_is_refused),
        cmocka_unit_test(test_cookie_non_base64url_chars_are_refused),
        cmocka_unit_test(test_cookie_empty_value_is_refused),
        cmocka_unit_test(test_cookie_non_canonical_signature_spelling_is_refused),
        cmocka_unit_test(test_cookie_non_canonical_id_spelling_is_refused),
        cmocka_unit_test(test_cookie_from_header_finds_it_among_others),
        cmocka_unit_test(test_cookie_from_header_alone_and_last),
        cmocka_unit_test(test_cookie_from_header_accepts_a_quoted_value),
        cmocka_unit_test(test_cookie_from_header_skips_an_invalid_first_and_takes_a_later_valid),
        cmocka_unit_test(test_cookie_from_header_refuses_only_invalid_values),
        cmocka_unit_test(test_cookie_from_header_refuses_another_name),
        cmocka_unit_test(test_cookie_from_header_refuses_a_name_that_only_ends_with_ours),
        cmocka_unit_test(test_cookie_set_header_has_the_default_attributes),
        cmocka_unit_test(test_cookie_set_header_value_verifies),
        cmocka_unit_test(test_cookie_set_header_secure_only_when_set),
        cmocka_unit_test(test_cookie_set_header_partitioned_only_when_set),
        cmocka_unit_test(test_cookie_set_header_samesite_none_and_strict),
        cmocka_unit_test(test_cookie_set_header_too_small_buffer_fails),
        cmocka_unit_test(test_cookie_mint_gives_different_ids),
        cmocka_unit_test(test_cookie_parse_samesite_accepts_any_case),
        cmocka_unit_test(test_cookie_parse_samesite_refuses_others),
        cmocka_unit_test(test_cookie_keyed_conf_signs_as_the_one_shot_hmac),
        cmocka_unit_test(test_cookie_keyed_again_with_another_secret_is_not_served_a_stale_copy),
        cmocka_unit_test(test_cookie_keyed_conf_verifies_in_several_threads_at_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
