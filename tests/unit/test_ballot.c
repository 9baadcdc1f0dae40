/* test_ballot.c - reading the chosen options from a request body (ballot.h).
 *
 * Covers: JSON bodies (shape, slugs, duplicates folded in order, the error
 * codes no_option, invalid_json, invalid_option, too_many_options) and form
 * bodies (option= and options=, unknown keys, percent-decoding, empty values,
 * a NUL byte inside the body, an escaped NUL "%00" inside an option). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "ballot.h"

static struct ballot b;

/* Parses a NUL-terminated body; returns the result and stores the code. */
static int parse(enum ballot_format format, const char *body, const char **code)
{
    *code = NULL;
    return ballot_parse(&b, format, body, strlen(body), code);
}

static void assert_refused(enum ballot_format format, const char *body, const char *want)
{
    const char *code = NULL;
    if (parse(format, body, &code) != -1)
        fail_msg("accepted: %s", body);
    assert_non_null(code);
    if (strcmp(code, want) != 0)
        fail_msg("body %s: code %s, want %s", body, code, want);
}

static void assert_options(size_t n, const char *const *want)
{
    assert_int_equal(b.n, n);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(b.options[i], want[i]);
        assert_ptr_equal(b.ptrs[i], b.options[i]);
    }
}

/* Writes {"options":["o0","o1",...]} with n distinct slugs into buf. */
static void json_with_n_options(char *buf, size_t size, size_t n)
{
    size_t off = (size_t)snprintf(buf, size, "{\"options\":[");
    for (size_t i = 0; i < n; i++)
        off += (size_t)snprintf(buf + off, size - off, "%s\"o%zu\"", i ? "," : "", i);
    snprintf(buf + off, size - off, "]}");
}

/* ---- JSON ---- */

static void test_ballot_json_one_option(void **state)
{
    (void)state;
    const char *code;
    static const char *const want[] = {"tin-tuc"};
    assert_int_equal(parse(BALLOT_JSON, "{\"options\":[\"tin-tuc\"]}", &code), 0);
    assert_options(1, want);
}

static void test_ballot_json_several_options_in_order(void **state)
{
    (void)state;
    const char *code;
    static const char *const want[] = {"c", "a", "b-2"};
    assert_int_equal(parse(BALLOT_JSON, "{\"options\":[\"c\",\"a\",\"b-2\"]}", &code), 0);
    assert_options(3, want);
}

static void test_ballot_json_duplicates_are_folded_keeping_first_order(void **state)
{
    (void)state;
    const char *code;
    static const char *const want[] = {"b", "a"};
    assert_int_equal(parse(BALLOT_JSON, "{\"options\":[\"b\",\"a\",\"b\",\"a\",\"b\"]}", &code), 0);
    assert_options(2, want);
}

static void test_ballot_parse_resets_a_reused_ballot(void **state)
{
    (void)state;
    const char *code;
    static const char *const want[] = {"x"};
    assert_int_equal(parse(BALLOT_JSON, "{\"options\":[\"a\",\"b\"]}", &code), 0);
    assert_int_equal(parse(BALLOT_JSON, "{\"options\":[\"x\"]}", &code), 0);
    assert_options(1, want);
}

static void test_ballot_json_without_options_is_no_option(void **state)
{
    (void)state;
    assert_refused(BALLOT_JSON, "{}", "no_option");
    assert_refused(BALLOT_JSON, "{\"options\":[]}", "no_option");
}

static void test_ballot_json_wrong_shape_is_invalid_json(void **state)
{
    (void)state;
    assert_refused(BALLOT_JSON, "[]", "invalid_json");
    assert_refused(BALLOT_JSON, "[\"a\"]", "invalid_json");
    assert_refused(BALLOT_JSON, "\"x\"", "invalid_json");
    assert_refused(BALLOT_JSON, "null", "invalid_json");
    assert_refused(BALLOT_JSON, "{\"options\":\"a\"}", "invalid_json");
    assert_refused(BALLOT_JSON, "{\"options\":{\"a\":1}}", "invalid_json");
    assert_refused(BALLOT_JSON, "{\"options\":[1]}", "invalid_json");
    assert_refused(BALLOT_JSON, "{\"options\":[\"a\",null]}", "invalid_json");
    assert_refused(BALLOT_JSON, "{\"options\":[[\"a\"]]}", "invalid_json");
}

static void test_ballot_json_malformed_is_invalid_json(void **state)
{
    (void)state;
    assert_refused(BALLOT_JSON, "", "invalid_json");
    assert_refused(BALLOT_JSON, "{", "invalid_json");
    assert_refused(BALLOT_JSON, "{\"options\":[\"a\"", "invalid_json");
    assert_refused(BALLOT_JSON, "{\"options\":[\"a\",]}", "invalid_json");
    assert_refused(BALLOT_JSON, "{'options':['a']}", "invalid_json");
    assert_refused(BALLOT_JSON, "{\"options\":[\"a\"]} trailing", "invalid_json");
}

static void test_ballot_json_duplicate_keys_are_invalid_json(void **state)
{
    (void)state;
    assert_refused(BALLOT_JSON, "{\"options\":[\"a\"],\"options\":[\"b\"]}", "invalid_json");
}

static void test_ballot_json_only_reads_the_given_length(void **state)
{
    (void)state;
    const char *code;
    static const char body[] = "{\"options\":[\"a\"]}GARBAGE";
    static const char *const want[] = {"a"};
    assert_int_equal(ballot_parse(&b, BALLOT_JSON, body, strlen(body) - 7, &code), 0);
    assert_options(1, want);
}

static void test_ballot_json_non_slug_is_invalid_option(void **state)
{
    (void)state;
    char body[256];
    assert_refused(BALLOT_JSON, "{\"options\":[\"A\"]}", "invalid_option");
    assert_refused(BALLOT_JSON, "{\"options\":[\"a b\"]}", "invalid_option");
    assert_refused(BALLOT_JSON, "{\"options\":[\"\"]}", "invalid_option");
    assert_refused(BALLOT_JSON, "{\"options\":[\"a_b\"]}", "invalid_option");
    assert_refused(BALLOT_JSON, "{\"options\":[\"\xc3\xa9\"]}", "invalid_option");
    assert_refused(BALLOT_JSON, "{\"options\":[\"\\u00e9\"]}", "invalid_option");
    assert_refused(BALLOT_JSON, "{\"options\":[\"ok\",\"Not-Ok\"]}", "invalid_option");
    snprintf(body, sizeof(body), "{\"options\":[\"%065d\"]}", 0); /* 65 chars */
    assert_refused(BALLOT_JSON, body, "invalid_option");
}

static void test_ballot_json_slug_of_64_chars_is_accepted(void **state)
{
    (void)state;
    const char *code;
    char body[256];
    snprintf(body, sizeof(body), "{\"options\":[\"%064d\"]}", 0);
    assert_int_equal(parse(BALLOT_JSON, body, &code), 0);
    assert_int_equal(b.n, 1);
    assert_int_equal(strlen(b.options[0]), 64);
}

static void test_ballot_json_51_distinct_options_is_too_many(void **state)
{
    (void)state;
    char body[2048];
    json_with_n_options(body, sizeof(body), POLL_OPTIONS_MAX + 1);
    assert_refused(BALLOT_JSON, body, "too_many_options");
}

static void test_ballot_json_50_distinct_options_is_accepted(void **state)
{
    (void)state;
    const char *code;
    char body[2048];
    json_with_n_options(body, sizeof(body), POLL_OPTIONS_MAX);
    assert_int_equal(parse(BALLOT_JSON, body, &code), 0);
    assert_int_equal(b.n, POLL_OPTIONS_MAX);
    assert_string_equal(b.options[0], "o0");
    assert_string_equal(b.options[POLL_OPTIONS_MAX - 1], "o49");
}

static void test_ballot_json_many_repeats_of_few_options_are_accepted(void **state)
{
    (void)state;
    const char *code;
    char body[2048];
    size_t off = (size_t)snprintf(body, sizeof(body), "{\"options\":[");
    for (int i = 0; i < 60; i++)
        off += (size_t)snprintf(body + off, sizeof(body) - off, "%s\"o%d\"", i ? "," : "", i % 3);
    snprintf(body + off, sizeof(body) - off, "]}");
    assert_int_equal(parse(BALLOT_JSON, body, &code), 0);
    assert_int_equal(b.n, 3);
}

/* ---- form ---- */

static void test_ballot_form_repeated_option_key(void **state)
{
    (void)state;
    const char *code;
    static const char *const want[] = {"a", "b"};
    assert_int_equal(parse(BALLOT_FORM, "option=a&option=b", &code), 0);
    assert_options(2, want);
}

static void test_ballot_form_options_key(void **state)
{
    (void)state;
    const char *code;
    static const char *const want[] = {"a"};
    assert_int_equal(parse(BALLOT_FORM, "options=a", &code), 0);
    assert_options(1, want);
}

static void test_ballot_form_duplicates_are_folded(void **state)
{
    (void)state;
    const char *code;
    static const char *const want[] = {"b", "a"};
    assert_int_equal(parse(BALLOT_FORM, "option=b&options=a&option=b", &code), 0);
    assert_options(2, want);
}

static void test_ballot_form_unknown_keys_are_ignored(void **state)
{
    (void)state;
    const char *code;
    static const char *const want[] = {"a"};
    assert_int_equal(parse(BALLOT_FORM, "csrf=XYZ&option=a&submit=Vote+now", &code), 0);
    assert_options(1, want);
}

static void test_ballot_form_empty_body_is_no_option(void **state)
{
    (void)state;
    assert_refused(BALLOT_FORM, "", "no_option");
    assert_refused(BALLOT_FORM, "submit=1", "no_option");
}

static void test_ballot_form_empty_option_is_invalid_option(void **state)
{
    (void)state;
    assert_refused(BALLOT_FORM, "option=", "invalid_option");
    assert_refused(BALLOT_FORM, "option=a&option=", "invalid_option");
}

static void test_ballot_form_non_slug_is_invalid_option(void **state)
{
    (void)state;
    assert_refused(BALLOT_FORM, "option=A", "invalid_option");
    assert_refused(BALLOT_FORM, "option=a+b", "invalid_option");
    assert_refused(BALLOT_FORM, "option=a%20b", "invalid_option");
    assert_refused(BALLOT_FORM, "option=%C3%A9", "invalid_option");
}

static void test_ballot_form_percent_encoded_slug_is_decoded(void **state)
{
    (void)state;
    const char *code;
    static const char *const want[] = {"tin-tuc"};
    assert_int_equal(parse(BALLOT_FORM, "option=tin%2Dtuc", &code), 0);
    assert_options(1, want);
}

static void test_ballot_form_escaped_nul_in_an_option_is_invalid_option(void **state)
{
    (void)state;
    /* "tin-tuc%00" decodes to 8 bytes: it was once counted as "tin-tuc". */
    assert_refused(BALLOT_FORM, "option=tin-tuc%00", "invalid_option");
    assert_refused(BALLOT_FORM, "option=%00tin-tuc", "invalid_option");
    assert_refused(BALLOT_FORM, "option=a&option=tin-tuc%00x", "invalid_option");
    assert_refused(BALLOT_FORM, "option%00=a", "no_option"); /* not the option key */
}

static void test_ballot_form_51_distinct_options_is_too_many(void **state)
{
    (void)state;
    char body[2048];
    size_t off = 0;
    for (int i = 0; i <= POLL_OPTIONS_MAX; i++)
        off += (size_t)snprintf(body + off, sizeof(body) - off, "%soption=o%d", i ? "&" : "", i);
    assert_refused(BALLOT_FORM, body, "too_many_options");
}

static void test_ballot_form_nul_inside_the_body_is_refused(void **state)
{
    (void)state;
    const char *code = NULL;
    static const char body[] = "option=a\0&option=b";
    assert_int_equal(ballot_parse(&b, BALLOT_FORM, body, sizeof(body) - 1, &code), -1);
    assert_non_null(code);
    static const char body2[] = "option=a\0b";
    assert_int_equal(ballot_parse(&b, BALLOT_FORM, body2, sizeof(body2) - 1, &code), -1);
}

static void test_ballot_json_raw_nul_byte_is_invalid_json(void **state)
{
    (void)state;
    const char *code = NULL;
    static const char body[] = "{\"options\":[\"a\"]}\0";
    assert_int_equal(ballot_parse(&b, BALLOT_JSON, body, sizeof(body) - 1, &code), -1);
    assert_string_equal(code, "invalid_json");
}

static void test_ballot_json_escaped_nul_in_an_option_is_invalid_option(void **state)
{
    (void)state;
    assert_refused(BALLOT_JSON, "{\"options\":[\"a\\u0000b\"]}", "invalid_option");
    assert_refused(BALLOT_JSON, "{\"options\":[\"a\\u0000\"]}", "invalid_option");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ballot_json_one_option),
        cmocka_unit_test(test_ballot_json_several_options_in_order),
        cmocka_unit_test(test_ballot_json_duplicates_are_folded_keeping_first_order),
        cmocka_unit_test(test_ballot_parse_resets_a_reused_ballot),
        cmocka_unit_test(test_ballot_json_without_options_is_no_option),
        cmocka_unit_test(test_ballot_json_wrong_shape_is_invalid_json),
        cmocka_unit_test(test_ballot_json_malformed_is_invalid_json),
        cmocka_unit_test(test_ballot_json_duplicate_keys_are_invalid_json),
        cmocka_unit_test(test_ballot_json_only_reads_the_given_length),
        cmocka_unit_test(test_ballot_json_non_slug_is_invalid_option),
        cmocka_unit_test(test_ballot_json_slug_of_64_chars_is_accepted),
        cmocka_unit_test(test_ballot_json_51_distinct_options_is_too_many),
        cmocka_unit_test(test_ballot_json_50_distinct_options_is_accepted),
        cmocka_unit_test(test_ballot_json_many_repeats_of_few_options_are_accepted),
        cmocka_unit_test(test_ballot_form_repeated_option_key),
        cmocka_unit_test(test_ballot_form_options_key),
        cmocka_unit_test(test_ballot_form_duplicates_are_folded),
        cmocka_unit_test(test_ballot_form_unknown_keys_are_ignored),
        cmocka_unit_test(test_ballot_form_empty_body_is_no_option),
        cmocka_unit_test(test_ballot_form_empty_option_is_invalid_option),
        cmocka_unit_test(test_ballot_form_non_slug_is_invalid_option),
        cmocka_unit_test(test_ballot_form_percent_encoded_slug_is_decoded),
        cmocka_unit_test(test_ballot_form_escaped_nul_in_an_option_is_invalid_option),
        cmocka_unit_test(test_ballot_form_51_distinct_options_is_too_many),
        cmocka_unit_test(test_ballot_form_nul_inside_the_body_is_refused),
        cmocka_unit_test(test_ballot_json_raw_nul_byte_is_invalid_json),
        cmocka_unit_test(test_ballot_json_escaped_nul_in_an_option_is_invalid_option),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
