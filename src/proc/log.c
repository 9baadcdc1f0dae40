/* log.c - timestamped log lines on stderr: "2026-11-28T15:00:00.123Z info message",
 * or with THAMDO_LOG_FORMAT=json one JSON object a line:
 * {"time":"2026-11-28T15:00:00.123Z","level":"info","event":"request","msg":...}.
 *
 * Owns the process log level (written once at start, read-only afterwards)
 * and one buffer per worker thread (thread-local, so no lock is taken to log
 * a line). Every write(2) carries whole lines and at most PIPE_BUF bytes, so
 * that writes of several threads to one pipe never mix inside a line. The
 * registry of buffers is read only by log_flush_all_on_abort(). JSON
 * strings are escaped here, and bytes that are not UTF-8 become U+FFFD, so
 * that every line parses whatever a message holds. Must not format anything
 * it is not given: no request or client data is looked up here. */
#include "log.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "text.h"

#define LOG_LINE_MAX 1024 /* the message; longer ones are cut */
/* A JSON line: at most PIPE_BUF (4096 on Linux; the budgets below need
 * 4096). The message takes at most LOG_JSON_MSG_MAX escaped bytes; each other
 * string has its own budget in log_emit_json() (time 32, level 16, event 50,
 * method 16, route 170, path 770: 128 bytes escaped, code 48, request id
 * 72), so that with the names, the numbers and the punctuation (under 200)
 * they never need more than LOG_JSON_FIELDS_MAX. */
#define LOG_JSON_MAX        4096
#define LOG_JSON_MSG_MAX    2048
#define LOG_JSON_FIELDS_MAX 1400
_Static_assert(LOG_JSON_MSG_MAX + LOG_JSON_FIELDS_MAX <= LOG_JSON_MAX, "JSON line budget");
_Static_assert(LOG_JSON_MAX <= PIPE_BUF, "a JSON line must fit one write(2) to a pipe");
#define LOG_BUF_SIZE    16384
#define LOG_THREADS_MAX 72 /* buffers kept in the registry (64 workers and some spare) */

struct log_buf {
    size_t len;
    uint64_t first_ms; /* monotonic ms of the oldest line in data */
    void (*wake)(void *arg);
    void *wake_arg;
    char data[LOG_BUF_SIZE];
};

static enum log_level log_min_level = LOG_INFO;
static enum log_format log_format = LOG_FORMAT_TEXT;
static _Thread_local struct log_buf *log_tb;
static _Atomic(struct log_buf *) log_registry[LOG_THREADS_MAX];

static const char *const log_names[] = {"debug", "info", "warn", "error"};

void log_set_level(enum log_level level)
{
    log_min_level = level;
}

int log_parse_level(const char *s, enum log_level *out)
{
    for (size_t i = 0; i < sizeof(log_names) / sizeof(log_names[0]); i++) {
        if (strcmp(s, log_names[i]) == 0) {
            *out = (enum log_level)i;
            return 0;
        }
    }
    return -1;
}

void log_set_format(enum log_format format)
{
    log_format = format;
}

int log_parse_format(const char *s, enum log_format *out)
{
    if (strcmp(s, "text") == 0)
        *out = LOG_FORMAT_TEXT;
    else if (strcmp(s, "json") == 0)
        *out = LOG_FORMAT_JSON;
    else
        return -1;
    return 0;
}

int log_enabled(enum log_level level)
{
    return level >= log_min_level;
}

/* write(2) of all len bytes (retried after a signal or a short write). */
static void log_write_all(const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(STDERR_FILENO, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return; /* stderr is gone: nothing better to do with a log line */
        p += n;
        len -= (size_t)n;
    }
}

/* Writes whole lines, at most PIPE_BUF bytes per write(2). Async-signal-safe. */
static void log_write_lines(const char *p, size_t len)
{
    while (len > 0) {
        size_t n = len;
        if (n > PIPE_BUF) {
            n = PIPE_BUF;
            while (n > 0 && p[n - 1] != '\n')
                n--;
            if (n == 0)
                n = PIPE_BUF; /* one line longer than PIPE_BUF: cannot happen (LOG_LINE_MAX) */
        }
        log_write_all(p, n);
        p += n;
        len -= n;
    }
}

void log_flush(void)
{
    struct log_buf *b = log_tb;
    if (!b || b->len == 0)
        return;
    log_write_lines(b->data, b->len);
    b->len = 0;
}

void log_thread_begin(void (*wake)(void *arg), void *arg)
{
    if (log_tb)
        return;
    struct log_buf *b = calloc(1, sizeof(*b));
    if (!b)
        abort();
    b->wake = wake;
    b->wake_arg = arg;
    for (size_t i = 0; i < LOG_THREADS_MAX; i++) {
        struct log_buf *none = NULL;
        if (atomic_compare_exchange_strong(&log_registry[i], &none, b))
            break;
    }
    log_tb = b;
}

void log_thread_end(void)
{
    struct log_buf *b = log_tb;
    if (!b)
        return;
    log_flush();
    for (size_t i = 0; i < LOG_THREADS_MAX; i++) {
        struct log_buf *mine = b;
        if (atomic_compare_exchange_strong(&log_registry[i], &mine, NULL))
            break;
    }
    log_tb = NULL;
    free(b);
}

void log_flush_all_on_abort(void)
{
    for (size_t i = 0; i < LOG_THREADS_MAX; i++) {
        struct log_buf *b = atomic_load(&log_registry[i]);
        if (b && b->len > 0 && b->len <= LOG_BUF_SIZE) {
            log_write_lines(b->data, b->len);
            b->len = 0;
        }
    }
}

/* Hands one finished line (ending in a newline) to the thread's buffer, or
 * writes it at once. */
static void log_put_line(enum log_level level, const char *line, size_t n)
{
    struct log_buf *b = log_tb;
    if (!b) {
        log_write_all(line, n); /* one write(2) per record: lines never interleave */
        return;
    }
    uint64_t now = clock_mono_ms();
    if (b->len + n > LOG_BUF_SIZE)
        log_flush();
    if (b->len == 0)
        b->first_ms = now;
    int was_empty = b->len == 0;
    memcpy(b->data + b->len, line, n);
    b->len += n;
    if (level >= LOG_WARN || now - b->first_ms >= LOG_FLUSH_MS)
        log_flush();
    else if (was_empty && b->wake)
        b->wake(b->wake_arg);
}

/* Writes "2026-11-28T15:00:00.123Z" (24 bytes) to out. The date and time to
 * the second are formatted once a second per thread. */
static size_t log_stamp(char *out)
{
    static _Thread_local char stamp[32];
    static _Thread_local size_t stamp_len;
    static _Thread_local time_t stamp_at = -1;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    if (ts.tv_sec != stamp_at) {
        struct tm tm;
        gmtime_r(&ts.tv_sec, &tm);
        stamp_len = strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
        stamp_at = ts.tv_sec;
    }
    memcpy(out, stamp, stamp_len);
    size_t n = stamp_len;
    long ms = ts.tv_nsec / 1000000L;
    out[n++] = '.';
    out[n++] = (char)('0' + ms / 100);
    out[n++] = (char)('0' + ms / 10 % 10);
    out[n++] = (char)('0' + ms % 10);
    out[n++] = 'Z';
    return n;
}

/* ---------------------------------------------------------------- JSON --- */

/* A JSON line being written; appends past cap are dropped (the budgets
 * above keep them from happening). */
struct log_json {
    char *p;
    size_t n, cap;
};

static void log_json_raw(struct log_json *j, const char *s, size_t len)
{
    if (j->n + len > j->cap)
        return;
    memcpy(j->p + j->n, s, len);
    j->n += len;
}

/* Appends s[0..len) as a JSON string of at most max bytes with its quotes:
 * cut at a character, never inside an escape or a UTF-8 sequence. */
static void log_json_str(struct log_json *j, const char *s, size_t len, size_t max)
{
    static const char hex[] = "0123456789abcdef";
    size_t limit = j->n + max - 1; /* room for the closing quote */
    log_json_raw(j, "\"", 1);
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)s[i];
        char esc[6];
        const char *out = esc;
        size_t k = 2, used = 1;
        esc[0] = '\\';
        if (c == '"' || c == '\\') {
            esc[1] = (char)c;
        } else if (c == '\n') {
            esc[1] = 'n';
        } else if (c == '\r') {
            esc[1] = 'r';
        } else if (c == '\t') {
            esc[1] = 't';
        } else if (c < 0x20 || c == 0x7f) {
            memcpy(esc + 1, "u00", 3);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            k = 6;
        } else if ((used = text_utf8_next(s + i, len - i)) > 0) {
            out = s + i;
            k = used;
        } else {
            out = "\\ufffd"; /* not UTF-8: the replacement character */
            k = 6;
            used = 1;
        }
        if (j->n + k > limit)
            break;
        log_json_raw(j, out, k);
        i += used;
    }
    log_json_raw(j, "\"", 1);
}

/* Appends ,"name":"value" (value NULL: null). */
static void log_json_field(struct log_json *j, const char *name, const char *value, size_t max)
{
    log_json_raw(j, ",\"", 2);
    log_json_raw(j, name, strlen(name));
    log_json_raw(j, "\":", 2);
    if (value)
        log_json_str(j, value, strlen(value), max);
    else
        log_json_raw(j, "null", 4);
}

/* Appends ,"name":<number already formatted>. */
static void log_json_number(struct log_json *j, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void log_json_number(struct log_json *j, const char *name, const char *fmt, ...)
{
    char num[32];
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(num, sizeof(num), fmt, ap);
    va_end(ap);
    log_json_raw(j, ",\"", 2);
    log_json_raw(j, name, strlen(name));
    log_json_raw(j, "\":", 2);
    log_json_raw(j, num, m < 0 ? 0 : (size_t)m >= sizeof(num) ? sizeof(num) - 1 : (size_t)m);
}

static void log_emit_json(enum log_level level, const char *event, const char *msg, size_t len,
                          const struct log_request *q)
{
    char line[LOG_JSON_MAX];
    char stamp[32];
    struct log_json j = {line, 0, sizeof(line) - 2}; /* room for "}\n" */
    size_t stamp_len = log_stamp(stamp);
    log_json_raw(&j, "{\"time\":", 8);
    log_json_str(&j, stamp, stamp_len, 32);
    log_json_field(&j, "level", log_names[level], 16);
    log_json_field(&j, "event", event, 50);
    log_json_raw(&j, ",\"msg\":", 7);
    log_json_str(&j, msg, len, LOG_JSON_MSG_MAX);
    if (q) {
        log_json_field(&j, "method", q->method, 16);
        log_json_field(&j, "route", q->route, 170);
        log_json_field(&j, "path", q->path, 6 * 128 + 2);
        log_json_number(&j, "status", "%d", q->status);
        log_json_field(&j, "code", q->code && strcmp(q->code, "-") != 0 ? q->code : NULL, 48);
        log_json_number(&j, "duration_ms", "%.3f", q->ms);
        log_json_field(&j, "request_id", q->request_id, 72);
    }
    line[j.n++] = '}';
    line[j.n++] = '\n';
    log_put_line(level, line, j.n);
}

/* --------------------------------------------------------------- lines --- */

static void log_emit(enum log_level level, const char *event, const char *msg, size_t len,
                     const struct log_request *q)
{
    if (log_format == LOG_FORMAT_JSON) {
        log_emit_json(level, event, msg, len, q);
        return;
    }
    char line[LOG_LINE_MAX + 64];
    size_t n = log_stamp(line);
    line[n++] = ' ';
    size_t name_len = strlen(log_names[level]);
    memcpy(line + n, log_names[level], name_len);
    n += name_len;
    line[n++] = ' ';
    memcpy(line + n, msg, len);
    n += len;
    line[n++] = '\n';
    log_put_line(level, line, n);
}

/* Formats the human text into msg (LOG_LINE_MAX bytes); its length. */
static size_t log_format_text(char *msg, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
static size_t log_format_text(char *msg, const char *fmt, va_list ap)
{
    int m = vsnprintf(msg, LOG_LINE_MAX, fmt, ap);
    return m < 0 ? 0 : (size_t)m >= LOG_LINE_MAX ? LOG_LINE_MAX - 1 : (size_t)m;
}

void log_msg(enum log_level level, const char *event, const char *fmt, ...)
{
    if (!log_enabled(level))
        return;
    char msg[LOG_LINE_MAX];
    va_list ap;
    va_start(ap, fmt);
    size_t len = log_format_text(msg, fmt, ap);
    va_end(ap);
    log_emit(level, event, msg, len, NULL);
}

static size_t log_request_text(char *msg, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static size_t log_request_text(char *msg, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t len = log_format_text(msg, fmt, ap);
    va_end(ap);
    return len;
}

void log_request(const struct log_request *q)
{
    if (!log_enabled(LOG_INFO))
        return;
    char msg[LOG_LINE_MAX];
    size_t len = log_request_text(msg, "%s %s %d%s%s %.1fms id=%s", q->method, q->path, q->status,
                                  q->code ? " " : "", q->code ? q->code : "", q->ms, q->request_id);
    log_emit(LOG_INFO, "request", msg, len, q);
}
