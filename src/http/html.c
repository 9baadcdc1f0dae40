/* html.c - HTML escaping and number formatting.
 *
 * Escapes every character that can end a text node or a quoted attribute.
 * Must not allocate beyond the evbuffer it is given. */
#include "html.h"

#include <event2/buffer.h>
#include <stdio.h>
#include <string.h>

void html_escape(struct evbuffer *out, const char *s)
{
    if (!s)
        return;
    const char *run = s;
    for (const char *p = s; *p; p++) {
        const char *rep = NULL;
        switch (*p) {
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '"':
            rep = "&quot;";
            break;
        case '\'':
            rep = "&#39;";
            break;
        default:
            continue;
        }
        evbuffer_add(out, run, (size_t)(p - run));
        evbuffer_add(out, rep, strlen(rep));
        run = p + 1;
    }
    evbuffer_add(out, run, strlen(run));
}

void html_format_number(long long n, int english, char *buf, size_t size)
{
    char digits[32];
    int len = snprintf(digits, sizeof(digits), "%lld", n < 0 ? -n : n);
    size_t o = 0;
    if (n < 0 && o + 1 < size)
        buf[o++] = '-';
    for (int i = 0; i < len && o + 1 < size; i++) {
        if (i > 0 && (len - i) % 3 == 0 && o + 1 < size)
            buf[o++] = english ? ',' : '.';
        if (o + 1 < size)
            buf[o++] = digits[i];
    }
    buf[o] = '\0';
}

void html_format_percent(long long tenths, int english, char *buf, size_t size)
{
    if (tenths < 0)
        tenths = 0;
    if (tenths % 10 == 0)
        snprintf(buf, size, "%lld%%", tenths / 10);
    else
        snprintf(buf, size, "%lld%c%lld%%", tenths / 10, english ? '.' : ',', tenths % 10);
}
