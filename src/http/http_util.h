/* http_util.h - small helpers around evhttp requests and replies.
 *
 * Owns: the JSON reply shape, the error envelope {"error":{"code","message"}},
 * headers every API answer carries, reading a bounded body, classifying the
 * Content-Type, and a log-safe rendering of a path. Every function that
 * replies calls evhttp_send_reply exactly once; the caller must not touch the
 * request afterwards. Must not know about polls or Redis. */
#ifndef THAMDO_HTTP_UTIL_H
#define THAMDO_HTTP_UTIL_H

#include <jansson.h>
#include <stddef.h>

struct evhttp_request;

enum http_media {
    HTTP_MEDIA_NONE = 0, /* no Content-Type header */
    HTTP_MEDIA_JSON,     /* application/json */
    HTTP_MEDIA_FORM,     /* application/x-www-form-urlencoded */
    HTTP_MEDIA_OTHER,
};

/* Sends body (reference stolen) as JSON with the given status. */
void http_reply_json(struct evhttp_request *req, int status, json_t *body);

struct evbuffer;
/* Sends body (borrowed, may be NULL) with the headers already set. */
void http_reply_buffer(struct evhttp_request *req, int status, struct evbuffer *body);

/* A new {"error":{"code","message"}} object, for callers that add fields. */
/* A JSON value as the service writes it (compact, percents as written); free() it. */
char *http_json_text(const json_t *body);
/* Answers with JSON already written (len 0: no body, for 304), with the
 * headers of http_reply_json(). */
void http_reply_json_text(struct evhttp_request *req, int status, const char *text, size_t len);

/* 1 when an If-None-Match header names etag (or is "*"); weak tags compare too. */
int http_etag_matches(const char *if_none_match, const char *etag);

json_t *http_error_body(const char *code, const char *message);

/* Sends the error envelope. */
void http_reply_error(struct evhttp_request *req, int status, const char *code,
                      const char *message);

/* The body, when it is at most max bytes: 0 with *data (NUL-terminated, owned
 * by the request) and *len; -1 when it is larger. */
int http_body(struct evhttp_request *req, size_t max, const char **data, size_t *len);

enum http_media http_media_type(struct evhttp_request *req);

/* Copies the request path into buf for logs: printable ASCII only, no query,
 * truncated to fit. */
void http_log_path(struct evhttp_request *req, char *buf, size_t size);

const char *http_method_name(int method);

#endif
