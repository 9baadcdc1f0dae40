/* fuzz_feed.c - the change messages heard from Redis (store_event_parse in
 * src/store/store_feed.c), which anybody who can PUBLISH on the channel may
 * send: no live link is needed, the parser takes the message's bytes.
 *
 * The input is one message, in a buffer of exactly its size (hiredis's
 * strings are not to be read past their length). Properties: an accepted
 * event's strings lie inside the message, the poll id is 1..64 bytes, every
 * number is 0..10^18-1, at most STORE_EVENT_OPTIONS_MAX options; written
 * back in the published form it parses to the same event. */
#include "fuzz.h"
#include "store.h"

static int fuzz_inside(const char *msg, size_t len, const char *s, size_t n)
{
    return s >= msg && n <= len && s + n <= msg + len;
}

static int fuzz_same(const struct store_event *a, const struct store_event *b)
{
    if (a->kind != b->kind || a->poll_id_len != b->poll_id_len ||
        memcmp(a->poll_id, b->poll_id, a->poll_id_len) != 0 || a->seq != b->seq ||
        a->voters != b->voters || a->version != b->version || a->n != b->n)
        return 0;
    for (size_t i = 0; i < a->n; i++) {
        if (a->option_len[i] != b->option_len[i] ||
            memcmp(a->option[i], b->option[i], a->option_len[i]) != 0 || a->votes[i] != b->votes[i])
            return 0;
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *msg = malloc(size ? size : 1);
    if (!msg)
        abort();
    if (size)
        memcpy(msg, data, size);
    struct store_event ev;
    if (store_event_parse(msg, size, &ev) != 0) {
        free(msg);
        return 0;
    }
    FUZZ_CHECK(ev.kind == 't' || ev.kind == 'd');
    FUZZ_CHECK(ev.poll_id_len >= 1 && ev.poll_id_len <= 64);
    FUZZ_CHECK(fuzz_inside(msg, size, ev.poll_id, ev.poll_id_len));
    FUZZ_CHECK(ev.n <= STORE_EVENT_OPTIONS_MAX && (ev.kind == 't' || ev.n == 0));
    const long long max = 999999999999999999LL;
    FUZZ_CHECK(ev.seq >= 0 && ev.seq <= max && ev.voters >= 0 && ev.voters <= max);
    FUZZ_CHECK(ev.version >= 0 && ev.version <= max);

    /* The published form, from the event. */
    size_t cap = size + 64 * 21 + 64, off = 0;
    char *out = malloc(cap);
    if (!out)
        abort();
    out[off++] = ev.kind;
    out[off++] = ' ';
    memcpy(out + off, ev.poll_id, ev.poll_id_len); /* any bytes but a space, NUL too */
    off += ev.poll_id_len;
    if (ev.kind == 'd') {
        off += (size_t)snprintf(out + off, cap - off, " %lld", ev.version);
    } else {
        off += (size_t)snprintf(out + off, cap - off, " %lld %lld", ev.seq, ev.voters);
        for (size_t i = 0; i < ev.n; i++) {
            FUZZ_CHECK(ev.option_len[i] >= 1);
            FUZZ_CHECK(fuzz_inside(msg, size, ev.option[i], ev.option_len[i]));
            FUZZ_CHECK(memchr(ev.option[i], ' ', ev.option_len[i]) == NULL);
            FUZZ_CHECK(ev.votes[i] >= 0 && ev.votes[i] <= max);
            out[off++] = ' ';
            memcpy(out + off, ev.option[i], ev.option_len[i]);
            off += ev.option_len[i];
            off += (size_t)snprintf(out + off, cap - off, ":%lld", ev.votes[i]);
        }
    }
    FUZZ_CHECK(off < cap);
    struct store_event again;
    FUZZ_CHECK(store_event_parse(out, off, &again) == 0);
    FUZZ_CHECK(fuzz_same(&ev, &again));
    free(out);
    free(msg);
    return 0;
}
