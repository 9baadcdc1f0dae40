/* test_log.c - the log line formats (log.h), the metrics exposition
 * (metrics.h) and the route labels they share (router_label).
 *
 * Covers: the text format's shape; JSON lines: the fields, escaping of
 * quotes, backslashes and control characters, U+FFFD for bytes that are not
 * UTF-8 while well-formed UTF-8 passes, a long message cut at a character
 * inside the line budget (still valid JSON), request fields with null and
 * named codes; router_label; metrics: counts by route and status,
 * cumulative buckets with +Inf = _count, the sum in seconds, escaped label
 * values, statuses outside the kept ranges, vote outcomes, gauges going
 * down, and nothing counted on a thread that is no worker. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <event2/buffer.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "metrics.h"
#include "router.h"

/* ----------------------------------------------------------------- logs --- */

static int saved_stderr = -1;
static int pipe_rd = -1;

/* Sends stderr into a pipe until captured() reads it back. */
static void capture(void)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    fflush(stderr);
    saved_stderr = dup(STDERR_FILENO);
    dup2(fds[1], STDERR_FILENO);
    close(fds[1]);
    pipe_rd = fds[0];
}

/* What was written to stderr since capture() (freed by the caller). */
static char *captured(void)
{
    dup2(saved_stderr, STDERR_FILENO);
    close(saved_stderr);
    char *out = calloc(1, 65536);
    assert_non_null(out);
    size_t n = 0;
    ssize_t k;
    while (n < 65535 && (k = read(pipe_rd, out + n, 65535 - n)) > 0)
        n += (size_t)k;
    close(pipe_rd);
    return out;
}

/* The one JSON line a call wrote, parsed (decref by the caller). */
static json_t *one_json_line(const char *text)
{
    size_t len = strlen(text);
    assert_true(len > 0 && text[len - 1] == '\n');
    assert_null(memchr(text, '\n', len - 1)); /* one line */
    assert_true(len <= PIPE_BUF);
    json_error_t err;
    json_t *v = json_loadb(text, len, 0, &err);
    if (!v)
        fail_msg("not JSON (%s): %s", err.text, text);
    return v;
}

static const char *str(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static void test_log_text_format_is_time_level_message(void **state)
{
    (void)state;
    log_set_format(LOG_FORMAT_TEXT);
    capture();
    log_warn("some_event", "redis %s: %d", "down", 3);
    char *out = captured();
    /* 2026-11-28T15:00:00.123Z warn redis down: 3 */
    assert_int_equal(strlen(out), 24 + strlen(" warn redis down: 3\n"));
    assert_int_equal(out[10], 'T');
    assert_int_equal(out[19], '.');
    assert_int_equal(out[23], 'Z');
    assert_string_equal(out + 24, " warn redis down: 3\n");
    free(out);
}

static void test_log_json_line_has_time_level_event_msg(void **state)
{
    (void)state;
    log_set_format(LOG_FORMAT_JSON);
    capture();
    log_error("redis_error", "redis %s: %s", "vote", "ERR oops");
    char *out = captured();
    json_t *v = one_json_line(out);
    assert_int_equal(json_object_size(v), 4);
    assert_int_equal(strlen(str(v, "time")), 24);
    assert_int_equal(str(v, "time")[23], 'Z');
    assert_string_equal(str(v, "level"), "error");
    assert_string_equal(str(v, "event"), "redis_error");
    assert_string_equal(str(v, "msg"), "redis vote: ERR oops");
    /* The order of the fields is time, level, event, msg. */
    assert_ptr_equal(strstr(out, "{\"time\":\""), out);
    assert_true(strstr(out, "\"level\"") < strstr(out, "\"event\""));
    json_decref(v);
    free(out);
    log_set_format(LOG_FORMAT_TEXT);
}

static void test_log_json_escapes_and_replaces_bytes_that_are_not_utf8(void **state)
{
    (void)state;
    log_set_format(LOG_FORMAT_JSON);
    capture();
    /* quote, backslash, newline, tab, CR, a C0 control, DEL, a lone 0xff,
     * a truncated sequence, an overlong "/", é, and a 4-byte emoji. */
    log_info("x", "%s", "a\"b\\c\nd\te\rf\001g\177h\377i\xc3j\xc0\xafk\xc3\xa9l\xf0\x9f\x98\x80");
    char *out = captured();
    assert_non_null(strstr(out, "\"msg\":\"a\\\"b\\\\c\\nd\\te\\rf\\u0001g\\u007fh\\ufffdi\\ufffdj"
                                "\\ufffd\\ufffdk\xc3\xa9l\xf0\x9f\x98\x80\"}\n"));
    json_t *v = one_json_line(out);
    assert_string_equal(str(v, "msg"), "a\"b\\c\nd\te\rf\001g\177h\xef\xbf\xbdi\xef\xbf\xbdj"
                                       "\xef\xbf\xbd\xef\xbf\xbdk\xc3\xa9l\xf0\x9f\x98\x80");
    json_decref(v);
    free(out);
    log_set_format(LOG_FORMAT_TEXT);
}

static void test_log_json_cuts_a_long_message_at_a_character(void **state)
{
    (void)state;
    char msg[1100];
    /* Every character escapes to 6 bytes: the message is cut inside its budget. */
    memset(msg, '\001', sizeof(msg) - 1);
    msg[sizeof(msg) - 1] = '\0';
    log_set_format(LOG_FORMAT_JSON);
    capture();
    log_info("long", "%s", msg);
    char *out = captured();
    json_t *v = one_json_line(out);
    size_t n = strlen(str(v, "msg"));
    assert_true(n > 300 && n < 1023);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(str(v, "msg")[i], '\001');
    json_decref(v);
    free(out);

    /* Two-byte characters are never split either. */
    char wide[1024];
    for (size_t i = 0; i + 2 < sizeof(wide); i += 2)
        memcpy(wide + i, "\xc3\xa9", 2);
    wide[sizeof(wide) - 2] = 'x';
    wide[sizeof(wide) - 1] = '\0';
    capture();
    log_info("long", "%s", wide);
    out = captured();
    v = one_json_line(out);
    assert_true(strlen(str(v, "msg")) > 1000);
    json_decref(v);
    free(out);
    log_set_format(LOG_FORMAT_TEXT);
}

static void test_log_request_json_fields(void **state)
{
    (void)state;
    log_set_format(LOG_FORMAT_JSON);
    struct log_request q = {"POST",
                            "/api/v1/polls/{id}/votes",
                            "/api/v1/polls/a\"b/votes",
                            409,
                            "already_voted",
                            0.9123,
                            "k3v9qa-0-1f"};
    capture();
    log_request(&q);
    q.status = 201;
    q.code = NULL;
    log_request(&q);
    q.status = 500;
    q.code = "-";
    log_request(&q);
    char *out = captured();
    char *second = strchr(out, '\n') + 1;
    char *third = strchr(second, '\n') + 1;
    third[-1] = '\0';
    second[-1] = '\0';
    const char *lines[3] = {out, second, third};
    const char *codes[3] = {"already_voted", NULL, NULL};
    const int statuses[3] = {409, 201, 500};
    for (int i = 0; i < 3; i++) {
        char line[PIPE_BUF + 2];
        snprintf(line, sizeof(line), "%s%s", lines[i], i < 2 ? "\n" : "");
        json_t *v = one_json_line(line);
        assert_int_equal(json_object_size(v), 11);
        assert_string_equal(str(v, "event"), "request");
        assert_string_equal(str(v, "level"), "info");
        assert_string_equal(str(v, "method"), "POST");
        assert_string_equal(str(v, "route"), "/api/v1/polls/{id}/votes");
        assert_string_equal(str(v, "path"), "/api/v1/polls/a\"b/votes");
        assert_int_equal(json_integer_value(json_object_get(v, "status")), statuses[i]);
        if (codes[i])
            assert_string_equal(str(v, "code"), codes[i]);
        else
            assert_true(json_is_null(json_object_get(v, "code")));
        assert_true(json_is_real(json_object_get(v, "duration_ms")));
        assert_string_equal(str(v, "request_id"), "k3v9qa-0-1f");
        json_decref(v);
    }
    assert_non_null(strstr(out, "\"msg\":\"POST /api/v1/polls/a\\\"b/votes 409 already_voted "
                                "0.9ms id=k3v9qa-0-1f\""));
    assert_non_null(strstr(third, "\"msg\":\"POST /api/v1/polls/a\\\"b/votes 500 - 0.9ms"));
    free(out);
    log_set_format(LOG_FORMAT_TEXT);
}

static void test_log_parse_format(void **state)
{
    (void)state;
    enum log_format f = LOG_FORMAT_TEXT;
    assert_int_equal(log_parse_format("json", &f), 0);
    assert_int_equal(f, LOG_FORMAT_JSON);
    assert_int_equal(log_parse_format("text", &f), 0);
    assert_int_equal(f, LOG_FORMAT_TEXT);
    assert_int_equal(log_parse_format("JSON", &f), -1);
    assert_int_equal(log_parse_format("", &f), -1);
}

/* -------------------------------------------------------------- routes --- */

static void test_router_label_writes_captures_in_braces(void **state)
{
    (void)state;
    char buf[ROUTER_LABEL_MAX];
    router_label("/api/v1/polls/:id/votes", buf, sizeof(buf));
    assert_string_equal(buf, "/api/v1/polls/{id}/votes");
    router_label("/static/:name", buf, sizeof(buf));
    assert_string_equal(buf, "/static/{name}");
    router_label("/healthz", buf, sizeof(buf));
    assert_string_equal(buf, "/healthz");
    char small[10];
    router_label("/api/v1/polls/:id", small, sizeof(small));
    assert_string_equal(small, "/api/v1/p");
    router_label("/a/:id", small, 6);
    assert_string_equal(small, "/a/"); /* a capture is never cut in half */
}

/* ------------------------------------------------------------- metrics --- */

static char *exposition(void)
{
    static const struct metrics_route routes[] = {
        {"/api/v1/polls/{id}/votes", "POST"},
        {"/we\"ird\\route\n", "GET"},
    };
    struct evbuffer *b = evbuffer_new();
    assert_non_null(b);
    metrics_write(b, routes, 2, "1.2.3");
    size_t n = evbuffer_get_length(b);
    char *s = malloc(n + 1);
    assert_non_null(s);
    evbuffer_remove(b, s, n);
    s[n] = '\0';
    evbuffer_free(b);
    return s;
}

static void *other_thread(void *arg)
{
    (void)arg;
    metrics_inc(METRICS_VOTES_COUNTED); /* no worker: nothing counted */
    metrics_request(1, 201, 10);
    return NULL;
}

static void assert_has(const char *text, const char *line)
{
    if (!strstr(text, line))
        fail_msg("missing: %s\nin:\n%s", line, text);
}

static void test_metrics_counts_by_route_and_status_with_histograms(void **state)
{
    (void)state;
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, other_thread, NULL), 0);
    pthread_join(t, NULL);
    metrics_thread_begin(0);
    metrics_request(1, 201, 300);
    metrics_request(1, 201, 1200);
    metrics_request(1, 409, 80);
    metrics_request(0, 404, 5);
    metrics_request(2, 599, 20000000); /* over every bucket: +Inf only */
    metrics_vote("ok");
    metrics_vote("ok");
    metrics_vote("already_voted");
    metrics_vote("changed");
    metrics_vote("poll_closed");
    metrics_gauge_add(METRICS_LIVE_STREAMS_OPEN, 3);
    metrics_gauge_add(METRICS_LIVE_STREAMS_OPEN, -1);
    metrics_link_up("command", 1);
    metrics_link_up("feed", 0);
    metrics_observe(METRICS_REDIS_RTT, 150);
    char *s = exposition();
    const char *V = "method=\"POST\",route=\"/api/v1/polls/{id}/votes\"";
    char line[256];
    snprintf(line, sizeof(line), "thamdo_http_requests_total{%s,status=\"201\"} 2\n", V);
    assert_has(s, line);
    snprintf(line, sizeof(line), "thamdo_http_requests_total{%s,status=\"409\"} 1\n", V);
    assert_has(s, line);
    assert_has(s,
               "thamdo_http_requests_total{method=\"other\",route=\"other\",status=\"404\"} 1\n");
    assert_has(s, "thamdo_http_requests_total{method=\"GET\",route=\"/we\\\"ird\\\\route\\n\","
                  "status=\"other\"} 1\n");
    const char *buckets[][2] = {{"0.0001", "1"}, {"0.00025", "1"}, {"0.0005", "2"}, {"0.001", "2"},
                                {"0.0025", "3"}, {"10", "3"},      {"+Inf", "3"}};
    for (size_t i = 0; i < sizeof(buckets) / sizeof(buckets[0]); i++) {
        snprintf(line, sizeof(line),
                 "thamdo_http_request_duration_seconds_bucket{%s,le=\"%s\"} %s\n", V, buckets[i][0],
                 buckets[i][1]);
        assert_has(s, line);
    }
    snprintf(line, sizeof(line), "thamdo_http_request_duration_seconds_sum{%s} 0.001580\n", V);
    assert_has(s, line);
    snprintf(line, sizeof(line), "thamdo_http_request_duration_seconds_count{%s} 3\n", V);
    assert_has(s, line);
    assert_has(s, "route=\"/we\\\"ird\\\\route\\n\",le=\"10\"} 0\n");
    assert_has(s, "route=\"/we\\\"ird\\\\route\\n\",le=\"+Inf\"} 1\n");
    assert_has(s, "# TYPE thamdo_http_request_duration_seconds histogram\n");
    assert_has(s, "# TYPE thamdo_votes_counted_total counter\nthamdo_votes_counted_total 2\n");
    assert_has(s, "thamdo_votes_duplicate_total 1\n");
    assert_has(s, "thamdo_votes_changed_total 1\n");
    assert_has(s, "thamdo_live_streams_open 2\n");
    assert_has(s, "thamdo_http_connections_open 0\n");
    assert_has(s, "thamdo_redis_link_up{worker=\"0\",link=\"command\"} 1\n");
    assert_has(s, "thamdo_redis_link_up{worker=\"0\",link=\"subscriber\"} 0\n");
    assert_has(s, "thamdo_redis_roundtrip_seconds_bucket{le=\"0.0001\"} 0\n");
    assert_has(s, "thamdo_redis_roundtrip_seconds_bucket{le=\"0.00025\"} 1\n");
    assert_has(s, "thamdo_redis_roundtrip_seconds_sum 0.000150\n");
    assert_has(s, "thamdo_redis_roundtrip_seconds_count 1\n");
    assert_has(s, "thamdo_build_info{version=\"1.2.3\"} 1\n");
    assert_has(s, "thamdo_workers 1\n");
    assert_has(s, "# HELP process_start_time_seconds ");
    assert_null(strstr(s, "worker=\"1\""));
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_log_text_format_is_time_level_message),
        cmocka_unit_test(test_log_json_line_has_time_level_event_msg),
        cmocka_unit_test(test_log_json_escapes_and_replaces_bytes_that_are_not_utf8),
        cmocka_unit_test(test_log_json_cuts_a_long_message_at_a_character),
        cmocka_unit_test(test_log_request_json_fields),
        cmocka_unit_test(test_log_parse_format),
        cmocka_unit_test(test_router_label_writes_captures_in_braces),
        cmocka_unit_test(test_metrics_counts_by_route_and_status_with_histograms),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
