/* dispatch.h - the route table of the service and the evhttp entry point.
 *
 * Owns: which handler serves which method and path, the answers that need no
 * handler (404, 405 with Allow, OPTIONS and CORS preflight), CORS headers on
 * the API, and the source check of state-changing requests. Must not
 * implement any endpoint itself. */
#ifndef THAMDO_DISPATCH_H
#define THAMDO_DISPATCH_H

struct evhttp_request;
struct route;

/* The evhttp callback for every request; arg is the struct server. */
void dispatch_handle(struct evhttp_request *req, void *arg);

/* The route numbers of struct request's route field: 0 is "no route took
 * it", 1..dispatch_route_count() are the table's entries in order. */
int dispatch_route_count(void);
/* The entry of route number i, or NULL for 0 (or out of range). */
const struct route *dispatch_route(int i);

#endif
