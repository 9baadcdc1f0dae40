/* store_poll.c - the poll commands of the store: view, vote, list, import,
 * create, update, statistics.
 *
 * Builds each call with the machinery of store.c and turns the script's reply
 * into a struct store_poll_reply or a list of definitions. The reply shapes
 * are those written at the top of each script in src/lua. Whatever Redis
 * holds, what reaches a caller is checked: a definition passed
 * poll_stored_check(), a ballot is "unix|slugs" or marked damaged, and a poll
 * whose data is damaged is reported as poll_damaged with one log line naming
 * it. Must not know about HTTP. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "poll.h"
#include "store.h"
#include "store_int.h"
#include "text.h"

/* The poll id of a poll call, from its first key PREFIX{poll:ID}:SUFFIX (for logs). */
static void store_poll_id(const struct store_call *c, char *buf, size_t size)
{
    const char *key = c->argc > 3 ? c->argv[3] : "";
    const char *tag = NULL;
    for (const char *p = strstr(key, "{poll:"); p; p = strstr(p + 1, "{poll:"))
        tag = p + 6;
    size_t len = tag ? strcspn(tag, "}") : 0;
    if (len >= size)
        len = size - 1;
    memcpy(buf, tag ? tag : "", len);
    buf[len] = '\0';
}

/* Logs why what Redis holds for the poll of c is damaged: the one line an
 * operator needs to find it. */
static void store_poll_damaged(const struct store_call *c, const char *why)
{
    char id[TEXT_SLUG_MAX + 1];
    store_poll_id(c, id, sizeof(id));
    log_error("poll %s: the data stored in redis is damaged (%s); answering poll_damaged", id, why);
}

/* A stored definition read back: a checked object, or NULL (logged). */
static json_t *store_poll_def(const struct store_call *c, const redisReply *e)
{
    if (e->type != REDIS_REPLY_STRING) {
        store_poll_damaged(c, "the definition is not a string");
        return NULL;
    }
    json_t *def = json_loadb(e->str, e->len, 0, NULL);
    const char *why = def ? poll_stored_check(def) : "the definition is not JSON";
    if (why) {
        store_poll_damaged(c, why);
        json_decref(def);
        return NULL;
    }
    return def;
}

/* A stored ballot "unix|a,b" (slugs): 0 with the options in out. Anything else
 * is damaged: -1, and out says "voted, options unknown". */
static int store_poll_ballot(const char *v, size_t len, struct store_poll_reply *out)
{
    const char *bar = memchr(v, '|', len);
    out->choice = "";
    out->choice_len = 0;
    out->voted_at = 0;
    if (!bar)
        return -1;
    size_t digits = (size_t)(bar - v), rest = len - digits - 1;
    if (digits == 0 || digits > 18 || rest == 0)
        return -1;
    for (size_t i = 0; i < digits; i++) {
        if (v[i] < '0' || v[i] > '9')
            return -1;
    }
    for (size_t start = 0, i = 0; i <= rest; i++) {
        if (i == rest || bar[1 + i] == ',') {
            if (!text_is_slug(bar + 1 + start, i - start))
                return -1;
            start = i + 1;
        }
    }
    out->choice = bar + 1;
    out->choice_len = rest;
    out->voted_at = strtoll(v, NULL, 10);
    return 0;
}

/* {code, choice|false, def, {opt, n, ...}, voters}, {'poll_not_found'} or
 * {'poll_damaged', why} */
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
    if (strcmp(out.code, "poll_damaged") == 0) {
        store_poll_damaged(c, reply->elements > 1 && reply->element[1]->type == REDIS_REPLY_STRING
                                  ? reply->element[1]->str
                                  : "?");
        ((store_poll_cb *)c->cb)(c->arg, &out);
        return;
    }
    if (reply->elements == 1) {
        ((store_poll_cb *)c->cb)(c->arg, &out);
        return;
    }
    if (reply->elements != 5 || reply->element[3]->type != REDIS_REPLY_ARRAY)
        goto bad;
    def = store_poll_def(c, reply->element[2]);
    if (!def) {
        out.code = "poll_damaged";
        ((store_poll_cb *)c->cb)(c->arg, &out);
        return;
    }
    counts = store_reply_object(reply->element[3]);
    if (reply->element[1]->type == REDIS_REPLY_STRING &&
        store_poll_ballot(reply->element[1]->str, reply->element[1]->len, &out) != 0) {
        char id[TEXT_SLUG_MAX + 1];
        store_poll_id(c, id, sizeof(id));
        log_warn("poll %s: a stored ballot is damaged; its reader counts as having voted", id);
    }
    out.def = def;
    out.counts = counts;
    out.voters = store_reply_int(reply->element[4]);
    ((store_poll_cb *)c->cb)(c->arg, &out);
    json_decref(def);
    json_decref(counts);
    return;

bad:
    log_error("redis %s: unexpected reply shape", c->what);
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

/* {'ok', id, problem, def, voters, votes, ...} -> [{"def","voters","votes"}],
 * or {'poll_damaged', why} */
static void store_parse_list(struct store_call *c, const redisReply *reply)
{
    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY || reply->elements < 1 ||
        reply->element[0]->type != REDIS_REPLY_STRING) {
        if (reply)
            log_error("redis %s: unexpected reply shape", c->what);
        ((store_list_cb *)c->cb)(c->arg, NULL, NULL);
        return;
    }
    if (strcmp(reply->element[0]->str, "ok") != 0) {
        log_error("redis poll list: %s; answering poll_damaged",
                  reply->elements > 1 && reply->element[1]->type == REDIS_REPLY_STRING
                      ? reply->element[1]->str
                      : "damaged");
        ((store_list_cb *)c->cb)(c->arg, "poll_damaged", NULL);
        return;
    }
    json_t *list = json_array();
    for (size_t i = 1; i + 4 < reply->elements; i += 5) {
        const redisReply *id = reply->element[i], *problem = reply->element[i + 1];
        const char *name = id->type == REDIS_REPLY_STRING ? id->str : "?";
        json_t *def = NULL;
        const char *why = NULL;
        if (problem->type == REDIS_REPLY_STRING && problem->len > 0)
            why = problem->str;
        else if (reply->element[i + 2]->type != REDIS_REPLY_STRING)
            why = "the definition is not a string";
        else if (!(def =
                       json_loadb(reply->element[i + 2]->str, reply->element[i + 2]->len, 0, NULL)))
            why = "the definition is not JSON";
        else
            why = poll_stored_check(def);
        if (why) {
            log_error("poll %s: the data stored in redis is damaged (%s); left out of the list",
                      name, why);
            json_decref(def);
            continue;
        }
        json_array_append_new(list,
                              json_pack("{so sI sI}", "def", def, "voters",
                                        (json_int_t)store_reply_int(reply->element[i + 3]), "votes",
                                        (json_int_t)store_reply_int(reply->element[i + 4])));
    }
    ((store_list_cb *)c->cb)(c->arg, "ok", list);
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

/* {'ok'}, {'poll_exists'} or {'poll_damaged', why}: the code, or NULL (unexpected). */
static const char *store_import_code(const struct store_call *c, const redisReply *reply)
{
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 1 ||
        reply->element[0]->type != REDIS_REPLY_STRING) {
        log_error("redis %s: unexpected reply shape", c->what);
        return NULL;
    }
    const char *code = reply->element[0]->str;
    if (strcmp(code, "poll_damaged") == 0)
        log_error("redis %s: %s; nothing written", c->what,
                  reply->elements > 1 && reply->element[1]->type == REDIS_REPLY_STRING
                      ? reply->element[1]->str
                      : "damaged");
    return code;
}

static void store_parse_import(struct store_call *c, const redisReply *reply)
{
    const char *id = c->owned[5];
    const char *code = reply ? store_import_code(c, reply) : NULL;
    if (reply == NULL)
        log_error("poll %s: not imported, redis unavailable", id);
    else if (code && strcmp(code, "ok") == 0)
        log_info("poll %s: created from the polls file", id);
    else if (code && strcmp(code, "poll_exists") == 0)
        log_debug("poll %s: already exists, left as it is", id);
    else
        log_error("poll %s: not imported", id);
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
    ((store_status_cb *)c->cb)(c->arg, reply ? store_import_code(c, reply) : NULL, NULL);
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
    if (strcmp(reply->element[0]->str, "poll_damaged") == 0)
        store_poll_damaged(c, detail ? detail : "?");
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

/* {def, tallies, voters, stats, hours}, {'poll_not_found'} or {'poll_damaged', why} */
static void store_parse_stats(struct store_call *c, const redisReply *reply)
{
    struct store_poll_stats out = {0};
    if (reply == NULL)
        goto unavailable;
    if (reply->type == REDIS_REPLY_ARRAY && reply->elements >= 1 && reply->elements <= 2 &&
        reply->element[0]->type == REDIS_REPLY_STRING) {
        if (strcmp(reply->element[0]->str, "poll_damaged") == 0) {
            store_poll_damaged(c,
                               reply->elements > 1 && reply->element[1]->type == REDIS_REPLY_STRING
                                   ? reply->element[1]->str
                                   : "?");
            out.damaged = 1;
        }
        ((store_stats_cb *)c->cb)(c->arg, &out); /* not found: def NULL */
        return;
    }
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 5 ||
        reply->element[1]->type != REDIS_REPLY_ARRAY ||
        reply->element[3]->type != REDIS_REPLY_ARRAY ||
        reply->element[4]->type != REDIS_REPLY_ARRAY)
        goto bad;
    out.def = store_poll_def(c, reply->element[0]);
    if (!out.def) {
        out.damaged = 1;
        ((store_stats_cb *)c->cb)(c->arg, &out);
        return;
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
