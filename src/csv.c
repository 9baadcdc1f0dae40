/* csv.c - CSV fields with RFC 4180 quoting and formula-injection guard. */
#include "csv.h"

#include <event2/buffer.h>
#include <string.h>

void csv_bom(struct evbuffer *out)
{
    evbuffer_add(out, "\xEF\xBB\xBF", 3);
}

void csv_field(struct evbuffer *out, const char *s, int last)
{
    int formula = s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@';
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
