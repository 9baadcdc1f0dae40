/* http_util.c - JSON replies, the error envelope, bodies and media types.
 *
 * Must not keep the request after replying, and must not log request data
 * beyond what http_log_path() renders. */
#include "http_util.h"

#include <ctype.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <strings.h>

static const char *http_reason(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 204:
        return "No Content";
    case 303:
        return "See Other";
    case 304:
        return "Not Modified";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 409:
        return "Conflict";
    case 412:
        return "Precondition Failed";
    case 413:
        return "Payload Too Large";
    case 415:
        return "Unsupported Media Type";
    case 422:
        return "Unprocessable Content";
    case 429:
        return "Too Many Requests";
    case 500:
        return "Internal Server Error";
    case 503:
        return "Service Unavailable";
    default:
        return "";
    }
}

/* Sends the reply. libevent 2.1 would send a body after a HEAD response
 * too, which a client on a kept-alive connection takes for the start of the
 * next response: for HEAD only the headers go, with GET's Content-Length. */
/* The Date header, written once a second per thread (libevent would format
 * it for every answer). */
static const char *http_date(void)
{
    static _Thread_local char text[40];
    static _Thread_local time_t at = -1;
    time_t now = time(NULL);
    if (now != at) {
        struct tm tm;
        gmtime_r(&now, &tm);
        if (strftime(text, sizeof(text), "%a, %d %b %Y %H:%M:%S GMT", &tm) == 0)
            text[0] = '\0';
        at = now;
    }
    return text;
}

static void http_send(struct evhttp_request *req, int status, struct evbuffer *body)
{
    struct evkeyvalq *headers = evhttp_request_get_output_headers(req);
    const char *date = http_date();
    if (date[0] && !evhttp_find_header(headers, "Date"))
        evhttp_add_header(headers, "Date", date);
    if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD) {
        struct evkeyvalq *out = evhttp_request_get_output_headers(req);
        char len[32];
        snprintf(len, sizeof(len), "%zu", body ? evbuffer_get_length(body) : (size_t)0);
        if (status != 204 && status != 304 && !evhttp_find_header(out, "Content-Length"))
            evhttp_add_header(out, "Content-Length", len);
        evhttp_send_reply(req, status, http_reason(status), NULL);
        return;
    }
    evhttp_send_reply(req, status, http_reason(status), body);
}

void http_reply_json(struct evhttp_request *req, int status, json_t *body)
{
    if (body == NULL) { /* a value that could not be built: never crash */
        status = 500;
        body = http_error_body("internal_error", "The server could not build its answer.");
    }
    char *text = http_json_text(body);
    json_decref(body);
    http_reply_json_text(req, status, text, strlen(text));
    free(text);
}

char *http_json_text(const json_t *body)
{
    /* 15 significant digits: a percent of one decimal is written as it is
     * (33.3, not 33.299999999999997); integers are not affected. */
    char *text = json_dumps(body, JSON_COMPACT | JSON_REAL_PRECISION(15));
    if (!text)
        abort();
    return text;
}

void http_reply_json_text(struct evhttp_request *req, int status, const char *text, size_t len)
{
    struct evkeyvalq *out = evhttp_request_get_output_headers(req);
    struct evbuffer *buf = evbuffer_new();
    if (!buf)
        abort();
    if (len > 0) {
        evbuffer_add(buf, text, len);
        evbuffer_add(buf, "\n", 1);
    }
    evhttp_add_header(out, "Content-Type", "application/json; charset=utf-8");
    if (!evhttp_find_header(out, "Cache-Control"))
        evhttp_add_header(out, "Cache-Control", "no-store");
    evhttp_add_header(out, "X-Content-Type-Options", "nosniff");
    http_send(req, status, buf);
    evbuffer_free(buf);
}

void http_reply_buffer(struct evhttp_request *req, int status, struct evbuffer *body)
{
    http_send(req, status, body);
}

json_t *http_error_body(const char *code, const char *message)
{
    return json_pack("{s{ss ss}}", "error", "code", code, "message", message);
}

void http_reply_error(struct evhttp_request *req, int status, const char *code, const char *message)
{
    http_reply_json(req, status, http_error_body(code, message));
}

int http_body(struct evhttp_request *req, size_t max, const char **data, size_t *len)
{
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t n = evbuffer_get_length(in);
    if (n > max)
        return -1;
    /* A trailing NUL that is not part of the body, for parsers that want one. */
    evbuffer_add(in, "", 1);
    *data = (const char *)evbuffer_pullup(in, -1);
    *len = n;
    return 0;
}

enum http_media http_media_type(struct evhttp_request *req)
{
    const char *ct = evhttp_find_header(evhttp_request_get_input_headers(req), "Content-Type");
    if (!ct)
        return HTTP_MEDIA_NONE;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    size_t len = strcspn(ct, "; \t");
    if (len == 16 && strncasecmp(ct, "application/json", len) == 0)
        return HTTP_MEDIA_JSON;
    if (len == 33 && strncasecmp(ct, "application/x-www-form-urlencoded", len) == 0)
        return HTTP_MEDIA_FORM;
    return HTTP_MEDIA_OTHER;
}

void http_log_path(struct evhttp_request *req, char *buf, size_t size)
{
    /* The parsed path only: an absolute-form request line
     * ("http://user:pass@host/p?q") must not bring its user, password, host
     * or query into the log. */
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
    size_t o = 0;
    if (!path || !*path)
        path = "-";
    for (const char *p = path; *p && o + 1 < size; p++)
        buf[o++] = (*p >= 0x21 && *p < 0x7f) ? *p : '?';
    buf[o] = '\0';
}

const char *http_method_name(int method)
{
    switch (method) {
    case EVHTTP_REQ_GET:
        return "GET";
    case EVHTTP_REQ_POST:
        return "POST";
    case EVHTTP_REQ_HEAD:
        return "HEAD";
    case EVHTTP_REQ_PUT:
        return "PUT";
    case EVHTTP_REQ_DELETE:
        return "DELETE";
    case EVHTTP_REQ_OPTIONS:
        return "OPTIONS";
    case EVHTTP_REQ_PATCH:
        return "PATCH";
    default:
        return "OTHER";
    }
}

int http_etag_matches(const char *if_none_match, const char *etag)
{
    size_t len = strlen(etag);
    const char *p = if_none_match;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (*p == '*')
            return 1;
        if (p[0] == 'W' && p[1] == '/')
            p += 2;
        size_t n = strcspn(p, ",");
        while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
            n--;
        if (n == len && memcmp(p, etag, len) == 0)
            return 1;
        p += strcspn(p, ",");
    }
    return 0;
}
