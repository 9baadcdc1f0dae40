/* events.c - the live results streams of one worker.
 *
 * A stream is a chunked evhttp reply (text/event-stream) owned here from
 * request_start_stream() on: first the current results, then one
 * "event: results" per change, coalesced per poll (struct events_poll, a hub:
 * one store read every EVENTS_PUSH_MS at most, whatever the number of
 * streams, its answer rendered once and sent to each), and a ": keep-alive"
 * comment every EVENTS_KEEPALIVE_S from one timer walking every stream (the
 * same walk re-reads each poll, so that an edit or a time-based close reaches
 * the streams even without a change notice). A stream ends, its memory freed
 * at once, when: the client leaves (evhttp's close callback), the reader may
 * no longer see the results, the poll closed (after its last results and an
 * "event: closed"), the poll is gone, the client sends data, or the worker
 * stops. Must not talk to Redis except through store.h, nor render results
 * other than with poll.c. */
#include "events.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <time.h>

#include "api.h"
#include "clock.h"
#include "config.h"
#include "conn.h"
#include "log.h"
#include "metrics.h"
#include "poll.h"
#include "request.h"
#include "server.h"
#include "store.h"
#include "text.h"

#define EVENTS_BUCKETS   64
#define EVENTS_INPUT_MAX 1024 /* bytes a client may send on a stream before it is dropped */
#define EVENTS_RETRY_MS  1000 /* a read that failed (Redis down) is tried again after this */

/* The workers sharing THAMDO_MAX_STREAMS: each admits its share. */
#define EVENTS_WORKERS(srv) ((srv)->nworkers > 0 ? (srv)->nworkers : 1)

struct events_poll;

struct events_stream {
    TAILQ_ENTRY(events_stream) link;
    struct events_poll *hub;
    struct evhttp_request *req; /* NULL once evhttp freed it with its connection */
    int voted;                  /* the reader had voted when the stream opened */
};

TAILQ_HEAD(events_streams, events_stream);

struct events_poll {
    LIST_ENTRY(events_poll) link;
    struct events *ev; /* NULL once events_free() left the hub to its pending read */
    struct events_streams streams;
    struct event *timer;   /* the next push, when one is due and may not go yet */
    uint64_t last_read_ms; /* when the last push read started */
    uint64_t last_digest;  /* of the last results pushed: the same are not sent again */
    int nstreams;
    int pins;  /* a store read or a walk in progress: the hub stays */
    int dirty; /* a change not pushed yet */
    int reading;
    char id[TEXT_SLUG_MAX + 1];
};

LIST_HEAD(events_bucket, events_poll);

struct events {
    struct server *srv;
    struct event *keepalive;
    struct evbuffer *buf; /* reused for every chunk sent */
    struct events_bucket bucket[EVENTS_BUCKETS];
    int nstreams, max_streams;
    int stopped;
};

static struct events_bucket *events_bucket_of(struct events *ev, const char *id)
{
    return &ev->bucket[text_hash64(id, strlen(id)) % EVENTS_BUCKETS];
}

static struct events_poll *events_find(struct events *ev, const char *id)
{
    struct events_poll *hub = LIST_FIRST(events_bucket_of(ev, id));
    while (hub && strcmp(hub->id, id) != 0)
        hub = LIST_NEXT(hub, link);
    return hub;
}

static void events_timer_cb(evutil_socket_t fd, short what, void *arg);

static struct events_poll *events_hub(struct events *ev, const char *id)
{
    struct events_poll *hub = events_find(ev, id);
    if (hub)
        return hub;
    hub = calloc(1, sizeof(*hub));
    if (!hub)
        abort();
    hub->ev = ev;
    TAILQ_INIT(&hub->streams);
    hub->timer = evtimer_new(ev->srv->base, events_timer_cb, hub);
    snprintf(hub->id, sizeof(hub->id), "%s", id);
    LIST_INSERT_HEAD(events_bucket_of(ev, id), hub, link);
    return hub;
}

/* Frees hub when nothing holds it any more. */
static void events_hub_release(struct events_poll *hub)
{
    if (hub->nstreams > 0 || hub->pins > 0)
        return;
    if (hub->ev)
        LIST_REMOVE(hub, link);
    event_free(hub->timer);
    free(hub);
}

/* Ends s: the last chunk when its client is still there, and the free.
 * hub must be released (or pinned) by the caller. */
static void events_stream_end(struct events_stream *s)
{
    struct events_poll *hub = s->hub;
    TAILQ_REMOVE(&hub->streams, s, link);
    hub->nstreams--;
    metrics_gauge_add(METRICS_LIVE_STREAMS_OPEN, -1);
    if (hub->ev)
        hub->ev->nstreams--;
    if (s->req) {
        struct evhttp_connection *conn = evhttp_request_get_connection(s->req);
        if (conn)
            conn_set_closecb(conn, NULL, NULL);
        /* Connected: the last chunk, then evhttp closes the connection
         * (Connection: close). Left: evhttp frees the request. */
        evhttp_send_reply_end(s->req);
    }
    free(s);
}

static void events_end_and_release(struct events_stream *s)
{
    struct events_poll *hub = s->hub;
    events_stream_end(s);
    events_hub_release(hub);
}

/* The connection of a stream is going away: the client left, a write
 * failed or timed out, or evhttp is being freed. */
static void events_close_cb(struct evhttp_connection *conn, void *arg)
{
    struct events_stream *s = arg;
    if (evhttp_request_get_connection(s->req) == conn)
        s->req = NULL; /* still on the connection: evhttp frees it with it */
    log_debug("stream_left", "events: a reader of %s left", s->hub->id);
    events_end_and_release(s);
}

static void events_send(struct events *ev, struct events_stream *s, const char *data, size_t len)
{
    evbuffer_add(ev->buf, data, len);
    evhttp_send_reply_chunk(s->req, ev->buf);
    evbuffer_drain(ev->buf, evbuffer_get_length(ev->buf));
}

/* "event: results" with p's results, then "event: closed" when the poll is
 * closed: a new string (free()), or NULL when it could not be built. */
static char *events_frame(const char *poll_id, const struct store_poll_reply *p, int closed,
                          size_t *len)
{
    json_t *results = poll_results(p->def, p->counts, p->voters);
    char *json = results ? json_dumps(results, JSON_COMPACT | JSON_REAL_PRECISION(15)) : NULL;
    json_decref(results);
    if (!json)
        return NULL;
    struct evbuffer *b = evbuffer_new();
    evbuffer_add_printf(b, "event: results\ndata: %s\n\n", json);
    if (closed)
        evbuffer_add_printf(b, "event: closed\ndata: {\"poll_id\":\"%s\"}\n\n", poll_id);
    free(json);
    *len = evbuffer_get_length(b);
    char *frame = malloc(*len + 1);
    if (frame) {
        evbuffer_remove(b, frame, *len);
        frame[*len] = '\0';
    }
    evbuffer_free(b);
    return frame;
}

/* Sends what Redis said of the poll (p) to one stream (only), or to every
 * stream of the hub when only is NULL and the results changed since the last
 * push; ends the streams whose reader may no longer see them (checked
 * even when the results did not change), and every
 * stream once the poll is closed (after its last results) or gone. */
static void events_deliver(struct events_poll *hub, const struct store_poll_reply *p,
                           struct events_stream *only)
{
    struct events *ev = hub->ev;
    int64_t now = server_now(ev->srv);
    char *frame = NULL;
    size_t len = 0;
    int closed = 0, fresh = 1;
    if (p->def) {
        closed = poll_state_at(p->def, now) == POLL_CLOSED;
        frame = events_frame(hub->id, p, closed, &len);
    }
    if (!frame) { /* gone, damaged (the store logged it), or no answer could be built */
        log_debug("poll_streams_ended", "events: poll %s cannot be shown: ending its streams",
                  hub->id);
    } else if (!only || hub->last_digest == 0) {
        /* The results last pushed are not pushed again (the re-read of the
         * keep-alive walk); a new hub takes its first stream's. */
        uint64_t digest = text_hash64(frame, len);
        fresh = only || digest != hub->last_digest;
        hub->last_digest = digest;
    }
    hub->pins++;
    struct events_stream *s = only ? only : TAILQ_FIRST(&hub->streams);
    while (s) {
        struct events_stream *next = only ? NULL : TAILQ_NEXT(s, link);
        int shown = frame && poll_results_visible(p->def, now, s->voted);
        if (shown && fresh)
            events_send(ev, s, frame, len);
        if (!shown || closed)
            events_stream_end(s);
        s = next;
    }
    hub->pins--;
    free(frame);
    events_hub_release(hub);
}

static void events_push_cb(void *arg, const struct store_poll_reply *p);

/* Reads the poll now, or arms the hub's timer for when it may. */
static void events_schedule(struct events_poll *hub)
{
    if (!hub->ev || hub->ev->stopped || hub->reading || evtimer_pending(hub->timer, NULL))
        return;
    uint64_t now = clock_mono_ms();
    if (hub->last_read_ms && now < hub->last_read_ms + EVENTS_PUSH_MS) {
        uint64_t wait = hub->last_read_ms + EVENTS_PUSH_MS - now;
        struct timeval tv = {(time_t)(wait / 1000), (suseconds_t)(wait % 1000 * 1000)};
        evtimer_add(hub->timer, &tv);
        return;
    }
    hub->dirty = 0;
    hub->reading = 1;
    hub->pins++;
    hub->last_read_ms = now;
    store_poll_view(hub->ev->srv->store, hub->id, NULL, 0, -1, events_push_cb, hub);
}

static void events_timer_cb(evutil_socket_t fd, short what, void *arg)
{
    struct events_poll *hub = arg;
    (void)fd;
    (void)what;
    if (hub->dirty)
        events_schedule(hub);
}

static void events_push_cb(void *arg, const struct store_poll_reply *p)
{
    struct events_poll *hub = arg;
    hub->reading = 0;
    hub->pins--;
    if (hub->ev && !hub->ev->stopped && hub->nstreams > 0) {
        if (!p) { /* Redis unavailable: the streams stay, the read is tried again */
            hub->dirty = 1;
            hub->last_read_ms = clock_mono_ms() + EVENTS_RETRY_MS - EVENTS_PUSH_MS;
        } else {
            hub->pins++;
            events_deliver(hub, p, NULL);
            hub->pins--;
        }
        if (hub->dirty && hub->nstreams > 0)
            events_schedule(hub);
    }
    events_hub_release(hub);
}

void events_poll_changed(struct events *ev, const char *poll_id)
{
    if (ev && !poll_id) { /* changes may have been missed: every followed poll */
        for (size_t b = 0; b < EVENTS_BUCKETS; b++) {
            struct events_poll *hub = LIST_FIRST(&ev->bucket[b]);
            while (hub) {
                struct events_poll *next = LIST_NEXT(hub, link);
                hub->dirty = 1;
                events_schedule(hub);
                hub = next;
            }
        }
        return;
    }
    struct events_poll *hub = ev ? events_find(ev, poll_id) : NULL;
    if (!hub)
        return; /* nobody on this worker follows the poll */
    hub->dirty = 1;
    events_schedule(hub);
}

/* Every EVENTS_KEEPALIVE_S: a comment on every stream (proxies keep the
 * connection), the end of the streams whose client sends data, and a re-read
 * of every poll (an edit, or a closing time that passed). */
static void events_keepalive_cb(evutil_socket_t fd, short what, void *arg)
{
    static const char comment[] = ": keep-alive\n\n";
    struct events *ev = arg;
    (void)fd;
    (void)what;
    for (size_t b = 0; b < EVENTS_BUCKETS; b++) {
        struct events_poll *hub = LIST_FIRST(&ev->bucket[b]);
        while (hub) {
            hub->pins++;
            struct events_stream *s = TAILQ_FIRST(&hub->streams);
            while (s) {
                struct events_stream *next = TAILQ_NEXT(s, link);
                struct evhttp_connection *conn = evhttp_request_get_connection(s->req);
                struct bufferevent *bev = conn ? evhttp_connection_get_bufferevent(conn) : NULL;
                if (bev && evbuffer_get_length(bufferevent_get_input(bev)) > 0)
                    events_stream_end(s); /* a stream is for listening */
                else
                    events_send(ev, s, comment, sizeof(comment) - 1);
                s = next;
            }
            hub->dirty = 1;
            events_schedule(hub);
            hub->pins--;
            struct events_poll *next_hub = LIST_NEXT(hub, link);
            events_hub_release(hub);
            hub = next_hub;
        }
    }
}

/* Starts r's stream on hub with what the reader's own read said (p). */
static void events_start(struct request *r, struct events_poll *hub,
                         const struct store_poll_reply *p)
{
    static const char hello[] = "retry: 10000\n\n"; /* a plain EventSource waits 10 s */
    struct events *ev = hub->ev;
    struct events_stream *s = calloc(1, sizeof(*s));
    if (!s)
        abort();
    s->hub = hub;
    s->voted = p->choice != NULL;
    request_add_header(r, "Content-Type", "text/event-stream; charset=utf-8");
    request_add_header(r, "Cache-Control", "no-store");
    request_add_header(r, "X-Accel-Buffering", "no");
    request_add_header(r, "X-Content-Type-Options", "nosniff");
    request_add_header(r, "Connection", "close");
    s->req = request_start_stream(r);
    struct evhttp_connection *conn = evhttp_request_get_connection(s->req);
    if (!conn) {
        evhttp_send_reply_end(s->req);
        free(s);
        events_hub_release(hub);
        return;
    }
    TAILQ_INSERT_TAIL(&hub->streams, s, link);
    hub->nstreams++;
    ev->nstreams++;
    metrics_gauge_add(METRICS_LIVE_STREAMS_OPEN, 1);
    conn_set_closecb(conn, events_close_cb, s);
    /* No read (idle) timeout: the client says nothing on a stream, and its
     * leaving is seen at once (evhttp keeps reading for the close). A client
     * that takes nothing for EVENTS_WRITE_TIMEOUT_S while data waits goes. */
    struct bufferevent *bev = evhttp_connection_get_bufferevent(conn);
    struct timeval wt = {EVENTS_WRITE_TIMEOUT_S, 0};
    bufferevent_set_timeouts(bev, NULL, &wt);
    bufferevent_setwatermark(bev, EV_READ, 0, EVENTS_INPUT_MAX);
    /* The headers were sent: keep only what ends the exchange right. */
    evhttp_clear_headers(evhttp_request_get_input_headers(s->req));
    evhttp_clear_headers(evhttp_request_get_output_headers(s->req));
    evhttp_add_header(evhttp_request_get_output_headers(s->req), "Connection", "close");
    events_send(ev, s, hello, sizeof(hello) - 1);
    events_deliver(hub, p, s);
}

static int events_refuse(struct request *r)
{
    struct events *ev = r->srv->events;
    if (r->srv->stopping) {
        request_reply_error(r, 503, "shutting_down", "This instance is stopping.");
        return 1;
    }
    if (ev->nstreams >= ev->max_streams) {
        request_add_header(r, "Retry-After", "30");
        request_reply_error(r, 503, "too_many_streams",
                            "This instance follows as many live results as it can; the results "
                            "can still be read at /api/v1/polls/{id}/results.");
        return 1;
    }
    return 0;
}

static void events_open_cb(void *arg, const struct store_poll_reply *p)
{
    struct request *r = arg;
    if (!api_results_or_reply(r, p) || events_refuse(r))
        return;
    if (r->method == EVHTTP_REQ_HEAD) {
        request_add_header(r, "Cache-Control", "no-store");
        request_reply_buffer(r, 200, "text/event-stream; charset=utf-8", NULL);
        return;
    }
    events_start(r, events_hub(r->srv->events, r->poll_id), p);
}

void events_open(struct request *r)
{
    if (events_refuse(r))
        return;
    request_voter(r, 0); /* read only: a stream never issues a voter id */
    store_poll_view(r->srv->store, r->poll_id, r->has_voter ? r->voter : NULL, 0, -1,
                    events_open_cb, r);
}

struct events *events_new(struct server *srv)
{
    struct events *ev = calloc(1, sizeof(*ev));
    if (!ev)
        abort();
    ev->srv = srv;
    int workers = EVENTS_WORKERS(srv);
    ev->max_streams = (srv->cfg->max_streams + workers - 1) / workers;
    ev->buf = evbuffer_new();
    for (size_t b = 0; b < EVENTS_BUCKETS; b++)
        LIST_INIT(&ev->bucket[b]);
    ev->keepalive = event_new(srv->base, -1, EV_PERSIST, events_keepalive_cb, ev);
    struct timeval tv = {EVENTS_KEEPALIVE_S, 0};
    event_add(ev->keepalive, &tv);
    return ev;
}

int events_count(const struct events *ev)
{
    return ev->nstreams;
}

void events_stop(struct events *ev)
{
    if (!ev || ev->stopped)
        return;
    int n = ev->nstreams;
    ev->stopped = 1;
    event_del(ev->keepalive);
    for (size_t b = 0; b < EVENTS_BUCKETS; b++) {
        struct events_poll *hub = LIST_FIRST(&ev->bucket[b]);
        while (hub) {
            struct events_poll *next = LIST_NEXT(hub, link);
            evtimer_del(hub->timer);
            hub->pins++;
            while (!TAILQ_EMPTY(&hub->streams))
                events_stream_end(TAILQ_FIRST(&hub->streams));
            hub->pins--;
            events_hub_release(hub);
            hub = next;
        }
    }
    if (n > 0)
        log_info("streams_ended", "ended %d live results stream(s)", n);
}

void events_free(struct events *ev)
{
    if (!ev)
        return;
    events_stop(ev);
    for (size_t b = 0; b < EVENTS_BUCKETS; b++) {
        while (!LIST_EMPTY(&ev->bucket[b])) {
            struct events_poll *hub = LIST_FIRST(&ev->bucket[b]);
            LIST_REMOVE(hub, link);
            hub->ev = NULL; /* a read still pending frees it (the store calls back once) */
            events_hub_release(hub);
        }
    }
    event_free(ev->keepalive);
    evbuffer_free(ev->buf);
    free(ev);
}
