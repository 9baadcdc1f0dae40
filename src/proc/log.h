/* log.h - one-line structured log records on stderr.
 *
 * Owns: the log format (text, or one JSON object a line), the minimum level
 * and the per-thread buffers. The level and the format are set once by
 * main() before any worker thread starts, and only read afterwards. Every
 * record has an event name: a stable snake_case string literal naming what
 * happened ("redis_down", "request"), the same for every line of that kind,
 * so that a JSON reader can select lines without parsing their text.
 * A thread that called log_thread_begin() (every worker) keeps its debug and
 * info lines in its own buffer, written whole lines at a time (never
 * interleaved with another thread's) when the buffer fills, when its oldest
 * line is LOG_FLUSH_MS old (the wake callback lets the caller arrange that),
 * on a warning or an error (written at once, after what was buffered), and
 * at log_thread_end(). Other threads write every line at once. Must not be
 * handed secrets, tokens, raw cookies or client addresses: callers log
 * identifiers that are safe to publish (poll ids, status codes, durations). */
#ifndef THAMDO_LOG_H
#define THAMDO_LOG_H

#define LOG_FLUSH_MS 50 /* a buffered line is written at most this late */

enum log_level {
    LOG_DEBUG = 0,
    LOG_INFO,
    LOG_WARN,
    LOG_ERROR,
};

/* text: "2026-11-28T15:00:00.123Z info message"; json: {"time":..., "level":...,
 * "event":..., "msg":...} (and the fields of a request line). */
enum log_format {
    LOG_FORMAT_TEXT = 0,
    LOG_FORMAT_JSON,
};

/* The fields of an access-log line (log_request). Strings are borrowed. */
struct log_request {
    const char *method;
    const char *route; /* the route pattern ("/api/v1/polls/{id}"), or "other" */
    const char *path;  /* the path as safe to log (http_log_path) */
    int status;
    const char *code; /* the error code of a 4xx/5xx answer, "-" when unknown; NULL below 400 */
    double ms;
    const char *request_id;
};

void log_set_level(enum log_level level);
int log_parse_level(const char *s, enum log_level *out);
void log_set_format(enum log_format format);
int log_parse_format(const char *s, enum log_format *out);
int log_enabled(enum log_level level);
/* event: a snake_case literal; the log_* macros below require a literal. */
void log_msg(enum log_level level, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The access-log line of one answer (event "request", level info); text:
 * "GET /path 404 not_found 0.3ms id=ID". */
void log_request(const struct log_request *q);

/* Starts buffering the calling thread's lines. wake(arg) is called, on this
 * thread, whenever a line goes into an empty buffer: the caller then calls
 * log_flush() within LOG_FLUSH_MS (a timer of its event loop). */
void log_thread_begin(void (*wake)(void *arg), void *arg);

/* Writes what the calling thread has buffered. */
void log_flush(void);

/* Writes what the calling thread has buffered and stops buffering. */
void log_thread_end(void);

/* Best effort on the way to a crash (SIGABRT): writes every thread's
 * buffer. Async-signal-safe; lines being written at that moment may be
 * lost. */
void log_flush_all_on_abort(void);

/* log_info("poll_created", "poll %s: created", id): the event name first (a
 * string literal), then the printf format of the human text. */
#define log_debug(event, ...) log_msg(LOG_DEBUG, "" event, __VA_ARGS__)
#define log_info(event, ...)  log_msg(LOG_INFO, "" event, __VA_ARGS__)
#define log_warn(event, ...)  log_msg(LOG_WARN, "" event, __VA_ARGS__)
#define log_error(event, ...) log_msg(LOG_ERROR, "" event, __VA_ARGS__)

#endif
