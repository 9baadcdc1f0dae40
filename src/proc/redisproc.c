/* redisproc.c - start, await and stop the private redis-server.
 *
 * The child gets its own process group (a Ctrl-C in the terminal reaches the
 * service, which drains its requests before it stops Redis) and a parent-death
 * signal (if the service is killed, Redis still shuts down cleanly).
 * appendfsync is "always": in this mode an acknowledged vote is on disk.
 * Must not block after start: the wait is only done before serving. */
#include "redisproc.h"

#include <errno.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define REDISPROC_START_MS 60000
#define REDISPROC_STOP_MS  15000

static void redisproc_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void redisproc_child(const char *dir, const char *sock, pid_t parent)
{
    char logfile[4200];
    snprintf(logfile, sizeof(logfile), "%s/redis.log", dir);
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent)
        _exit(1);
    setpgid(0, 0);
    int devnull = open("/dev/null", O_RDWR);
    if (devnull >= 0) {
        dup2(devnull, STDIN_FILENO);
        dup2(devnull, STDOUT_FILENO);
    }
    for (int fd = 3; fd < 1024; fd++)
        close(fd);
    char *const argv[] = {"redis-server", "--port",           "0",     "--unixsocket",
                          (char *)sock,   "--unixsocketperm", "700",   "--dir",
                          (char *)dir,    "--appendonly",     "yes",   "--appendfsync",
                          "always",       "--save",           "",      "--daemonize",
                          "no",           "--logfile",        logfile, NULL};
    execvp("redis-server", argv);
    fprintf(stderr, "thamdo: cannot run redis-server: %s\n", strerror(errno));
    _exit(127);
}

/* 1 when the server answers PING with PONG. */
static int redisproc_ping(const char *sock)
{
    struct timeval tv = {1, 0};
    redisContext *c = redisConnectUnixWithTimeout(sock, tv);
    int ok = 0;
    if (c && !c->err) {
        redisReply *r = redisCommand(c, "PING");
        ok = r && r->type == REDIS_REPLY_STATUS && strcmp(r->str, "PONG") == 0;
        if (r)
            freeReplyObject(r);
    }
    if (c)
        redisFree(c);
    return ok;
}

int redisproc_start(struct redisproc *rp, const char *dir, char *err, size_t err_size)
{
    memset(rp, 0, sizeof(*rp));
    int n = snprintf(rp->socket_path, sizeof(rp->socket_path), "%s/redis.sock", dir);
    if (n < 0 || (size_t)n >= sizeof(rp->socket_path)) {
        snprintf(err, err_size, "the data directory path is too long for a unix socket (%s)", dir);
        return -1;
    }
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, err_size, "cannot start redis-server: %s", strerror(errno));
        return -1;
    }
    if (pid == 0)
        redisproc_child(dir, rp->socket_path, parent);
    rp->pid = pid;

    for (int waited = 0; waited < REDISPROC_START_MS; waited += 50) {
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            rp->pid = 0;
            if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
                snprintf(err, err_size,
                         "redis-server is not installed (run make deps, or set THAMDO_REDIS_URL)");
            else
                snprintf(err, err_size, "redis-server stopped at start; see %s/redis.log", dir);
            return -1;
        }
        if (redisproc_ping(rp->socket_path)) {
            log_info("redis_private_started", "private redis-server running (pid %d, %s)", (int)pid,
                     rp->socket_path);
            return 0;
        }
        redisproc_sleep_ms(50);
    }
    snprintf(err, err_size, "redis-server did not answer within %d s; see %s/redis.log",
             REDISPROC_START_MS / 1000, dir);
    redisproc_stop(rp);
    return -1;
}

void redisproc_stop(struct redisproc *rp)
{
    if (rp->pid <= 0)
        return;
    kill(rp->pid, SIGTERM);
    for (int waited = 0; waited < REDISPROC_STOP_MS; waited += 20) {
        if (waitpid(rp->pid, NULL, WNOHANG) == rp->pid) {
            rp->pid = 0;
            log_info("redis_private_stopped", "private redis-server stopped");
            return;
        }
        redisproc_sleep_ms(20);
    }
    log_warn("redis_private_killed", "private redis-server did not stop within %d s; killing it",
             REDISPROC_STOP_MS / 1000);
    kill(rp->pid, SIGKILL);
    waitpid(rp->pid, NULL, 0);
    rp->pid = 0;
}
