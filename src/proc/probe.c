/* probe.c - `thamdo --healthcheck`: one bounded GET of /readyz (or /healthz)
 * on the configured listen address, for a container's HEALTHCHECK.
 *
 * 0.0.0.0 and :: (the addresses a container listens on) are probed on
 * loopback; any other host as configured. One libevent loop runs an evhttp
 * client request and a timer for the whole bound, whichever ends first
 * stops the loop. Must not start a worker, touch Redis or log through
 * log.c: the answer is the exit status and one line. */
#include "probe.h"

#include <event2/event.h>
#include <event2/http.h>
#include <stdio.h>
#include <string.h>

struct probe {
    struct event_base *base;
    int status; /* HTTP status, 0 while none, -1 on a connection error */
};

static void probe_done(struct evhttp_request *req, void *arg)
{
    struct probe *p = arg;
    /* NULL or a zero code: the connection failed, closed or timed out. */
    int code = req ? evhttp_request_get_response_code(req) : 0;
    p->status = code > 0 ? code : -1;
    event_base_loopbreak(p->base);
}

static void probe_timeout(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    event_base_loopbreak(((struct probe *)arg)->base);
}

/* The host to connect to: a wildcard listen address means this machine. */
static const char *probe_host(const char *listen_host)
{
    if (strcmp(listen_host, "0.0.0.0") == 0)
        return "127.0.0.1";
    if (strcmp(listen_host, "::") == 0)
        return "::1";
    return listen_host;
}

int probe_run(const struct config *cfg)
{
    const char *path = cfg->healthcheck == CONFIG_HEALTHCHECK_LIVE ? "/healthz" : "/readyz";
    const char *host = probe_host(cfg->listen_host);
    const char *why = NULL;
    struct probe p = {0};
    struct evhttp_connection *conn = NULL;
    struct event *timer = NULL;
    struct timeval bound = {PROBE_TIMEOUT_MS / 1000, (PROBE_TIMEOUT_MS % 1000) * 1000};
    char host_header[CONFIG_HOST_MAX + 16];

    snprintf(host_header, sizeof(host_header), strchr(host, ':') ? "[%s]:%d" : "%s:%d", host,
             cfg->listen_port);
    if (cfg->listen_port == 0) {
        fprintf(stderr, "thamdo: healthcheck: THAMDO_LISTEN has port 0: no port to probe\n");
        return 1;
    }
    p.base = event_base_new();
    if (p.base)
        conn = evhttp_connection_base_new(p.base, NULL, host, (unsigned short)cfg->listen_port);
    if (conn)
        timer = evtimer_new(p.base, probe_timeout, &p);
    struct evhttp_request *req = timer ? evhttp_request_new(probe_done, &p) : NULL;
    if (!req) {
        why = "out of memory";
        goto out;
    }
    evhttp_connection_set_timeout_tv(conn, &bound);
    evhttp_connection_set_retries(conn, 0);
    evtimer_add(timer, &bound);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Host", host_header);
    evhttp_add_header(evhttp_request_get_output_headers(req), "User-Agent", "thamdo-healthcheck");
    evhttp_add_header(evhttp_request_get_output_headers(req), "Connection", "close");
    /* On failure evhttp_make_request has freed req and its callback is not run. */
    if (evhttp_make_request(conn, req, EVHTTP_REQ_GET, path) != 0) {
        why = "the request could not be sent";
        goto out;
    }
    event_base_dispatch(p.base);
    if (p.status == 0)
        why = "no answer within the time bound";
    else if (p.status < 0)
        why = "connection refused, closed or timed out";

out:
    if (!why && p.status == 200)
        printf("thamdo: healthcheck: http://%s%s answered 200\n", host_header, path);
    else if (!why)
        fprintf(stderr, "thamdo: healthcheck: http://%s%s answered %d\n", host_header, path,
                p.status);
    else
        fprintf(stderr, "thamdo: healthcheck: http://%s%s: %s\n", host_header, path, why);
    /* Freeing the connection frees a request still pending on it. */
    if (conn)
        evhttp_connection_free(conn);
    if (timer)
        event_free(timer);
    if (p.base)
        event_base_free(p.base);
    return !why && p.status == 200 ? 0 : 1;
}
