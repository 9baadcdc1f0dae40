/* framing.c - a request's framing read strictly (see framing.h): the
 * byte-level scan of its head and chunked body, which evhttp 2.1 reads too
 * leniently and before any handler (it takes "+23", " 23" and "0x17" as
 * chunk sizes, cuts a header value at a NUL, reads a bare LF as a line end
 * and unfolds folded lines), and the checks of the head evhttp parsed,
 * whose every header stays in the request's input headers (a second
 * Content-Length, "Content-Length " as a name, a Transfer-Encoding).
 *
 * Must not answer anything but the refusal: what evhttp refuses itself (a
 * request line it cannot parse, a negative or huge Content-Length, a head
 * over its size) it answers with its own HTML 400 or a close (README,
 * Errors). */
#include "framing.h"

#include <event2/http.h>
#include <event2/http_struct.h>
#include <event2/keyvalq_struct.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>

#include "request.h"

enum framing_phase {
    FRAMING_HEAD,
    FRAMING_SIZE,     /* a chunk size line */
    FRAMING_DATA,     /* a chunk's data */
    FRAMING_DATA_END, /* the CRLF after it */
    FRAMING_TRAILER,
    FRAMING_DONE,
};

#define FRAMING_SIZE_DIGITS 15 /* hex digits of a chunk size (far over any body cap) */

void framing_scan_reset(struct framing_scan *s)
{
    memset(s, 0, sizeof(*s));
    s->phase = FRAMING_HEAD;
}

static void framing_flaw(struct framing_scan *s, int flaw)
{
    s->flaws |= flaw;
    s->phase = FRAMING_DONE; /* refused anyway: nothing more to learn */
}

/* A line end or a CR of the head or trailer; returns 1 when c was one. */
static int framing_eol(struct framing_scan *s, char c)
{
    if (c == '\r') {
        if (s->prev_cr)
            framing_flaw(s, FRAMING_BARE_EOL);
        s->prev_cr = 1;
        return 1;
    }
    if (c == '\n') {
        if (!s->prev_cr)
            framing_flaw(s, FRAMING_BARE_EOL);
        s->prev_cr = 0;
        return 1;
    }
    if (s->prev_cr)
        framing_flaw(s, FRAMING_BARE_EOL);
    if (c == '\0')
        framing_flaw(s, FRAMING_NUL);
    return 0;
}

static void framing_head_byte(struct framing_scan *s, char c)
{
    if (framing_eol(s, c)) {
        if (c != '\n' || s->phase == FRAMING_DONE)
            return;
        if (s->line_len == 0) {
            if (s->lines > 0) /* the empty line: the head is whole */
                s->phase = s->chunked ? FRAMING_SIZE : FRAMING_DONE;
            return; /* else an empty line before the request line */
        }
        if (s->lines > 0 && strncmp(s->name, "transfer-encoding", 17) == 0)
            s->chunked = 1;
        s->lines++;
        s->line_len = 0;
        s->name[0] = '\0';
        return;
    }
    if (s->phase == FRAMING_DONE)
        return;
    if (s->line_len == 0 && s->lines > 0 && (c == ' ' || c == '\t')) {
        framing_flaw(s, FRAMING_FOLD);
        return;
    }
    if ((size_t)s->line_len < sizeof(s->name) - 1) {
        s->name[s->line_len] = (char)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
        s->name[s->line_len + 1] = '\0';
    }
    s->line_len++;
}

static int framing_hex(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* chunk-size [ ";" chunk-ext ] CRLF, chunk-size = 1*HEXDIG */
static void framing_size_byte(struct framing_scan *s, char c)
{
    if (c == '\n') {
        if (!s->prev_cr)
            framing_flaw(s, FRAMING_BARE_EOL);
        else if (s->digits == 0)
            framing_flaw(s, FRAMING_CHUNK);
        else
            s->phase = s->left == 0 ? FRAMING_TRAILER : FRAMING_DATA;
        s->prev_cr = 0;
        s->digits = 0;
        s->in_ext = 0;
        s->line_len = 0;
        return;
    }
    if (s->prev_cr) {
        framing_flaw(s, FRAMING_BARE_EOL);
        return;
    }
    int h = framing_hex(c);
    if (c == '\r') {
        s->prev_cr = 1;
    } else if (c == '\0') {
        framing_flaw(s, FRAMING_NUL);
    } else if (s->in_ext) {
        /* an extension: evhttp refuses it itself */
    } else if (h >= 0 && s->digits < FRAMING_SIZE_DIGITS) {
        s->left = s->left * 16 + (uint64_t)h;
        s->digits++;
    } else if (c == ';' && s->digits > 0) {
        s->in_ext = 1;
    } else {
        framing_flaw(s, FRAMING_CHUNK);
    }
}

static void framing_trailer_byte(struct framing_scan *s, char c)
{
    if (framing_eol(s, c)) {
        if (c != '\n' || s->phase == FRAMING_DONE)
            return;
        if (s->line_len == 0)
            s->phase = FRAMING_DONE; /* the request's last line */
        s->line_len = 0;
        return;
    }
    if (s->phase != FRAMING_DONE)
        s->line_len++;
}

void framing_scan_feed(struct framing_scan *s, const char *p, size_t n)
{
    size_t i = 0;
    while (i < n && s->phase != FRAMING_DONE) {
        char c = p[i];
        switch (s->phase) {
        case FRAMING_HEAD:
            framing_head_byte(s, c);
            break;
        case FRAMING_SIZE:
            framing_size_byte(s, c);
            break;
        case FRAMING_DATA: {
            size_t k = n - i < s->left ? n - i : (size_t)s->left;
            s->left -= k;
            i += k;
            if (s->left == 0)
                s->phase = FRAMING_DATA_END;
            continue;
        }
        case FRAMING_DATA_END:
            if (c == (s->prev_cr ? '\n' : '\r')) {
                s->prev_cr = !s->prev_cr;
                if (!s->prev_cr)
                    s->phase = FRAMING_SIZE;
            } else {
                framing_flaw(s, FRAMING_CHUNK);
            }
            break;
        case FRAMING_TRAILER:
            framing_trailer_byte(s, c);
            break;
        default:
            break;
        }
        i++;
    }
}

int framing_scan_done(const struct framing_scan *s)
{
    return s->phase == FRAMING_DONE;
}

/* ---------------------------------------------------------------- the parsed head */

/* A header name is a token (RFC 9110 5.1): no white space, no separator. */
static int framing_token(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              strchr("!#$%&'*+-.^_`|~", c)))
            return 0;
    }
    return 1;
}

static int framing_digits(const char *s)
{
    size_t n = strspn(s, "0123456789");
    return n > 0 && n <= 18 && s[n] == '\0';
}

/* Why r's head is ambiguous, or NULL. */
static const char *framing_head_fault(const struct evhttp_request *req, int flaws)
{
    if (flaws & FRAMING_NUL)
        return "The request holds a NUL byte.";
    if (flaws & FRAMING_BARE_EOL)
        return "A line of the request does not end with CRLF.";
    if (flaws & FRAMING_FOLD)
        return "A header is folded over two lines.";
    if (flaws & FRAMING_CHUNK)
        return "A chunk size is not plain hexadecimal digits.";
    if (req->major != 1 || (req->minor != 0 && req->minor != 1))
        return "Only HTTP/1.0 and HTTP/1.1 are served.";
    if (req->type == EVHTTP_REQ_CONNECT)
        return "CONNECT is not served.";
    int lengths = 0, codings = 0, hosts = 0;
    const struct evkeyval *kv;
    TAILQ_FOREACH(kv, req->input_headers, next)
    {
        if (!framing_token(kv->key))
            return "A header name is not a token (white space before the colon?).";
        if (strcasecmp(kv->key, "Content-Length") == 0) {
            if (lengths++ || !framing_digits(kv->value))
                return "Content-Length must be one header of decimal digits.";
        } else if (strcasecmp(kv->key, "Transfer-Encoding") == 0) {
            if (codings++ || strcasecmp(kv->value, "chunked") != 0)
                return "Transfer-Encoding must be one header saying chunked.";
        } else if (strcasecmp(kv->key, "Host") == 0) {
            hosts++;
        }
    }
    if (lengths && codings)
        return "Content-Length and Transfer-Encoding together are ambiguous.";
    if (codings && req->minor == 0)
        return "Transfer-Encoding is not HTTP/1.0.";
    if (hosts > 1 || (hosts == 0 && req->minor == 1))
        return "An HTTP/1.1 request needs exactly one Host header.";
    return NULL;
}

int framing_refuse(struct request *r, int flaws)
{
    const char *why = framing_head_fault(r->req, flaws);
    if (!why)
        return 0;
    /* evhttp closes after the answer when it says so and the request does
     * not ask for keep-alive (HTTP/1.0); it answers in the request's
     * version and frames a CONNECT's answer as a tunnel (no length, kept
     * open): the answer is an HTTP/1.1 GET's. */
    struct evhttp_request *req = r->req;
    evhttp_remove_header(req->input_headers, "Connection");
    if (req->major != 1 || (req->minor != 0 && req->minor != 1)) {
        req->major = 1;
        req->minor = 1;
    }
    if (req->type == EVHTTP_REQ_CONNECT) {
        req->type = EVHTTP_REQ_GET;
        r->method = EVHTTP_REQ_GET;
    }
    request_add_header(r, "Connection", "close");
    request_reply_error(r, 400, "bad_framing", why);
    return 1;
}
