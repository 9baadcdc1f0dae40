/* seen.h - the "voted polls" cookie: which polls this reader may have voted in.
 *
 * Beside the signed voter cookie, a reader carries <cookie name>_voted =
 * "s1.<32 hex digits>", a 128-bit mask with one bit per poll (a hash of the
 * poll id). A bit that is not set means this reader has not voted in that
 * poll, so the service answers from its cache without asking Redis who the
 * reader is; a set bit (or a mask that is missing or unreadable) sends the
 * request to Redis, which always has the last word: votes are deduplicated
 * there, never by this cookie. The cookie is not signed on purpose: changing
 * it can only send one's own requests the slow way, or hide one's own
 * ballot from oneself.
 * Owns: the mask, its bits, its cookie text. Must not know HTTP or Redis. */
#ifndef THAMDO_SEEN_H
#define THAMDO_SEEN_H

#include <stddef.h>

#include "cookie.h"

#define SEEN_BYTES 16

struct seen {
    unsigned char mask[SEEN_BYTES];
    int known; /* the mask is this reader's (else: they may have voted anywhere) */
    int dirty; /* the reply sets the cookie */
};

/* A reader whose voter id was just minted: nothing voted, and the cookie is set. */
void seen_start(struct seen *s);
/* Reads the mask from one Cookie header, if it carries a readable one. */
void seen_from_header(struct seen *s, const struct cookie_conf *conf, const char *header);
/* 1 when this reader may have voted in the poll (bit set, or mask unknown). */
int seen_may_have_voted(const struct seen *s, const char *poll_id);
/* The reader has voted in the poll: sets its bit (the reply then sets the
 * cookie) when the mask is known. */
void seen_mark(struct seen *s, const char *poll_id);
/* The Set-Cookie value; the length, or -1 when it does not fit. */
int seen_set_header(const struct seen *s, const struct cookie_conf *conf, char *out, size_t size);

#endif
