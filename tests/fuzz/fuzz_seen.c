/* fuzz_seen.c - the "_voted" cookie (src/http/seen.c).
 *
 * The input is a Cookie header. Properties: seen_from_header never reads
 * outside the header and has no undefined behaviour on any byte; a mask it
 * read is written back by seen_set_header to a cookie that reads back to the
 * same mask; marking a poll sets exactly what seen_may_have_voted asks. */
#include "fuzz.h"
#include "seen.h"

static struct cookie_conf fuzz_conf;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_cookie_conf(&fuzz_conf);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *header = fuzz_strndup(data, size);
    struct seen s;
    memset(&s, 0, sizeof(s));
    seen_from_header(&s, &fuzz_conf, header);
    free(header);
    if (!s.known)
        return 0;

    char set[256];
    FUZZ_CHECK(seen_set_header(&s, &fuzz_conf, set, sizeof(set)) > 0);
    char *semi = strchr(set, ';');
    FUZZ_CHECK(semi != NULL);
    *semi = '\0';
    struct seen back;
    memset(&back, 0, sizeof(back));
    seen_from_header(&back, &fuzz_conf, set);
    FUZZ_CHECK(back.known && memcmp(back.mask, s.mask, SEEN_BYTES) == 0);

    /* A poll id from the input's last bytes: marked, it may have been voted in. */
    char poll[17];
    size_t n = size < 16 ? size : 16;
    memcpy(poll, data + size - n, n);
    poll[n] = '\0';
    seen_mark(&back, poll);
    FUZZ_CHECK(seen_may_have_voted(&back, poll));
    return 0;
}
