/* csv.h - writing RFC 4180 CSV for spreadsheets.
 *
 * Owns: quoting of fields and the UTF-8 byte-order mark that makes common
 * spreadsheet programs read Vietnamese text correctly. Must not know what the
 * rows mean. */
#ifndef THAMDO_CSV_H
#define THAMDO_CSV_H

struct evbuffer;

/* Writes the UTF-8 byte-order mark. */
void csv_bom(struct evbuffer *out);

/* Writes one field, quoted when needed, followed by a comma or (last) CRLF.
 * A field that a spreadsheet would run as a formula (=, +, -, @, TAB or CR
 * first) is quoted and prefixed with an apostrophe. */
void csv_field(struct evbuffer *out, const char *s, int last);

/* Writes a whole number field. */
void csv_number(struct evbuffer *out, long long n, int last);

/* Writes tenths (>= 0) as a number with one decimal and a dot: 333 -> 33.3,
 * 1000 -> 100.0. */
void csv_tenths(struct evbuffer *out, long long tenths, int last);

#endif
