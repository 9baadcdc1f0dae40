/* proc.h - what is process-wide while serving: the workers, the stop
 * signals and the exit status.
 *
 * API: proc_run() binds the workers (struct server, one event loop each) to
 * THAMDO_LISTEN, starts one thread per worker, waits for SIGINT or SIGTERM
 * (blocked in every thread; only the main thread takes them), tells every
 * worker to stop gracefully, on a second signal to stop at once, joins
 * them and returns the exit status. The configuration is read-only from
 * here on. Must not serve requests: that is the workers'. */
#ifndef THAMDO_PROC_H
#define THAMDO_PROC_H

struct config;

/* Serves until SIGINT or SIGTERM. Returns the exit status: 0 after a stop,
 * 1 when the service could not start (the reason is printed). */
int proc_run(const struct config *cfg);

#endif
