/* proc.c - starting the workers, the stop signals, joining, the exit status.
 *
 * Start: SIGINT and SIGTERM are blocked (every thread created afterwards
 * inherits the mask) and read from a signalfd by the main thread alone. The
 * address is resolved once; a port given explicitly is first probed
 * without SO_REUSEPORT, so that a port another process listens on is still
 * refused instead of shared. Worker 0 binds, the others bind to the address
 * it got (THAMDO_LISTEN port 0 picks one port for all), all on the main
 * thread, so a failure stops the start before any thread runs; then "listening
 * on" is logged once and one thread per worker runs its loop.
 * The soft descriptor limit is raised to the hard one first.
 * Stop: each signal adds 1 to every worker's stop eventfd (1: graceful, 2:
 * hurry: server.c); each worker adds 1 to the done eventfd when its loop has returned;
 * when all have, they are joined. Must not touch a worker's loop from
 * here: the eventfds are the only channel. */
#include "proc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/poll.h> /* not <poll.h>: src/poll.h is the poll module */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config.h"
#include "conn.h"
#include "log.h"
#include "server.h"
#include "version.h"

/* The thread of one worker; the workers themselves are one array of struct
 * server, which each of them reads the others' published flags from. */
struct proc_worker {
    struct server *srv;
    pthread_t thread;
    int started;
    int done_fd; /* the process's done eventfd */
};

static void proc_listen_error(const struct config *cfg)
{
    fprintf(stderr,
            "thamdo: THAMDO_LISTEN: cannot listen on %s:%d (in use, or not an address "
            "of this machine)\n",
            cfg->listen_host, cfg->listen_port);
}

/* Writes "http://host:port/" of a bound address into buf. */
static void proc_url(const struct sockaddr_storage *ss, char *buf, size_t size)
{
    char host[INET6_ADDRSTRLEN] = "?";
    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
        inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
        snprintf(buf, size, "http://[%s]:%d/", host, ntohs(a->sin6_port));
        return;
    }
    const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
    inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
    snprintf(buf, size, "http://%s:%d/", host, ntohs(a->sin_port));
}

/* 0 when nobody listens on addr: a socket without SO_REUSEPORT can bind it. */
static int proc_probe(const struct addrinfo *ai)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0)
        return -1;
    int one = 1;
    int rc = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == 0 &&
                     bind(fd, ai->ai_addr, ai->ai_addrlen) == 0
                 ? 0
                 : -1;
    close(fd);
    return rc;
}

static void *proc_worker_main(void *arg)
{
    struct proc_worker *w = arg;
    server_serve(w->srv);
    uint64_t one = 1;
    if (write(w->done_fd, &one, sizeof(one)) != (ssize_t)sizeof(one))
        abort(); /* an eventfd write of 1 cannot fail: the main thread would wait forever */
    return NULL;
}

/* A crash on the way (abort): what the workers buffered is written first. */
static void proc_abort_handler(int sig)
{
    log_flush_all_on_abort();
    signal(sig, SIG_DFL);
    raise(sig);
}

/* Raises the soft descriptor limit to the hard one, and says how many
 * connections the workers keep open at once. */
static void proc_raise_nofile(const struct config *cfg, int n)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rlim_t want = rl.rlim_max;
        rl.rlim_cur = want;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            log_warn("nofile_not_raised", "cannot raise the descriptor limit to %llu: %s",
                     (unsigned long long)want, strerror(errno));
    }
    long limit = 0;
    long total = conns_total(cfg, n, &limit);
    log_info("connection_cap", "at most %ld connections at once (descriptor limit %ld)", total,
             limit);
    if (cfg->max_connections > 0 && total > limit - 32)
        log_warn("connection_cap_high",
                 "THAMDO_MAX_CONNECTIONS=%d is near or above the descriptor limit (%ld): past "
                 "it, accepting pauses %s",
                 cfg->max_connections, limit, "for 100 ms at a time");
}

/* The address to listen on, when nobody listens there yet; NULL if none. */
static struct addrinfo *proc_resolve(const char *host, int port)
{
    char service[8];
    struct addrinfo hints, *ai = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    snprintf(service, sizeof(service), "%d", port);
    if (getaddrinfo(host, service, &hints, &ai) != 0 || !ai || (port != 0 && proc_probe(ai) != 0)) {
        if (ai)
            freeaddrinfo(ai);
        return NULL;
    }
    return ai;
}

/* THAMDO_ADMIN_LISTEN: binds every worker's admin listener (the first
 * worker's port for the others, when it was 0); 0, or 1 with the reason. */
static int proc_bind_admin(const struct config *cfg, struct proc_worker *w, int n)
{
    struct addrinfo *ai = proc_resolve(cfg->admin_listen_host, cfg->admin_listen_port);
    int rc = ai ? 0 : -2;
    for (int i = 0; i < n && rc == 0; i++) {
        const struct sockaddr *addr =
            i == 0 ? ai->ai_addr : (const struct sockaddr *)&w[0].srv->admin_addr;
        socklen_t len = i == 0 ? ai->ai_addrlen
                               : (w[0].srv->admin_addr.ss_family == AF_INET6
                                      ? (socklen_t)sizeof(struct sockaddr_in6)
                                      : (socklen_t)sizeof(struct sockaddr_in));
        rc = server_listen_admin(w[i].srv, addr, len);
    }
    if (ai)
        freeaddrinfo(ai);
    if (rc != 0) {
        fprintf(stderr,
                "thamdo: THAMDO_ADMIN_LISTEN: cannot listen on %s:%d (in use, or not an "
                "address of this machine)\n",
                cfg->admin_listen_host, cfg->admin_listen_port);
        return 1;
    }
    char url[128];
    proc_url(&w[0].srv->admin_addr, url, sizeof(url));
    log_info("admin_listening",
             "admin API and dashboard listening on %sadmin/ (not on the public listener)", url);
    return 0;
}

/* Binds every worker; 0, or 1 with the reason printed. */
static int proc_bind(const struct config *cfg, struct proc_worker *w, int n)
{
    struct addrinfo *ai = proc_resolve(cfg->listen_host, cfg->listen_port);
    if (!ai) {
        proc_listen_error(cfg);
        return 1;
    }
    struct sockaddr_storage bound = {0};
    socklen_t bound_len = 0;
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        const struct sockaddr *addr = i == 0 ? ai->ai_addr : (const struct sockaddr *)&bound;
        socklen_t len = i == 0 ? ai->ai_addrlen : bound_len;
        rc = server_init(w[i].srv, cfg, i, n, w[0].srv, addr, len);
        if (rc == 0 && i == 0 && server_bound_addr(w[0].srv, &bound, &bound_len) != 0)
            rc = -1;
    }
    freeaddrinfo(ai);
    if (rc == -2) {
        proc_listen_error(cfg);
        return 1;
    }
    if (rc != 0) {
        log_error("start_failed", "cannot create the event loops");
        return 1;
    }
    if (cfg->admin_listen && proc_bind_admin(cfg, w, n) != 0)
        return 1;
    char url[128];
    proc_url(&bound, url, sizeof(url));
    log_info("listening", "thamdo %s listening on %s with %d worker%s", THAMDO_VERSION, url, n,
             n == 1 ? "" : "s");
    return 0;
}

/* Adds 1 to every worker's stop eventfd. */
static void proc_tell_stop(struct proc_worker *w, int n)
{
    uint64_t one = 1;
    for (int i = 0; i < n; i++) {
        if (w[i].started && write(w[i].srv->stop_fd, &one, sizeof(one)) != (ssize_t)sizeof(one))
            log_error("stop_not_delivered", "worker %d: the stop request could not be delivered",
                      i);
    }
}

/* Waits for the signals and for the workers' loops to end. */
static void proc_wait(const struct config *cfg, int sig_fd, int done_fd, struct proc_worker *w,
                      int n, int running)
{
    int signals = 0;
    while (running > 0) {
        struct pollfd p[2] = {{sig_fd, POLLIN, 0}, {done_fd, POLLIN, 0}};
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            log_error("signal_wait_failed", "waiting for the stop signal: %s", strerror(errno));
            break;
        }
        struct signalfd_siginfo si;
        if ((p[0].revents & POLLIN) && read(sig_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
            const char *name = si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM";
            if (++signals == 1)
                log_info("stopping",
                         "%s received: not ready; closing the listener in %d ms, then "
                         "finishing the answers in flight (at most %d ms)",
                         name, cfg->lame_duck_ms, cfg->drain_ms);
            else if (signals == 2)
                log_warn("stopping_now",
                         "second stop signal: answering what waits on Redis 503 and stopping");
            if (signals <= 2)
                proc_tell_stop(w, n);
        }
        uint64_t ended;
        if ((p[1].revents & POLLIN) && read(done_fd, &ended, sizeof(ended)) == sizeof(ended))
            running -= (int)ended;
    }
}

int proc_run(const struct config *cfg)
{
    int n = cfg->threads < 1 ? 1 : cfg->threads;
    int rc = 1, running = 0;
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGABRT, proc_abort_handler);
    int sig_fd = signalfd(-1, &stop, SFD_CLOEXEC);
    int done_fd = eventfd(0, EFD_CLOEXEC);
    struct proc_worker *w = calloc((size_t)n, sizeof(*w));
    struct server *servers = calloc((size_t)n, sizeof(*servers));
    if (!w || !servers)
        abort();
    for (int i = 0; i < n; i++) {
        w[i].srv = &servers[i];
        w[i].done_fd = done_fd;
        servers[i].stop_fd = -1;
    }
    if (sig_fd < 0 || done_fd < 0) {
        log_error("signal_wait_failed", "cannot wait for stop signals: %s", strerror(errno));
        goto out;
    }
    proc_raise_nofile(cfg, n);
    if (proc_bind(cfg, w, n) != 0)
        goto out;
    for (int i = 0; i < n; i++) {
        if (pthread_create(&w[i].thread, NULL, proc_worker_main, &w[i]) != 0) {
            log_error("start_failed", "cannot start worker %d of %d", i, n);
            break;
        }
        w[i].started = 1;
        running++;
    }
    if (running < n) {
        /* Stop those that started at once (as on a second signal). */
        proc_tell_stop(w, n);
        proc_tell_stop(w, n);
    } else {
        rc = 0;
    }
    proc_wait(cfg, sig_fd, done_fd, w, n, running);

out:
    for (int i = 0; i < n; i++) {
        if (w[i].started)
            pthread_join(w[i].thread, NULL);
        else
            server_discard(w[i].srv);
    }
    free(servers);
    free(w);
    if (sig_fd >= 0)
        close(sig_fd);
    if (done_fd >= 0)
        close(done_fd);
    if (rc == 0)
        log_info("stopped", "stopped");
    return rc;
}
