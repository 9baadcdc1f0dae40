/* api.h - the public HTTP API: polls, votes, results, health.
 *
 * Owns: one struct per request (struct api_req), created when the request
 * arrives and freed by the single function that answers it. Must not talk to
 * Redis except through store.h, and must not keep the evhttp connection. */
#ifndef THAMDO_API_H
#define THAMDO_API_H

struct evhttp_request;

/* The evhttp callback for every request; arg is the struct server. */
void api_handle(struct evhttp_request *req, void *arg);

#endif
