/* bench/bare.c - the yardstick of `make bench`: a bare evhttp server.
 *
 * Answers every request, on any path, with one fixed small JSON body, on the
 * same libevent and with the same evhttp limits as thamdo's server.c. With
 * --redis, each request first sends one async HINCRBY through hiredis's
 * libevent adapter and is answered from its callback: the ceiling of a vote
 * (one Redis round trip, no script, no cookie, no JSON work).
 *
 * Lifecycle: parse flags -> connect Redis (--redis only) -> listen on
 * 127.0.0.1:PORT (0 picks a free port) -> print "listening on URL" on stdout
 * -> serve -> SIGTERM/SIGINT -> free the Redis link (requests still waiting
 * on it get 503) -> free evhttp -> exit 0. A lost Redis link stops it with
 * exit status 1: a yardstick that silently answers 503 would measure nothing.
 * Must not grow features: it is the floor thamdo's cost is compared with. */
#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <getopt.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <hiredis/adapters/libevent.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define BARE_HEADER_MAX 8192 /* as server.c */
#define BARE_TIMEOUT_S  30   /* as server.c */

static const char bare_body[] = "{\"status\":\"ok\",\"service\":\"bare\"}";
static const char bare_busy[] = "{\"error\":{\"code\":\"store_unavailable\"}}";

struct bare {
    struct event_base *base;
    struct evhttp *http;
    redisAsyncContext *ac; /* NULL without --redis, or once the link is gone */
    int stopping;          /* set by a signal: a disconnect is then expected */
    int rc;                /* exit status */
};

/* The HINCRBY of every request: one hash, one field, as a vote's tally. */
static const char *bare_cmd_argv[] = {"HINCRBY", "bench:{bare}:counts", "hits", "1"};
static const size_t bare_cmd_len[] = {7, 19, 4, 1};

static void bare_reply(struct evhttp_request *req, int code, const char *body, size_t len)
{
    struct evbuffer *out = evbuffer_new();
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "application/json");
    if (out)
        evbuffer_add_reference(out, body, len, NULL, NULL);
    evhttp_send_reply(req, code, code == 200 ? "OK" : "Service Unavailable", out);
    if (out)
        evbuffer_free(out);
}

static void bare_reply_ok(struct evhttp_request *req)
{
    bare_reply(req, 200, bare_body, sizeof(bare_body) - 1);
}

static void bare_reply_busy(struct evhttp_request *req)
{
    bare_reply(req, 503, bare_busy, sizeof(bare_busy) - 1);
}

/* hiredis calls this exactly once per command: with the reply, or with NULL
 * when the link dies or is freed. evhttp keeps req alive until it is
 * answered, even when its client has gone. */
static void bare_hincrby_cb(redisAsyncContext *ac, void *reply, void *privdata)
{
    const redisReply *rr = reply;
    (void)ac;
    if (rr && rr->type == REDIS_REPLY_INTEGER)
        bare_reply_ok(privdata);
    else
        bare_reply_busy(privdata);
}

static void bare_request_cb(struct evhttp_request *req, void *arg)
{
    struct bare *b = arg;
    if (!b->ac) {
        bare_reply_ok(req);
        return;
    }
    if (redisAsyncCommandArgv(b->ac, bare_hincrby_cb, req, 4, bare_cmd_argv, bare_cmd_len) !=
        REDIS_OK)
        bare_reply_busy(req);
}

/* The adapter's callbacks receive the context only: the struct bare is kept
 * in ac->data. */
static void bare_connect_cb(const redisAsyncContext *ac, int status)
{
    struct bare *b = ac->data;
    if (status != REDIS_OK) {
        fprintf(stderr, "bare: cannot connect to Redis: %s\n", ac->errstr);
        b->ac = NULL; /* hiredis frees the context after this callback */
        b->rc = 1;
        event_base_loopbreak(b->base);
    }
}

static void bare_disconnect_cb(const redisAsyncContext *ac, int status)
{
    struct bare *b = ac->data;
    (void)status;
    b->ac = NULL;
    if (!b->stopping) {
        fprintf(stderr, "bare: Redis link lost: %s\n", ac->errstr);
        b->rc = 1;
        event_base_loopbreak(b->base);
    }
}

/* Opens the link named by url: "unix:///path" or "redis://HOST:PORT". */
static int bare_redis_open(struct bare *b, const char *url)
{
    if (strncmp(url, "unix://", 7) == 0) {
        b->ac = redisAsyncConnectUnix(url + 7);
    } else if (strncmp(url, "redis://", 8) == 0) {
        char host[256];
        const char *colon = strrchr(url + 8, ':');
        char *end = NULL;
        long port = colon ? strtol(colon + 1, &end, 10) : 0;
        size_t n = colon ? (size_t)(colon - (url + 8)) : 0;
        if (!colon || *end != '\0' || port < 1 || port > 65535 || n == 0 || n >= sizeof(host)) {
            fprintf(stderr, "bare: --redis: expected unix:///PATH or redis://HOST:PORT\n");
            return -1;
        }
        memcpy(host, url + 8, n);
        host[n] = '\0';
        b->ac = redisAsyncConnect(host, (int)port);
    } else {
        fprintf(stderr, "bare: --redis: expected unix:///PATH or redis://HOST:PORT\n");
        return -1;
    }
    if (!b->ac || b->ac->err) {
        fprintf(stderr, "bare: cannot connect to Redis: %s\n", b->ac ? b->ac->errstr : "no memory");
        if (b->ac)
            redisAsyncFree(b->ac);
        b->ac = NULL;
        return -1;
    }
    b->ac->data = b;
    redisLibeventAttach(b->ac, b->base);
    redisAsyncSetConnectCallback(b->ac, bare_connect_cb);
    redisAsyncSetDisconnectCallback(b->ac, bare_disconnect_cb);
    return 0;
}

static void bare_signal_cb(evutil_socket_t sig, short what, void *arg)
{
    struct bare *b = arg;
    (void)sig;
    (void)what;
    b->stopping = 1;
    event_base_loopbreak(b->base);
}

static int bare_port(struct evhttp_bound_socket *bs)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof(sa);
    if (getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&sa, &len) != 0)
        return -1;
    return ntohs(sa.sin_port);
}

static void bare_usage(FILE *f)
{
    fprintf(f, "usage: bare [--port PORT] [--redis unix:///PATH | redis://HOST:PORT]\n"
               "  a bare evhttp server on 127.0.0.1:PORT (0: any free port) answering a fixed\n"
               "  JSON body; with --redis, after one async HINCRBY per request\n");
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {{"port", required_argument, NULL, 'p'},
                                         {"redis", required_argument, NULL, 'r'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    struct bare b = {0};
    const char *redis_url = NULL;
    long port = 0;
    struct event *sigint_ev = NULL, *sigterm_ev = NULL;
    int c;

    while ((c = getopt_long(argc, argv, "p:r:h", opts, NULL)) != -1) {
        char *end = NULL;
        switch (c) {
        case 'p':
            port = strtol(optarg, &end, 10);
            if (*optarg == '\0' || *end != '\0' || port < 0 || port > 65535) {
                fprintf(stderr, "bare: --port: expected 0 to 65535\n");
                return 2;
            }
            break;
        case 'r':
            redis_url = optarg;
            break;
        case 'h':
            bare_usage(stdout);
            return 0;
        default:
            bare_usage(stderr);
            return 2;
        }
    }
    if (optind != argc) {
        bare_usage(stderr);
        return 2;
    }

    signal(SIGPIPE, SIG_IGN);
    b.rc = 1;
    b.base = event_base_new();
    b.http = b.base ? evhttp_new(b.base) : NULL;
    if (!b.http) {
        fprintf(stderr, "bare: cannot create the event loop\n");
        goto out;
    }
    evhttp_set_timeout(b.http, BARE_TIMEOUT_S);
    evhttp_set_max_headers_size(b.http, BARE_HEADER_MAX);
    evhttp_set_allowed_methods(b.http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD);
    evhttp_set_gencb(b.http, bare_request_cb, &b);

    struct evhttp_bound_socket *bs =
        evhttp_bind_socket_with_handle(b.http, "127.0.0.1", (ev_uint16_t)port);
    if (!bs) {
        fprintf(stderr, "bare: cannot listen on 127.0.0.1:%ld\n", port);
        goto out;
    }
    if (redis_url && bare_redis_open(&b, redis_url) != 0)
        goto out;

    sigint_ev = evsignal_new(b.base, SIGINT, bare_signal_cb, &b);
    sigterm_ev = evsignal_new(b.base, SIGTERM, bare_signal_cb, &b);
    if (!sigint_ev || !sigterm_ev || event_add(sigint_ev, NULL) != 0 ||
        event_add(sigterm_ev, NULL) != 0) {
        fprintf(stderr, "bare: cannot catch signals\n");
        goto out;
    }

    printf("bare listening on http://127.0.0.1:%d/%s\n", bare_port(bs),
           redis_url ? " (one HINCRBY per request)" : "");
    fflush(stdout);
    b.rc = 0;
    event_base_dispatch(b.base);

out:
    /* Redis first: requests still waiting on it get their 503 while their
     * connections exist; then evhttp closes the connections. */
    b.stopping = 1;
    if (b.ac)
        redisAsyncFree(b.ac);
    if (b.http)
        evhttp_free(b.http);
    if (sigint_ev)
        event_free(sigint_ev);
    if (sigterm_ev)
        event_free(sigterm_ev);
    if (b.base)
        event_base_free(b.base);
    return b.rc;
}
