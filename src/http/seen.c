/* seen.c - the "voted polls" cookie (seen.h).
 *
 * Must not be trusted for anything but the choice between the cache and a
 * Redis lookup: the vote script alone decides whether a ballot counts. */
#include "seen.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "text.h"

#define SEEN_PREFIX     "s1."
#define SEEN_PREFIX_LEN 3
#define SEEN_SUFFIX     "_voted"

/* FNV-1a of the poll id, folded to a bit number. */
static unsigned seen_bit(const char *poll_id)
{
    uint64_t h = text_hash64(poll_id, strlen(poll_id));
    return (unsigned)((h ^ (h >> 32)) % (SEEN_BYTES * 8));
}

void seen_start(struct seen *s)
{
    memset(s->mask, 0, sizeof(s->mask));
    s->known = 1;
    s->dirty = 1;
}

static int seen_hex(int c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

void seen_from_header(struct seen *s, const struct cookie_conf *conf, const char *header)
{
    size_t name_len = strlen(conf->name), suffix_len = sizeof(SEEN_SUFFIX) - 1;
    const char *p = header;
    while (*p) {
        while (*p == ' ' || *p == ';')
            p++;
        const char *end = strchr(p, ';');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == name_len + suffix_len + 1 + SEEN_PREFIX_LEN + 2 * SEEN_BYTES &&
            memcmp(p, conf->name, name_len) == 0 &&
            memcmp(p + name_len, SEEN_SUFFIX, suffix_len) == 0 && p[name_len + suffix_len] == '=' &&
            memcmp(p + name_len + suffix_len + 1, SEEN_PREFIX, SEEN_PREFIX_LEN) == 0) {
            const char *hex = p + name_len + suffix_len + 1 + SEEN_PREFIX_LEN;
            unsigned char mask[SEEN_BYTES];
            int ok = 1;
            for (size_t i = 0; i < SEEN_BYTES && ok; i++) {
                int hi = seen_hex(hex[2 * i]), lo = seen_hex(hex[2 * i + 1]);
                ok = hi >= 0 && lo >= 0;
                if (ok) /* hi is -1 for a digit that is not hex: never shifted */
                    mask[i] = (unsigned char)(hi << 4 | lo);
            }
            if (ok && !s->known) {
                memcpy(s->mask, mask, sizeof(mask));
                s->known = 1;
            }
        }
        p += len;
    }
}

int seen_may_have_voted(const struct seen *s, const char *poll_id)
{
    unsigned b = seen_bit(poll_id);
    return !s->known || (s->mask[b / 8] >> (b % 8) & 1);
}

void seen_mark(struct seen *s, const char *poll_id)
{
    unsigned b = seen_bit(poll_id);
    if (!s->known || (s->mask[b / 8] >> (b % 8) & 1))
        return;
    s->mask[b / 8] = (unsigned char)(s->mask[b / 8] | 1u << (b % 8));
    s->dirty = 1;
}

int seen_set_header(const struct seen *s, const struct cookie_conf *conf, char *out, size_t size)
{
    static const char *const samesite[] = {"Lax", "Strict", "None"};
    static const char digits[] = "0123456789abcdef";
    char hex[2 * SEEN_BYTES + 1];
    for (size_t i = 0; i < SEEN_BYTES; i++) {
        hex[2 * i] = digits[s->mask[i] >> 4];
        hex[2 * i + 1] = digits[s->mask[i] & 15];
    }
    hex[2 * SEEN_BYTES] = '\0';
    int n = snprintf(out, size,
                     "%s" SEEN_SUFFIX "=" SEEN_PREFIX "%s; Path=/; Max-Age=%lld; "
                     "HttpOnly; SameSite=%s%s%s",
                     conf->name, hex, conf->max_age, samesite[conf->samesite],
                     conf->secure ? "; Secure" : "", conf->partitioned ? "; Partitioned" : "");
    return n < 0 || (size_t)n >= size ? -1 : n;
}
