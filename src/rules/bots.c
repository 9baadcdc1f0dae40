/* bots.c - robot detection: one combined POSIX regular expression per thread.
 *
 * bots_list.h holds the patterns, already converted to POSIX ERE by
 * scripts/gen_bots.mjs; they are joined with "|" once per process (under
 * pthread_once, then only read) and compiled with REG_EXTENDED | REG_ICASE |
 * REG_NOSUB into a thread-local regex_t, because glibc's regexec locks the
 * regex_t it runs: threads sharing one would take turns on every check. Must
 * not keep any other state, and must not log a User-Agent. */
#include "bots.h"

#include <pthread.h>
#include <regex.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "bots_list.h"
#include "log.h"

#define BOTS_N (sizeof(bots_list) / sizeof(bots_list[0]))

static pthread_once_t bots_once = PTHREAD_ONCE_INIT;
static char *bots_all; /* the joined expression; written once under bots_once */
static atomic_flag bots_error_logged = ATOMIC_FLAG_INIT;

static _Thread_local regex_t bots_re;
static _Thread_local int bots_state; /* 0: not compiled, 1: compiled, -1: does not compile */

static void bots_join(void)
{
    size_t len = 0;
    for (size_t i = 0; i < BOTS_N; i++)
        len += strlen(bots_list[i]) + 1;
    char *all = malloc(len);
    if (!all)
        abort();
    size_t o = 0;
    for (size_t i = 0; i < BOTS_N; i++) {
        size_t n = strlen(bots_list[i]);
        if (i > 0)
            all[o++] = '|';
        memcpy(all + o, bots_list[i], n);
        o += n;
    }
    all[o] = '\0';
    bots_all = all;
}

int bots_init(void)
{
    if (bots_state != 0)
        return bots_state > 0 ? 0 : -1;
    pthread_once(&bots_once, bots_join);
    int rc = regcomp(&bots_re, bots_all, REG_EXTENDED | REG_ICASE | REG_NOSUB);
    if (rc != 0) {
        char err[128];
        regerror(rc, &bots_re, err, sizeof(err));
        regfree(&bots_re);
        bots_state = -1;
        if (!atomic_flag_test_and_set(&bots_error_logged))
            log_error("robot_patterns_broken",
                      "robot patterns (%s) do not compile: %s; only an empty User-Agent is a "
                      "robot",
                      BOTS_LIST_SOURCE, err);
        return -1;
    }
    bots_state = 1;
    return 0;
}

void bots_thread_end(void)
{
    if (bots_state > 0)
        regfree(&bots_re);
    bots_state = 0;
}

int bots_is_robot(const char *ua)
{
    if (ua == NULL || *ua == '\0')
        return 1;
    if (bots_init() != 0)
        return 0;
    return regexec(&bots_re, ua, 0, NULL, 0) == 0;
}

size_t bots_pattern_count(void)
{
    return BOTS_N;
}

const char *bots_source(void)
{
    return BOTS_LIST_SOURCE;
}
