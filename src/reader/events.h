/* events.h - live results: GET /api/v1/polls/:id/events (Server-Sent Events).
 *
 * One struct events per worker (server.c makes it next to the store). It
 * owns that worker's streams from the moment they start until they end, and
 * pushes each poll's results to them, coalesced: at most one store read per
 * poll every EVENTS_PUSH_MS, shared by every stream of that poll.
 *
 * API:
 *   events_new()          with the worker's server (its store and loop);
 *   events_open()         the route's handler: takes r and answers it (an
 *                         error, or the start of a stream);
 *   events_poll_changed() a vote or an edit changed poll_id somewhere: its
 *                         streams get the new results soon (cheap when the
 *                         poll has no stream); NULL: changes may have been
 *                         missed, every followed poll is read again;
 *   events_stop()         ends every stream cleanly (stop signal);
 *   events_free()         frees what is left (after events_stop()).
 * Streams are not requests in flight (the drain does not wait for them) and
 * have no idle timeout. Must not talk to Redis except through store.h. */
#ifndef THAMDO_EVENTS_H
#define THAMDO_EVENTS_H

struct server;
struct request;
struct events;

#define EVENTS_PUSH_MS         250 /* pushes of one poll at most 4 a second, per worker */
#define EVENTS_KEEPALIVE_S     25  /* ": keep-alive" comment and re-read of every poll */
#define EVENTS_WRITE_TIMEOUT_S 60  /* a client that takes nothing for this long is dropped */

struct events *events_new(struct server *srv);
void events_free(struct events *ev);

void events_open(struct request *r);
void events_poll_changed(struct events *ev, const char *poll_id);
void events_stop(struct events *ev);

/* Streams open now on this worker (for tests and logs). */
int events_count(const struct events *ev);

#endif
