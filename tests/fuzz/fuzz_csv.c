/* fuzz_csv.c - the CSV writer (src/admin/csv.c), a round trip.
 *
 * The input is split on NUL bytes into the fields of one row (labels and
 * ids as an editor may write them: quotes, commas, CR, LF, Vietnamese text,
 * a leading = + - @), followed by a number and a percent from the last
 * bytes. The row is written with csv_bom, csv_field, csv_number and
 * csv_tenths, then read back by a strict RFC 4180 reader written here.
 * Property: the same fields come back, each field a spreadsheet would run as
 * a formula with an apostrophe in front, and nothing else. */
#include <event2/buffer.h>

#include "csv.h"
#include "fuzz.h"

#define FUZZ_FIELDS_MAX 64

struct fuzz_row {
    size_t n;
    char *field[FUZZ_FIELDS_MAX + 2];
    size_t len[FUZZ_FIELDS_MAX + 2];
};

/* RFC 4180: one record ending in CRLF; fields quoted or not; "" inside
 * quotes is a quote. 0, or -1 when s[0..len) is not exactly one record. */
static int fuzz_read_row(const char *s, size_t len, struct fuzz_row *row)
{
    size_t i = 0;
    row->n = 0;
    for (;;) {
        if (row->n == FUZZ_FIELDS_MAX + 2)
            return -1;
        char *f = malloc(len + 1);
        if (!f)
            abort();
        size_t n = 0;
        row->field[row->n] = f;
        row->len[row->n] = 0;
        row->n++;
        if (i < len && s[i] == '"') {
            for (i++;; i++) {
                if (i >= len)
                    return -1;
                if (s[i] == '"') {
                    if (i + 1 < len && s[i + 1] == '"') {
                        f[n++] = '"';
                        i++;
                        continue;
                    }
                    i++;
                    break;
                }
                f[n++] = s[i];
            }
        } else {
            while (i < len && s[i] != ',' && s[i] != '\r' && s[i] != '\n') {
                if (s[i] == '"')
                    return -1; /* a quote inside an unquoted field */
                f[n++] = s[i++];
            }
        }
        f[n] = '\0';
        row->len[row->n - 1] = n;
        if (i < len && s[i] == ',') {
            i++;
            continue;
        }
        return i + 2 == len && s[i] == '\r' && s[i + 1] == '\n' ? 0 : -1;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = fuzz_strndup(data, size);
    const char *fields[FUZZ_FIELDS_MAX];
    size_t nf = 0;
    for (size_t start = 0; start <= size && nf < FUZZ_FIELDS_MAX;) {
        fields[nf++] = in + start;
        start += strlen(in + start) + 1;
    }
    long long number = size >= 1 ? (long long)data[size - 1] * 1000003 - 7 : 0;
    long long tenths = size >= 2 ? (long long)data[size - 2] * 7 - 3 : 1000;

    struct evbuffer *b = evbuffer_new();
    csv_bom(b);
    for (size_t i = 0; i < nf; i++)
        csv_field(b, fields[i], 0);
    csv_number(b, number, 0);
    csv_tenths(b, tenths, 1);
    size_t len = evbuffer_get_length(b);
    const char *out = (const char *)evbuffer_pullup(b, -1);
    FUZZ_CHECK(len >= 3 && memcmp(out, "\xEF\xBB\xBF", 3) == 0);

    struct fuzz_row row;
    int rc = fuzz_read_row(out + 3, len - 3, &row);
    FUZZ_CHECK(rc == 0);
    FUZZ_CHECK(row.n == nf + 2);
    for (size_t i = 0; i < nf; i++) {
        const char *s = fields[i];
        int formula = s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' ||
                      s[0] == '\r';
        const char *got = row.field[i];
        if (formula) {
            FUZZ_CHECK(got[0] == '\'');
            got++;
        }
        FUZZ_CHECK(strcmp(got, s) == 0 && strlen(row.field[i]) == row.len[i]);
    }
    char want[64];
    snprintf(want, sizeof(want), "%lld", number);
    FUZZ_CHECK(strcmp(row.field[nf], want) == 0);
    long long t = tenths < 0 ? 0 : tenths;
    snprintf(want, sizeof(want), "%lld.%lld", t / 10, t % 10);
    FUZZ_CHECK(strcmp(row.field[nf + 1], want) == 0);
    for (size_t i = 0; i < row.n; i++)
        free(row.field[i]);
    evbuffer_free(b);
    free(in);
    return 0;
}
