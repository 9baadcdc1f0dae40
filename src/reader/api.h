/* api.h - the public JSON API: polls, votes, results, health.
 *
 * Each entry point takes ownership of r and answers it exactly once (at once
 * or from a store callback). Poll routes expect r->poll_id to be a slug. */
#ifndef THAMDO_API_H
#define THAMDO_API_H

struct request;
struct store_poll_reply;

/* 1 when the store found the poll; otherwise answers r (503 when Redis is
 * unavailable, 404 poll_not_found, 500 poll_damaged) and returns 0: r is
 * gone then. */
int api_poll_or_reply(struct request *r, const struct store_poll_reply *p);

/* The same, and 1 only when r's reader may see the poll's results now;
 * otherwise also answers 403 results_hidden. */
int api_results_or_reply(struct request *r, const struct store_poll_reply *p);

/* Answers 500 poll_damaged: what Redis holds for the poll is not what the
 * service writes (the store has logged which poll). */
void api_reply_damaged(struct request *r);

/* 1 when a list's code is "ok"; else answers (503 when NULL, 500
 * poll_damaged otherwise) and returns 0. */
int api_list_or_reply(struct request *r, const char *code);

void api_poll_list(struct request *r);
void api_poll_get(struct request *r);
void api_poll_vote(struct request *r);
void api_poll_results(struct request *r);
void api_healthz(struct request *r);
void api_readyz(struct request *r);

#endif
