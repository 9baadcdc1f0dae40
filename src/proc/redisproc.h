/* redisproc.h - the private redis-server of the embedded default.
 *
 * With no THAMDO_REDIS_URL the service runs its own redis-server (the Debian
 * binary) on a unix socket in the data directory, with append-only
 * persistence there, and stops it on exit. Owns: that child process. Must not
 * be used when an external Redis is configured. */
#ifndef THAMDO_REDISPROC_H
#define THAMDO_REDISPROC_H

#include <stddef.h>
#include <sys/types.h>

struct redisproc {
    pid_t pid;
    char socket_path[108]; /* sun_path size */
};

/* Starts redis-server for the data directory dir and waits (up to 60 s, less
 * if it exits) until it answers PING. 0, or -1 with err. */
int redisproc_start(struct redisproc *rp, const char *dir, char *err, size_t err_size);

/* Asks it to shut down (it flushes its append-only file) and reaps it. */
void redisproc_stop(struct redisproc *rp);

#endif
