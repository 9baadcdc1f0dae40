/* datadir.h - the service's data directory (THAMDO_DATA_DIR, ./var).
 *
 * Holds the private redis-server's socket and append-only files, and the
 * cookie secret generated on first start. Owns: creating it (mode 0700),
 * locking it so two services never share one private Redis, and the secret
 * file (mode 0600). Must not log the secret. */
#ifndef THAMDO_DATADIR_H
#define THAMDO_DATADIR_H

#include <stddef.h>

#include "cookie.h"

struct datadir {
    char path[4096]; /* absolute */
    int lock_fd;     /* -1 when not locked */
};

/* Creates the directory if needed and resolves it to an absolute path.
 * With lock, takes an exclusive lock on DIR/thamdo.lock. 0, or -1 with err. */
int datadir_open(struct datadir *dd, const char *path, int lock, char *err, size_t err_size);

/* Reads DIR/secret into conf, creating it with 32 random bytes (hex) when it
 * does not exist. 0, or -1 with err. */
int datadir_secret(const struct datadir *dd, struct cookie_conf *conf, char *err, size_t err_size);

void datadir_close(struct datadir *dd);

#endif
