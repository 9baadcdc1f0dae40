/* page.c - the reply of a framed HTML page: its CSP and headers, then the
 * send (request.c frees the request); and the framing headers of the
 * built-in pages (/ and /admin/). Must not know what the page shows. */
#include "page.h"

#include <event2/buffer.h>
#include <stdio.h>
#include <string.h>

#include "request.h"
#include "server.h"

void page_frame_csp(const struct config *cfg, const char *policy, char *buf, size_t size)
{
    int n = snprintf(buf, size, "%s; frame-ancestors 'self'", policy);
    if (n < 0 || (size_t)n >= size)
        return;
    size_t o = (size_t)n;
    for (size_t i = 0; i < cfg->n_origins; i++) {
        size_t len = strlen(cfg->allowed_origins[i]);
        if (o + 1 + len >= size)
            break;
        buf[o++] = ' ';
        memcpy(buf + o, cfg->allowed_origins[i], len + 1);
        o += len;
    }
}

void page_frame_headers(struct request *r, enum page_framing framing)
{
    int none = framing == PAGE_FRAME_NONE;
    request_add_header(r, "Content-Security-Policy",
                       none ? "frame-ancestors 'none'" : "frame-ancestors 'self'");
    request_add_header(r, "X-Frame-Options", none ? "DENY" : "SAMEORIGIN");
}

void page_send(struct request *r, int status, struct evbuffer *b)
{
    /* Written once per thread: the configuration does not change. */
    static _Thread_local char csp[PAGE_CSP_MAX];
    static _Thread_local const struct config *csp_of;
    if (csp_of != r->srv->cfg) {
        page_frame_csp(r->srv->cfg, PAGE_POLICY, csp, sizeof(csp));
        csp_of = r->srv->cfg;
    }
    evbuffer_add_printf(b, "</body></html>\n");
    request_add_header(r, "Content-Security-Policy", csp);
    request_add_header(r, "Cache-Control", "no-store");
    request_add_header(r, "X-Content-Type-Options", "nosniff");
    request_add_header(r, "Referrer-Policy", "same-origin");
    request_reply_buffer(r, status, "text/html; charset=utf-8", b);
    evbuffer_free(b);
}
