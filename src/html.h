/* html.h - writing HTML text safely into an evbuffer.
 *
 * Owns: escaping of text and attribute values, number formatting for a
 * reader's language, and the Content-Security-Policy of the pages made to be
 * framed. Must not know about polls or requests. */
#ifndef THAMDO_HTML_H
#define THAMDO_HTML_H

#include <stddef.h>

#include "config.h"

/* Room enough for html_frame_csp() with every allowed origin. */
#define HTML_CSP_MAX (CONFIG_ORIGINS_MAX * CONFIG_ORIGIN_LEN + 512)

struct evbuffer;

/* Appends s with & < > " ' escaped (safe in text and quoted attributes);
 * nothing for NULL. */
void html_escape(struct evbuffer *out, const char *s);

/* Formats n with the thousands separator of the language: "1.777.782" (vi)
 * or "1,777,782" (en). */
void html_format_number(long long n, int english, char *buf, size_t size);

/* Formats a share given in tenths of a percent as the widget does
 * (Intl.NumberFormat with at most one decimal): "33,3%" (vi) or "33.3%"
 * (en), and "50%" without a zero decimal. */
void html_format_percent(long long tenths, int english, char *buf, size_t size);

/* Writes into buf the Content-Security-Policy of a page that may be framed
 * by the service's own pages and the allowed origins only: policy (e.g.
 * "default-src 'none'; style-src 'unsafe-inline'"), then
 * "; frame-ancestors 'self'" and each of cfg's allowed origins. size must be
 * at least HTML_CSP_MAX; with less, origins that do not fit are left out. */
void html_frame_csp(const struct config *cfg, const char *policy, char *buf, size_t size);

#endif
