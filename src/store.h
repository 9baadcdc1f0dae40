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
    const char *code;   /* "ok", "already_voted", "poll_not_found", "poll_closed",
                           "poll_not_open", "too_many_options", "invalid_option" */
    json_t *def;        /* stored definition; NULL with poll_not_found */
    json_t *counts;     /* object option id -> votes */
    long long voters;   /* ballots cast */
    const char *choice; /* this voter's stored choice "a,b", or NULL */
    size_t choice_len;
};

typedef void store_poll_cb(void *arg, const struct store_poll_reply *reply);
typedef void store_list_cb(void *arg, json_t *defs); /* array of stored forms */
typedef void store_ready_cb(void *arg);

struct store *store_new(struct event_base *base, const struct config *cfg);
void store_free(struct store *st);

/* Called every time the link becomes ready (scripts loaded). */
void store_set_ready_cb(struct store *st, store_ready_cb *cb, void *arg);
int store_is_ready(const struct store *st);

/* voter may be NULL: a reader without an id. */
void store_poll_view(struct store *st, const char *poll_id, const unsigned char *voter,
                     store_poll_cb *cb, void *arg);
/* options: n distinct slugs. */
void store_poll_vote(struct store *st, const char *poll_id,
                     const unsigned char voter[COOKIE_ID_LEN], int64_t now,
                     const char *const *options, size_t n, store_poll_cb *cb, void *arg);
void store_poll_list(struct store *st, store_list_cb *cb, void *arg);
/* Creates each poll of defs (stored forms) that does not exist; logs what it did. */
void store_poll_import(struct store *st, const json_t *defs, int64_t now);

#endif
