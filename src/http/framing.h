/* framing.h - where a request begins and ends, read as strictly as any proxy
 * in front of thamdo would: a request whose framing two readers could read
 * differently (two lengths, a length evhttp reads leniently, a header name
 * with white space, chunk sizes such as "+23" or "0x17", a NUL, a bare LF,
 * a folded header, an HTTP version other than 1.0/1.1, HTTP/1.1 without one
 * Host, CONNECT) is refused with a JSON 400 bad_framing and its connection
 * closed, so that nothing sent after it is ever read as a request.
 *
 * API: conn.c feeds the bytes of each request as they arrive, before evhttp
 * parses them (framing_scan_reset() at a request's first byte, then
 * framing_scan_feed()); dispatch.c calls framing_refuse() first with what
 * the scan found (conn_request_flaws()). Must not answer anything but the
 * refusal, nor keep state beyond the struct framing_scan of a connection. */
#ifndef THAMDO_FRAMING_H
#define THAMDO_FRAMING_H

#include <stddef.h>
#include <stdint.h>

struct request;

enum framing_flaw {
    FRAMING_NUL = 1 << 0,      /* a NUL byte in the head or a chunk line */
    FRAMING_BARE_EOL = 1 << 1, /* a line ended by LF without CR, or a CR alone */
    FRAMING_FOLD = 1 << 2,     /* a header line beginning with white space */
    FRAMING_CHUNK = 1 << 3,    /* a chunk size line other than 1*HEXDIG [;ext] CRLF */
};

/* The byte-level state of one request's head and chunked body. */
struct framing_scan {
    int phase;     /* private: head, chunk size, data, data end, trailer, done */
    int flaws;     /* enum framing_flaw bits found so far */
    int line_len;  /* bytes of the current line */
    int prev_cr;   /* the byte before was CR */
    int lines;     /* lines of the head ended */
    int chunked;   /* the head has a Transfer-Encoding line */
    int digits;    /* chunk size: hex digits read */
    int in_ext;    /* chunk size: past a ';' */
    uint64_t left; /* chunk data bytes still to come */
    char name[20]; /* the start of a head line, lowercased */
};

void framing_scan_reset(struct framing_scan *s);

/* Reads n more bytes of the request; bytes past its end are ignored. */
void framing_scan_feed(struct framing_scan *s, const char *p, size_t n);

/* The request's end was reached, or a flaw found: nothing more to read. */
int framing_scan_done(const struct framing_scan *s);

/* Refuses r (400 bad_framing, Connection: close) when its framing is
 * ambiguous: flaws are the scan's, the rest is read from r's head as evhttp
 * parsed it. Returns 1 when it answered (r is freed), 0 when r may go on. */
int framing_refuse(struct request *r, int flaws);

#endif
