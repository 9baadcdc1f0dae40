/* log.h - one-line structured log records on stderr.
 *
 * Owns: the log format, the minimum level and the per-thread buffers. The
 * level is set once by main() before any worker thread starts, and only read
 * afterwards. A thread that called log_thread_begin() (every worker) keeps
 * its debug and info lines in its own buffer, written whole lines at a time
 * (never interleaved with another thread's) when the buffer fills, when its
 * oldest line is LOG_FLUSH_MS old (the wake callback lets the caller arrange
 * that), on a warning or an error (written at once, after what was
 * buffered), and at log_thread_end(). Other threads write every line at
 * once. Must not be handed secrets, tokens, raw cookies or client addresses:
 * callers log identifiers that are safe to publish (poll ids, status codes,
 * durations). */
#ifndef THAMDO_LOG_H
#define THAMDO_LOG_H

#define LOG_FLUSH_MS 50 /* a buffered line is written at most this late */

enum log_level {
    LOG_DEBUG = 0,
    LOG_INFO,
    LOG_WARN,
    LOG_ERROR,
};

void log_set_level(enum log_level level);
int log_parse_level(const char *s, enum log_level *out);
int log_enabled(enum log_level level);
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

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

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

#endif
