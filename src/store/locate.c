/* locate.c - where a worker's Redis links connect: evdns, and Redis Sentinel.
 *
 * Two link targets (link.h): the primary's (the command and feed links) and
 * the Sentinels' (the Sentinel link). Each find resolves a host name with
 * evdns_getaddrinfo on the worker's loop and hands the link a numeric
 * address, so hiredis never calls the blocking getaddrinfo.
 *
 * With Sentinels: the Sentinel link connects to the next Sentinel of the list
 * on each (re)connection, and its setup asks SENTINEL get-master-addr-by-name
 * and SUBSCRIBEs to +switch-master. Until the first answer, primary links
 * wait (their requests get 503 at once). When the answer or a +switch-master
 * names another address, every primary link drops its connection and
 * connects there at once. When a primary link is refused or finds a replica
 * (ROLE, READONLY), the address is forgotten and the Sentinels asked again:
 * the Sentinel link reconnects (to the next Sentinel) with its own backoff.
 * Must not block, must not send commands to the primary. */
#include "locate.h"

#include <arpa/inet.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "link.h"
#include "log.h"
#include "metrics.h"
#include "text.h"

#define LOCATE_LINKS_MAX 8

/* One evdns lookup for one link. */
struct locate_query {
    struct locate *loc;
    struct link *link; /* NULL: the link went away */
    int port;
    int in_call; /* evdns_getaddrinfo() has not returned yet */
    int done;
};

struct locate {
    struct event_base *base;
    const struct config *cfg;
    struct evdns_base *dns;
    struct link_target primary;  /* arg: this */
    struct link_target sentinel; /* arg: this */
    struct link *primaries[LOCATE_LINKS_MAX];
    size_t n_primaries;
    struct link *waiting[LOCATE_LINKS_MAX]; /* primary links awaiting the Sentinels */
    size_t n_waiting;
    struct locate_query *queries[LOCATE_LINKS_MAX];
    /* Redis Sentinel */
    struct config_redis sentinel_redis; /* AUTH of the Sentinels */
    struct link *sentinel_link;
    size_t next_sentinel;
    int known; /* the primary's address below is current */
    int ever;  /* an address was ever known */
    char host[CONFIG_HOST_MAX + 1];
    int port;
};

/* ------------------------------------------------------------- lookups --- */

static int locate_remove(struct link **list, size_t *n, const struct link *l)
{
    for (size_t i = 0; i < *n; i++) {
        if (list[i] == l) {
            list[i] = list[--*n];
            return 1;
        }
    }
    return 0;
}

static void locate_query_forget(struct locate *loc, const struct locate_query *q)
{
    for (size_t i = 0; i < LOCATE_LINKS_MAX; i++) {
        if (loc->queries[i] == q)
            loc->queries[i] = NULL;
    }
}

/* The numeric form of the first IPv4 address of res (else the first IPv6):
 * a name in /etc/hosts for both (localhost) is reached as Redis binds by
 * default. */
static int locate_pick(const struct evutil_addrinfo *res, char *ip, size_t size)
{
    const struct evutil_addrinfo *pick = NULL;
    for (const struct evutil_addrinfo *a = res; a; a = a->ai_next) {
        if (a->ai_family == AF_INET) {
            pick = a;
            break;
        }
        if (a->ai_family == AF_INET6 && !pick)
            pick = a;
    }
    if (!pick)
        return -1;
    const void *addr = pick->ai_family == AF_INET
                           ? (const void *)&((const struct sockaddr_in *)pick->ai_addr)->sin_addr
                           : (const void *)&((const struct sockaddr_in6 *)pick->ai_addr)->sin6_addr;
    return evutil_inet_ntop(pick->ai_family, addr, ip, size) ? 0 : -1;
}

static void locate_resolved_cb(int err, struct evutil_addrinfo *res, void *arg)
{
    struct locate_query *q = arg;
    struct link *l = q->link;
    int port = q->port;
    char ip[INET6_ADDRSTRLEN] = "";
    q->done = 1;
    if (err == 0 && locate_pick(res, ip, sizeof(ip)) != 0)
        ip[0] = '\0';
    if (res)
        evutil_freeaddrinfo(res);
    locate_query_forget(q->loc, q);
    if (!q->in_call)
        free(q); /* else locate_resolve() frees it */
    if (!l)
        return;
    if (ip[0]) {
        link_target_found(l, ip, port);
    } else {
        char why[160];
        snprintf(why, sizeof(why), "cannot resolve the host name: %s",
                 err ? evutil_gai_strerror(err) : "no address");
        link_target_failed(l, why);
    }
}

/* Resolves host for l without blocking; l hears back through link_target_*. */
static void locate_resolve(struct locate *loc, struct link *l, const char *host, int port)
{
    size_t slot = 0;
    while (slot < LOCATE_LINKS_MAX && loc->queries[slot])
        slot++;
    if (slot == LOCATE_LINKS_MAX)
        abort(); /* one lookup per link at most, and a worker has a few links */
    struct locate_query *q = calloc(1, sizeof(*q));
    if (!q)
        abort();
    q->loc = loc;
    q->link = l;
    q->port = port;
    loc->queries[slot] = q;
    struct evutil_addrinfo hints;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_protocol = IPPROTO_TCP;
    q->in_call = 1;
    evdns_getaddrinfo(loc->dns, host, NULL, &hints, locate_resolved_cb, q);
    q->in_call = 0;
    if (q->done)
        free(q); /* answered at once: a numeric address, or /etc/hosts */
}

/* l goes away: its lookup, if any, reports to nobody (its answer frees it;
 * locate_free() frees those still unanswered). */
static void locate_cancel(struct locate *loc, const struct link *l)
{
    for (size_t i = 0; i < LOCATE_LINKS_MAX; i++) {
        if (loc->queries[i] && loc->queries[i]->link == l)
            loc->queries[i]->link = NULL;
    }
}

/* ------------------------------------------------------------ Sentinel --- */

/* The primary is at host:port: waiting links go there, and when it moved,
 * every primary link drops its connection and reconnects at once. */
static void locate_primary_at(struct locate *loc, const char *host, size_t host_len, int port,
                              const char *how)
{
    if (host_len == 0 || host_len >= sizeof(loc->host))
        return;
    int moved = loc->ever && (strlen(loc->host) != host_len ||
                              memcmp(loc->host, host, host_len) != 0 || loc->port != port);
    if (moved)
        metrics_inc(METRICS_REDIS_FAILOVERS);
    if (moved || !loc->ever)
        log_info("redis_primary", "redis sentinel: primary %s is at %.*s:%d (%s)",
                 loc->cfg->sentinel_master, (int)host_len, host, port, how);
    memcpy(loc->host, host, host_len);
    loc->host[host_len] = '\0';
    loc->port = port;
    loc->known = 1;
    loc->ever = 1;
    struct link *wake[LOCATE_LINKS_MAX];
    size_t n = loc->n_waiting;
    memcpy(wake, loc->waiting, n * sizeof(wake[0]));
    loc->n_waiting = 0;
    for (size_t i = 0; i < n; i++)
        locate_resolve(loc, wake[i], loc->host, loc->port);
    if (!moved)
        return;
    struct link *all[LOCATE_LINKS_MAX];
    size_t m = loc->n_primaries;
    memcpy(all, loc->primaries, m * sizeof(all[0]));
    for (size_t i = 0; i < m; i++) {
        link_drop(all[i], "the primary moved");
        link_reconnect_now(all[i]);
    }
}

/* A port in s[0..len): 1..65535, or -1. */
static int locate_port(const char *s, size_t len)
{
    long long v = 0;
    if (len == 0 || len > 5)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v >= 1 && v <= 65535 ? (int)v : -1;
}

/* SENTINEL get-master-addr-by-name: {host, port}, or nil for an unknown name. */
static void locate_answer_cb(redisAsyncContext *ac, void *r, void *privdata)
{
    struct locate *loc = privdata;
    const redisReply *reply = r;
    if (reply == NULL || !link_owns(loc->sentinel_link, ac))
        return;
    if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 2 &&
        reply->element[0]->type == REDIS_REPLY_STRING &&
        reply->element[1]->type == REDIS_REPLY_STRING) {
        int port = locate_port(reply->element[1]->str, reply->element[1]->len);
        if (port > 0) {
            /* Answered first: moving the links may drop this one. */
            link_setup_answered(loc->sentinel_link);
            locate_primary_at(loc, reply->element[0]->str, reply->element[0]->len, port, "asked");
            return;
        }
    }
    if (reply->type == REDIS_REPLY_ERROR)
        log_error("sentinel_refused", "redis sentinel refused the question: %s", reply->str);
    else
        log_error("sentinel_no_primary",
                  "redis sentinel knows no primary named %s (THAMDO_SENTINEL_MASTER)",
                  loc->cfg->sentinel_master);
    link_drop(loc->sentinel_link, "no primary named");
}

/* +switch-master "<name> <old ip> <old port> <new ip> <new port>", and the
 * subscription's confirmation and PONGs. */
static void locate_message_cb(redisAsyncContext *ac, void *r, void *privdata)
{
    struct locate *loc = privdata;
    const redisReply *reply = r;
    if (reply == NULL || !link_owns(loc->sentinel_link, ac))
        return;
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 2 ||
        reply->element[0]->type != REDIS_REPLY_STRING) {
        link_drop(loc->sentinel_link,
                  reply->type == REDIS_REPLY_ERROR ? reply->str : "unexpected reply");
        return;
    }
    link_alive(loc->sentinel_link);
    if (strcmp(reply->element[0]->str, "message") != 0 || reply->elements != 3 ||
        reply->element[2]->type != REDIS_REPLY_STRING)
        return;
    const char *w[5];
    size_t wl[5];
    const char *p = reply->element[2]->str, *end = p + reply->element[2]->len;
    for (size_t i = 0; i < 5; i++) {
        while (p < end && *p == ' ')
            p++;
        w[i] = p;
        while (p < end && *p != ' ')
            p++;
        wl[i] = (size_t)(p - w[i]);
        if (wl[i] == 0)
            return;
    }
    const char *name = loc->cfg->sentinel_master;
    if (wl[0] != strlen(name) || memcmp(w[0], name, wl[0]) != 0)
        return; /* another primary of the same Sentinels */
    int port = locate_port(w[4], wl[4]);
    if (port > 0)
        locate_primary_at(loc, w[3], wl[3], port, "+switch-master");
}

static void locate_sentinel_setup(struct link *l, void *arg)
{
    struct locate *loc = arg;
    const char *name = loc->cfg->sentinel_master;
    const char *ask[3] = {"SENTINEL", "get-master-addr-by-name", name};
    size_t ask_len[3] = {8, 23, strlen(name)};
    link_setup_query(l, 3, ask, ask_len, locate_answer_cb, loc);
    const char *sub[2] = {"SUBSCRIBE", "+switch-master"};
    size_t sub_len[2] = {9, 14};
    link_setup_subscribe(l, 2, sub, sub_len, locate_message_cb, loc);
}

/* What the Sentinels said is not the primary (any longer): ask again. */
static void locate_ask_again(struct locate *loc)
{
    if (!loc->sentinel_link)
        return;
    loc->known = 0;
    if (link_is_ready(loc->sentinel_link))
        link_drop(loc->sentinel_link, "asking for the primary again");
}

void locate_not_primary(struct locate *loc)
{
    locate_ask_again(loc);
}

/* ------------------------------------------------------------- targets --- */

static void locate_primary_find(void *arg, struct link *l)
{
    struct locate *loc = arg;
    const struct config *cfg = loc->cfg;
    if (!locate_remove(loc->primaries, &loc->n_primaries, l) &&
        loc->n_primaries == LOCATE_LINKS_MAX)
        abort();
    loc->primaries[loc->n_primaries++] = l;
    if (cfg->n_sentinels == 0) {
        locate_resolve(loc, l, cfg->redis.host, cfg->redis.port);
    } else if (loc->known) {
        locate_resolve(loc, l, loc->host, loc->port);
    } else {
        locate_remove(loc->waiting, &loc->n_waiting, l);
        loc->waiting[loc->n_waiting++] = l;
    }
}

static void locate_detach(void *arg, struct link *l)
{
    struct locate *loc = arg;
    locate_remove(loc->primaries, &loc->n_primaries, l);
    locate_remove(loc->waiting, &loc->n_waiting, l);
    locate_cancel(loc, l);
}

static void locate_primary_wrong(void *arg, struct link *l)
{
    (void)l;
    locate_ask_again(arg);
}

static void locate_sentinel_find(void *arg, struct link *l)
{
    struct locate *loc = arg;
    const struct config_hostport *s =
        &loc->cfg->sentinels[loc->next_sentinel++ % loc->cfg->n_sentinels];
    locate_resolve(loc, l, s->host, s->port);
}

static void locate_sentinel_wrong(void *arg, struct link *l)
{
    (void)arg;
    (void)l; /* the next connection tries the next Sentinel */
}

/* ----------------------------------------------------------- lifecycle --- */

struct locate *locate_new(struct event_base *base, const struct config *cfg)
{
    struct locate *loc = calloc(1, sizeof(*loc));
    if (!loc)
        abort();
    loc->base = base;
    loc->cfg = cfg;
    loc->primary =
        (struct link_target){locate_primary_find, locate_detach, locate_primary_wrong, loc};
    loc->sentinel =
        (struct link_target){locate_sentinel_find, locate_detach, locate_sentinel_wrong, loc};
    if (cfg->redis.kind != CONFIG_REDIS_TCP)
        return loc;
    /* resolv.conf and /etc/hosts (localhost, compose's names) */
    loc->dns = evdns_base_new(base, EVDNS_BASE_INITIALIZE_NAMESERVERS);
    if (!loc->dns) {
        loc->dns = evdns_base_new(base, 0);
        if (!loc->dns)
            abort();
        evdns_base_load_hosts(loc->dns, NULL);
    }
    /* Fail over to the next nameserver quickly: a link waits for the answer. */
    evdns_base_set_option(loc->dns, "timeout:", "1");
    evdns_base_set_option(loc->dns, "attempts:", "2");
    /* No 0x20 case randomisation: with podman's resolv.conf (aardvark-dns for the compose
     * names, then the host's resolver) about half the lookups of a service name fail with it. */
    evdns_base_set_option(loc->dns, "randomize-case:", "0");
    if (cfg->n_sentinels > 0) {
        loc->sentinel_redis.kind = CONFIG_REDIS_TCP;
        memcpy(loc->sentinel_redis.password, cfg->sentinel_password,
               sizeof(loc->sentinel_redis.password));
        static const struct link_ops ops = {locate_sentinel_setup, NULL, NULL, 1, 0};
        loc->sentinel_link = link_new(base, &loc->sentinel_redis, cfg->redis_timeout_ms, "sentinel",
                                      &ops, loc, &loc->sentinel);
        link_set_ping_callback(loc->sentinel_link, locate_message_cb, loc);
    }
    return loc;
}

const struct link_target *locate_primary(struct locate *loc)
{
    return loc->dns ? &loc->primary : NULL;
}

void locate_free(struct locate *loc)
{
    if (!loc)
        return;
    link_free(loc->sentinel_link);
    /* Without failing them: no callback runs after this; the lookups still
     * unanswered are freed here. */
    if (loc->dns)
        evdns_base_free(loc->dns, 0);
    for (size_t i = 0; i < LOCATE_LINKS_MAX; i++)
        free(loc->queries[i]);
    memset(loc->sentinel_redis.password, 0, sizeof(loc->sentinel_redis.password));
    free(loc);
}
