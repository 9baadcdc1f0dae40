/* page.h - answering with an HTML page made to be framed (the no-JS pages).
 *
 * Owns: the headers such a page carries: a Content-Security-Policy that lets
 * only the service's own pages and the allowed origins frame it,
 * Cache-Control: no-store (the reader's state and the figures change),
 * nosniff, and Referrer-Policy: same-origin. Must not build the page itself. */
#ifndef THAMDO_PAGE_H
#define THAMDO_PAGE_H

#include <stddef.h>

#include "config.h"

/* The policy of every framed page: no script, inline CSS, forms to itself. */
#define PAGE_POLICY                                                                                \
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'"

/* Room enough for page_frame_csp() with every allowed origin. */
#define PAGE_CSP_MAX (CONFIG_ORIGINS_MAX * CONFIG_ORIGIN_LEN + 512)

struct evbuffer;
struct request;

/* Writes into buf the policy, then "; frame-ancestors 'self'" and each of
 * cfg's allowed origins. size must be at least PAGE_CSP_MAX; with less,
 * whole origins that do not fit are left out. */
void page_frame_csp(const struct config *cfg, const char *policy, char *buf, size_t size);

/* The framing headers of the service's own top-level pages: the demo page
 * (/) may be framed by the service's own pages only (frame-ancestors 'self',
 * X-Frame-Options: SAMEORIGIN), the dashboard (/admin/) by nobody
 * (frame-ancestors 'none', X-Frame-Options: DENY). */
enum page_framing { PAGE_FRAME_SELF, PAGE_FRAME_NONE };
void page_frame_headers(struct request *r, enum page_framing framing);

/* Closes the page in b ("</body></html>"), answers it with status and the
 * headers above, frees b and r. */
void page_send(struct request *r, int status, struct evbuffer *b);

#endif
