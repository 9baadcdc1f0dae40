/* bots.c - robot detection: one combined POSIX regular expression.
 *
 * bots_list.h holds the patterns, already converted to POSIX ERE by
 * scripts/gen_bots.mjs; they are joined with "|" and compiled with
 * REG_EXTENDED | REG_ICASE | REG_NOSUB under pthread_once, so the compiled
 * regex_t is written by one thread once and only read afterwards. Must not
 * keep any other state, and must not log a User-Agent. */
#include "bots.h"

#include <pthread.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "bots_list.h"
#include "log.h"

#define BOTS_N (sizeof(bots_list) / sizeof(bots_list[0]))

static pthread_once_t bots_once = PTHREAD_ONCE_INIT;
static regex_t bots_re;
static int bots_ready; /* 1: bots_re compiled; written once under bots_once */

static void bots_compile(void)
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
    int rc = regcomp(&bots_re, all, REG_EXTENDED | REG_ICASE | REG_NOSUB);
    free(all);
    if (rc != 0) {
        char err[128];
        regerror(rc, &bots_re, err, sizeof(err));
        log_error("robot patterns (%s) do not compile: %s; only an empty User-Agent is a robot",
                  BOTS_LIST_SOURCE, err);
        return;
    }
    bots_ready = 1;
}

int bots_init(void)
{
    pthread_once(&bots_once, bots_compile);
    return bots_ready ? 0 : -1;
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
