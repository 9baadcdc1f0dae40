/* log.h - one-line structured log records on stderr.
 *
 * Owns: the log format and the minimum level. The level is set once by main()
 * before the event loop (and any later worker thread) starts, and only read
 * afterwards. Must not be handed secrets, tokens, raw cookies or client
 * addresses: callers log identifiers that are safe to publish (poll ids,
 * status codes, durations). */
#ifndef THAMDO_LOG_H
#define THAMDO_LOG_H

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

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

#endif
