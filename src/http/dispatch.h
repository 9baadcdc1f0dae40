/* dispatch.h - the route table of the service and the evhttp entry point.
 *
 * Owns: which handler serves which method and path, the answers that need no
 * handler (404, 405 with Allow, OPTIONS and CORS preflight), CORS headers on
 * the API, and the source check of state-changing requests. Must not
 * implement any endpoint itself. */
#ifndef THAMDO_DISPATCH_H
#define THAMDO_DISPATCH_H

struct evhttp_request;

/* The evhttp callback for every request; arg is the struct server. */
void dispatch_handle(struct evhttp_request *req, void *arg);

#endif
