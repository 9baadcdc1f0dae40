/* audit.h - the audit log of editors' actions.
 *
 * Owns: writing an entry {seq, at, actor, action, target, request_id} for
 * every change an editor makes (to <prefix>audit, the newest 10,000 kept,
 * and to the service's log, event "audit"), and GET /admin/v1/audit. The
 * actor is the name of the token (auth.h), never the token. */
#ifndef THAMDO_AUDIT_H
#define THAMDO_AUDIT_H

#include <jansson.h>

#include "request.h"

/* After a change that succeeded: logs and stores the entry (action such as
 * "visits.base", target the site), then calls next(r), which owns r, once
 * the entry is stored or could not be (then logged: the change stands). */
void audit_record(struct request *r, const char *action, const char *target, request_fn *next);

/* The same, then answers r with status and body (stolen; kept in r->body
 * meanwhile). Headers added to r before stay. */
void audit_reply(struct request *r, const char *action, const char *target, int status,
                 json_t *body);

/* GET /admin/v1/audit?limit=1..500 (50)&before=<seq> */
void audit_list(struct request *r);

#endif
