/* ratelimit.c - the service's side of the vote's rate limits and proofs of work.
 *
 * A vote with the limits on: ratelimit_begin() hashes the reader's address
 * bucket (identity.c); ratelimit_args() checks an X-Thamdo-Proof (signature,
 * expiry, poll, bucket, answer: pow_check) and hands the store its verdict
 * and the settings; the vote script counts, refuses, or asks for a proof in
 * the same round trip; ratelimit_reply() answers its refusals: 429
 * challenge_required with a fresh challenge for this poll and bucket (the
 * widget solves it and sends the vote again), or 429 rate_limited, each with
 * Retry-After. Must not log a bucket, a token or an address. */
#include "ratelimit.h"

#include <stdio.h>
#include <string.h>

#include "config.h"
#include "http_util.h"
#include "metrics.h"
#include "pow.h"
#include "server.h"

int ratelimit_begin(struct request *r, const struct ballot *b, identity_cb *then)
{
    if (!r->srv->cfg->rate_limits)
        return 0;
    /* The ballot crosses the salt's store call in the request: its options as a JSON array (the
     * body was read once: http_body() is not to be called twice). */
    json_t *options = json_array();
    for (size_t i = 0; i < b->n; i++)
        json_array_append_new(options, json_string(b->options[i]));
    json_decref(r->body);
    r->body = options;
    identity_bucket(r, then);
    return 1;
}

void ratelimit_ballot(struct request *r, struct ballot *b)
{
    memset(b, 0, sizeof(*b));
    size_t i;
    json_t *o;
    json_array_foreach(r->body, i, o)
    {
        if (b->n >= POLL_OPTIONS_MAX)
            break;
        snprintf(b->options[b->n], sizeof(b->options[b->n]), "%s", json_string_value(o));
        b->ptrs[b->n] = b->options[b->n];
        b->n++;
    }
    json_decref(r->body);
    r->body = NULL;
}

const struct store_vote_limits *ratelimit_args(struct request *r, int with_proof,
                                               struct ratelimit_args *a)
{
    const struct config *cfg = r->srv->cfg;
    if (!cfg->rate_limits || !r->bucket[0])
        return NULL;
    memset(a, 0, sizeof(*a));
    struct store_vote_limits *l = &a->limits;
    l->bucket = r->bucket;
    l->window = cfg->rate_window;
    l->free_ballots = cfg->rate_free;
    l->max_ballots = cfg->rate_max;
    l->attempts = cfg->rate_attempts;
    l->difficulty = cfg->pow_difficulty;
    const char *header = with_proof ? request_header(r, RATELIMIT_PROOF_HEADER) : NULL;
    if (!header)
        return l;
    struct pow_proof proof;
    if (pow_check(&cfg->cookie, header, r->poll_id, r->bucket, r->now, &proof) != POW_OK) {
        l->proof = STORE_PROOF_BAD; /* the script answers a fresh challenge */
        return l;
    }
    l->proof = STORE_PROOF_VALID;
    l->proof_difficulty = proof.difficulty;
    snprintf(a->proof_id, sizeof(a->proof_id), "%s", proof.id);
    l->proof_id = a->proof_id;
    l->proof_left = proof.expires - r->now;
    return l;
}

void ratelimit_counted(struct request *r, const struct store_poll_reply *p)
{
    if (r->srv->cfg->rate_limits && strcmp(p->code, "ok") == 0 &&
        request_header(r, RATELIMIT_PROOF_HEADER))
        metrics_inc(METRICS_POW_SOLVED);
}

int ratelimit_refused(const char *code)
{
    return code && (strcmp(code, "rate_limited") == 0 || strcmp(code, "challenge_required") == 0);
}

void ratelimit_retry_after(struct request *r, long long seconds)
{
    char v[24];
    snprintf(v, sizeof(v), "%lld", seconds > 0 ? seconds : 0);
    request_add_header(r, "Retry-After", v);
}

void ratelimit_reply(struct request *r, const struct store_poll_reply *p)
{
    const struct config *cfg = r->srv->cfg;
    if (strcmp(p->code, "rate_limited") == 0) {
        metrics_inc(METRICS_VOTES_LIMITED);
        long long minutes = (p->retry_after + 59) / 60;
        char msg[200];
        snprintf(msg, sizeof(msg),
                 "Too many votes came from your network; please try again in %lld minute%s.",
                 minutes, minutes == 1 ? "" : "s");
        ratelimit_retry_after(r, p->retry_after);
        request_reply_error(r, 429, "rate_limited", msg);
        return;
    }
    metrics_inc(METRICS_VOTES_CHALLENGED);
    if (request_header(r, RATELIMIT_PROOF_HEADER))
        metrics_inc(METRICS_POW_REFUSED); /* refused here or by the script (used, too easy) */
    char token[POW_TOKEN_MAX + 1];
    int64_t expires = r->now + cfg->pow_seconds;
    int difficulty = p->difficulty > 0 ? p->difficulty : cfg->pow_difficulty;
    if (pow_mint(&cfg->cookie, r->poll_id, r->bucket, difficulty, expires, token) != 0) {
        request_reply_error(r, 500, "internal_error", "Could not make a challenge.");
        return;
    }
    json_t *body = http_error_body("challenge_required",
                                   "Many votes came from your network: solve the challenge and "
                                   "send the vote again with the X-Thamdo-Proof header.");
    json_object_set_new(body, "challenge",
                        json_pack("{ss si sI}", "token", token, "difficulty", difficulty,
                                  "expires_at", (json_int_t)expires));
    ratelimit_retry_after(r, 0);
    request_set_error_code(r, "challenge_required");
    request_reply_json(r, 429, body);
}
