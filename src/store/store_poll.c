/* store_poll.c - the poll commands of the store: view, vote, list, import,
 * create, update, statistics, and the upgrade of polls an older version stored.
 *
 * Builds each call with the machinery of store.c and turns the script's reply
 * into a struct store_poll_reply or a list of definitions. The reply shapes
 * are those written at the top of each script in src/store/lua. Whatever Redis
 * holds, what reaches a caller is checked: a definition passed
 * poll_stored_check(), a ballot is slugs or marked damaged, and a poll whose
 * data is damaged is reported as poll_damaged with one log line naming it.
 * The scripts check a small meta hash per poll, written by poll_write.lua from
 * what poll_meta_args() derives here from a checked definition.
 *
 * Upgrade: a view or vote of a poll without a meta hash answers needs_upgrade
 * with the definition; it is checked here, the meta written (poll_write.lua,
 * mode upgrade), and the call made once more (struct store_poll_again carries
 * it across, owned by the upgrade call: one owner, freed on every path).
 * Never logs a voter id: the bucket key of a voter is never a call's first key.
 * Must not know about HTTP. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "poll.h"
#include "store.h"
#include "store_call.h"
#include "text.h"

/* 1 when reply is an array whose first element is a string: a script's code. */
static int store_reply_coded(const redisReply *reply)
{
    return reply->type == REDIS_REPLY_ARRAY && reply->elements >= 1 &&
           reply->element[0]->type == REDIS_REPLY_STRING;
}

/* The string at element i of an array reply, or fallback. */
static const char *store_reply_str(const redisReply *reply, size_t i, const char *fallback)
{
    return reply->type == REDIS_REPLY_ARRAY && reply->elements > i &&
                   reply->element[i]->type == REDIS_REPLY_STRING
               ? reply->element[i]->str
               : fallback;
}

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
    log_error("poll_damaged",
              "poll %s: the data stored in redis is damaged (%s); answering poll_damaged", id, why);
}

/* A stored definition read back (the reply element e): a checked object, or
 * NULL with *why. NUL bytes are allowed in its strings, as the vote script's
 * JSON reader allows them: both must agree on what is damaged. */
static json_t *store_poll_load(const redisReply *e, const char **why)
{
    if (e->type != REDIS_REPLY_STRING) {
        *why = "the definition is not a string";
        return NULL;
    }
    json_t *def = json_loadb(e->str, e->len, JSON_ALLOW_NUL, NULL);
    *why = def ? poll_stored_check(def) : "the definition is not JSON";
    if (*why) {
        json_decref(def);
        return NULL;
    }
    return def;
}

/* The same for a poll call: NULL is logged. */
static json_t *store_poll_def(const struct store_call *c, const redisReply *e)
{
    const char *why;
    json_t *def = store_poll_load(e, &why);
    if (!def)
        store_poll_damaged(c, why);
    return def;
}

/* A choice the script sends back, "a,b" (slugs): 0. Anything else is a
 * damaged stored ballot: -1, and out says "voted, options unknown". */
static int store_poll_ballot(const char *v, size_t len, struct store_poll_reply *out)
{
    out->choice = "";
    out->choice_len = 0;
    if (len == 0)
        return -1;
    for (size_t start = 0, i = 0; i <= len; i++) {
        if (i == len || v[i] == ',') {
            if (!text_is_slug(v + start, i - start))
                return -1;
            start = i + 1;
        }
    }
    out->choice = v;
    out->choice_len = len;
    return 0;
}

/* --------------------------------------------------------- the writes --- */

/* Appends PREFIX<name> (a key of the whole store, or the events channel). */
static void store_poll_global(struct store_call *c, const char *name)
{
    store_call_argf(c, "%s%s", store_key_prefix(c->st), name);
}

/* The indexes of poll ids: each set is a key of its own (a slot of its own),
 * so each gets its own call of poll_index.lua, never a key of poll_write.lua.
 * Before the write (struct store_call origin, not sent yet): the id joins the
 * set of ids (a damaged set refuses the write: nothing written). After an
 * 'ok': it joins the ids with a meta hash, and joins or leaves the ids not
 * archived; the last answer lets the write's parse (origin->then) run with
 * the script's reply, which origin holds. A reader of an index tolerates an
 * id whose poll is gone (a write refused after its id was added). */
static struct store_call *store_poll_index(struct store *st, const char *set, const char *op,
                                           const struct store_call *origin, store_parse_fn *parse,
                                           void *arg)
{
    struct store_call *ix = store_call_new(st, STORE_SCRIPT_INDEX, "poll index", parse, NULL, arg);
    store_call_arg(ix, "1", 1);
    store_call_argf(ix, "%s%s", store_key_prefix(st), set);
    store_call_arg(ix, op, strlen(op));
    store_call_arg(ix, origin->argv[8], origin->argvlen[8]); /* the poll id */
    return ix;
}

/* {'ok'} or {'poll_damaged', why}: 1, 0 (damaged: logged), -1 (unavailable). */
static int store_index_code(const struct store_call *c, const redisReply *reply)
{
    if (!reply)
        return -1;
    (void)c;
    return store_reply_coded(reply) && strcmp(reply->element[0]->str, "ok") == 0 ? 1 : 0;
}

static void store_parse_index_step(struct store_call *c, const redisReply *reply)
{
    if (store_index_code(c, reply) == 0) /* the last step reports */
        log_error("redis_bad_reply", "redis %s: %s", c->what,
                  store_reply_str(reply, 1, "unexpected reply shape"));
}

static void store_parse_indexed(struct store_call *ix, const redisReply *reply)
{
    struct store_call *origin = ix->arg;
    int code = store_index_code(ix, reply);
    origin->then(origin, code == 1 ? origin->held : code == 0 ? reply : NULL);
    store_call_free(origin);
}

/* poll_write.lua answered: after 'ok', the two indexes that follow a write. */
static void store_parse_written(struct store_call *c, const redisReply *reply)
{
    const char *code = reply && store_reply_coded(reply) ? reply->element[0]->str : NULL;
    int ok = code && strcmp(code, "ok") == 0;
    if (!ok && !(code && !c->indexed && strcmp(code, "poll_exists") == 0)) {
        c->then(c, reply);
        return;
    }
    if (reply != c->held) {
        if (c->held)
            freeReplyObject(c->held);
        c->held = store_reply_copy(reply);
    }
    c->kept = 1;
    int archived = strcmp(c->argv[15], "1") == 0; /* ARGV[9] */
    if (!c->indexed)
        store_call_send(store_poll_index(c->st, "polls", "add", c,
                                         ok ? store_parse_index_step : store_parse_indexed,
                                         ok ? NULL : c));
    if (!ok)
        return;
    store_call_send(store_poll_index(c->st, "polls:meta", "add", c, store_parse_index_step, NULL));
    store_call_send(store_poll_index(c->st, "polls:listed", archived ? "rem" : "add", c,
                                     store_parse_indexed, c));
}

/* The set of ids answered: the write goes, or its caller hears why not. */
static void store_parse_preindexed(struct store_call *ix, const redisReply *reply)
{
    struct store_call *origin = ix->arg;
    int code = store_index_code(ix, reply);
    if (code == 1) {
        origin->indexed = 1;
        if (origin->acked)
            store_call_send_acked(origin);
        else
            store_call_send(origin);
        return;
    }
    origin->reported = 1; /* never sent: its caller hears from here */
    origin->then(origin, code == 0 ? reply : NULL);
    store_call_free(origin);
}

/* Sends a write made by store_poll_write() (acked: store_call_send_acked).
 * first 1: the set of ids first, a damaged one refusing the write; 0 (the
 * polls file's import): the write at once, the set of ids after, so that a
 * vote right after the service is ready finds the poll (same connection). */
static void store_poll_write_send(struct store_call *c, int acked, int first)
{
    if (!first) {
        store_call_send(c);
        return;
    }
    c->acked = acked;
    store_call_send(store_poll_index(c->st, "polls", "add", c, store_parse_preindexed, c));
}

/* A call of poll_write.lua (see its header for the arguments): mode create,
 * update or upgrade, def_text the definition as stored, def the same checked;
 * parse runs once its indexes are updated. */
static struct store_call *store_poll_write(struct store *st, const char *mode, const char *what,
                                           const char *poll_id, const char *def_text,
                                           size_t def_len, const json_t *def,
                                           long long expected_version, store_parse_fn *parse,
                                           store_fn *cb, void *arg)
{
    struct poll_meta m;
    poll_meta_args(def, &m);
    struct store_call *c =
        store_call_new(st, STORE_SCRIPT_WRITE, what, store_parse_written, cb, arg);
    c->then = parse;
    store_call_arg(c, "4", 1);
    store_call_key(c, poll_id, "def");
    store_call_key(c, poll_id, "meta");
    store_call_key(c, poll_id, "counts");
    store_call_key(c, poll_id, "voters");
    store_call_arg(c, mode, strlen(mode));
    store_call_arg(c, poll_id, strlen(poll_id)); /* argv[8]: the indexes, and logs */
    store_call_arg(c, def_text, def_len);
    store_poll_global(c, "events");
    if (expected_version >= 0)
        store_call_argf(c, "%lld", expected_version);
    else
        store_call_arg(c, "", 0);
    const char *fields[] = {m.status,      m.opens_at,     m.closes_at, m.archived,
                            m.max_choices, m.allow_change, m.version,   m.options};
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
        store_call_arg(c, fields[i], strlen(fields[i]));
    return c;
}

/* The same with the definition dumped (poll_id NULL: the definition's id). */
static struct store_call *store_poll_write_def(struct store *st, const char *mode, const char *what,
                                               const char *poll_id, const json_t *def,
                                               long long expected_version, store_parse_fn *parse,
                                               store_fn *cb, void *arg)
{
    char *text = json_dumps(def, JSON_COMPACT);
    if (!text)
        abort();
    struct store_call *c = store_poll_write(
        st, mode, what, poll_id ? poll_id : json_string_value(json_object_get(def, "id")), text,
        strlen(text), def, expected_version, parse, cb, arg);
    free(text);
    return c;
}

/* ---------------------------------------------------------- view, vote --- */

/* A view or vote to make again once its poll is upgraded. */
struct store_poll_again {
    enum store_script_id script;
    const char *what;
    int acked; /* a vote: acknowledged once replicas have it */
    store_poll_cb *cb;
    void *arg;
    int argc;
    char *argv[STORE_MAX_ARGS];
    size_t len[STORE_MAX_ARGS];
};

static void store_parse_poll(struct store_call *c, const redisReply *reply);
static void store_parse_poll_again(struct store_call *c, const redisReply *reply);

static void store_poll_again_free(struct store_poll_again *a)
{
    for (int i = 0; i < a->argc; i++)
        free(a->argv[i]);
    free(a);
}

/* The upgrade's answer: the call again, or the caller told why not. */
static void store_parse_upgrade(struct store_call *c, const redisReply *reply)
{
    struct store_poll_again *a = c->arg;
    struct store_poll_reply out = {0};
    const char *code = reply && store_reply_coded(reply) ? reply->element[0]->str : NULL;
    if (reply && !code)
        log_error("redis_bad_reply", "redis %s: unexpected reply shape", c->what);
    if (code && (strcmp(code, "ok") == 0 || strcmp(code, "changed") == 0)) {
        struct store_call *again = store_call_new(c->st, a->script, a->what, store_parse_poll_again,
                                                  (store_fn *)a->cb, a->arg);
        for (int i = 0; i < a->argc; i++)
            store_call_arg(again, a->argv[i], a->len[i]);
        if (a->acked)
            store_call_send_acked(again);
        else
            store_call_send(again);
    } else if (code) {
        if (strcmp(code, "poll_damaged") == 0)
            store_poll_damaged(c, store_reply_str(reply, 1, "?"));
        out.code = strcmp(code, "poll_not_found") == 0 ? "poll_not_found" : "poll_damaged";
        a->cb(a->arg, &out);
    } else {
        a->cb(a->arg, NULL);
    }
    store_poll_again_free(a);
}

/* needs_upgrade: checks the definition e, writes the meta, and makes the call
 * c again. 0 when under way (c's caller will hear from it), -1 when the
 * definition is damaged (logged). */
static int store_poll_upgrade(struct store_call *c, const redisReply *e)
{
    json_t *def = store_poll_def(c, e);
    if (!def)
        return -1;
    struct store_poll_again *a = calloc(1, sizeof(*a));
    if (!a)
        abort();
    a->script = c->script;
    a->what = c->what;
    a->acked = c->acked;
    a->cb = (store_poll_cb *)c->cb;
    a->arg = c->arg;
    for (int i = 2; i < c->argc; i++) {
        a->argv[a->argc] = malloc(c->argvlen[i] + 1);
        if (!a->argv[a->argc])
            abort();
        memcpy(a->argv[a->argc], c->argv[i], c->argvlen[i]);
        a->len[a->argc++] = c->argvlen[i];
    }
    char id[TEXT_SLUG_MAX + 1];
    store_poll_id(c, id, sizeof(id));
    store_poll_write_send(store_poll_write(c->st, "upgrade", "poll upgrade", id, e->str, e->len,
                                           def, -1, store_parse_upgrade, NULL, a),
                          0, 1);
    json_decref(def);
    return 0;
}

/* {code, choice|false, def|false, {opt, n, ...}, voters, version, seq},
 * {'poll_not_found'}, {'needs_upgrade', def} or {'poll_damaged', why} */
static void store_parse_poll_reply(struct store_call *c, const redisReply *reply, int may_upgrade)
{
    struct store_poll_reply out = {0};
    json_t *def = NULL, *counts = NULL;

    if (reply == NULL)
        goto unavailable;
    if (!store_reply_coded(reply))
        goto bad;
    out.code = reply->element[0]->str;
    if (strcmp(out.code, "needs_upgrade") == 0 && reply->elements == 2) {
        if (may_upgrade && store_poll_upgrade(c, reply->element[1]) == 0)
            return; /* the call made again answers */
        if (may_upgrade) {
            out.code = "poll_damaged"; /* logged */
            ((store_poll_cb *)c->cb)(c->arg, &out);
            return;
        }
        log_error("poll_upgrade_failed",
                  "redis %s: the poll still has no meta hash after its upgrade", c->what);
        goto unavailable;
    }
    if (strcmp(out.code, "poll_damaged") == 0) {
        store_poll_damaged(c, store_reply_str(reply, 1, "?"));
        ((store_poll_cb *)c->cb)(c->arg, &out);
        return;
    }
    if (reply->elements == 1) {
        ((store_poll_cb *)c->cb)(c->arg, &out);
        return;
    }
    if ((reply->elements != 7 && reply->elements != 9) ||
        reply->element[3]->type != REDIS_REPLY_ARRAY)
        goto bad;
    if (reply->elements == 9) { /* the vote: what the rate limits said */
        out.retry_after = store_reply_int(reply->element[7]);
        out.difficulty = (int)store_reply_int(reply->element[8]);
    }
    if (reply->element[2]->type == REDIS_REPLY_NIL) {
        out.def_current = 1;
    } else {
        def = store_poll_def(c, reply->element[2]);
        if (!def) {
            out.code = "poll_damaged";
            ((store_poll_cb *)c->cb)(c->arg, &out);
            return;
        }
    }
    counts = store_reply_object(reply->element[3]);
    if (reply->element[1]->type == REDIS_REPLY_STRING &&
        store_poll_ballot(reply->element[1]->str, reply->element[1]->len, &out) != 0) {
        char id[TEXT_SLUG_MAX + 1];
        store_poll_id(c, id, sizeof(id));
        log_warn("ballot_damaged",
                 "poll %s: a stored ballot is damaged; its reader counts as having voted", id);
    }
    out.def = def;
    out.counts = counts;
    out.voters = store_reply_int(reply->element[4]);
    out.version = store_reply_int(reply->element[5]);
    out.seq = store_reply_int(reply->element[6]);
    ((store_poll_cb *)c->cb)(c->arg, &out);
    json_decref(def);
    json_decref(counts);
    return;

bad:
    log_error("redis_bad_reply", "redis %s: unexpected reply shape", c->what);
unavailable:
    ((store_poll_cb *)c->cb)(c->arg, NULL);
}

static void store_parse_poll(struct store_call *c, const redisReply *reply)
{
    store_parse_poll_reply(c, reply, 1);
}

static void store_parse_poll_again(struct store_call *c, const redisReply *reply)
{
    store_parse_poll_reply(c, reply, 0);
}

/* Appends the key of voter's bucket: PREFIX{poll:ID}:v:<the id's first 2
 * bytes> (raw bytes: built by length, never as a C string), or of no bucket. */
static void store_poll_bucket(struct store_call *c, const char *poll_id, const unsigned char *voter)
{
    char key[256];
    int n = snprintf(key, sizeof(key), "%s{poll:%s}:v:", store_key_prefix(c->st), poll_id);
    if (n < 0 || (size_t)n + 2 > sizeof(key))
        abort(); /* keys are bounded: prefix <= 64, id <= 64 */
    if (voter) {
        memcpy(key + n, voter, 2);
        n += 2;
    }
    store_call_arg(c, key, (size_t)n);
}

/* The keys of poll_view.lua and poll_vote.lua; the meta key first (the poll
 * id of the logs is read from it). */
static struct store_call *store_poll_call(struct store *st, enum store_script_id script,
                                          const char *what, const char *poll_id,
                                          const unsigned char *voter, store_poll_cb *cb, void *arg)
{
    struct store_call *c = store_call_new(st, script, what, store_parse_poll, (store_fn *)cb, arg);
    int vote = script == STORE_SCRIPT_VOTE; /* the vote also writes statistics */
    const char *nkeys = vote ? "11" : "5";
    store_call_arg(c, nkeys, strlen(nkeys));
    store_call_key(c, poll_id, "meta");
    store_call_key(c, poll_id, "def");
    store_call_key(c, poll_id, "counts");
    if (vote) {
        store_call_key(c, poll_id, "stats");
        store_call_key(c, poll_id, "hours");
    }
    store_poll_bucket(c, poll_id, voter);
    store_call_key(c, poll_id, "voters");
    return c;
}

void store_poll_view(struct store *st, const char *poll_id, const unsigned char *voter,
                     int archived_too, long long known_version, store_poll_cb *cb, void *arg)
{
    struct store_call *c =
        store_poll_call(st, STORE_SCRIPT_VIEW, "poll view", poll_id, voter, cb, arg);
    store_call_arg(c, voter ? voter : (const unsigned char *)"", voter ? COOKIE_ID_LEN : 0);
    store_call_arg(c, archived_too ? "1" : "", archived_too ? 1 : 0);
    store_call_argf(c, "%lld", known_version);
    store_call_send(c);
}

void store_poll_vote(struct store *st, const char *poll_id,
                     const unsigned char voter[COOKIE_ID_LEN], int64_t now,
                     const char *const *options, size_t n, long long known_version,
                     const struct store_vote_limits *limits, store_poll_cb *cb, void *arg)
{
    struct store_call *c = store_poll_call(st, STORE_SCRIPT_VOTE, "vote", poll_id, voter, cb, arg);
    const char *bucket = limits && limits->bucket ? limits->bucket : "";
    int proof = limits && limits->bucket ? (int)limits->proof : STORE_PROOF_NONE;
    char suffix[64];
    snprintf(suffix, sizeof(suffix), "rl:%s", bucket);
    store_call_key(c, poll_id, suffix);
    store_call_key(c, poll_id, "integrity");
    store_call_key(c, poll_id, "buckets");
    snprintf(suffix, sizeof(suffix), "pow:%.40s",
             proof == STORE_PROOF_VALID && limits->proof_id ? limits->proof_id : "");
    store_call_key(c, poll_id, suffix);
    store_call_arg(c, voter, COOKIE_ID_LEN);
    store_call_argf(c, "%lld", (long long)now);
    store_call_argf(c, "%lld", known_version);
    store_call_arg(c, poll_id, strlen(poll_id));
    store_poll_global(c, "events");
    store_call_arg(c, bucket, strlen(bucket));
    if (limits && limits->bucket) {
        store_call_argf(c, "%d", limits->window);
        store_call_argf(c, "%d", limits->free_ballots);
        store_call_argf(c, "%d", limits->max_ballots);
        store_call_argf(c, "%d", limits->attempts);
        store_call_argf(c, "%d", limits->difficulty);
    } else {
        for (int i = 0; i < 5; i++)
            store_call_arg(c, "0", 1);
    }
    if (proof == STORE_PROOF_VALID)
        store_call_argf(c, "%d", limits->proof_difficulty);
    else
        store_call_arg(c, proof == STORE_PROOF_BAD ? "bad" : "", proof == STORE_PROOF_BAD ? 3 : 0);
    store_call_argf(c, "%lld", proof == STORE_PROOF_VALID ? limits->proof_left : 0LL);
    for (size_t i = 0; i < n && c->argc < STORE_MAX_ARGS; i++)
        store_call_arg(c, options[i], strlen(options[i]));
    store_call_send_acked(c);
}

/* ---------------------------------------------------------------- list --- */

/* A quiet upgrade (from the list): logged when it fails. */
static void store_parse_upgrade_quiet(struct store_call *c, const redisReply *reply)
{
    const char *code = reply && store_reply_coded(reply) ? reply->element[0]->str : NULL;
    if (code && strcmp(code, "poll_damaged") == 0)
        store_poll_damaged(c, store_reply_str(reply, 1, "?"));
    else if (reply && !code)
        log_error("redis_bad_reply", "redis %s: unexpected reply shape", c->what);
}

/* A list: the index is read first (poll_index.lua: the members of one set,
 * the counts of the two others, which also proves them sets), then each poll
 * (poll_list.lua, one call per id, pipelined: each call is one slot). The job
 * gathers the answers and is freed when its last call answered; its caller
 * hears exactly once: the list, poll_damaged, or NULL when any call was
 * unavailable. 'public' lists the ids not archived, and the polls stored by
 * an older version (in the set of ids but not among those with a meta hash,
 * read only when the two counts differ), which are upgraded on the side. */
struct store_list_job {
    struct store *st;
    int all;
    store_list_cb *cb;
    void *arg;
    int pending;         /* calls not answered yet */
    int unavailable;     /* a call had no answer */
    const char *damaged; /* why an index is damaged */
    long long count[2];  /* public: the set of ids, the ids with a meta hash */
    json_t *ids;         /* id -> true: the polls to read */
    json_t *with_meta;   /* public, counts differing: the ids with a meta hash */
    json_t *every;       /* public, counts differing: every id */
    json_t *rows;        /* id -> [problem, definition, voters, votes, legacy] */
};

static const char STORE_LIST_IDS[] = "poll list ids";
static const char STORE_LIST_COUNT[] = "poll list count";
static const char STORE_LIST_META_COUNT[] = "poll list meta count";
static const char STORE_LIST_EVERY[] = "poll list every id";
static const char STORE_LIST_META_IDS[] = "poll list meta ids";

static void store_list_parse_index(struct store_call *c, const redisReply *reply);
static void store_list_parse_poll(struct store_call *c, const redisReply *reply);

static void store_list_index(struct store_list_job *j, const char *what, const char *set,
                             const char *op)
{
    struct store_call *c =
        store_call_new(j->st, STORE_SCRIPT_INDEX, what, store_list_parse_index, NULL, j);
    store_call_arg(c, "1", 1);
    store_call_argf(c, "%s%s", store_key_prefix(j->st), set);
    store_call_arg(c, op, strlen(op));
    j->pending++;
    store_call_send(c);
}

static void store_list_job_free(struct store_list_job *j)
{
    json_decref(j->ids);
    json_decref(j->with_meta);
    json_decref(j->every);
    json_decref(j->rows);
    free(j);
}

static int store_list_by_id(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Every poll answered: the list in id order, as the callers want it. */
static void store_list_finish(struct store_list_job *j)
{
    size_t n = json_object_size(j->rows), k = 0;
    const char **ids = calloc(n ? n : 1, sizeof(*ids));
    if (!ids)
        abort();
    const char *id;
    json_t *row;
    json_object_foreach(j->rows, id, row) ids[k++] = id;
    qsort(ids, n, sizeof(*ids), store_list_by_id);
    json_t *list = json_array();
    for (k = 0; k < n; k++) {
        row = json_object_get(j->rows, ids[k]);
        const char *problem = json_string_value(json_array_get(row, 0));
        json_t *text = json_array_get(row, 1);
        redisReply e = {.type = REDIS_REPLY_STRING,
                        .str = (char *)json_string_value(text),
                        .len = json_string_length(text)};
        json_t *def = NULL;
        const char *why = problem[0] ? problem : NULL;
        if (!why)
            def = store_poll_load(&e, &why);
        if (why) {
            log_error("poll_damaged",
                      "poll %s: the data stored in redis is damaged (%s); left out of the list",
                      ids[k], why);
            json_decref(def);
            continue;
        }
        if (json_integer_value(json_array_get(row, 4)) == 1 &&
            strcmp(json_string_value(json_object_get(def, "id")), ids[k]) == 0)
            store_poll_write_send(store_poll_write(j->st, "upgrade", "poll upgrade", ids[k], e.str,
                                                   e.len, def, -1, store_parse_upgrade_quiet, NULL,
                                                   NULL),
                                  0, 1);
        json_array_append_new(list,
                              json_pack("{so sO sO}", "def", def, "voters", json_array_get(row, 2),
                                        "votes", json_array_get(row, 3)));
    }
    free(ids);
    j->cb(j->arg, "ok", list);
    json_decref(list);
}

/* One of the job's calls answered: when it was the last of its step, the next. */
static void store_list_step(struct store_list_job *j)
{
    if (--j->pending > 0)
        return;
    if (j->unavailable || j->damaged) {
        if (!j->unavailable)
            log_error("poll_list_damaged", "redis poll list: %s; answering poll_damaged",
                      j->damaged);
        j->cb(j->arg, j->unavailable ? NULL : "poll_damaged", NULL);
        store_list_job_free(j);
        return;
    }
    if (j->every && j->with_meta) { /* the older polls join the ids to read */
        const char *id;
        json_t *v;
        json_object_foreach(j->every, id, v)
        {
            if (!json_object_get(j->with_meta, id))
                json_object_set(j->ids, id, json_true());
        }
        json_decref(j->every);
        json_decref(j->with_meta);
        j->every = j->with_meta = NULL;
    } else if (!j->all && !j->rows && j->count[0] != j->count[1] && !j->every) {
        j->every = json_object();
        j->with_meta = json_object();
        store_list_index(j, STORE_LIST_EVERY, "polls", "members");
        store_list_index(j, STORE_LIST_META_IDS, "polls:meta", "members");
        return;
    }
    if (j->rows) {
        store_list_finish(j);
        store_list_job_free(j);
        return;
    }
    j->rows = json_object();
    const char *id;
    json_t *v;
    j->pending++; /* held until every read is sent: one may answer at once */
    json_object_foreach(j->ids, id, v)
    {
        if (!text_is_slug(id, strlen(id))) {
            log_error("poll_list_damaged",
                      "redis poll list: an id in the index is not a slug; left out of the list");
            continue;
        }
        struct store_call *c =
            store_call_new(j->st, STORE_SCRIPT_LIST, "poll list", store_list_parse_poll, NULL, j);
        store_call_arg(c, "4", 1);
        store_call_key(c, id, "def");
        store_call_key(c, id, "meta");
        store_call_key(c, id, "counts");
        store_call_key(c, id, "voters");
        store_call_arg(c, j->all ? "all" : "public", j->all ? 3 : 6);
        j->pending++;
        store_call_send(c);
    }
    store_list_step(j);
}

/* poll_index.lua: {'ok', id, ...}, {'ok', count} or {'poll_damaged', why}. */
static void store_list_parse_index(struct store_call *c, const redisReply *reply)
{
    struct store_list_job *j = c->arg;
    if (!reply || !store_reply_coded(reply)) {
        if (reply)
            log_error("redis_bad_reply", "redis %s: unexpected reply shape", c->what);
        j->unavailable = 1;
    } else if (strcmp(reply->element[0]->str, "ok") != 0) {
        int set_of_ids =
            c->what == (j->all ? STORE_LIST_IDS : STORE_LIST_COUNT) || c->what == STORE_LIST_EVERY;
        j->damaged =
            set_of_ids ? "the set of poll ids is not a set" : "an index of poll ids is not a set";
    } else if (c->what == STORE_LIST_COUNT || c->what == STORE_LIST_META_COUNT) {
        if (!j->all)
            j->count[c->what == STORE_LIST_META_COUNT] =
                reply->elements > 1 ? store_reply_int(reply->element[1]) : 0;
    } else {
        json_t *into = c->what == STORE_LIST_IDS     ? j->ids
                       : c->what == STORE_LIST_EVERY ? j->every
                                                     : j->with_meta;
        for (size_t i = 1; i < reply->elements; i++) {
            const redisReply *e = reply->element[i];
            if (e->type == REDIS_REPLY_STRING && e->len > 0 && strlen(e->str) == e->len)
                json_object_set(into, e->str, json_true());
        }
    }
    store_list_step(j);
}

/* poll_list.lua: {problem, definition, voters, votes, legacy}, or {} (no such poll). */
static void store_list_parse_poll(struct store_call *c, const redisReply *reply)
{
    struct store_list_job *j = c->arg;
    if (!reply) {
        j->unavailable = 1;
    } else if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 5 &&
               reply->element[0]->type == REDIS_REPLY_STRING &&
               reply->element[1]->type == REDIS_REPLY_STRING) {
        char id[TEXT_SLUG_MAX + 1];
        store_poll_id(c, id, sizeof(id));
        json_t *row =
            json_pack("[s s% I I I]", reply->element[0]->str, reply->element[1]->str,
                      reply->element[1]->len, (json_int_t)store_reply_int(reply->element[2]),
                      (json_int_t)store_reply_int(reply->element[3]),
                      (json_int_t)store_reply_int(reply->element[4]));
        if (!row) /* not UTF-8: not what the service writes */
            row = json_pack("[s s i i i]", "the definition is not JSON", "", 0, 0, 0);
        json_object_set_new(j->rows, id, row);
    } else if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 0) {
        log_error("redis_bad_reply", "redis %s: unexpected reply shape", c->what);
        j->unavailable = 1;
    }
    store_list_step(j);
}

void store_poll_list(struct store *st, int archived_too, store_list_cb *cb, void *arg)
{
    struct store_list_job *j = calloc(1, sizeof(*j));
    if (!j)
        abort();
    j->st = st;
    j->all = archived_too;
    j->cb = cb;
    j->arg = arg;
    j->ids = json_object();
    j->pending = 1; /* held until the three reads are sent */
    store_list_index(j, STORE_LIST_IDS, archived_too ? "polls" : "polls:listed", "members");
    store_list_index(j, STORE_LIST_COUNT, archived_too ? "polls:listed" : "polls", "card");
    store_list_index(j, STORE_LIST_META_COUNT, "polls:meta", "card");
    store_list_step(j);
}

/* ---------------------------------------------------- create, import --- */

/* {'ok'}, {'poll_exists'} or {'poll_damaged', why}: the code, or NULL (unexpected). */
static const char *store_import_code(const struct store_call *c, const redisReply *reply)
{
    if (!store_reply_coded(reply)) {
        log_error("redis_bad_reply", "redis %s: unexpected reply shape", c->what);
        return NULL;
    }
    const char *code = reply->element[0]->str;
    if (strcmp(code, "poll_damaged") == 0)
        log_error("poll_write_refused", "redis %s: %s; nothing written", c->what,
                  store_reply_str(reply, 1, "damaged"));
    return code;
}

static void store_parse_import(struct store_call *c, const redisReply *reply)
{
    const char *id = c->owned[8];
    const char *code = reply ? store_import_code(c, reply) : NULL;
    if (reply == NULL)
        log_error("poll_import_failed", "poll %s: not imported, redis unavailable", id);
    else if (code && strcmp(code, "ok") == 0)
        log_info("poll_imported", "poll %s: created from the polls file", id);
    else if (code && strcmp(code, "poll_exists") == 0)
        log_debug("poll_import_skipped", "poll %s: already exists, left as it is", id);
    else
        log_error("poll_import_failed", "poll %s: not imported", id);
}

void store_poll_import(struct store *st, const json_t *defs, int64_t now)
{
    size_t i;
    const json_t *def;
    json_array_foreach(defs, i, def)
    {
        json_t *copy = json_deep_copy(def);
        if (json_integer_value(json_object_get(copy, "created_at")) <= 0) {
            json_object_set_new(copy, "created_at", json_integer(now));
            json_object_set_new(copy, "updated_at", json_integer(now));
        }
        if (json_integer_value(json_object_get(copy, "version")) <= 0)
            json_object_set_new(copy, "version", json_integer(1));
        store_poll_write_send(store_poll_write_def(st, "create", "poll import", NULL, copy, -1,
                                                   store_parse_import, NULL, NULL),
                              0, 0);
        json_decref(copy);
    }
}

/* ------------------------------------------------------------- editors --- */

static void store_parse_create(struct store_call *c, const redisReply *reply)
{
    ((store_status_cb *)c->cb)(c->arg, reply ? store_import_code(c, reply) : NULL, NULL);
}

void store_poll_create(struct store *st, const json_t *def, store_status_cb *cb, void *arg)
{
    store_poll_write_send(store_poll_write_def(st, "create", "poll create", NULL, def, -1,
                                               store_parse_create, (store_fn *)cb, arg),
                          1, 1);
}

/* {code[, detail]}; needs_upgrade (no meta hash yet) is a version_conflict:
 * the caller reads the poll again, which upgrades it. */
static void store_parse_status(struct store_call *c, const redisReply *reply)
{
    if (reply == NULL || !store_reply_coded(reply)) {
        if (reply)
            log_error("redis_bad_reply", "redis %s: unexpected reply shape", c->what);
        ((store_status_cb *)c->cb)(c->arg, NULL, NULL);
        return;
    }
    const char *code = reply->element[0]->str;
    const char *detail = store_reply_str(reply, 1, NULL);
    if (strcmp(code, "poll_damaged") == 0)
        store_poll_damaged(c, detail ? detail : "?");
    if (strcmp(code, "needs_upgrade") == 0)
        code = "version_conflict";
    ((store_status_cb *)c->cb)(c->arg, code, detail);
}

void store_poll_update(struct store *st, const char *poll_id, long long expected_version,
                       const json_t *def, store_status_cb *cb, void *arg)
{
    store_poll_write_send(store_poll_write_def(st, "update", "poll update", poll_id, def,
                                               expected_version, store_parse_status, (store_fn *)cb,
                                               arg),
                          1, 1);
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
    log_error("redis_bad_reply", "redis %s: unexpected reply shape", c->what);
unavailable:
    ((store_stats_cb *)c->cb)(c->arg, NULL);
}

void store_poll_stats(struct store *st, const char *poll_id, store_stats_cb *cb, void *arg)
{
    struct store_call *c = store_call_new(st, STORE_SCRIPT_STATS, "poll statistics",
                                          store_parse_stats, (store_fn *)cb, arg);
    store_call_arg(c, "6", 1);
    store_call_key(c, poll_id, "def");
    store_call_key(c, poll_id, "counts");
    store_call_key(c, poll_id, "meta");
    store_call_key(c, poll_id, "stats");
    store_call_key(c, poll_id, "hours");
    store_call_key(c, poll_id, "voters");
    store_call_send(c);
}
