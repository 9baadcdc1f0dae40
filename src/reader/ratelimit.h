/* ratelimit.h - the rate limits and proof of work of a vote, on the
 * service's side of the vote script (poll_vote.lua keeps the counts).
 *
 * API (api.c and embed.c):
 *   ratelimit_begin()  with the limits on: keeps the ballot in the request and
 *                      sets the reader's bucket (identity_bucket), then
 *                      continues; off: returns 0 and the caller goes on;
 *   ratelimit_ballot() in the continuation: the ballot back;
 *   ratelimit_args()   the store's arguments of the vote, the proof checked;
 *   ratelimit_reply()  after the store's answer: the 429 of a refused vote
 *                      (JSON with a challenge, or rate_limited).
 * Owns: reading X-Thamdo-Proof (pow_check), minting challenges (pow_mint),
 * Retry-After, the refusal metrics. Must not log a bucket, a token or an
 * address. */
#ifndef THAMDO_RATELIMIT_H
#define THAMDO_RATELIMIT_H

#include "ballot.h"
#include "cors.h"
#include "identity.h"
#include "request.h"
#include "store.h"

#define RATELIMIT_PROOF_HEADER CORS_PROOF_HEADER

/* What ratelimit_args() fills: the store's limits and the storage they point into. */
struct ratelimit_args {
    struct store_vote_limits limits;
    char proof_id[33];
};

/* With the limits on: keeps ballot b in r->body, calls identity_bucket(r, then) and returns 1;
 * then gets the ballot back with ratelimit_ballot(). Off: returns 0 and does nothing (the
 * caller sends b to the store itself, with no bucket to wait for). */
int ratelimit_begin(struct request *r, const struct ballot *b, identity_cb *then);

/* The ballot ratelimit_begin() kept (r->body is then free for other uses). */
void ratelimit_ballot(struct request *r, struct ballot *b);

/* The limits of r's vote; with_proof reads X-Thamdo-Proof (the no-JS page never
 * sends one). Returns &a->limits, or NULL when the limits are off. */
const struct store_vote_limits *ratelimit_args(struct request *r, int with_proof,
                                               struct ratelimit_args *a);

/* After a vote's answer p: counts a ballot counted with a proof of work. */
void ratelimit_counted(struct request *r, const struct store_poll_reply *p);

/* 1 when code is a refusal of the rate limits ("rate_limited", "challenge_required"). */
int ratelimit_refused(const char *code);

/* Sets Retry-After (seconds, at least 0) on r's answer. */
void ratelimit_retry_after(struct request *r, long long seconds);

/* Answers the JSON 429 of a refused vote p (ratelimit_refused(p->code)) and frees r. */
void ratelimit_reply(struct request *r, const struct store_poll_reply *p);

#endif
