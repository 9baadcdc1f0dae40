/* poll.c - checking poll definitions and rendering them for readers.
 *
 * Pure functions over jansson values; the clock is always a parameter, so the
 * same definition gives the same answer for the same instant. Must not talk to
 * Redis or HTTP, and must not keep state between calls. */
#include "poll.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "text.h"

static const char *const poll_visibilities[] = {"always", "after_vote", "after_close", "never"};

static void poll_fail(struct poll_errors *errs, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Records one error; past POLL_ERRORS_MAX they are counted but not kept. */
static void poll_fail(struct poll_errors *errs, const char *path, const char *fmt, ...)
{
    va_list ap;
    if (errs->n < POLL_ERRORS_MAX) {
        struct poll_error *e = &errs->e[errs->n];
        snprintf(e->path, sizeof(e->path), "%s", path);
        va_start(ap, fmt);
        vsnprintf(e->message, sizeof(e->message), fmt, ap);
        va_end(ap);
    }
    errs->n++;
}

static void poll_check_text(const json_t *v, const char *path, const char *what,
                            struct poll_errors *errs)
{
    if (!json_is_string(v)) {
        poll_fail(errs, path, "%s must be a string", what);
        return;
    }
    size_t len = json_string_length(v);
    size_t chars = text_utf8_chars(json_string_value(v), len);
    if (chars == 0 || chars > POLL_TEXT_MAX)
        poll_fail(errs, path, "%s must be 1 to %d characters long", what, POLL_TEXT_MAX);
    else if (!text_is_line(json_string_value(v), len))
        poll_fail(errs, path,
                  "%s must be one line of UTF-8 text without control characters, line "
                  "separators or bidirectional controls (U+202A-U+202E, U+2066-U+2069)",
                  what);
}

static int poll_time_in_range(const json_t *v)
{
    return json_is_integer(v) && json_integer_value(v) >= TEXT_TIME_MIN &&
           json_integer_value(v) <= TEXT_TIME_MAX;
}

/* An optional time: absent/null -> json null; RFC 3339 or Unix seconds from
 * 1970 to 9999 -> integer; anything else -> NULL and an error. */
static json_t *poll_check_time(const json_t *v, const char *path, struct poll_errors *errs)
{
    int64_t t;
    if (v == NULL || json_is_null(v))
        return json_null();
    if (poll_time_in_range(v))
        return json_integer(json_integer_value(v));
    if (json_is_string(v) && text_parse_rfc3339(json_string_value(v), &t) == 0)
        return json_integer(t);
    poll_fail(errs, path,
              "must be an RFC 3339 time from 1970-01-01T00:00:00Z to 9999-12-31T23:59:59Z "
              "such as 2026-12-01T00:00:00+07:00, Unix seconds in that range, or null");
    return NULL;
}

/* One of the allowed strings, or the default when absent. */
static const char *poll_check_enum(const json_t *in, const char *key, const char *const *allowed,
                                   size_t n, const char *message, struct poll_errors *errs)
{
    const json_t *v = json_object_get(in, key);
    if (v == NULL)
        return allowed[0];
    for (size_t i = 0; json_is_string(v) && i < n; i++) {
        if (strcmp(json_string_value(v), allowed[i]) == 0)
            return allowed[i];
    }
    poll_fail(errs, key, "%s", message);
    return allowed[0];
}

static json_t *poll_check_options(const json_t *in_opts, struct poll_errors *errs)
{
    char path[96];
    if (!json_is_array(in_opts) || json_array_size(in_opts) < POLL_OPTIONS_MIN ||
        json_array_size(in_opts) > POLL_OPTIONS_MAX) {
        poll_fail(errs, "options", "must be an array of %d to %d options", POLL_OPTIONS_MIN,
                  POLL_OPTIONS_MAX);
        return NULL;
    }
    json_t *opts = json_array();
    size_t i;
    const json_t *o;
    json_array_foreach(in_opts, i, o)
    {
        snprintf(path, sizeof(path), "options[%zu]", i);
        if (!json_is_object(o) || json_object_size(o) != 2) {
            poll_fail(errs, path, "must be an object with exactly \"id\" and \"label\"");
            continue;
        }
        const json_t *oid = json_object_get(o, "id");
        const json_t *label = json_object_get(o, "label");
        snprintf(path, sizeof(path), "options[%zu].id", i);
        if (!json_is_string(oid) ||
            !text_is_slug(json_string_value(oid), json_string_length(oid))) {
            poll_fail(errs, path, "must be 1 to 64 characters of a-z, 0-9 and '-'");
            oid = NULL;
        }
        for (size_t k = 0; oid && k < json_array_size(opts); k++) {
            if (json_equal(json_object_get(json_array_get(opts, k), "id"), oid)) {
                poll_fail(errs, path, "repeats the id of an earlier option");
                oid = NULL;
            }
        }
        snprintf(path, sizeof(path), "options[%zu].label", i);
        size_t before = errs->n;
        poll_check_text(label, path, "the label", errs);
        if (oid && errs->n == before)
            json_array_append_new(opts, json_pack("{sO sO}", "id", oid, "label", label));
    }
    return opts;
}

json_t *poll_validate(const json_t *in, int64_t now, struct poll_errors *errs)
{
    static const char *const known[] = {
        "id",      "question",           "options",      "max_choices", "opens_at",   "closes_at",
        "status",  "results_visibility", "allow_change", "created_at",  "updated_at", "version",
        "archived"};
    static const char *const statuses[] = {"open", "closed"};
    static const char *const flag_names[2] = {"allow_change", "archived"};
    const char *key;
    json_t *val;

    errs->n = 0;
    if (!json_is_object(in)) {
        poll_fail(errs, "", "a poll must be a JSON object");
        return NULL;
    }
    json_object_foreach((json_t *)in, key, val)
    {
        int ok = 0;
        for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
            ok |= strcmp(key, known[i]) == 0;
        if (!ok)
            poll_fail(errs, key, "unknown field");
    }

    const json_t *id = json_object_get(in, "id");
    if (!json_is_string(id) || !text_is_slug(json_string_value(id), json_string_length(id)))
        poll_fail(errs, "id", "must be 1 to 64 characters of a-z, 0-9 and '-'");
    else if (strcmp(json_string_value(id), POLL_ID_LATEST) == 0)
        poll_fail(errs, "id",
                  "\"latest\" is reserved: data-thamdo-poll=\"latest\" shows the newest open poll");
    const json_t *question = json_object_get(in, "question");
    poll_check_text(question, "question", "the question", errs);

    json_t *opts = poll_check_options(json_object_get(in, "options"), errs);
    size_t nopts = json_array_size(json_object_get(in, "options"));

    json_int_t max_choices = 1;
    const json_t *mc = json_object_get(in, "max_choices");
    if (mc) {
        if (!json_is_integer(mc) || json_integer_value(mc) < 1 ||
            (size_t)json_integer_value(mc) > nopts)
            poll_fail(errs, "max_choices",
                      "must be a whole number from 1 to the number of options");
        else
            max_choices = json_integer_value(mc);
    }

    json_t *opens = poll_check_time(json_object_get(in, "opens_at"), "opens_at", errs);
    json_t *closes = poll_check_time(json_object_get(in, "closes_at"), "closes_at", errs);
    if (json_is_integer(opens) && json_is_integer(closes) &&
        json_integer_value(opens) >= json_integer_value(closes))
        poll_fail(errs, "closes_at", "must be later than opens_at");

    const char *status =
        poll_check_enum(in, "status", statuses, 2, "must be \"open\" or \"closed\"", errs);
    const char *vis = poll_check_enum(in, "results_visibility", poll_visibilities, 4,
                                      "must be \"always\", \"after_vote\", \"after_close\" or "
                                      "\"never\"",
                                      errs);
    int flags[2] = {0, 0};
    for (size_t k = 0; k < 2; k++) {
        const json_t *f = json_object_get(in, flag_names[k]);
        if (f && !json_is_boolean(f))
            poll_fail(errs, flag_names[k], "must be true or false");
        flags[k] = json_is_true(f);
    }
    /* The service's own fields (a polls file may carry them): whole numbers,
     * the times within 1970..9999. */
    static const char *const own_times[2] = {"created_at", "updated_at"};
    for (size_t k = 0; k < 2; k++) {
        const json_t *t = json_object_get(in, own_times[k]);
        if (t && !json_is_null(t) && !poll_time_in_range(t))
            poll_fail(errs, own_times[k], "must be Unix seconds from 1970 to 9999");
    }
    const json_t *ver = json_object_get(in, "version");
    if (ver && !json_is_null(ver) && (!json_is_integer(ver) || json_integer_value(ver) < 0))
        poll_fail(errs, "version", "must be a whole number");
    json_int_t version = json_integer_value(ver);
    json_int_t updated = json_integer_value(json_object_get(in, "updated_at"));
    json_int_t created = json_integer_value(json_object_get(in, "created_at"));
    if (created <= 0)
        created = now;

    if (errs->n > 0) {
        json_decref(opts);
        json_decref(opens);
        json_decref(closes);
        return NULL;
    }
    json_t *out = json_pack("{sO sO so sI so so ss ss sb sb sI sI sI}", "id", id, "question",
                            question, "options", opts, "max_choices", max_choices, "opens_at",
                            opens, "closes_at", closes, "status", status, "results_visibility", vis,
                            "allow_change", flags[0], "archived", flags[1], "created_at", created,
                            "updated_at", updated > 0 ? updated : created, "version", version);
    if (!out)
        poll_fail(errs, "", "the poll could not be stored");
    return out;
}

json_t *poll_from_input(const json_t *in, int64_t now, struct poll_error *err)
{
    struct poll_errors errs;
    json_t *out = poll_validate(in, now, &errs);
    if (!out)
        *err = errs.e[0];
    return out;
}

json_t *poll_load_file(const char *path, char *err, size_t err_size)
{
    json_error_t jerr;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        if (jerr.line > 0)
            snprintf(err, err_size, "%s:%d: %s", path, jerr.line, jerr.text);
        else
            snprintf(err, err_size, "%s: %s", path, jerr.text);
        return NULL;
    }
    json_t *list = json_is_array(root) ? root : json_object_get(root, "polls");
    if (!json_is_array(list)) {
        snprintf(err, err_size, "%s: expected {\"polls\":[...]} or an array of polls", path);
        json_decref(root);
        return NULL;
    }
    json_t *out = json_array();
    size_t i;
    json_t *p;
    json_array_foreach(list, i, p)
    {
        struct poll_error perr = {{0}, {0}};
        json_t *def = poll_from_input(p, 0, &perr);
        if (!def) {
            snprintf(err, err_size, "%s: polls[%zu]%s%s: %s", path, i, perr.path[0] ? "." : "",
                     perr.path, perr.message);
            goto fail;
        }
        for (size_t k = 0; k < json_array_size(out); k++) {
            if (json_equal(json_object_get(json_array_get(out, k), "id"),
                           json_object_get(def, "id"))) {
                snprintf(err, err_size, "%s: polls[%zu].id: repeats the id of polls[%zu]", path, i,
                         k);
                json_decref(def);
                goto fail;
            }
        }
        /* created_at 0 means "set when imported" */
        json_array_append_new(out, def);
    }
    json_decref(root);
    return out;

fail:
    json_decref(out);
    json_decref(root);
    return NULL;
}

/* ----------------------------------------------------- the stored form --- */

/* Integral numbers written as reals (1.0) become integers: the vote script
 * in Redis cannot tell them apart, so neither may the service. */
static int poll_stored_number(json_t *def, const char *key, long long min, long long max,
                              int null_ok)
{
    json_t *v = json_object_get(def, key);
    if (v == NULL || json_is_null(v))
        return null_ok;
    if (json_is_real(v)) {
        double d = json_real_value(v);
        if (!(d >= (double)min && d <= (double)max) || d != (double)(long long)d)
            return 0;
        json_object_set_new(def, key, json_integer((json_int_t)d));
        v = json_object_get(def, key);
    }
    return json_is_integer(v) && json_integer_value(v) >= min && json_integer_value(v) <= max;
}

static int poll_stored_is(const json_t *def, const char *key, int (*is)(const json_t *))
{
    const json_t *v = json_object_get(def, key);
    return v == NULL || json_is_null(v) || is(v);
}

static int poll_is_string(const json_t *v)
{
    return json_is_string(v);
}

static int poll_is_boolean(const json_t *v)
{
    return json_is_boolean(v);
}

const char *poll_stored_check(json_t *def)
{
    if (!json_is_object(def))
        return "not a JSON object";
    const json_t *id = json_object_get(def, "id");
    if (!json_is_string(id) || !text_is_slug(json_string_value(id), json_string_length(id)))
        return "id is not a slug";
    if (!json_is_string(json_object_get(def, "question")))
        return "question is not a string";
    const json_t *opts = json_object_get(def, "options");
    if (!json_is_array(opts) || json_array_size(opts) < 1 ||
        json_array_size(opts) > POLL_OPTIONS_MAX)
        return "options is not an array of 1 to 50 options";
    size_t i;
    const json_t *o;
    json_array_foreach(opts, i, o)
    {
        const json_t *oid = json_object_get(o, "id");
        if (!json_is_object(o) || !json_is_string(oid) ||
            !text_is_slug(json_string_value(oid), json_string_length(oid)))
            return "an option has no slug id";
        if (!json_is_string(json_object_get(o, "label")))
            return "an option label is not a string";
    }
    if (!poll_stored_number(def, "max_choices", 1, POLL_OPTIONS_MAX, 0))
        return "max_choices is not a whole number from 1 to 50";
    static const char *const times[] = {"opens_at", "closes_at", "created_at", "updated_at"};
    for (size_t k = 0; k < sizeof(times) / sizeof(times[0]); k++) {
        if (!poll_stored_number(def, times[k], TEXT_TIME_MIN, TEXT_TIME_MAX, 1))
            return "a time is not Unix seconds from 1970 to 9999";
    }
    if (!poll_stored_number(def, "version", 0, (long long)1 << 52, 1))
        return "version is not a whole number";
    if (!poll_stored_is(def, "status", poll_is_string) ||
        !poll_stored_is(def, "results_visibility", poll_is_string))
        return "status or results_visibility is not a string";
    if (!poll_stored_is(def, "allow_change", poll_is_boolean) ||
        !poll_stored_is(def, "archived", poll_is_boolean))
        return "allow_change or archived is not true or false";
    return NULL;
}

enum poll_state poll_state_at(const json_t *def, int64_t now)
{
    const char *status = json_string_value(json_object_get(def, "status"));
    if (!status || strcmp(status, "open") != 0)
        return POLL_CLOSED;
    const json_t *closes = json_object_get(def, "closes_at");
    if (json_is_integer(closes) && now >= json_integer_value(closes))
        return POLL_CLOSED;
    const json_t *opens = json_object_get(def, "opens_at");
    if (json_is_integer(opens) && now < json_integer_value(opens))
        return POLL_UPCOMING;
    return POLL_OPEN;
}

int poll_results_visible(const json_t *def, int64_t now, int voted)
{
    const char *vis = json_string_value(json_object_get(def, "results_visibility"));
    if (!vis || strcmp(vis, "always") == 0)
        return 1;
    if (strcmp(vis, "after_vote") == 0)
        return voted;
    if (strcmp(vis, "after_close") == 0)
        return poll_state_at(def, now) == POLL_CLOSED;
    return 0;
}

static json_t *poll_time_json(const json_t *t)
{
    char buf[40];
    if (!json_is_integer(t) || clock_format_local(json_integer_value(t), buf, sizeof(buf)) != 0)
        return json_null();
    return json_string(buf);
}

json_t *poll_public_view(const json_t *def, int64_t now)
{
    static const char *const states[] = {"open", "upcoming", "closed"};
    json_t *opts = json_array();
    size_t i;
    const json_t *o;
    json_array_foreach(json_object_get(def, "options"), i, o)
    {
        json_array_append_new(opts, json_pack("{sO sO}", "id", json_object_get(o, "id"), "label",
                                              json_object_get(o, "label")));
    }
    /* An older definition may have no results_visibility: "always", as for
     * poll_results_visible(). */
    const char *vis = json_string_value(json_object_get(def, "results_visibility"));
    return json_pack("{sO sO so sO so so ss ss sb}", "id", json_object_get(def, "id"), "question",
                     json_object_get(def, "question"), "options", opts, "max_choices",
                     json_object_get(def, "max_choices"), "opens_at",
                     poll_time_json(json_object_get(def, "opens_at")), "closes_at",
                     poll_time_json(json_object_get(def, "closes_at")), "status",
                     states[poll_state_at(def, now)], "results_visibility",
                     vis ? vis : poll_visibilities[0], "allow_change",
                     json_is_true(json_object_get(def, "allow_change")));
}

/* The votes of option o in counts, within 0..POLL_VOTES_MAX (a tally
 * damaged in Redis cannot overflow the sums below). */
static long long poll_votes_of(const json_t *o, const json_t *counts)
{
    const char *id = json_string_value(json_object_get(o, "id"));
    const json_t *c = id ? json_object_get(counts, id) : NULL;
    json_int_t v = json_is_integer(c) ? json_integer_value(c) : 0;
    return v < 0 ? 0 : v > POLL_VOTES_MAX ? POLL_VOTES_MAX : (long long)v;
}

long long poll_total(const json_t *def, const json_t *counts)
{
    long long total = 0;
    size_t i;
    const json_t *o;
    json_array_foreach(json_object_get(def, "options"), i, o)
    {
        total += poll_votes_of(o, counts);
    }
    return total;
}

long long poll_percent_tenths(long long votes, long long total)
{
    if (total <= 0 || votes <= 0)
        return 0;
    if (total > POLL_VOTES_MAX * POLL_OPTIONS_MAX)
        total = POLL_VOTES_MAX * POLL_OPTIONS_MAX;
    if (votes > total)
        votes = total;
    return (2 * 1000 * votes + total) / (2 * total); /* half up, from integers */
}

/* ------------------------------------------------------- public list --- */

/* When a poll counts as new: opens_at, or created_at without one. */
static json_int_t poll_list_key(const json_t *def)
{
    const json_t *opens = json_object_get(def, "opens_at");
    return json_is_integer(opens) ? json_integer_value(opens)
                                  : json_integer_value(json_object_get(def, "created_at"));
}

/* Newest first, then by id. */
static int poll_list_cmp(const void *a, const void *b)
{
    const json_t *da = *(const json_t *const *)a, *db = *(const json_t *const *)b;
    json_int_t ka = poll_list_key(da), kb = poll_list_key(db);
    if (ka != kb)
        return ka > kb ? -1 : 1;
    return strcmp(json_string_value(json_object_get(da, "id")),
                  json_string_value(json_object_get(db, "id")));
}

json_t *poll_public_list(const json_t *polls, int64_t now, enum poll_list_status which,
                         size_t limit, size_t offset)
{
    size_t n = 0, i;
    const json_t *item;
    const json_t **defs = calloc(json_array_size(polls) + 1, sizeof(*defs));
    if (!defs)
        abort();
    json_array_foreach(polls, i, item)
    {
        const json_t *def = json_object_get(item, "def");
        enum poll_state state = poll_state_at(def, now);
        if (json_is_true(json_object_get(def, "archived")) || state == POLL_UPCOMING)
            continue;
        if ((which == POLL_LIST_OPEN && state != POLL_OPEN) ||
            (which == POLL_LIST_CLOSED && state != POLL_CLOSED))
            continue;
        defs[n++] = def;
    }
    qsort(defs, n, sizeof(*defs), poll_list_cmp);
    json_t *list = json_array();
    for (i = offset; i < n && i - offset < limit; i++) {
        const json_t *def = defs[i];
        json_array_append_new(
            list, json_pack("{sO sO ss so so}", "id", json_object_get(def, "id"), "question",
                            json_object_get(def, "question"), "status",
                            poll_state_at(def, now) == POLL_OPEN ? "open" : "closed", "opens_at",
                            poll_time_json(json_object_get(def, "opens_at")), "closes_at",
                            poll_time_json(json_object_get(def, "closes_at"))));
    }
    free(defs);
    return json_pack("{so sI sI sI}", "polls", list, "total", (json_int_t)n, "limit",
                     (json_int_t)limit, "offset", (json_int_t)offset);
}

json_t *poll_results(const json_t *def, const json_t *counts, long long voters)
{
    const json_t *opts = json_object_get(def, "options");
    size_t n = json_array_size(opts);
    long long total = poll_total(def, counts);

    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        const json_t *o = json_array_get(opts, i);
        long long votes = poll_votes_of(o, counts);
        double percent = (double)poll_percent_tenths(votes, total) / 10.0;
        json_array_append_new(arr, json_pack("{sO sO sI sf}", "id", json_object_get(o, "id"),
                                             "label", json_object_get(o, "label"), "votes",
                                             (json_int_t)votes, "percent", percent));
    }
    return json_pack("{sO sI sI so}", "poll_id", json_object_get(def, "id"), "total",
                     (json_int_t)total, "voters", (json_int_t)voters, "options", arr);
}

/* prefix, a as JSON, mid, b as JSON (if any), suffix: one new string. */
static char *poll_json_dup(const char *prefix, const json_t *a, const char *mid, const json_t *b,
                           const char *suffix)
{
    char *ta = json_dumps(a, JSON_ENCODE_ANY | JSON_COMPACT);
    char *tb = b ? json_dumps(b, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
    if (!ta || (b && !tb))
        abort();
    size_t n = strlen(prefix) + strlen(ta) + strlen(mid) + (tb ? strlen(tb) : 0) + strlen(suffix);
    char *out = malloc(n + 1);
    if (!out)
        abort();
    snprintf(out, n + 1, "%s%s%s%s%s", prefix, ta, mid, tb ? tb : "", suffix);
    free(ta);
    free(tb);
    return out;
}

struct poll_frames *poll_results_frames(const json_t *def)
{
    const json_t *opts = json_object_get(def, "options");
    struct poll_frames *f = calloc(1, sizeof(*f));
    if (!f)
        abort();
    f->n = json_array_size(opts);
    f->option = calloc(f->n ? f->n : 1, sizeof(char *));
    f->opt_id = calloc(f->n ? f->n : 1, sizeof(char *));
    if (!f->option || !f->opt_id)
        abort();
    f->head = poll_json_dup("{\"poll_id\":", json_object_get(def, "id"), ",\"total\":", NULL, "");
    for (size_t i = 0; i < f->n; i++) {
        const json_t *o = json_array_get(opts, i);
        f->option[i] = poll_json_dup("{\"id\":", json_object_get(o, "id"),
                                     ",\"label\":", json_object_get(o, "label"), ",\"votes\":");
        f->opt_id[i] = strdup(json_string_value(json_object_get(o, "id")));
        if (!f->opt_id[i])
            abort();
    }
    return f;
}

void poll_frames_free(struct poll_frames *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->n; i++) {
        free(f->option[i]);
        free(f->opt_id[i]);
    }
    free(f->option);
    free(f->opt_id);
    free(f->head);
    free(f);
}

/* Appends the decimal digits of v (>= 0) at p; returns the end. */
static char *poll_digits(char *p, long long v)
{
    char tmp[24];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v > 0);
    while (n > 0)
        *p++ = tmp[--n];
    return p;
}

static char *poll_copy(char *p, const char *s)
{
    size_t n = strlen(s);
    memcpy(p, s, n);
    return p + n;
}

char *poll_results_text(const struct poll_frames *f, const json_t *counts, long long voters,
                        size_t *len)
{
    long long total = 0;
    size_t size = strlen(f->head) + 64;
    for (size_t i = 0; i < f->n; i++) {
        const json_t *c = json_object_get(counts, f->opt_id[i]);
        json_int_t v = json_is_integer(c) ? json_integer_value(c) : 0;
        total += v < 0 ? 0 : v > POLL_VOTES_MAX ? POLL_VOTES_MAX : (long long)v;
        size += strlen(f->option[i]) + 64;
    }
    char *out = malloc(size);
    if (!out)
        abort();
    char *p = poll_copy(out, f->head);
    p = poll_digits(p, total);
    p = poll_copy(p, ",\"voters\":");
    if (voters < 0) {
        *p++ = '-';
        voters = -voters;
    }
    p = poll_digits(p, voters);
    p = poll_copy(p, ",\"options\":[");
    for (size_t i = 0; i < f->n; i++) {
        const json_t *c = json_object_get(counts, f->opt_id[i]);
        json_int_t v = json_is_integer(c) ? json_integer_value(c) : 0;
        long long votes = v < 0 ? 0 : v > POLL_VOTES_MAX ? POLL_VOTES_MAX : (long long)v;
        long long tenths = poll_percent_tenths(votes, total);
        if (i > 0)
            *p++ = ',';
        p = poll_copy(p, f->option[i]);
        p = poll_digits(p, votes);
        p = poll_copy(p, ",\"percent\":");
        p = poll_digits(p, tenths / 10);
        *p++ = '.';
        *p++ = (char)('0' + tenths % 10);
        *p++ = '}';
    }
    p = poll_copy(p, "]}");
    *p = '\0';
    *len = (size_t)(p - out);
    return out;
}

/* A whole number as text, or "" when v is not one (an unset time). */
static void poll_meta_number(const json_t *v, char *buf, size_t size)
{
    if (json_is_integer(v))
        snprintf(buf, size, "%lld", (long long)json_integer_value(v));
    else
        buf[0] = '\0';
}

void poll_meta_args(const json_t *def, struct poll_meta *m)
{
    const char *status = json_string_value(json_object_get(def, "status"));
    m->status = status && strcmp(status, "open") == 0 ? "open" : "";
    poll_meta_number(json_object_get(def, "opens_at"), m->opens_at, sizeof(m->opens_at));
    poll_meta_number(json_object_get(def, "closes_at"), m->closes_at, sizeof(m->closes_at));
    m->archived = json_is_true(json_object_get(def, "archived")) ? "1" : "0";
    poll_meta_number(json_object_get(def, "max_choices"), m->max_choices, sizeof(m->max_choices));
    m->allow_change = json_is_true(json_object_get(def, "allow_change")) ? "1" : "0";
    snprintf(m->version, sizeof(m->version), "%lld",
             (long long)json_integer_value(json_object_get(def, "version")));
    poll_meta_number(json_object_get(def, "updated_at"), m->written_at, sizeof(m->written_at));
    size_t used = 0, i;
    const json_t *o;
    m->options[0] = '\0';
    json_array_foreach(json_object_get(def, "options"), i, o)
    {
        const char *id = json_string_value(json_object_get(o, "id"));
        size_t len = id ? strlen(id) : 0;
        if (used + len + 2 > sizeof(m->options))
            break; /* cannot happen: 50 slugs of at most 64 characters */
        if (used > 0)
            m->options[used++] = ',';
        memcpy(m->options + used, id ? id : "", len + 1);
        used += len;
    }
}

json_t *poll_choice_array(const char *choice, size_t len)
{
    json_t *arr = json_array();
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || choice[i] == ',') {
            if (i > start)
                json_array_append_new(arr, json_stringn(choice + start, i - start));
            start = i + 1;
        }
    }
    return arr;
}
