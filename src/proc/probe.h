/* probe.h - `thamdo --healthcheck`: is the service on this machine ready?
 *
 * The container image's HEALTHCHECK runs the binary itself in this mode, so
 * the image needs no curl. Owns: one HTTP GET to the configured listen
 * address, bounded in time. Must not start a worker, touch Redis or read a
 * secret: the configuration was loaded by config.c already. */
#ifndef THAMDO_PROBE_H
#define THAMDO_PROBE_H

#include "config.h"

#define PROBE_TIMEOUT_MS 2000

/* GETs /readyz (or /healthz when cfg->healthcheck is CONFIG_HEALTHCHECK_LIVE)
 * on cfg's listen address, a wildcard address meaning loopback, and waits at
 * most PROBE_TIMEOUT_MS for the whole answer. Prints one line (stdout when
 * it answered 200, else stderr) and returns the exit status: 0 when it
 * answered 200, else 1. */
int probe_run(const struct config *cfg);

#endif
