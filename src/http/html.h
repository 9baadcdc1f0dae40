/* html.h - writing HTML text safely into an evbuffer.
 *
 * Owns: escaping of text and attribute values, and number formatting for a
 * reader's language. Must not know about polls or requests. */
#ifndef THAMDO_HTML_H
#define THAMDO_HTML_H

#include <stddef.h>

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

#endif
