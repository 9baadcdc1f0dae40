/* log.c - timestamped log lines on stderr: "2026-11-28T15:00:00.123Z info message".
 *
 * Owns the process log level (written once at start, read-only afterwards)
 * and one buffer per worker thread (thread-local, so no lock is taken to log
 * a line). Every write(2) carries whole lines and at most PIPE_BUF bytes, so
 * that writes of several threads to one pipe never mix inside a line. The
 * registry of buffers is read only by log_flush_all_on_abort(). Must not
 * format anything it is not given: no request or client data is looked up
 * here. */
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

#define LOG_LINE_MAX    1024 /* the message; longer ones are cut */
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

void log_msg(enum log_level level, const char *fmt, ...)
{
    if (!log_enabled(level))
        return;

    /* The date and time to the second, written once a second per thread. */
    static _Thread_local char stamp[32];
    static _Thread_local size_t stamp_len;
    static _Thread_local time_t stamp_at = -1;
    struct timespec ts;
    char line[LOG_LINE_MAX + 64];
    clock_gettime(CLOCK_REALTIME, &ts);
    if (ts.tv_sec != stamp_at) {
        struct tm tm;
        gmtime_r(&ts.tv_sec, &tm);
        stamp_len = strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
        stamp_at = ts.tv_sec;
    }
    memcpy(line, stamp, stamp_len);
    size_t n = stamp_len;
    long ms = ts.tv_nsec / 1000000L;
    line[n++] = '.';
    line[n++] = (char)('0' + ms / 100);
    line[n++] = (char)('0' + ms / 10 % 10);
    line[n++] = (char)('0' + ms % 10);
    line[n++] = 'Z';
    line[n++] = ' ';
    size_t name_len = strlen(log_names[level]);
    memcpy(line + n, log_names[level], name_len);
    n += name_len;
    line[n++] = ' ';
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, LOG_LINE_MAX, fmt, ap);
    va_end(ap);
    n += m < 0 ? 0 : (size_t)m >= LOG_LINE_MAX ? LOG_LINE_MAX - 1 : (size_t)m;
    line[n++] = '\n';

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
