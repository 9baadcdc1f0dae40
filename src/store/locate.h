/* locate.h - where a worker's Redis links connect (part of the store module).
 *
 * Host names are resolved with evdns on the worker's loop (never blocking
 * it; /etc/hosts and resolv.conf are read at start). With THAMDO_SENTINELS,
 * the primary's address is asked of the Sentinels (each in turn, each with the
 * link's timeout) on a Sentinel link that then listens to +switch-master: on
 * a switch of our primary, and whenever a primary link finds a replica or is
 * refused, every primary link drops its connection and connects to the
 * primary the Sentinels name. Each worker has its own locate (nothing shared).
 *
 * Owns: the evdns base, the Sentinel link, the primary's last known address.
 * Must not send commands to the primary (store.c does). Nothing outside
 * store*.c, link.c and locate.c includes this. */
#ifndef THAMDO_LOCATE_H
#define THAMDO_LOCATE_H

struct event_base;
struct config;
struct link_target;

struct locate;

struct locate *locate_new(struct event_base *base, const struct config *cfg);
/* After every link using its target is freed. */
void locate_free(struct locate *loc);

/* The target of the links to the primary (NULL: a unix socket, no target). */
const struct link_target *locate_primary(struct locate *loc);

/* A READONLY reply: the primary became a replica; look for the primary again. */
void locate_not_primary(struct locate *loc);

#endif
