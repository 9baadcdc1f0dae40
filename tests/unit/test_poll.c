/* test_poll.c - the poll model (poll.h).
 *
 * Covers: poll_from_input (the stored form and its defaults, the err.path of
 * each invalid field, time zones); poll_state_at at the edges of the voting
 * window; poll_results_visible for the four visibilities; poll_results
 * (percentages with one decimal, each rounded half up on its own; unknown
 * ids, totals, damaged tallies); poll_choice_array. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_util.h"
#include "poll.h"
#include "text.h"

#define NOW        1790000000 /* 2026-09-21, before the window below */
#define OPENS_AT   1795860000 /* 2026-11-28T10:00:00Z */
#define CLOSES_AT  1796058000 /* 2026-12-01T00:00:00+07:00 */
#define IN_WINDOW  (OPENS_AT + 3600)
#define AFTER_SHUT (CLOSES_AT + 3600)

/* JSON with ' for " so the fixtures stay readable. */
static json_t *J(const char *text)
{
    char buf[4096];
    size_t n = strlen(text);
    assert_true(n < sizeof(buf));
    for (size_t i = 0; i <= n; i++)
        buf[i] = text[i] == '\'' ? '"' : text[i];
    json_error_t jerr;
    json_t *v = json_loads(buf, JSON_REJECT_DUPLICATES, &jerr);
    if (!v)
        fail_msg("bad fixture %s: %s", text, jerr.text);
    return v;
}

/* A valid definition as an editor writes it. */
static json_t *valid_input(void)
{
    return J(
        "{'id':'chuyen-muc','question':'B\xe1\xba\xa1n quan t\xc3\xa2m chuy\xc3\xaan m\xe1\xbb\xa5"
        "c n\xc3\xa0o?','options':[{'id':'tin-tuc','label':'Tin t\xe1\xbb\xa9"
        "c'},{'id':'the-thao','label':'Th\xe1\xbb\x83 thao'}],"
        "'opens_at':'2026-11-28T10:00:00Z','closes_at':'2026-12-01T00:00:00+07:00'}");
}

/* Checks that in is refused with err.path == path; takes in. */
static void assert_refused_at(json_t *in, const char *path)
{
    struct poll_error err;
    memset(&err, 0, sizeof(err));
    json_t *out = poll_from_input(in, NOW, &err);
    if (out) {
        char *s = json_dumps(in, JSON_COMPACT);
        json_decref(out);
        json_decref(in);
        fail_msg("accepted %s, want error at %s", s, path);
    }
    json_decref(in);
    assert_string_equal(err.path, path);
    assert_true(err.message[0] != '\0');
}

/* The valid input with field set to value (value is stolen). */
static json_t *with(const char *field, json_t *value)
{
    json_t *in = valid_input();
    json_object_set_new(in, field, value);
    return in;
}

static json_t *without(const char *field)
{
    json_t *in = valid_input();
    json_object_del(in, field);
    return in;
}

/* The valid input with options[i].field set to value (value is stolen). */
static json_t *with_option(size_t i, const char *field, json_t *value)
{
    json_t *in = valid_input();
    json_object_set_new(json_array_get(json_object_get(in, "options"), i), field, value);
    return in;
}

static json_t *stored(json_t *in)
{
    struct poll_error err;
    memset(&err, 0, sizeof(err));
    json_t *out = poll_from_input(in, NOW, &err);
    json_decref(in);
    if (!out)
        fail_msg("refused at %s: %s", err.path, err.message);
    return out;
}

static json_int_t int_field(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    if (!json_is_integer(v))
        fail_msg("%s is not an integer", key);
    return json_integer_value(v);
}

static const char *str_field(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    if (!s)
        fail_msg("%s is not a string", key);
    return s;
}

/* ---- poll_from_input: the stored form ---- */

static void test_poll_valid_definition_gives_the_stored_form(void **state)
{
    (void)state;
    json_t *def = stored(valid_input());
    assert_string_equal(str_field(def, "id"), "chuyen-muc");
    assert_string_equal(str_field(def, "question"),
                        "B\xe1\xba\xa1n quan t\xc3\xa2m chuy\xc3\xaan m\xe1\xbb\xa5"
                        "c n\xc3\xa0o?");
    const json_t *opts = json_object_get(def, "options");
    assert_int_equal(json_array_size(opts), 2);
    assert_string_equal(str_field(json_array_get(opts, 0), "id"), "tin-tuc");
    assert_string_equal(str_field(json_array_get(opts, 0), "label"), "Tin t\xe1\xbb\xa9"
                                                                     "c");
    assert_string_equal(str_field(json_array_get(opts, 1), "id"), "the-thao");
    assert_int_equal(json_object_size(json_array_get(opts, 0)), 2);
    assert_int_equal(int_field(def, "opens_at"), OPENS_AT);
    assert_int_equal(int_field(def, "closes_at"), CLOSES_AT);
    assert_int_equal(int_field(def, "created_at"), NOW);
    json_decref(def);
}

static void test_poll_defaults_are_one_choice_open_always_visible(void **state)
{
    (void)state;
    json_t *def = stored(valid_input());
    assert_int_equal(int_field(def, "max_choices"), 1);
    assert_string_equal(str_field(def, "status"), "open");
    assert_string_equal(str_field(def, "results_visibility"), "always");
    json_decref(def);
}

static void test_poll_explicit_fields_are_kept(void **state)
{
    (void)state;
    json_t *in = valid_input();
    json_object_set_new(in, "max_choices", json_integer(2));
    json_object_set_new(in, "status", json_string("closed"));
    json_object_set_new(in, "results_visibility", json_string("after_close"));
    json_t *def = stored(in);
    assert_int_equal(int_field(def, "max_choices"), 2);
    assert_string_equal(str_field(def, "status"), "closed");
    assert_string_equal(str_field(def, "results_visibility"), "after_close");
    json_decref(def);
}

static void test_poll_absent_or_null_times_are_stored_as_null(void **state)
{
    (void)state;
    json_t *in = without("opens_at");
    json_object_set_new(in, "closes_at", json_null());
    json_t *def = stored(in);
    assert_true(json_is_null(json_object_get(def, "opens_at")));
    assert_true(json_is_null(json_object_get(def, "closes_at")));
    json_decref(def);
}

static void test_poll_offset_time_converts_to_utc_unix_seconds(void **state)
{
    (void)state;
    json_t *in = valid_input();
    json_object_set_new(in, "opens_at", json_string("2026-11-28T17:00:00+07:00"));
    json_t *def = stored(in);
    assert_int_equal(int_field(def, "opens_at"), OPENS_AT);    /* 10:00Z */
    assert_int_equal(int_field(def, "closes_at"), 1796058000); /* 11-30 17:00Z */
    json_decref(def);
}

static void test_poll_input_is_not_modified(void **state)
{
    (void)state;
    json_t *in = valid_input();
    json_t *copy = json_deep_copy(in);
    json_t *def = stored(json_incref(in));
    assert_true(json_equal(in, copy));
    json_decref(def);
    json_decref(copy);
    json_decref(in);
}

/* ---- poll_from_input: where it is wrong ---- */

static void test_poll_not_an_object_is_refused(void **state)
{
    (void)state;
    assert_refused_at(J("[]"), "");
}

static void test_poll_unknown_field_is_named(void **state)
{
    (void)state;
    assert_refused_at(with("colour", json_string("red")), "colour");
}

static void test_poll_bad_id_is_at_id(void **state)
{
    (void)state;
    char long_id[80];
    memset(long_id, 'a', 65);
    long_id[65] = '\0';
    assert_refused_at(with("id", json_string("Chuyen-Muc")), "id");
    assert_refused_at(with("id", json_string("a b")), "id");
    assert_refused_at(with("id", json_string("")), "id");
    assert_refused_at(with("id", json_string(long_id)), "id");
    assert_refused_at(with("id", json_integer(7)), "id");
    assert_refused_at(without("id"), "id");
}

static void test_poll_bad_question_is_at_question(void **state)
{
    (void)state;
    char long_q[POLL_TEXT_MAX + 2];
    memset(long_q, 'q', POLL_TEXT_MAX + 1);
    long_q[POLL_TEXT_MAX + 1] = '\0';
    assert_refused_at(with("question", json_string("")), "question");
    assert_refused_at(with("question", json_string(long_q)), "question");
    assert_refused_at(with("question", json_string("bell\a")), "question");
    assert_refused_at(with("question", json_integer(1)), "question");
    assert_refused_at(without("question"), "question");
}

/* data-thamdo-poll="latest" means the newest open poll: no poll may be called so. */
static void test_poll_id_latest_is_reserved(void **state)
{
    (void)state;
    assert_refused_at(with("id", json_string("latest")), "id");
    json_decref(stored(with("id", json_string("latest-news"))));
}

static void test_poll_question_of_500_bytes_is_accepted(void **state)
{
    (void)state;
    char q[POLL_TEXT_MAX + 1];
    memset(q, 'q', POLL_TEXT_MAX);
    q[POLL_TEXT_MAX] = '\0';
    json_decref(stored(with("question", json_string(q))));
}

/* Editors count characters: 500 Vietnamese letters (1,500 bytes) fit, 501 do not. */
static void test_poll_limit_counts_characters_not_bytes(void **state)
{
    (void)state;
    char q[3 * (POLL_TEXT_MAX + 1) + 1];
    size_t o = 0;
    for (int i = 0; i < POLL_TEXT_MAX; i++) {
        memcpy(q + o, "\xe1\xbb\xa9", 3); /* U+1EE9, "ứ" */
        o += 3;
    }
    q[o] = '\0';
    json_decref(stored(with("question", json_string(q))));
    memcpy(q + o, "\xe1\xbb\xa9", 4);
    assert_refused_at(with("question", json_string(q)), "question");
    assert_int_equal(text_utf8_chars("T\xe1\xbb\xa9 a", 6), 4);
}

static void test_poll_bad_options_list_is_at_options(void **state)
{
    (void)state;
    assert_refused_at(with("options", json_string("a,b")), "options");
    assert_refused_at(with("options", json_array()), "options");
    assert_refused_at(without("options"), "options");
}

static void test_poll_fewer_than_two_options_is_refused(void **state)
{
    (void)state;
    json_t *in = valid_input();
    json_array_remove(json_object_get(in, "options"), 1);
    assert_refused_at(in, "options");
}

static void test_poll_more_than_fifty_options_is_refused(void **state)
{
    (void)state;
    json_t *in = valid_input();
    json_t *opts = json_array();
    for (int i = 0; i <= POLL_OPTIONS_MAX; i++) {
        char id[16];
        snprintf(id, sizeof(id), "o%d", i);
        json_array_append_new(opts, json_pack("{ss ss}", "id", id, "label", id));
    }
    json_object_set_new(in, "options", opts);
    assert_refused_at(in, "options");
}

static void test_poll_bad_option_id_is_at_its_index(void **state)
{
    (void)state;
    assert_refused_at(with_option(1, "id", json_string("The-Thao")), "options[1].id");
    assert_refused_at(with_option(1, "id", json_string("")), "options[1].id");
    assert_refused_at(with_option(1, "id", json_integer(2)), "options[1].id");
    assert_refused_at(with_option(0, "id", json_string("tin tuc")), "options[0].id");
}

static void test_poll_duplicate_option_id_is_at_the_repeat(void **state)
{
    (void)state;
    assert_refused_at(with_option(1, "id", json_string("tin-tuc")), "options[1].id");
}

static void test_poll_bad_option_label_is_at_its_index(void **state)
{
    (void)state;
    assert_refused_at(with_option(0, "label", json_string("")), "options[0].label");
    assert_refused_at(with_option(0, "label", json_string("tab\tok but\x01 not")),
                      "options[0].label");
    assert_refused_at(with_option(1, "label", json_null()), "options[1].label");
}

static void test_poll_invalid_utf8_label_is_refused(void **state)
{
    (void)state;
    /* jansson checks UTF-8 itself; _nocheck puts an overlong '/' past it. */
    assert_refused_at(with_option(0, "label", json_stringn_nocheck("a\xc0\xaf", 3)),
                      "options[0].label");
    assert_refused_at(with_option(1, "label", json_stringn_nocheck("\xed\xa0\x80", 3)),
                      "options[1].label");
}

static void test_poll_option_with_other_keys_is_refused(void **state)
{
    (void)state;
    assert_refused_at(with_option(0, "extra", json_true()), "options[0]");
    json_t *in = valid_input();
    json_array_set_new(json_object_get(in, "options"), 0, json_string("tin-tuc"));
    assert_refused_at(in, "options[0]");
}

static void test_poll_bad_max_choices_is_at_max_choices(void **state)
{
    (void)state;
    assert_refused_at(with("max_choices", json_integer(0)), "max_choices");
    assert_refused_at(with("max_choices", json_integer(-1)), "max_choices");
    assert_refused_at(with("max_choices", json_integer(3)), "max_choices"); /* 2 options */
    assert_refused_at(with("max_choices", json_string("1")), "max_choices");
    assert_refused_at(with("max_choices", json_real(1.0)), "max_choices");
    assert_refused_at(with("max_choices", json_null()), "max_choices");
}

static void test_poll_bad_opens_at_is_at_opens_at(void **state)
{
    (void)state;
    assert_refused_at(with("opens_at", json_string("tomorrow")), "opens_at");
    assert_refused_at(with("opens_at", json_string("2026-11-28")), "opens_at");
    assert_refused_at(with("opens_at", json_string("2026-11-28T10:00:00")), "opens_at");
    assert_refused_at(with("opens_at", json_true()), "opens_at");
}

static void test_poll_bad_closes_at_is_at_closes_at(void **state)
{
    (void)state;
    assert_refused_at(with("closes_at", json_string("2026-13-01T00:00:00Z")), "closes_at");
    assert_refused_at(with("closes_at", json_string("")), "closes_at");
}

static void test_poll_opens_at_not_before_closes_at_is_refused(void **state)
{
    (void)state;
    assert_refused_at(with("closes_at", json_string("2026-11-28T10:00:00Z")), "closes_at");
    assert_refused_at(with("closes_at", json_string("2026-11-28T09:59:59Z")), "closes_at");
    /* the same instant written in another zone is still equal */
    assert_refused_at(with("closes_at", json_string("2026-11-28T17:00:00+07:00")), "closes_at");
    json_decref(stored(with("closes_at", json_string("2026-11-28T10:00:01Z"))));
}

static void test_poll_bad_status_is_at_status(void **state)
{
    (void)state;
    assert_refused_at(with("status", json_string("paused")), "status");
    assert_refused_at(with("status", json_string("OPEN")), "status");
    assert_refused_at(with("status", json_integer(1)), "status");
}

static void test_poll_bad_results_visibility_is_at_results_visibility(void **state)
{
    (void)state;
    assert_refused_at(with("results_visibility", json_string("sometimes")), "results_visibility");
    assert_refused_at(with("results_visibility", json_string("")), "results_visibility");
    assert_refused_at(with("results_visibility", json_false()), "results_visibility");
}

/* ---- poll_state_at ---- */

static json_t *windowed(const char *status)
{
    json_t *in = valid_input();
    json_object_set_new(in, "status", json_string(status));
    return stored(in);
}

static void test_poll_state_is_open_inside_the_window(void **state)
{
    (void)state;
    json_t *def = windowed("open");
    assert_int_equal(poll_state_at(def, IN_WINDOW), POLL_OPEN);
    assert_int_equal(poll_state_at(def, OPENS_AT), POLL_OPEN);
    assert_int_equal(poll_state_at(def, CLOSES_AT - 1), POLL_OPEN);
    json_decref(def);
}

static void test_poll_state_is_upcoming_before_opens_at(void **state)
{
    (void)state;
    json_t *def = windowed("open");
    assert_int_equal(poll_state_at(def, OPENS_AT - 1), POLL_UPCOMING);
    assert_int_equal(poll_state_at(def, NOW), POLL_UPCOMING);
    json_decref(def);
}

static void test_poll_state_is_closed_from_the_second_it_closes(void **state)
{
    (void)state;
    json_t *def = windowed("open");
    assert_int_equal(poll_state_at(def, CLOSES_AT), POLL_CLOSED);
    assert_int_equal(poll_state_at(def, AFTER_SHUT), POLL_CLOSED);
    json_decref(def);
}

static void test_poll_state_is_closed_by_status(void **state)
{
    (void)state;
    json_t *def = windowed("closed");
    assert_int_equal(poll_state_at(def, IN_WINDOW), POLL_CLOSED);
    assert_int_equal(poll_state_at(def, NOW), POLL_CLOSED);
    json_decref(def);
}

static void test_poll_state_without_times_is_always_open(void **state)
{
    (void)state;
    json_t *in = without("opens_at");
    json_object_del(in, "closes_at");
    json_t *def = stored(in);
    assert_int_equal(poll_state_at(def, 0), POLL_OPEN);
    assert_int_equal(poll_state_at(def, INT64_C(4102444800)), POLL_OPEN);
    json_decref(def);
}

/* ---- poll_results_visible ---- */

static json_t *with_visibility(const char *vis)
{
    return stored(with("results_visibility", json_string(vis)));
}

static void test_poll_results_always_visible(void **state)
{
    (void)state;
    json_t *def = with_visibility("always");
    assert_int_equal(poll_results_visible(def, NOW, 0), 1);
    assert_int_equal(poll_results_visible(def, IN_WINDOW, 0), 1);
    assert_int_equal(poll_results_visible(def, AFTER_SHUT, 1), 1);
    json_decref(def);
}

static void test_poll_results_after_vote_visible_only_to_voters(void **state)
{
    (void)state;
    json_t *def = with_visibility("after_vote");
    assert_int_equal(poll_results_visible(def, IN_WINDOW, 0), 0);
    assert_int_equal(poll_results_visible(def, IN_WINDOW, 1), 1);
    json_decref(def);
}

static void test_poll_results_after_close_visible_only_when_closed(void **state)
{
    (void)state;
    json_t *def = with_visibility("after_close");
    assert_int_equal(poll_results_visible(def, IN_WINDOW, 1), 0);
    assert_int_equal(poll_results_visible(def, NOW, 0), 0);
    assert_int_equal(poll_results_visible(def, CLOSES_AT, 0), 1);
    json_decref(def);

    json_t *in = with("results_visibility", json_string("after_close"));
    json_object_set_new(in, "status", json_string("closed"));
    def = stored(in);
    assert_int_equal(poll_results_visible(def, IN_WINDOW, 0), 1);
    json_decref(def);
}

static void test_poll_results_never_visible(void **state)
{
    (void)state;
    json_t *def = with_visibility("never");
    assert_int_equal(poll_results_visible(def, IN_WINDOW, 1), 0);
    assert_int_equal(poll_results_visible(def, AFTER_SHUT, 1), 0);
    json_decref(def);
}

/* ---- poll_results ---- */

/* A stored poll with n options "o0".."o{n-1}". */
static json_t *poll_with_options(int n)
{
    json_t *in = valid_input();
    json_t *opts = json_array();
    for (int i = 0; i < n; i++) {
        char id[16];
        snprintf(id, sizeof(id), "o%d", i);
        json_array_append_new(opts, json_pack("{ss ss}", "id", id, "label", id));
    }
    json_object_set_new(in, "options", opts);
    return stored(in);
}

/* A percent of a result: a real with one decimal, as tenths. */
static long long pct_tenths(const json_t *o)
{
    const json_t *v = json_object_get(o, "percent");
    if (!json_is_real(v))
        fail_msg("percent is not a number with a decimal point");
    double tenths = json_real_value(v) * 10.0;
    long long rounded = (long long)(tenths + 0.5);
    if (tenths - (double)rounded > 1e-9 || (double)rounded - tenths > 1e-9)
        fail_msg("percent %.17g has more than one decimal", json_real_value(v));
    return rounded;
}

/* Results for votes[0..n) given to o0..o{n-1}; checks the percentages
 * (want in tenths: 333 is 33.3%). */
static void assert_percents(int n, const long long *votes, const int *want)
{
    json_t *def = poll_with_options(n);
    json_t *counts = json_object();
    long long total = 0;
    for (int i = 0; i < n; i++) {
        char id[16];
        snprintf(id, sizeof(id), "o%d", i);
        json_object_set_new(counts, id, json_integer(votes[i]));
        total += votes[i];
    }
    json_t *res = poll_results(def, counts, total);
    assert_non_null(res);
    const json_t *opts = json_object_get(res, "options");
    assert_int_equal(json_array_size(opts), (size_t)n);
    for (int i = 0; i < n; i++) {
        const json_t *o = json_array_get(opts, (size_t)i);
        char id[16];
        snprintf(id, sizeof(id), "o%d", i);
        assert_string_equal(str_field(o, "id"), id);
        assert_int_equal(int_field(o, "votes"), votes[i]);
        if (pct_tenths(o) != want[i])
            fail_msg("option %d: %lld tenths, want %d", i, pct_tenths(o), want[i]);
        assert_int_equal(poll_percent_tenths(votes[i], total), want[i]);
    }
    assert_int_equal(int_field(res, "total"), total);
    json_decref(res);
    json_decref(counts);
    json_decref(def);
}

static void test_poll_results_three_equal_shares_give_33_3_each(void **state)
{
    (void)state;
    static const long long votes[] = {1, 1, 1};
    static const int want[] = {333, 333, 333}; /* equal votes, equal shares: sum 99.9 */
    assert_percents(3, votes, want);
}

static void test_poll_results_two_to_one_gives_66_7_and_33_3(void **state)
{
    (void)state;
    static const long long votes[] = {2, 1};
    static const int want[] = {667, 333};
    assert_percents(2, votes, want);
    static const long long votes3[] = {1, 3, 3}; /* 14.29, 42.86, 42.86: sum 100.1 */
    static const int want3[] = {143, 429, 429};
    assert_percents(3, votes3, want3);
}

static void test_poll_results_round_half_up_from_integers(void **state)
{
    (void)state;
    static const long long votes[] = {1, 15}; /* 6.25% and 93.75% */
    static const int want[] = {63, 938};
    assert_percents(2, votes, want);
    static const long long few[] = {1, 1999}; /* 0.05% -> 0.1%, 99.95% -> 100.0% */
    static const int want_few[] = {1, 1000};
    assert_percents(2, few, want_few);
    static const long long tiny[] = {1, 2001}; /* 0.04995% -> 0.0% */
    static const int want_tiny[] = {0, 1000};
    assert_percents(2, tiny, want_tiny);
}

static void test_poll_results_seven_equal_shares_are_equal(void **state)
{
    (void)state;
    static const long long votes[] = {1, 1, 1, 1, 1, 1, 1};
    static const int want[] = {143, 143, 143, 143, 143, 143, 143};
    assert_percents(7, votes, want);
}

static void test_poll_results_exact_shares_are_unchanged(void **state)
{
    (void)state;
    static const long long votes[] = {3, 1, 0};
    static const int want[] = {750, 250, 0};
    assert_percents(3, votes, want);
}

/* The fast text of the results is byte for byte what json_dumps writes. */
static void test_poll_results_text_is_the_json_of_poll_results(void **state)
{
    (void)state;
    json_t *def = json_pack("{ss s[{ss ss} {ss ss} {ss ss}]}", "id", "chuyen-muc", "options", "id",
                            "tin-tuc", "label", "Tin tức \"mới\"\n\\", "id", "khac", "label",
                            "Khác \u00e9\u1ea1", "id", "ba", "label", "3");
    struct poll_frames *f = poll_results_frames(def);
    const char *counts_json[] = {"{}", "{\"tin-tuc\":1,\"khac\":2,\"ba\":4}",
                                 "{\"tin-tuc\":-5,\"khac\":\"x\",\"other\":9}",
                                 "{\"tin-tuc\":1000000000000000000}", "{\"khac\":3}"};
    for (size_t i = 0; i < sizeof(counts_json) / sizeof(counts_json[0]); i++) {
        json_t *counts = json_loads(counts_json[i], 0, NULL);
        for (long long voters = -1; voters <= 7; voters += 4) {
            json_t *value = poll_results(def, counts, voters);
            char *want = http_json_text(value);
            json_decref(value);
            size_t len;
            char *got = poll_results_text(f, counts, voters, &len);
            assert_string_equal(got, want);
            assert_int_equal(len, strlen(want));
            free(got);
            free(want);
        }
        json_decref(counts);
    }
    poll_frames_free(f);
    json_decref(def);
}

static void test_poll_results_no_votes_are_all_zero(void **state)
{
    (void)state;
    static const long long votes[] = {0, 0, 0};
    static const int want[] = {0, 0, 0};
    assert_percents(3, votes, want);
}

static void test_poll_results_huge_damaged_tallies_do_not_overflow(void **state)
{
    (void)state;
    json_t *def = poll_with_options(2);
    json_t *counts = json_pack("{sI sI}", "o0", (json_int_t)INT64_MAX, "o1", (json_int_t)INT64_MAX);
    json_t *res = poll_results(def, counts, 2);
    assert_int_equal(int_field(res, "total"), 2 * POLL_VOTES_MAX);
    assert_int_equal(pct_tenths(json_array_get(json_object_get(res, "options"), 0)), 500);
    assert_int_equal(poll_total(def, counts), 2 * POLL_VOTES_MAX);
    json_decref(res);
    json_decref(counts);
    json_decref(def);
}

static void test_poll_results_missing_ids_count_zero(void **state)
{
    (void)state;
    json_t *def = poll_with_options(3);
    json_t *counts = json_pack("{sI}", "o1", (json_int_t)5);
    json_t *res = poll_results(def, counts, 5);
    const json_t *opts = json_object_get(res, "options");
    assert_int_equal(int_field(json_array_get(opts, 0), "votes"), 0);
    assert_int_equal(pct_tenths(json_array_get(opts, 0)), 0);
    assert_int_equal(pct_tenths(json_array_get(opts, 1)), 1000);
    assert_int_equal(int_field(json_array_get(opts, 2), "votes"), 0);
    json_decref(res);
    json_decref(counts);
    json_decref(def);
}

static void test_poll_results_unknown_ids_are_ignored(void **state)
{
    (void)state;
    json_t *def = poll_with_options(2);
    json_t *counts =
        json_pack("{sI sI sI}", "o0", (json_int_t)1, "o1", (json_int_t)1, "gone", (json_int_t)98);
    json_t *res = poll_results(def, counts, 2);
    assert_int_equal(int_field(res, "total"), 2);
    const json_t *opts = json_object_get(res, "options");
    assert_int_equal(json_array_size(opts), 2);
    assert_int_equal(pct_tenths(json_array_get(opts, 0)), 500);
    assert_int_equal(pct_tenths(json_array_get(opts, 1)), 500);
    json_decref(res);
    json_decref(counts);
    json_decref(def);
}

static void test_poll_results_report_total_voters_and_poll(void **state)
{
    (void)state;
    json_t *def = poll_with_options(3);
    /* a multiple-choice poll: 4 voters gave 6 votes */
    json_t *counts =
        json_pack("{sI sI sI}", "o0", (json_int_t)3, "o1", (json_int_t)2, "o2", (json_int_t)1);
    json_t *res = poll_results(def, counts, 4);
    assert_string_equal(str_field(res, "poll_id"), "chuyen-muc");
    assert_int_equal(int_field(res, "total"), 6);
    assert_int_equal(int_field(res, "voters"), 4);
    const json_t *o = json_array_get(json_object_get(res, "options"), 0);
    assert_string_equal(str_field(o, "label"), "o0");
    assert_int_equal(pct_tenths(o), 500);
    json_decref(res);
    json_decref(counts);
    json_decref(def);
}

/* ---- poll_choice_array ---- */

static void assert_choices(const char *choice, size_t len, const char *want_json)
{
    json_t *got = poll_choice_array(choice, len);
    json_t *want = J(want_json);
    if (!json_equal(got, want)) {
        char *s = json_dumps(got, JSON_COMPACT);
        fail_msg("\"%.*s\" gave %s, want %s", (int)len, choice, s, want_json);
    }
    json_decref(want);
    json_decref(got);
}

static void test_poll_choice_array_splits_on_commas(void **state)
{
    (void)state;
    assert_choices("a,b", 3, "['a','b']");
    assert_choices("tin-tuc", 7, "['tin-tuc']");
    assert_choices("x,y,z", 5, "['x','y','z']");
}

static void test_poll_choice_array_reads_only_len_bytes(void **state)
{
    (void)state;
    assert_choices("a,b,c", 3, "['a','b']");
    assert_choices("", 0, "[]");
}

/* ---- times within 1970..9999, one-line texts ---- */

static void test_poll_times_outside_1970_to_9999_are_refused(void **state)
{
    (void)state;
    /* 6.7e16 made localtime_r fail and the list show uninitialised bytes. */
    assert_refused_at(with("opens_at", json_integer(67000000000000000LL)), "opens_at");
    assert_refused_at(with("closes_at", json_integer(253402300800LL)), "closes_at");
    assert_refused_at(with("closes_at", json_integer(-1)), "closes_at");
    assert_refused_at(with("opens_at", json_string("1970-01-01T00:00:00+07:00")), "opens_at");
    assert_refused_at(with("closes_at", json_string("9999-12-31T23:59:59-01:00")), "closes_at");
    assert_refused_at(with("created_at", json_integer(67000000000000000LL)), "created_at");
    assert_refused_at(with("updated_at", json_string("2026-11-28T10:00:00Z")), "updated_at");
}

static void test_poll_times_at_the_edges_of_1970_to_9999_are_accepted(void **state)
{
    (void)state;
    json_t *in = valid_input();
    json_object_set_new(in, "opens_at", json_string("1970-01-01T00:00:00Z"));
    json_object_set_new(in, "closes_at", json_string("9999-12-31T23:59:59Z"));
    json_t *def = stored(in);
    assert_int_equal(int_field(def, "opens_at"), 0);
    assert_int_equal(int_field(def, "closes_at"), 253402300799LL);
    json_decref(def);
    def = stored(with("closes_at", json_integer(253402300799LL)));
    assert_int_equal(int_field(def, "closes_at"), 253402300799LL);
    json_decref(def);
}

static void test_poll_texts_with_bidi_controls_or_separators_are_refused(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "abc\xe2\x80\xae"
        "cba", /* U+202E right-to-left override */
        "\xe2\x80\xaa"
        "x", /* U+202A left-to-right embedding */
        "x\xe2\x81\xa6"
        "y",             /* U+2066 left-to-right isolate */
        "x\xe2\x81\xa9", /* U+2069 pop directional isolate */
        "line\xe2\x80\xa8"
        "break",                 /* U+2028 line separator */
        "para\xe2\x80\xa9",      /* U+2029 paragraph separator */
        "C1 \xc2\x85 next line", /* U+0085 */
        "tab\there",
        "two\nlines",
        "bell\x07",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_refused_at(with("question", json_string(bad[i])), "question");
        assert_refused_at(with_option(1, "label", json_string(bad[i])), "options[1].label");
    }
    /* Marks are not controls: U+200F right-to-left mark stays allowed. */
    json_decref(stored(with("question", json_string("\xe2\x80\x8f"
                                                    "abc"))));
}

/* ---- poll_stored_check: what Redis holds ---- */

static void assert_damaged(const char *text)
{
    json_error_t jerr;
    json_t *def = json_loads(text, 0, &jerr);
    if (!def)
        fail_msg("bad fixture %s: %s", text, jerr.text);
    if (poll_stored_check(def) == NULL)
        fail_msg("accepted damaged definition %s", text);
    json_decref(def);
}

#define GOOD_OPTS "\"options\":[{\"id\":\"a\",\"label\":\"A\"},{\"id\":\"b\",\"label\":\"B\"}]"

static void test_poll_stored_check_accepts_what_the_service_writes(void **state)
{
    (void)state;
    json_t *def = poll_with_options(3);
    assert_null(poll_stored_check(def));
    json_decref(def);
    /* An older definition without the optional fields, integral reals. */
    def = J("{'id':'x','question':'Q','options':[{'id':'a','label':'A'}],'max_choices':1.0,"
            "'closes_at':1796058000.0}");
    assert_null(poll_stored_check(def));
    assert_true(json_is_integer(json_object_get(def, "max_choices")));
    assert_int_equal(int_field(def, "closes_at"), 1796058000);
    json_decref(def);
}

/* An older definition that passed the check, without results_visibility (or
 * with null), is shown as "always" rather than failing to render. */
static void test_poll_public_view_of_an_older_definition_without_visibility(void **state)
{
    (void)state;
    const char *defs[] = {
        "{'id':'x','question':'Q','options':[{'id':'a','label':'A'}],'max_choices':1}",
        "{'id':'x','question':'Q','options':[{'id':'a','label':'A'}],'max_choices':1,"
        "'results_visibility':null,'status':'open'}"};
    for (size_t i = 0; i < 2; i++) {
        json_t *def = J(defs[i]);
        assert_null(poll_stored_check(def));
        json_t *view = poll_public_view(def, 1796058000);
        assert_non_null(view);
        assert_string_equal(json_string_value(json_object_get(view, "results_visibility")),
                            "always");
        assert_string_equal(json_string_value(json_object_get(view, "id")), "x");
        json_decref(view);
        json_decref(def);
    }
}

/* ---- poll_meta_args: what the scripts check ---- */

static void test_poll_meta_args_of_a_full_definition(void **state)
{
    (void)state;
    json_t *def = J("{'id':'x','question':'Q','options':[{'id':'a','label':'A'},{'id':'b-2',"
                    "'label':'B'}],'max_choices':2,'opens_at':1796058000,'closes_at':1796144400,"
                    "'status':'open','allow_change':true,'archived':true,'version':7,"
                    "'updated_at':1796050000}");
    struct poll_meta m;
    poll_meta_args(def, &m);
    assert_string_equal(m.status, "open");
    assert_string_equal(m.opens_at, "1796058000");
    assert_string_equal(m.closes_at, "1796144400");
    assert_string_equal(m.archived, "1");
    assert_string_equal(m.max_choices, "2");
    assert_string_equal(m.allow_change, "1");
    assert_string_equal(m.version, "7");
    assert_string_equal(m.options, "a,b-2");
    assert_string_equal(m.written_at, "1796050000");
    json_decref(def);
}

static void test_poll_meta_args_of_an_older_definition_without_optional_fields(void **state)
{
    (void)state;
    json_t *def = J("{'id':'x','question':'Q','options':[{'id':'a','label':'A'}],"
                    "'max_choices':1,'status':'closed','opens_at':null}");
    struct poll_meta m;
    poll_meta_args(def, &m);
    assert_string_equal(m.status, ""); /* anything but open is closed */
    assert_string_equal(m.opens_at, "");
    assert_string_equal(m.closes_at, "");
    assert_string_equal(m.archived, "0");
    assert_string_equal(m.allow_change, "0");
    assert_string_equal(m.version, "0");
    assert_string_equal(m.options, "a");
    assert_string_equal(m.written_at, "");
    json_decref(def);
    /* 50 options of 64 characters fit. */
    def = poll_with_options(50);
    json_t *opts = json_object_get(def, "options");
    for (size_t i = 0; i < 50; i++) {
        char id[65];
        snprintf(id, sizeof(id), "%02zu%062d", i, 0);
        json_object_set_new(json_array_get(opts, i), "id", json_string(id));
    }
    poll_meta_args(def, &m);
    assert_int_equal(strlen(m.options), 50 * 64 + 49);
    json_decref(def);
}

static void test_poll_stored_check_refuses_missing_and_mistyped_fields(void **state)
{
    (void)state;
    assert_damaged("[]");
    assert_damaged("{\"question\":\"Q\"," GOOD_OPTS ",\"max_choices\":1}");
    assert_damaged("{\"id\":\"Bad Id\",\"question\":\"Q\"," GOOD_OPTS ",\"max_choices\":1}");
    assert_damaged("{\"id\":\"x\"," GOOD_OPTS ",\"max_choices\":1}");
    assert_damaged("{\"id\":\"x\",\"question\":7," GOOD_OPTS ",\"max_choices\":1}");
    assert_damaged("{\"id\":\"x\",\"question\":\"Q\",\"max_choices\":1}");
    assert_damaged("{\"id\":\"x\",\"question\":\"Q\",\"options\":{},\"max_choices\":1}");
    assert_damaged("{\"id\":\"x\",\"question\":\"Q\",\"options\":[],\"max_choices\":1}");
    assert_damaged("{\"id\":\"x\",\"question\":\"Q\",\"options\":[{\"id\":\"a\"}],"
                   "\"max_choices\":1}");
    assert_damaged("{\"id\":\"x\",\"question\":\"Q\",\"options\":[{\"label\":\"A\"}],"
                   "\"max_choices\":1}");
    assert_damaged("{\"id\":\"x\",\"question\":\"Q\",\"options\":[null],\"max_choices\":1}");
    assert_damaged("{\"id\":\"x\",\"question\":\"Q\"," GOOD_OPTS "}");
    assert_damaged("{\"id\":\"x\",\"question\":\"Q\"," GOOD_OPTS ",\"max_choices\":\"1\"}");
    assert_damaged("{\"id\":\"x\",\"question\":\"Q\"," GOOD_OPTS ",\"max_choices\":1.5}");
    assert_damaged("{\"id\":\"x\",\"question\":\"Q\"," GOOD_OPTS
                   ",\"max_choices\":1,\"closes_at\":67000000000000000}");
    assert_damaged("{\"id\":\"x\",\"question\":\"Q\"," GOOD_OPTS
                   ",\"max_choices\":1,\"opens_at\":\"2026-01-01T00:00:00Z\"}");
    assert_damaged("{\"id\":\"x\",\"question\":\"Q\"," GOOD_OPTS
                   ",\"max_choices\":1,\"created_at\":-5}");
    assert_damaged("{\"id\":\"x\",\"question\":\"Q\"," GOOD_OPTS
                   ",\"max_choices\":1,\"status\":1}");
    assert_damaged("{\"id\":\"x\",\"question\":\"Q\"," GOOD_OPTS
                   ",\"max_choices\":1,\"allow_change\":\"yes\"}");
    assert_damaged("{\"id\":\"x\",\"question\":\"Q\"," GOOD_OPTS
                   ",\"max_choices\":1,\"version\":\"3\"}");
}

/* ---- poll_public_list ---- */

/* A stored poll for the list: opens (or 0: none), created, status. */
static json_t *listed(const char *id, json_int_t opens, json_int_t created, const char *status,
                      int archived)
{
    json_t *def = poll_with_options(2);
    json_object_set_new(def, "id", json_string(id));
    json_object_set_new(def, "opens_at", opens ? json_integer(opens) : json_null());
    json_object_set_new(def, "closes_at", json_null());
    json_object_set_new(def, "created_at", json_integer(created));
    json_object_set_new(def, "status", json_string(status));
    json_object_set_new(def, "archived", json_boolean(archived));
    return json_pack("{so si si}", "def", def, "voters", 0, "votes", 0);
}

static void assert_list_ids(json_t *list, const char *want_json, json_int_t want_total)
{
    json_t *ids = json_array();
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(list, "polls"), i, p)
    {
        json_array_append(ids, json_object_get(p, "id"));
    }
    json_t *want = J(want_json);
    if (!json_equal(ids, want))
        fail_msg("listed %s, want %s", json_dumps(ids, JSON_COMPACT), want_json);
    assert_int_equal(int_field(list, "total"), want_total);
    json_decref(want);
    json_decref(ids);
    json_decref(list);
}

static void test_poll_public_list_newest_first_paged_never_upcoming_or_archived(void **state)
{
    (void)state;
    json_t *polls = json_array();
    json_array_append_new(polls, listed("old", 0, NOW - 900, "open", 0));
    json_array_append_new(polls, listed("newer", NOW - 100, NOW - 5000, "open", 0));
    json_array_append_new(polls, listed("b-tie", 0, NOW - 50, "open", 0));
    json_array_append_new(polls, listed("a-tie", 0, NOW - 50, "open", 0));
    json_array_append_new(polls, listed("shut", 0, NOW - 10, "closed", 0));
    json_array_append_new(polls, listed("soon", NOW + 100, NOW - 1, "open", 0));
    json_array_append_new(polls, listed("gone", 0, NOW, "open", 1));

    assert_list_ids(poll_public_list(polls, NOW, POLL_LIST_OPEN, 20, 0),
                    "['a-tie','b-tie','newer','old']", 4);
    assert_list_ids(poll_public_list(polls, NOW, POLL_LIST_CLOSED, 20, 0), "['shut']", 1);
    assert_list_ids(poll_public_list(polls, NOW, POLL_LIST_ALL, 20, 0),
                    "['shut','a-tie','b-tie','newer','old']", 5);
    assert_list_ids(poll_public_list(polls, NOW, POLL_LIST_ALL, 2, 1), "['a-tie','b-tie']", 5);
    assert_list_ids(poll_public_list(polls, NOW, POLL_LIST_OPEN, 1, 0), "['a-tie']", 4);
    assert_list_ids(poll_public_list(polls, NOW, POLL_LIST_OPEN, 20, 4), "[]", 4);
    assert_list_ids(poll_public_list(polls, NOW, POLL_LIST_OPEN, 20, 100000), "[]", 4);

    json_t *list = poll_public_list(polls, NOW, POLL_LIST_ALL, 1, 0);
    const json_t *item = json_array_get(json_object_get(list, "polls"), 0);
    json_t *want = J("{'id':'shut','question':'B\xe1\xba\xa1n quan t\xc3\xa2m chuy\xc3\xaan "
                     "m\xe1\xbb\xa5"
                     "c n\xc3\xa0o?','status':'closed','opens_at':null,'closes_at':null}");
    assert_true(json_equal(item, want));
    assert_int_equal(int_field(list, "limit"), 1);
    assert_int_equal(int_field(list, "offset"), 0);
    json_decref(want);
    json_decref(list);
    json_decref(polls);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_poll_valid_definition_gives_the_stored_form),
        cmocka_unit_test(test_poll_defaults_are_one_choice_open_always_visible),
        cmocka_unit_test(test_poll_explicit_fields_are_kept),
        cmocka_unit_test(test_poll_absent_or_null_times_are_stored_as_null),
        cmocka_unit_test(test_poll_offset_time_converts_to_utc_unix_seconds),
        cmocka_unit_test(test_poll_input_is_not_modified),
        cmocka_unit_test(test_poll_not_an_object_is_refused),
        cmocka_unit_test(test_poll_unknown_field_is_named),
        cmocka_unit_test(test_poll_bad_id_is_at_id),
        cmocka_unit_test(test_poll_bad_question_is_at_question),
        cmocka_unit_test(test_poll_question_of_500_bytes_is_accepted),
        cmocka_unit_test(test_poll_limit_counts_characters_not_bytes),
        cmocka_unit_test(test_poll_id_latest_is_reserved),
        cmocka_unit_test(test_poll_bad_options_list_is_at_options),
        cmocka_unit_test(test_poll_fewer_than_two_options_is_refused),
        cmocka_unit_test(test_poll_more_than_fifty_options_is_refused),
        cmocka_unit_test(test_poll_bad_option_id_is_at_its_index),
        cmocka_unit_test(test_poll_duplicate_option_id_is_at_the_repeat),
        cmocka_unit_test(test_poll_bad_option_label_is_at_its_index),
        cmocka_unit_test(test_poll_invalid_utf8_label_is_refused),
        cmocka_unit_test(test_poll_option_with_other_keys_is_refused),
        cmocka_unit_test(test_poll_bad_max_choices_is_at_max_choices),
        cmocka_unit_test(test_poll_bad_opens_at_is_at_opens_at),
        cmocka_unit_test(test_poll_bad_closes_at_is_at_closes_at),
        cmocka_unit_test(test_poll_opens_at_not_before_closes_at_is_refused),
        cmocka_unit_test(test_poll_bad_status_is_at_status),
        cmocka_unit_test(test_poll_bad_results_visibility_is_at_results_visibility),
        cmocka_unit_test(test_poll_state_is_open_inside_the_window),
        cmocka_unit_test(test_poll_state_is_upcoming_before_opens_at),
        cmocka_unit_test(test_poll_state_is_closed_from_the_second_it_closes),
        cmocka_unit_test(test_poll_state_is_closed_by_status),
        cmocka_unit_test(test_poll_state_without_times_is_always_open),
        cmocka_unit_test(test_poll_results_always_visible),
        cmocka_unit_test(test_poll_results_after_vote_visible_only_to_voters),
        cmocka_unit_test(test_poll_results_after_close_visible_only_when_closed),
        cmocka_unit_test(test_poll_results_never_visible),
        cmocka_unit_test(test_poll_results_three_equal_shares_give_33_3_each),
        cmocka_unit_test(test_poll_results_two_to_one_gives_66_7_and_33_3),
        cmocka_unit_test(test_poll_results_round_half_up_from_integers),
        cmocka_unit_test(test_poll_results_seven_equal_shares_are_equal),
        cmocka_unit_test(test_poll_results_exact_shares_are_unchanged),
        cmocka_unit_test(test_poll_results_no_votes_are_all_zero),
        cmocka_unit_test(test_poll_results_text_is_the_json_of_poll_results),
        cmocka_unit_test(test_poll_results_huge_damaged_tallies_do_not_overflow),
        cmocka_unit_test(test_poll_results_missing_ids_count_zero),
        cmocka_unit_test(test_poll_results_unknown_ids_are_ignored),
        cmocka_unit_test(test_poll_results_report_total_voters_and_poll),
        cmocka_unit_test(test_poll_times_outside_1970_to_9999_are_refused),
        cmocka_unit_test(test_poll_times_at_the_edges_of_1970_to_9999_are_accepted),
        cmocka_unit_test(test_poll_texts_with_bidi_controls_or_separators_are_refused),
        cmocka_unit_test(test_poll_stored_check_accepts_what_the_service_writes),
        cmocka_unit_test(test_poll_public_view_of_an_older_definition_without_visibility),
        cmocka_unit_test(test_poll_stored_check_refuses_missing_and_mistyped_fields),
        cmocka_unit_test(test_poll_meta_args_of_a_full_definition),
        cmocka_unit_test(test_poll_meta_args_of_an_older_definition_without_optional_fields),
        cmocka_unit_test(test_poll_public_list_newest_first_paged_never_upcoming_or_archived),
        cmocka_unit_test(test_poll_choice_array_splits_on_commas),
        cmocka_unit_test(test_poll_choice_array_reads_only_len_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
