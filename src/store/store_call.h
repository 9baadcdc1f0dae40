/* store_call.h - shared by the files of the store module (store*.c) only.
 *
 * store.c owns the link and the command machinery; store_poll.c (and the
 * other store_*.c files) build commands with it and turn replies into values
 * for their callers. Nothing outside the store module includes this. */
#ifndef THAMDO_STORE_CALL_H
#define THAMDO_STORE_CALL_H

#include <hiredis/hiredis.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

struct link;

#define STORE_MAX_ARGS (32 + 64)

/* Every Lua script of src/store/lua, loaded at each connection. */
enum store_script_id {
    STORE_SCRIPT_VIEW = 0,
    STORE_SCRIPT_VOTE,
    STORE_SCRIPT_LIST,
    STORE_SCRIPT_WRITE,
    STORE_SCRIPT_STATS,
    STORE_SCRIPT_VISIT_RECORD,
    STORE_SCRIPT_VISIT_READ,
    STORE_SCRIPT_VISIT_HISTORY,
    STORE_SCRIPT_VISIT_BASE,
    STORE_SCRIPT_INDEX,
    STORE_SCRIPT_SALT,
    STORE_NSCRIPTS,
};

struct store_call;

/* Turns a reply (NULL: unavailable) into the caller's callback; called once. */
typedef void store_parse_fn(struct store_call *c, const redisReply *reply);
/* The caller's callback, stored untyped; each parse function casts it back. */
typedef void store_fn(void);

struct store_call {
    struct store *st;
    struct link *link; /* the link it was sent on */
    struct store_call *prev, *next;
    const char *what; /* for logs */
    enum store_script_id script;
    int argc;
    const char *argv[STORE_MAX_ARGS];
    size_t argvlen[STORE_MAX_ARGS];
    char *owned[STORE_MAX_ARGS]; /* argument copies to free */
    struct event *timer;
    int submitted; /* hiredis callbacks still to come (the script, WAITs) */
    int reported;  /* the caller has heard back */
    int retried;   /* NOSCRIPT fallback used */
    int acked;     /* a write acknowledged only once THAMDO_REDIS_WAIT_REPLICAS have it */
    int waits_sent, waits_answered;
    struct redisReply *held; /* the script's reply, until the last WAIT answers */
    int kept;                /* answered, kept for a follow-up call that frees it */
    store_parse_fn *then;    /* store_poll.c: the parse after the follow-up */
    int indexed;             /* store_poll.c: the set of poll ids has the id already */
    store_parse_fn *parse;
    store_fn *cb;
    void *arg;

    uint64_t sent_us; /* metrics_now_us() at the send, for the round-trip figure */
};

/* A new EVALSHA call of script; add arguments, then store_call_send(). */
struct store_call *store_call_new(struct store *st, enum store_script_id script, const char *what,
                                  store_parse_fn *parse, store_fn *cb, void *arg);
/* Frees a kept call (c->kept), once its follow-up has answered. */
void store_call_free(struct store_call *c);
/* A deep copy of a reply, freed by freeReplyObject(). */
struct redisReply *store_reply_copy(const struct redisReply *r);
/* Appends a copy of data[0..len) as the next argument. */
void store_call_arg(struct store_call *c, const void *data, size_t len);
void store_call_argf(struct store_call *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Appends the key PREFIX{poll:ID}:SUFFIX. */
void store_call_key(struct store_call *c, const char *poll_id, const char *suffix);
/* Sends the call, or has it report NULL at once when the link is down. */
void store_call_send(struct store_call *c);
/* The same for a write that matters (votes, poll definitions): with
 * THAMDO_REDIS_WAIT_REPLICAS=N, WAIT N follows the script on the same
 * connection, and the caller hears the script's reply only once N replicas
 * have it (else NULL: unavailable, the write may or may not survive). */
void store_call_send_acked(struct store_call *c);

const char *store_key_prefix(const struct store *st);
/* The link target of the primary (locate.c), for the store's other links. */
const struct link_target *store_primary_target(const struct store *st);
struct event_base *store_base(const struct store *st);
const struct config *store_config(const struct store *st);

/* The feed of published changes (store_feed.c), owned by the store. */
struct store_feed;
void store_attach_feed(struct store *st, struct store_feed *feed);
void store_feed_free(struct store_feed *feed);
long long store_reply_int(const redisReply *r);
/* A flat HGETALL reply {field, value, ...} as a new object field -> integer. */
json_t *store_reply_object(const redisReply *flat);

#endif
