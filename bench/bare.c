/* bench/bare.c - the yardstick of `make bench`: a bare evhttp server.
 *
 * Answers every request, on any path, with one fixed small JSON body, on the
 * same libevent and with the same evhttp limits as thamdo's server.c. With
 * --redis, each request first sends one async HINCRBY through hiredis's
 * libevent adapter and is answered from its callback: the ceiling of a vote
 * (one Redis round trip, no script, no cookie, no JSON work). With
 * --threads N, N event loops (one thread each, each with its own evhttp, its
 * own listener on the one port through SO_REUSEPORT and its own Redis link)
 * share nothing: the ceiling of thamdo with THAMDO_THREADS=N.
 *
 * Lifecycle: parse flags -> bind the first listener on 127.0.0.1:PORT (0
 * picks a free port), the others on the same port -> connect Redis (--redis
 * only) -> print "listening on URL" on stdout -> serve -> SIGTERM/SIGINT
 * (waited for by the main thread) -> every loop stops, frees its Redis link
 * (requests still waiting on it get 503) and its evhttp -> exit 0. A lost
 * Redis link stops it with exit status 1: a yardstick that silently answers
 * 503 would measure nothing. Must not grow features: it is the floor thamdo's
 * cost is compared with. */
#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <event2/thread.h>
#include <getopt.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <hiredis/adapters/libevent.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define BARE_HEADER_MAX  8192 /* as server.c */
#define BARE_TIMEOUT_S   30   /* as server.c */
#define BARE_THREADS_MAX 64   /* as THAMDO_THREADS */

static const char bare_body[] = "{\"status\":\"ok\",\"service\":\"bare\"}";
static const char bare_busy[] = "{\"error\":{\"code\":\"store_unavailable\"}}";

/* One event loop; nothing in it is touched by another thread but for the
 * event_base_loopbreak() of the shutdown. */
struct bare {
    struct event_base *base;
    struct evhttp *http;
    redisAsyncContext *ac; /* NULL without --redis, or once the link is gone */
    pthread_t thread;
    int started;  /* thread is running */
    int stopping; /* set at shutdown: a disconnect is then expected */
    int failed;   /* the Redis link failed */
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

/* A failed link stops the whole process: the main thread waits for this
 * signal. */
static void bare_fail(struct bare *b)
{
    b->ac = NULL; /* hiredis frees the context after the callback */
    b->failed = 1;
    kill(getpid(), SIGTERM);
}

/* The adapter's callbacks receive the context only: the struct bare is kept
 * in ac->data. */
static void bare_connect_cb(const redisAsyncContext *ac, int status)
{
    struct bare *b = ac->data;
    if (status != REDIS_OK) {
        fprintf(stderr, "bare: cannot connect to Redis: %s\n", ac->errstr);
        bare_fail(b);
    }
}

static void bare_disconnect_cb(const redisAsyncContext *ac, int status)
{
    struct bare *b = ac->data;
    (void)status;
    if (b->stopping) {
        b->ac = NULL;
        return;
    }
    fprintf(stderr, "bare: Redis link lost: %s\n", ac->errstr);
    bare_fail(b);
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

/* One loop on 127.0.0.1:port with SO_REUSEPORT (port 0: any free port, for
 * the first loop only); returns the port bound, or -1. */
static int bare_open(struct bare *b, int port)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof(sa);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

    b->base = event_base_new();
    b->http = b->base ? evhttp_new(b->base) : NULL;
    if (!b->http) {
        fprintf(stderr, "bare: cannot create an event loop\n");
        return -1;
    }
    evhttp_set_timeout(b->http, BARE_TIMEOUT_S);
    evhttp_set_max_headers_size(b->http, BARE_HEADER_MAX);
    evhttp_set_allowed_methods(b->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD);
    evhttp_set_gencb(b->http, bare_request_cb, b);

    struct evconnlistener *l = evconnlistener_new_bind(
        b->base, NULL, NULL,
        LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC | LEV_OPT_REUSEABLE | LEV_OPT_REUSEABLE_PORT,
        -1, (struct sockaddr *)&sa, sizeof(sa));
    if (!l || !evhttp_bind_listener(b->http, l)) {
        if (l)
            evconnlistener_free(l);
        fprintf(stderr, "bare: cannot listen on 127.0.0.1:%d\n", port);
        return -1;
    }
    if (getsockname(evconnlistener_get_fd(l), (struct sockaddr *)&sa, &len) != 0)
        return -1;
    return ntohs(sa.sin_port);
}

/* Redis first: requests still waiting on it get their 503 while their
 * connections exist; then evhttp closes the connections. Runs on the loop's
 * own thread once it has stopped (or on the main thread if it never ran). */
static void bare_close(struct bare *b)
{
    b->stopping = 1;
    if (b->ac)
        redisAsyncFree(b->ac);
    b->ac = NULL;
    if (b->http)
        evhttp_free(b->http);
    b->http = NULL;
    if (b->base)
        event_base_free(b->base);
    b->base = NULL;
}

static void *bare_thread(void *arg)
{
    struct bare *b = arg;
    event_base_loop(b->base, EVLOOP_NO_EXIT_ON_EMPTY);
    bare_close(b);
    return NULL;
}

static void bare_usage(FILE *f)
{
    fprintf(f,
            "usage: bare [--port PORT] [--threads N] [--redis unix:///PATH | redis://HOST:PORT]\n"
            "  a bare evhttp server on 127.0.0.1:PORT (0: any free port) answering a fixed\n"
            "  JSON body, with N event loops on the port (SO_REUSEPORT; 1 to 64, default 1);\n"
            "  with --redis, after one async HINCRBY per request (one link per loop)\n");
}

/* A whole number from lo to hi, or -1. */
static long bare_number(const char *s, long lo, long hi)
{
    char *end = NULL;
    long v = strtol(s, &end, 10);
    return *s == '\0' || *end != '\0' || v < lo || v > hi ? -1 : v;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {{"port", required_argument, NULL, 'p'},
                                         {"threads", required_argument, NULL, 't'},
                                         {"redis", required_argument, NULL, 'r'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    static struct bare loops[BARE_THREADS_MAX];
    const char *redis_url = NULL;
    long port = 0, nthreads = 1;
    int c, rc = 1, sig = 0;
    sigset_t stop;

    while ((c = getopt_long(argc, argv, "p:t:r:h", opts, NULL)) != -1) {
        switch (c) {
        case 'p':
            if ((port = bare_number(optarg, 0, 65535)) < 0) {
                fprintf(stderr, "bare: --port: expected 0 to 65535\n");
                return 2;
            }
            break;
        case 't':
            if ((nthreads = bare_number(optarg, 1, BARE_THREADS_MAX)) < 0) {
                fprintf(stderr, "bare: --threads: expected 1 to %d\n", BARE_THREADS_MAX);
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

    /* Every thread inherits the mask: only the main thread's sigwait() sees
     * SIGINT and SIGTERM (also the one a failed Redis link sends). */
    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    if (evthread_use_pthreads() != 0) {
        fprintf(stderr, "bare: libevent without thread support\n");
        return 1;
    }

    for (long i = 0; i < nthreads; i++) {
        int bound = bare_open(&loops[i], (int)port);
        if (bound < 0)
            goto out;
        port = bound; /* the others reuse the first one's port */
        if (redis_url && bare_redis_open(&loops[i], redis_url) != 0)
            goto out;
    }
    for (long i = 0; i < nthreads; i++) {
        if (pthread_create(&loops[i].thread, NULL, bare_thread, &loops[i]) != 0) {
            fprintf(stderr, "bare: cannot start a thread\n");
            goto out;
        }
        loops[i].started = 1;
    }

    printf("bare listening on http://127.0.0.1:%ld/ (%ld thread%s)%s\n", port, nthreads,
           nthreads == 1 ? "" : "s", redis_url ? " (one HINCRBY per request)" : "");
    fflush(stdout);
    rc = 0;
    sigwait(&stop, &sig);

out:
    for (long i = 0; i < nthreads; i++)
        if (loops[i].started)
            event_base_loopbreak(loops[i].base);
    for (long i = 0; i < nthreads; i++) {
        if (loops[i].started)
            pthread_join(loops[i].thread, NULL);
        else
            bare_close(&loops[i]);
        if (loops[i].failed)
            rc = 1;
    }
    return rc;
}
