/* store.h - every conversation with Redis goes through here.
 *
 * API:
 *   store_new()   starts connecting (and keeps reconnecting with backoff).
 *   store_poll_view(), store_poll_vote(), store_poll_list(), store_poll_import()
 *                 each call their callback EXACTLY ONCE, never before they
 *                 return: with the answer, or with NULL when Redis is down,
 *                 slower than the command timeout, or the store is freed.
 *   store_free()  drops the link; pending callbacks get NULL.
 *
 * Ownership: replies handed to a callback are borrowed and valid only during
 * it (json_incref what you keep). Requests own their own state; the store
 * owns the per-command bookkeeping and frees it when hiredis is done with it,
 * which may be long after the callback (a late reply is dropped).
 * Must not know about HTTP. */
#ifndef THAMDO_STORE_H
#define THAMDO_STORE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "cookie.h"

struct event_base;
struct config;
struct store;

/* What Redis said about one poll for one reader (view and vote). */
struct store_poll_reply {
    const char *code;   /* "ok", "changed", "already_voted", "poll_not_found", "poll_closed",
                           "poll_not_open", "too_many_options", "invalid_option", or
                           "poll_damaged": what Redis holds for the poll is not what the
                           service writes (already logged, naming the poll) */
    json_t *def;        /* stored definition, checked (poll_stored_check); NULL with
                           poll_not_found and poll_damaged, and when def_current */
    json_t *counts;     /* object option id -> votes */
    long long voters;   /* readers who voted */
    const char *choice; /* this voter's options "a,b" ("" when the stored ballot is
                           damaged), or NULL: no ballot */
    size_t choice_len;
    long long version; /* the stored definition's version */
    long long seq;     /* the poll's change sequence: +1 with every counted or changed ballot */
    int def_current;   /* 1: def is NULL because known_version is the stored version */
    /* votes refused by the rate limits ("rate_limited", "challenge_required") */
    long long retry_after; /* seconds left in the bucket's window */
    int difficulty;        /* challenge_required: the bits a fresh challenge needs */
};

/* The rate limits of one vote (store_poll_vote). */
enum store_proof {
    STORE_PROOF_NONE = 0, /* no X-Thamdo-Proof */
    STORE_PROOF_BAD,      /* one the service refused: forged, expired, other poll or bucket */
    STORE_PROOF_VALID,    /* signed, current, ours, solved: the script checks it is unused and
                             hard enough */
};

struct store_vote_limits {
    const char *bucket; /* the hashed address bucket (16 hex); NULL: the limits are off */
    int window;         /* seconds */
    int free_ballots;   /* first ballots per window without a challenge */
    int max_ballots;    /* first ballots per window at most */
    int attempts;       /* vote requests per window at most */
    int difficulty;     /* base bits of a challenge */
    enum store_proof proof;
    int proof_difficulty; /* STORE_PROOF_VALID: the token's */
    const char *proof_id; /* STORE_PROOF_VALID: its single-use id (hex) */
    long long proof_left; /* STORE_PROOF_VALID: seconds until the token expires */
};

/* What an editor's results page needs (store_poll_stats). */
struct store_poll_stats {
    int damaged;    /* the poll's keys do not hold what the service writes (logged) */
    json_t *def;    /* NULL: no such poll, or damaged */
    json_t *counts; /* option id -> votes */
    long long voters;
    json_t *stats; /* first_vote, last_vote, duplicates, changes */
    json_t *hours; /* "hour:option" -> votes, hour = unix / 3600 */
};

typedef void store_poll_cb(void *arg, const struct store_poll_reply *reply);
/* code NULL: unavailable; "poll_damaged": the set of poll ids is damaged (logged);
 * "ok" with polls: [{"def": checked stored form, "voters": n, "votes": n}] (a poll
 * whose keys are damaged is left out, and logged). */
typedef void store_list_cb(void *arg, const char *code, json_t *polls);
typedef void store_ready_cb(void *arg);
/* code NULL: unavailable. Else "ok" or the script's refusal, with detail. */
typedef void store_status_cb(void *arg, const char *code, const char *detail);
typedef void store_stats_cb(void *arg, const struct store_poll_stats *stats);

struct store *store_new(struct event_base *base, const struct config *cfg);
void store_free(struct store *st);

/* Called every time the link becomes ready (scripts loaded). */
void store_set_ready_cb(struct store *st, store_ready_cb *cb, void *arg);
int store_is_ready(const struct store *st);

/* voter may be NULL: a reader without an id. Archived polls are
 * poll_not_found unless archived_too (editors). known_version: the version of
 * the definition the caller already has (the reply's def is then NULL and
 * def_current 1), or -1: always send the definition.
 * A poll stored by an older version (no meta hash) is upgraded on the way:
 * its definition is checked, its meta hash written, and the call made again
 * once; ballots cast before keep counting as cast. */
void store_poll_view(struct store *st, const char *poll_id, const unsigned char *voter,
                     int archived_too, long long known_version, store_poll_cb *cb, void *arg);
/* options: n distinct slugs, copied before the call returns. A counted or
 * changed ballot is published on <key_prefix>events (t ...). limits (copied;
 * NULL: off) are kept in the same script: "rate_limited" or
 * "challenge_required" with retry_after (and difficulty) when they refuse. */
void store_poll_vote(struct store *st, const char *poll_id,
                     const unsigned char voter[COOKIE_ID_LEN], int64_t now,
                     const char *const *options, size_t n, long long known_version,
                     const struct store_vote_limits *limits, store_poll_cb *cb, void *arg);
/* archived_too 0: the public list's polls (those not archived, read from their
 * index; totals 0); 1: every poll with its totals (editors). */
void store_poll_list(struct store *st, int archived_too, store_list_cb *cb, void *arg);
/* Creates a poll (stored form): "ok", "poll_exists" or "poll_damaged". Every
 * write of a definition is published on <key_prefix>events (d <id> <version>). */
void store_poll_create(struct store *st, const json_t *def, store_status_cb *cb, void *arg);
/* Replaces a definition if its version is still expected_version and no option
 * it leaves out has votes: "ok", "poll_not_found", "version_conflict",
 * "option_has_votes" (detail: the option), "poll_damaged" (logged). */
void store_poll_update(struct store *st, const char *poll_id, long long expected_version,
                       const json_t *def, store_status_cb *cb, void *arg);
void store_poll_stats(struct store *st, const char *poll_id, store_stats_cb *cb, void *arg);
/* ------------------------------------------------------------- visits --- */

/* The calendar labels of "now" in the configured zone, and how long each
 * counter must live; computed by the caller (visits.c) with clock.h. */
struct store_visit_period {
    char day[11];       /* 2026-11-28 */
    char yesterday[11]; /* 2026-11-27 */
    char week[9];       /* 2026-W48 (ISO week) */
    char month[8];      /* 2026-11 */
    long long minute;   /* Unix minutes */
    int online_minutes; /* minutes merged into "online" */
    int day_ttl, week_ttl, month_ttl;
};

#define STORE_VISIT_BASE_MAX 1000000000000000LL /* 10^15: exact in Lua and in JavaScript */

/* Counter figures: today, yesterday, this_week, this_month, total, online. */
enum store_visit_figure {
    STORE_VISIT_TODAY = 0,
    STORE_VISIT_YESTERDAY,
    STORE_VISIT_WEEK,
    STORE_VISIT_MONTH,
    STORE_VISIT_TOTAL,
    STORE_VISIT_ONLINE,
    STORE_VISIT_NFIGURES,
};

struct store_visit_counts {
    long long v[STORE_VISIT_NFIGURES];
};

/* The figures as stored: the counts (any missing or negative value is 0) and,
 * apart, the bases of the first five (online has none). */
struct store_visit_stored {
    long long count[STORE_VISIT_NFIGURES];
    long long base[STORE_VISIT_ONLINE];
};

typedef void store_visit_cb(void *arg, const struct store_visit_stored *stored);
/* history: {"visits":{date:n}, "visitors":{...}, "bots":{...}, "bases":{field:n}}, or NULL */
typedef void store_history_cb(void *arg, const json_t *history);
/* counted: 1 a new visit, 0 not, -1 unavailable (counts NULL). counts: a
 * reader's view (not a robot's, not a ping): the counts of today, this week,
 * this month and all time right after it (no base added), indexed by enum
 * store_visit_figure (yesterday and online 0); otherwise NULL. */
typedef void store_recorded_cb(void *arg, int counted, const long long *counts);

/* mode: "session", "hits", "bot" or "ping" (this minute's readers only);
 * reader: 32 hex chars. */
void store_visit_record(struct store *st, const char *site, const char *mode, const char *reader,
                        const struct store_visit_period *p, int64_t now, int session_seconds,
                        store_recorded_cb *cb, void *arg);
/* The figures as stored; "online" is the distinct readers of the whole
 * minutes of the window before p->minute, merged once a minute per site. */
void store_visit_read(struct store *st, const char *site, const struct store_visit_period *p,
                      store_visit_cb *cb, void *arg);
void store_visit_history(struct store *st, const char *site, store_history_cb *cb, void *arg);
/* bases: object field -> integer 0..STORE_VISIT_BASE_MAX (set) or null (clear). */
void store_visit_set_bases(struct store *st, const char *site, const json_t *bases,
                           store_status_cb *cb, void *arg);

/* ------------------------------------------------------------- salts --- */

#define STORE_SALT_LEN     32     /* bytes of a day's salt */
#define STORE_SALT_SECONDS 172800 /* a salt's lifetime in Redis: 48 hours */

/* salt: the day's STORE_SALT_LEN bytes, borrowed for the call; NULL when
 * Redis cannot be reached or holds something else there (logged). */
typedef void store_salt_cb(void *arg, const unsigned char *salt);

/* The salt of day ("2026-11-28") at PREFIX salt:<day>: made (random) by the
 * first caller of any instance, kept STORE_SALT_SECONDS. */
void store_salt_get(struct store *st, const char *day, store_salt_cb *cb, void *arg);

/* --------------------------------------------------------------- feed --- */

#define STORE_EVENT_OPTIONS_MAX 64

/* A change published by a script, on any instance (the channel
 * <key_prefix>events): 't' new tallies after a counted or changed ballot,
 * 'd' a new definition. Strings are borrowed for the callback only and are
 * not NUL-terminated: use the lengths. */
struct store_event {
    char kind;
    const char *poll_id;
    size_t poll_id_len;
    long long seq;     /* 't': the poll's change sequence after the step */
    long long voters;  /* 't' */
    long long version; /* 'd' */
    size_t n;          /* 't': tallies of every option */
    const char *option[STORE_EVENT_OPTIONS_MAX];
    size_t option_len[STORE_EVENT_OPTIONS_MAX];
    long long votes[STORE_EVENT_OPTIONS_MAX];
};

typedef void store_event_cb(void *arg, const struct store_event *ev);
/* The feed (re)subscribed: whatever was published while it was away is lost. */
typedef void store_feed_reset_cb(void *arg);

/* Opens a second link, subscribed to the changes; messages that are not in
 * the published form are logged once and ignored. */
void store_feed_start(struct store *st, store_event_cb *cb, store_feed_reset_cb *reset, void *arg);

/* Parses one published message; 0 when it is in the published form. */
int store_event_parse(const char *msg, size_t len, struct store_event *ev);

/* Creates each poll of defs (stored forms) that does not exist; logs what it did. */
void store_poll_import(struct store *st, const json_t *defs, int64_t now);

#endif
