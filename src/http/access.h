/* access.h - what every answer leaves behind: its access-log line and its
 * request figures (count by route and status, duration).
 *
 * Called once per request by request.c just before the answer is handed to
 * evhttp. Must not reply, and must not log anything the request carries
 * beyond its method, route, safe path, status, error code and request id. */
#ifndef THAMDO_ACCESS_H
#define THAMDO_ACCESS_H

struct request;

void access_record(const struct request *r, int status);

#endif
