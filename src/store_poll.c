/* store_poll.c - the poll commands of the store: view, vote, list, import,
 * create, update, statistics.
 *
 * Builds each call with the machinery of store.c and turns the script's reply
 * into a struct store_poll_reply or a list of definitions. The reply shapes
 * are those written at the top of each script in src/lua. Must not know about
 * HTTP. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store.h"
#include "store_int.h"

/* {code, choice|nil, def, {opt, n, ...}, voters} or {'poll_not_found'} */
static void store_parse_poll(struct store_call *c, const redisReply *reply)
{
    struct store_poll_reply out = {0};
    json_t *def = NULL, *counts = NULL;

    if (reply == NULL)
        goto unavailable;
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 1 ||
        reply->element[0]->type != REDIS_REPLY_STRING)
        goto bad;
    out.code = reply->element[0]->str;
    if (reply->elements == 1) {
        ((store_poll_cb *)c->cb)(c->arg, &out);
        return;
    }
    if (reply->elements != 5 || reply->element[2]->type != REDIS_REPLY_STRING ||
        reply->element[3]->type != REDIS_REPLY_ARRAY)
        goto bad;
    def = json_loadb(reply->element[2]->str, reply->element[2]->len, 0, NULL);
    if (!json_is_object(def))
        goto bad;
    counts = store_reply_object(reply->element[3]);
    if (reply->element[1]->type == REDIS_REPLY_STRING) {
        /* stored as "unix|a,b": the time of the ballot, then its options */
        const char *v = reply->element[1]->str;
        const char *bar = memchr(v, '|', reply->element[1]->len);
        out.choice = bar ? bar + 1 : v;
        out.choice_len = reply->element[1]->len - (size_t)(out.choice - v);
        out.voted_at = bar ? strtoll(v, NULL, 10) : 0;
    }
    out.def = def;
    out.counts = counts;
    out.voters = store_reply_int(reply->element[4]);
    ((store_poll_cb *)c->cb)(c->arg, &out);
    json_decref(def);
    json_decref(counts);
    return;

bad:
    log_error("redis %s: unexpected reply shape (is the poll definition damaged?)", c->what);
    json_decref(def);
    json_decref(counts);
unavailable:
    ((store_poll_cb *)c->cb)(c->arg, NULL);
}

static void store_poll_call(struct store *st, enum store_script_id script, const char *what,
                            const char *poll_id, store_poll_cb *cb, void *arg,
                            struct store_call **out)
{
    struct store_call *c = store_call_new(st, script, what, store_parse_poll, (store_fn *)cb, arg);
    int vote = script == STORE_SCRIPT_VOTE; /* the vote also writes statistics */
    store_call_arg(c, vote ? "5" : "3", 1);
    store_call_key(c, poll_id, "def");
    store_call_key(c, poll_id, "counts");
    store_call_key(c, poll_id, "voters");
    if (vote) {
        store_call_key(c, poll_id, "stats");
        store_call_key(c, poll_id, "hours");
    }
    *out = c;
}

void store_poll_view(struct store *st, const char *poll_id, const unsigned char *voter,
                     int archived_too, store_poll_cb *cb, void *arg)
{
    struct store_call *c;
    store_poll_call(st, STORE_SCRIPT_VIEW, "poll view", poll_id, cb, arg, &c);
    store_call_arg(c, voter ? voter : (const unsigned char *)"", voter ? COOKIE_ID_LEN : 0);
    store_call_arg(c, archived_too ? "1" : "", archived_too ? 1 : 0);
    store_call_send(c);
}

void store_poll_vote(struct store *st, const char *poll_id,
                     const unsigned char voter[COOKIE_ID_LEN], int64_t now,
                     const char *const *options, size_t n, store_poll_cb *cb, void *arg)
{
    struct store_call *c;
    store_poll_call(st, STORE_SCRIPT_VOTE, "vote", poll_id, cb, arg, &c);
    store_call_arg(c, voter, COOKIE_ID_LEN);
    store_call_argf(c, "%lld", (long long)now);
    for (size_t i = 0; i < n && c->argc < STORE_MAX_ARGS; i++)
        store_call_arg(c, options[i], strlen(options[i]));
    store_call_send(c);
}

/* {def, voters, votes, ...} -> [{"def","voters","votes"}] */
static void store_parse_list(struct store_call *c, const redisReply *reply)
{
    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY) {
        ((store_list_cb *)c->cb)(c->arg, NULL);
        return;
    }
    json_t *list = json_array();
    for (size_t i = 0; i + 2 < reply->elements; i += 3) {
        const redisReply *e = reply->element[i];
        json_t *def = e->type == REDIS_REPLY_STRING ? json_loadb(e->str, e->len, 0, NULL) : NULL;
        if (!json_is_object(def)) {
            json_decref(def);
            log_error("redis poll list: skipped a damaged poll definition");
            continue;
        }
        json_array_append_new(list,
                              json_pack("{so sI sI}", "def", def, "voters",
                                        (json_int_t)store_reply_int(reply->element[i + 1]), "votes",
                                        (json_int_t)store_reply_int(reply->element[i + 2])));
    }
    ((store_list_cb *)c->cb)(c->arg, list);
    json_decref(list);
}

void store_poll_list(struct store *st, store_list_cb *cb, void *arg)
{
    struct store_call *c =
        store_call_new(st, STORE_SCRIPT_LIST, "poll list", store_parse_list, (store_fn *)cb, arg);
    store_call_arg(c, "1", 1);
    store_call_argf(c, "%spolls", store_key_prefix(st));
    store_call_argf(c, "%s", store_key_prefix(st));
    store_call_send(c);
}

static void store_parse_import(struct store_call *c, const redisReply *reply)
{
    const char *id = c->owned[5];
    if (reply == NULL)
        log_error("poll %s: not imported, redis unavailable", id);
    else if (reply->type == REDIS_REPLY_INTEGER && reply->integer == 1)
        log_info("poll %s: created from the polls file", id);
    else
        log_debug("poll %s: already exists, left as it is", id);
}

void store_poll_import(struct store *st, const json_t *defs, int64_t now)
{
    size_t i;
    const json_t *def;
    json_array_foreach(defs, i, def)
    {
        const char *id = json_string_value(json_object_get(def, "id"));
        json_t *copy = json_deep_copy(def);
        if (json_integer_value(json_object_get(copy, "created_at")) <= 0) {
            json_object_set_new(copy, "created_at", json_integer(now));
            json_object_set_new(copy, "updated_at", json_integer(now));
        }
        if (json_integer_value(json_object_get(copy, "version")) <= 0)
            json_object_set_new(copy, "version", json_integer(1));
        char *text = json_dumps(copy, JSON_COMPACT);
        json_decref(copy);
        if (!text)
            abort();
        struct store_call *c =
            store_call_new(st, STORE_SCRIPT_IMPORT, "poll import", store_parse_import, NULL, NULL);
        store_call_arg(c, "2", 1);
        store_call_key(c, id, "def");
        store_call_argf(c, "%spolls", store_key_prefix(st));
        store_call_arg(c, id, strlen(id)); /* owned[5]: named in the log */
        store_call_arg(c, text, strlen(text));
        free(text);
        store_call_send(c);
    }
}

/* ------------------------------------------------------------- editors --- */

static void store_parse_create(struct store_call *c, const redisReply *reply)
{
    int rc = reply == NULL ? -1 : reply->type == REDIS_REPLY_INTEGER && reply->integer == 1 ? 1 : 0;
    ((store_status_cb *)c->cb)(c->arg, rc < 0 ? NULL : rc ? "ok" : "poll_exists", NULL);
}

void store_poll_create(struct store *st, const json_t *def, store_status_cb *cb, void *arg)
{
    const char *id = json_string_value(json_object_get(def, "id"));
    char *text = json_dumps(def, JSON_COMPACT);
    if (!text)
        abort();
    struct store_call *c = store_call_new(st, STORE_SCRIPT_IMPORT, "poll create",
                                          store_parse_create, (store_fn *)cb, arg);
    store_call_arg(c, "2", 1);
    store_call_key(c, id, "def");
    store_call_argf(c, "%spolls", store_key_prefix(st));
    store_call_arg(c, id, strlen(id));
    store_call_arg(c, text, strlen(text));
    free(text);
    store_call_send(c);
}

/* {code[, detail]} */
static void store_parse_status(struct store_call *c, const redisReply *reply)
{
    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY || reply->elements < 1 ||
        reply->element[0]->type != REDIS_REPLY_STRING) {
        if (reply)
            log_error("redis %s: unexpected reply shape", c->what);
        ((store_status_cb *)c->cb)(c->arg, NULL, NULL);
        return;
    }
    const char *detail = reply->elements > 1 && reply->element[1]->type == REDIS_REPLY_STRING
                             ? reply->element[1]->str
                             : NULL;
    ((store_status_cb *)c->cb)(c->arg, reply->element[0]->str, detail);
}

void store_poll_update(struct store *st, const char *poll_id, long long expected_version,
                       const json_t *def, const char *const *removed, size_t n_removed,
                       store_status_cb *cb, void *arg)
{
    char *text = json_dumps(def, JSON_COMPACT);
    if (!text)
        abort();
    struct store_call *c = store_call_new(st, STORE_SCRIPT_UPDATE, "poll update",
                                          store_parse_status, (store_fn *)cb, arg);
    store_call_arg(c, "2", 1);
    store_call_key(c, poll_id, "def");
    store_call_key(c, poll_id, "counts");
    store_call_argf(c, "%lld", expected_version);
    store_call_arg(c, text, strlen(text));
    free(text);
    for (size_t i = 0; i < n_removed && c->argc < STORE_MAX_ARGS; i++)
        store_call_arg(c, removed[i], strlen(removed[i]));
    store_call_send(c);
}

/* {def, tallies, voters, stats, hours} or {'poll_not_found'} */
static void store_parse_stats(struct store_call *c, const redisReply *reply)
{
    struct store_poll_stats out = {0};
    if (reply == NULL)
        goto unavailable;
    if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 1) {
        ((store_stats_cb *)c->cb)(c->arg, &out); /* not found: def NULL */
        return;
    }
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 5 ||
        reply->element[0]->type != REDIS_REPLY_STRING ||
        reply->element[1]->type != REDIS_REPLY_ARRAY ||
        reply->element[3]->type != REDIS_REPLY_ARRAY ||
        reply->element[4]->type != REDIS_REPLY_ARRAY)
        goto bad;
    out.def = json_loadb(reply->element[0]->str, reply->element[0]->len, 0, NULL);
    if (!json_is_object(out.def)) {
        json_decref(out.def);
        goto bad;
    }
    out.counts = store_reply_object(reply->element[1]);
    out.voters = store_reply_int(reply->element[2]);
    out.stats = store_reply_object(reply->element[3]);
    out.hours = store_reply_object(reply->element[4]);
    ((store_stats_cb *)c->cb)(c->arg, &out);
    json_decref(out.def);
    json_decref(out.counts);
    json_decref(out.stats);
    json_decref(out.hours);
    return;
bad:
    log_error("redis %s: unexpected reply shape", c->what);
unavailable:
    ((store_stats_cb *)c->cb)(c->arg, NULL);
}

void store_poll_stats(struct store *st, const char *poll_id, store_stats_cb *cb, void *arg)
{
    struct store_call *c = store_call_new(st, STORE_SCRIPT_STATS, "poll statistics",
                                          store_parse_stats, (store_fn *)cb, arg);
    store_call_arg(c, "5", 1);
    store_call_key(c, poll_id, "def");
    store_call_key(c, poll_id, "counts");
    store_call_key(c, poll_id, "voters");
    store_call_key(c, poll_id, "stats");
    store_call_key(c, poll_id, "hours");
    store_call_send(c);
}
