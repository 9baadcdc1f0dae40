/* store_forget.c - the store's part of the voter retention: the ids of the
 * polls to look at, and one step of poll_forget.lua.
 *
 * The sweep itself (which polls, when, how the steps follow each other) is
 * retention.c's; here each call is one round trip, its reply turned into a
 * struct store_forget_reply. Never logs a voter id: the script deletes names
 * it builds itself and returns none. Must not know about HTTP. */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store.h"
#include "store_call.h"

/* poll_index.lua members: {'ok', id, ...} or {'poll_damaged', why}. */
static void store_parse_poll_ids(struct store_call *c, const redisReply *reply)
{
    store_ids_cb *cb = (store_ids_cb *)c->cb;
    if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements < 1 ||
        reply->element[0]->type != REDIS_REPLY_STRING) {
        if (reply)
            log_error("redis_bad_reply", "redis %s: unexpected reply shape", c->what);
        cb(c->arg, NULL);
        return;
    }
    json_t *ids = json_array();
    if (strcmp(reply->element[0]->str, "ok") == 0) {
        for (size_t i = 1; i < reply->elements; i++) {
            const redisReply *e = reply->element[i];
            if (e->type == REDIS_REPLY_STRING && e->len > 0 && strlen(e->str) == e->len)
                json_array_append_new(ids, json_string(e->str));
        }
    } else {
        log_error("poll_list_damaged", "redis %s: the index of poll ids is not a set", c->what);
    }
    cb(c->arg, ids);
    json_decref(ids);
}

void store_poll_ids(struct store *st, store_ids_cb *cb, void *arg)
{
    struct store_call *c = store_call_new(st, STORE_SCRIPT_INDEX, "poll ids with a meta hash",
                                          store_parse_poll_ids, (store_fn *)cb, arg);
    store_call_arg(c, "1", 1);
    store_call_argf(c, "%spolls:meta", store_key_prefix(st));
    store_call_arg(c, "members", 7);
    store_call_send(c);
}

/* {'open'}, {'kept', closed_at}, {'more', next}, {'forgotten', at},
 * {'poll_not_found'} or {'poll_damaged', why}. */
static void store_parse_forget(struct store_call *c, const redisReply *reply)
{
    store_forget_cb *cb = (store_forget_cb *)c->cb;
    struct store_forget_reply out = {0};
    if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements < 1 || reply->elements > 2 ||
        reply->element[0]->type != REDIS_REPLY_STRING) {
        if (reply)
            log_error("redis_bad_reply", "redis %s: unexpected reply shape", c->what);
        cb(c->arg, NULL);
        return;
    }
    out.code = reply->element[0]->str;
    if (reply->elements == 2 && reply->element[1]->type == REDIS_REPLY_STRING)
        out.detail = reply->element[1]->str;
    else if (reply->elements == 2)
        out.value = store_reply_int(reply->element[1]);
    cb(c->arg, &out);
}

void store_poll_forget(struct store *st, const char *poll_id, int64_t now, long long keep_seconds,
                       long long from, store_forget_cb *cb, void *arg)
{
    struct store_call *c = store_call_new(st, STORE_SCRIPT_FORGET, "poll forget voters",
                                          store_parse_forget, (store_fn *)cb, arg);
    store_call_arg(c, "3", 1);
    store_call_key(c, poll_id, "meta");
    store_call_key(c, poll_id, "buckets");
    store_call_key(c, poll_id, "voters");
    store_call_argf(c, "%lld", (long long)now);
    store_call_argf(c, "%lld", keep_seconds);
    store_call_argf(c, "%lld", from);
    store_call_argf(c, "%d", STORE_FORGET_CHUNK);
    store_call_send(c);
}
