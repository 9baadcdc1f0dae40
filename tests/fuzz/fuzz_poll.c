/* fuzz_poll.c - poll definitions (src/rules/poll.c).
 *
 * The input is JSON text, read as the admin API reads a body. Three readers
 * of a definition get it: poll_validate (the admin API and the polls file:
 * a definition written by an editor), poll_load_file (the polls file itself,
 * read from a memfd), and poll_stored_check (a definition read back from
 * Redis, which anybody with access to it may have changed). Properties: a
 * definition that poll_validate accepts passes poll_stored_check and is
 * accepted again unchanged; whatever passes poll_stored_check renders
 * without a crash, its public view and results are valid JSON, and the fast
 * results text (poll_results_text) is byte for byte what json_dumps makes of
 * poll_results. */
#include <jansson.h>
#include <sys/mman.h>
#include <unistd.h>

#include "clock.h"
#include "fuzz.h"
#include "http_util.h"
#include "poll.h"
#include "text.h"

#define FUZZ_NOW 1796000000LL /* 2026-11-29 */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    json_object_seed(1);
    clock_set_zone("Asia/Ho_Chi_Minh");
    return 0;
}

/* A JSON value's text must read back as JSON. */
static void fuzz_valid_json(const json_t *v)
{
    FUZZ_CHECK(v != NULL);
    char *text = http_json_text(v);
    json_t *back = json_loads(text, 0, NULL);
    FUZZ_CHECK(back != NULL && fuzz_is_utf8(text, strlen(text)));
    json_decref(back);
    free(text);
}

/* Renders a checked stored form every way the service does. */
static void fuzz_render(const json_t *def, uint64_t salt)
{
    static const long long samples[] = {
        0, 1, 2, 3, 7, 1000, -5, POLL_VOTES_MAX, POLL_VOTES_MAX + 1, 999999999999LL};
    json_t *counts = json_object();
    size_t i;
    const json_t *o;
    json_array_foreach(json_object_get(def, "options"), i, o)
    {
        const char *id = json_string_value(json_object_get(o, "id"));
        uint64_t h = text_hash64(id, strlen(id)) ^ salt;
        json_object_set_new(counts, id, json_integer(samples[h % 10]));
    }
    long long voters = (long long)(salt % 1000);

    for (int64_t now = FUZZ_NOW - 86400; now <= FUZZ_NOW + 86400; now += 86400) {
        json_t *view = poll_public_view(def, now);
        fuzz_valid_json(view);
        json_decref(view);
        enum poll_state st = poll_state_at(def, now);
        FUZZ_CHECK(st == POLL_OPEN || st == POLL_UPCOMING || st == POLL_CLOSED);
        (void)poll_results_visible(def, now, 0);
        (void)poll_results_visible(def, now, 1);
    }
    json_t *wrapped = json_pack("[{sO}]", "def", def);
    for (int which = POLL_LIST_OPEN; which <= POLL_LIST_ALL; which++) {
        json_t *list = poll_public_list(wrapped, FUZZ_NOW, (enum poll_list_status)which, 20, 0);
        fuzz_valid_json(list);
        json_decref(list);
    }
    json_decref(wrapped);

    json_t *results = poll_results(def, counts, voters);
    char *slow = http_json_text(results);
    json_decref(results);
    struct poll_frames *f = poll_results_frames(def);
    size_t len = 0;
    char *fast = poll_results_text(f, counts, voters, &len);
    FUZZ_CHECK(len == strlen(fast) && strcmp(fast, slow) == 0);
    free(fast);
    free(slow);
    poll_frames_free(f);

    struct poll_meta meta;
    poll_meta_args(def, &meta);
    json_t *choice = poll_choice_array(meta.options, strlen(meta.options));
    FUZZ_CHECK(json_array_size(choice) == json_array_size(json_object_get(def, "options")));
    json_decref(choice);
    json_decref(counts);
}

/* The input as a polls file: poll_load_file reads a path. */
static void fuzz_load_file(const uint8_t *data, size_t size)
{
    int fd = memfd_create("polls.json", 0);
    FUZZ_CHECK(fd >= 0);
    FUZZ_CHECK(write(fd, data, size) == (ssize_t)size);
    char path[64], err[512];
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    json_t *polls = poll_load_file(path, err, sizeof(err));
    close(fd);
    if (!polls) {
        FUZZ_CHECK(err[0] != '\0');
        return;
    }
    size_t i;
    json_t *def;
    json_array_foreach(polls, i, def)
    {
        FUZZ_CHECK(poll_stored_check(def) == NULL);
    }
    json_decref(polls);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *in = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
    if (!in)
        return 0;
    uint64_t salt = text_hash64((const char *)data, size);

    struct poll_errors errs;
    json_t *def = poll_validate(in, FUZZ_NOW, &errs);
    if (def) {
        FUZZ_CHECK(errs.n == 0);
        FUZZ_CHECK(poll_stored_check(def) == NULL);
        struct poll_errors again_errs;
        json_t *again = poll_validate(def, FUZZ_NOW + 10, &again_errs);
        FUZZ_CHECK(again != NULL && json_equal(again, def));
        json_decref(again);
        fuzz_render(def, salt);
        json_decref(def);
    } else {
        FUZZ_CHECK(errs.n > 0);
        for (size_t i = 0; i < errs.n && i < POLL_ERRORS_MAX; i++)
            FUZZ_CHECK(errs.e[i].message[0] != '\0');
    }

    /* The same JSON as read back from Redis. */
    json_t *stored = json_deep_copy(in);
    if (stored && poll_stored_check(stored) == NULL) {
        FUZZ_CHECK(poll_stored_check(stored) == NULL); /* the rewrite of reals is final */
        fuzz_render(stored, salt);
    }
    json_decref(stored);

    if (json_is_array(in) || json_object_get(in, "polls"))
        fuzz_load_file(data, size);
    json_decref(in);
    return 0;
}
