/* store_admin.c - the editors' commands of the store that are not a poll's
 * definition: the audit log, the reset of a poll's results, and the read of
 * a poll's integrity counters.
 *
 * Reset: one job (struct store_reset) drives poll_reset.lua through its
 * steps, start, a chunk per 4096 voter buckets, finish, each its own call so
 * that Redis serves other commands between them; the job owns itself and is
 * freed on the path that reports to the caller (exactly once). The scripts'
 * reply shapes are written at the top of each script in src/store/lua.
 * Must not know about HTTP; must not touch the vote's script or keys beyond
 * what poll_reset.lua documents. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store.h"
#include "store_call.h"
#include "text.h"

#define STORE_RESET_BUCKETS 65536

/* 1 when reply is {string, ...}: a script's code first. */
static int store_admin_coded(const redisReply *reply)
{
    return reply && reply->type == REDIS_REPLY_ARRAY && reply->elements >= 1 &&
           reply->element[0]->type == REDIS_REPLY_STRING;
}

static void store_admin_bad(const struct store_call *c)
{
    log_error("redis_bad_reply", "redis %s: unexpected reply shape", c->what);
}

/* ----------------------------------------------------------- audit log --- */

static void store_audit_key(struct store_call *c)
{
    store_call_arg(c, "1", 1);
    store_call_argf(c, "%saudit", store_key_prefix(c->st));
}

/* {'ok', seq} or {'audit_damaged'} */
static void store_parse_audit_append(struct store_call *c, const redisReply *reply)
{
    store_audit_cb *cb = (store_audit_cb *)c->cb;
    if (!reply) {
        cb(c->arg, NULL, 0);
    } else if (!store_admin_coded(reply)) {
        store_admin_bad(c);
        cb(c->arg, NULL, 0);
    } else if (strcmp(reply->element[0]->str, "ok") == 0 && reply->elements == 2) {
        cb(c->arg, "ok", store_reply_int(reply->element[1]));
    } else {
        log_error("audit_damaged", "redis %s: the audit log key is not a list", c->what);
        cb(c->arg, "audit_damaged", 0);
    }
}

void store_audit_append(struct store *st, const char *entry_tail, size_t len, store_audit_cb *cb,
                        void *arg)
{
    struct store_call *c = store_call_new(st, STORE_SCRIPT_AUDIT, "audit append",
                                          store_parse_audit_append, (store_fn *)cb, arg);
    store_audit_key(c);
    store_call_arg(c, "append", 6);
    store_call_arg(c, entry_tail, len);
    store_call_argf(c, "%d", STORE_AUDIT_CAP);
    store_call_send_acked(c);
}

/* {'ok', newest, entry, ...} or {'audit_damaged'}; an entry that is not a
 * JSON object with a whole seq below before is left out. */
static void store_parse_audit_read(struct store_call *c, const redisReply *reply)
{
    store_audit_read_cb *cb = (store_audit_read_cb *)c->cb;
    if (!reply) {
        cb(c->arg, NULL, 0, NULL);
        return;
    }
    if (!store_admin_coded(reply) ||
        (strcmp(reply->element[0]->str, "ok") == 0 && reply->elements < 2)) {
        store_admin_bad(c);
        cb(c->arg, NULL, 0, NULL);
        return;
    }
    if (strcmp(reply->element[0]->str, "ok") != 0) {
        log_error("audit_damaged", "redis %s: the audit log key is not a list", c->what);
        cb(c->arg, "audit_damaged", 0, NULL);
        return;
    }
    json_t *entries = json_array();
    for (size_t i = 2; i < reply->elements; i++) {
        const redisReply *e = reply->element[i];
        json_t *o = e->type == REDIS_REPLY_STRING ? json_loadb(e->str, e->len, 0, NULL) : NULL;
        if (json_is_object(o) && json_is_integer(json_object_get(o, "seq")))
            json_array_append(entries, o);
        json_decref(o);
    }
    cb(c->arg, "ok", store_reply_int(reply->element[1]), entries);
    json_decref(entries);
}

void store_audit_read(struct store *st, long long before, int limit, store_audit_read_cb *cb,
                      void *arg)
{
    struct store_call *c = store_call_new(st, STORE_SCRIPT_AUDIT, "audit read",
                                          store_parse_audit_read, (store_fn *)cb, arg);
    store_audit_key(c);
    store_call_arg(c, "read", 4);
    store_call_argf(c, "%lld", before);
    store_call_argf(c, "%d", limit);
    store_call_send(c);
}

/* --------------------------------------------------------------- reset --- */

struct store_reset {
    struct store *st;
    char poll_id[TEXT_SLUG_MAX + 1];
    long long now;
    store_status_cb *cb;
    void *arg;
};

static void store_parse_reset(struct store_call *c, const redisReply *reply);

/* The next step of job j: "start", "chunk" or "finish". */
static void store_reset_step(struct store_reset *j, const char *mode)
{
    struct store_call *c =
        store_call_new(j->st, STORE_SCRIPT_RESET, "poll reset", store_parse_reset, NULL, j);
    static const char *const keys[] = {"meta",  "def",    "counts",    "stats",
                                       "hours", "voters", "integrity", "buckets"};
    store_call_arg(c, "8", 1);
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        store_call_key(c, j->poll_id, keys[i]);
    store_call_argf(c, "%s", mode);
    store_call_argf(c, "%s", j->poll_id);
    store_call_argf(c, "%sevents", store_key_prefix(j->st));
    store_call_key(c, j->poll_id, "v:");
    store_call_argf(c, "%lld", j->now);
    store_call_send_acked(c);
}

static void store_reset_done(struct store_reset *j, const char *code, const char *detail)
{
    j->cb(j->arg, code, detail);
    free(j);
}

/* {'ok', next or seq}, {'chunks_left', next}, {'poll_not_found'}, {'poll_damaged', why},
 * {'not_resetting'} */
static void store_parse_reset(struct store_call *c, const redisReply *reply)
{
    struct store_reset *j = c->arg;
    const char *mode = c->argv[11]; /* numkeys, script, 8 keys, then the mode */
    if (!reply) {
        store_reset_done(j, NULL, NULL);
        return;
    }
    if (!store_admin_coded(reply)) {
        store_admin_bad(c);
        store_reset_done(j, NULL, NULL);
        return;
    }
    const char *code = reply->element[0]->str;
    if (strcmp(code, "chunks_left") == 0 && reply->elements == 2) {
        store_reset_step(j, "chunk"); /* a finish sent early: the chunks first */
        return;
    }
    if (strcmp(code, "ok") != 0 || reply->elements != 2) {
        const char *why = reply->elements > 1 && reply->element[1]->type == REDIS_REPLY_STRING
                              ? reply->element[1]->str
                              : "?";
        if (strcmp(code, "poll_damaged") == 0)
            log_error("poll_damaged", "poll %s: %s", j->poll_id, why);
        else if (strcmp(code, "not_resetting") == 0)
            log_warn("poll_reset_interrupted", "poll %s: the reset mark went away during the reset",
                     j->poll_id);
        store_reset_done(j,
                         strcmp(code, "poll_not_found") == 0 ? "poll_not_found"
                         : strcmp(code, "poll_damaged") == 0 ? "poll_damaged"
                                                             : NULL,
                         NULL);
        return;
    }
    if (strcmp(mode, "finish") == 0) { /* {'ok', the new seq} */
        store_reset_done(j, "ok", NULL);
        return;
    }
    long long next = store_reply_int(reply->element[1]); /* the next voter bucket */
    store_reset_step(j, next >= STORE_RESET_BUCKETS ? "finish" : "chunk");
}

void store_poll_reset(struct store *st, const char *poll_id, int64_t now, store_status_cb *cb,
                      void *arg)
{
    struct store_reset *j = calloc(1, sizeof(*j));
    if (!j)
        abort();
    j->st = st;
    snprintf(j->poll_id, sizeof(j->poll_id), "%s", poll_id);
    j->now = now;
    j->cb = cb;
    j->arg = arg;
    store_reset_step(j, "start");
}

/* ----------------------------------------------------------- integrity --- */

/* {'ok', counters (flat), buckets, busiest (flat)}, {'poll_not_found'} or
 * {'poll_damaged', why} */
static void store_parse_integrity(struct store_call *c, const redisReply *reply)
{
    store_integrity_cb *cb = (store_integrity_cb *)c->cb;
    struct store_poll_integrity out = {0};
    if (!reply) {
        cb(c->arg, NULL);
        return;
    }
    if (!store_admin_coded(reply)) {
        store_admin_bad(c);
        cb(c->arg, NULL);
        return;
    }
    const char *code = reply->element[0]->str;
    if (strcmp(code, "poll_damaged") == 0) {
        char id[TEXT_SLUG_MAX + 1] = "?";
        const char *key = c->argv[3]; /* the meta key, PREFIX{poll:ID}:meta */
        const char *tag = strstr(key, "{poll:");
        if (tag)
            snprintf(id, sizeof(id), "%.*s", (int)strcspn(tag + 6, "}"), tag + 6);
        log_error("poll_damaged", "poll %s: %s", id,
                  reply->elements > 1 && reply->element[1]->type == REDIS_REPLY_STRING
                      ? reply->element[1]->str
                      : "?");
        out.damaged = 1;
        cb(c->arg, &out);
        return;
    }
    if (strcmp(code, "ok") != 0) {
        cb(c->arg, &out); /* not found */
        return;
    }
    if (reply->elements != 4 || reply->element[1]->type != REDIS_REPLY_ARRAY ||
        reply->element[3]->type != REDIS_REPLY_ARRAY) {
        store_admin_bad(c);
        cb(c->arg, NULL);
        return;
    }
    out.found = 1;
    out.counters = store_reply_object(reply->element[1]);
    out.buckets = store_reply_int(reply->element[2]);
    out.busiest = json_array();
    const redisReply *b = reply->element[3];
    for (size_t i = 0; i + 1 < b->elements; i += 2) {
        if (b->element[i]->type == REDIS_REPLY_STRING)
            json_array_append_new(out.busiest,
                                  json_pack("{ss% sI}", "bucket", b->element[i]->str,
                                            (size_t)b->element[i]->len, "ballots",
                                            (json_int_t)store_reply_int(b->element[i + 1])));
    }
    cb(c->arg, &out);
    json_decref(out.counters);
    json_decref(out.busiest);
}

void store_poll_integrity(struct store *st, const char *poll_id, int top, store_integrity_cb *cb,
                          void *arg)
{
    struct store_call *c = store_call_new(st, STORE_SCRIPT_INTEGRITY, "poll integrity",
                                          store_parse_integrity, (store_fn *)cb, arg);
    store_call_arg(c, "4", 1);
    store_call_key(c, poll_id, "meta");
    store_call_key(c, poll_id, "def");
    store_call_key(c, poll_id, "integrity");
    store_call_key(c, poll_id, "buckets");
    store_call_argf(c, "%d", top);
    store_call_send(c);
}
