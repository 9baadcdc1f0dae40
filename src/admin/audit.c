/* audit.c - the audit log: one entry per editor's change, stored and logged.
 *
 *   audit_reply()  the change's handler has succeeded: the entry is logged
 *                  (event "audit"), stored (store_audit_append), and then the
 *                  handler's answer, kept in r->body until then, is sent.
 *   audit_list()   GET /admin/v1/audit: newest first, paged by seq.
 * An entry holds no token, cookie or address: the actor is the token's name
 * or its position (auth_actor). Must not talk to Redis except through
 * store.h. */
#include "audit.h"

#include <event2/http.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "clock.h"
#include "form.h"
#include "log.h"
#include "request.h"
#include "server.h"
#include "store.h"
#include "text.h"

#define AUDIT_LIMIT_DEFAULT 50
#define AUDIT_LIMIT_MAX     500

static void audit_stored_cb(void *arg, const char *code, long long seq)
{
    struct request *r = arg;
    (void)seq;
    if (!code || strcmp(code, "ok") != 0)
        log_error("audit_not_stored", "audit: the entry of request %s could not be stored", r->id);
    r->audit_next(r);
}

/* audit_reply's next: the answer kept in r->body. */
static void audit_send_kept(struct request *r)
{
    int status = (int)json_integer_value(json_object_get(r->body, "status"));
    json_t *answer = json_incref(json_object_get(r->body, "answer"));
    request_reply_json(r, status, answer);
}

void audit_reply(struct request *r, const char *action, const char *target, int status,
                 json_t *body)
{
    json_decref(r->body);
    r->body = json_pack("{si so}", "status", status, "answer", body);
    audit_record(r, action, target, audit_send_kept);
}

void audit_record(struct request *r, const char *action, const char *target, request_fn *next)
{
    char actor[AUTH_ACTOR_MAX + 1], at[40];
    auth_actor(r->srv->cfg, r->admin_token, actor);
    if (clock_format_local(r->now, at, sizeof(at)) != 0)
        snprintf(at, sizeof(at), "%lld", (long long)r->now);
    log_info("audit", "editor %s: %s %s (request %s)", actor, action, target, r->id);
    json_t *entry = json_pack("{ss ss ss ss ss}", "at", at, "actor", actor, "action", action,
                              "target", target, "request_id", r->id);
    char *text = json_dumps(entry, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(entry);
    if (!text)
        abort();
    r->audit_next = next;
    store_audit_append(r->srv->store, text + 1, strlen(text + 1), audit_stored_cb, r);
    free(text);
}

static void audit_list_cb(void *arg, const char *code, long long newest, const json_t *entries)
{
    struct request *r = arg;
    (void)newest;
    if (!code) {
        request_reply_unavailable(r);
        return;
    }
    if (strcmp(code, "ok") != 0) {
        request_reply_error(r, 503, "audit_damaged",
                            "The audit log in the database is damaged; the operator has been told "
                            "in the service's log.");
        return;
    }
    long long before = json_integer_value(json_object_get(r->body, "before"));
    size_t limit = (size_t)json_integer_value(json_object_get(r->body, "limit"));
    json_t *out = json_array();
    size_t i;
    json_t *e;
    long long last = 0;
    json_array_foreach((json_t *)entries, i, e)
    {
        long long seq = json_integer_value(json_object_get(e, "seq"));
        if ((before > 0 && seq >= before) || json_array_size(out) >= limit)
            continue;
        json_array_append(out, e);
        last = seq;
    }
    json_t *body = json_pack("{so}", "entries", out);
    json_object_set_new(body, "next_before",
                        json_array_size(out) == limit && last > 1 ? json_integer(last)
                                                                  : json_null());
    request_reply_json(r, 200, body);
}

void audit_list(struct request *r)
{
    struct form_param params[] = {{.name = "limit"}, {.name = "before"}};
    int malformed =
        form_params(evhttp_uri_get_query(evhttp_request_get_evhttp_uri(r->req)), params, 2);
    long long limit = AUDIT_LIMIT_DEFAULT, before = 0;
    for (size_t i = 0; i < 2; i++) {
        if (malformed || params[i].bad || params[i].truncated ||
            (params[i].present &&
             text_parse_int(params[i].value, 1, i == 0 ? AUDIT_LIMIT_MAX : 1LL << 52,
                            i == 0 ? &limit : &before) != 0)) {
            request_reply_error(r, 400, "invalid_parameter",
                                "limit must be 1 to 500 and before an entry's seq (1 or more).");
            return;
        }
    }
    r->body = json_pack("{sI sI}", "limit", (json_int_t)limit, "before", (json_int_t)before);
    store_audit_read(r->srv->store, before, (int)limit, audit_list_cb, r);
}
