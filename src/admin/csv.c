/* csv.c - CSV fields with RFC 4180 quoting and formula-injection guard.
 *
 * Must not know what the rows mean. */
#include "csv.h"

#include <event2/buffer.h>
#include <string.h>

void csv_bom(struct evbuffer *out)
{
    evbuffer_add(out, "\xEF\xBB\xBF", 3);
}

void csv_field(struct evbuffer *out, const char *s, int last)
{
    /* What spreadsheets take for the start of a formula (OWASP's list):
     * = + - @, and a TAB or CR in front of one. */
    int formula =
        s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' || s[0] == '\r';
    if (strpbrk(s, ",\"\r\n") || formula) {
        evbuffer_add(out, "\"", 1);
        if (formula)
            evbuffer_add(out, "'", 1);
        for (const char *p = s; *p; p++) {
            if (*p == '"')
                evbuffer_add(out, "\"\"", 2);
            else
                evbuffer_add(out, p, 1);
        }
        evbuffer_add(out, "\"", 1);
    } else {
        evbuffer_add(out, s, strlen(s));
    }
    evbuffer_add(out, last ? "\r\n" : ",", last ? 2 : 1);
}

void csv_number(struct evbuffer *out, long long n, int last)
{
    evbuffer_add_printf(out, "%lld%s", n, last ? "\r\n" : ",");
}

void csv_tenths(struct evbuffer *out, long long tenths, int last)
{
    if (tenths < 0)
        tenths = 0;
    evbuffer_add_printf(out, "%lld.%lld%s", tenths / 10, tenths % 10, last ? "\r\n" : ",");
}
