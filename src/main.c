/* main.c - start-up and shut-down order of the thamdo process.
 *
 * config (--healthcheck: probe_run and exit) -> data directory (lock, secret) -> private
 * redis-server if no THAMDO_REDIS_URL -> the cookie MAC keyed -> serve (proc.c: the workers)
 * -> stop redis-server. Must stay small: every
 * piece of work lives in its own module. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "auth.h"
#include "clock.h"
#include "config.h"
#include "datadir.h"
#include "log.h"
#include "probe.h"
#include "redisproc.h"
#include "proc.h"

int main(int argc, char **argv)
{
    struct config cfg;
    struct datadir dd = {.lock_fd = -1};
    struct redisproc rp = {0};
    char err[512];
    int rc = 1;

    signal(SIGPIPE, SIG_IGN);
    switch (config_load(&cfg, argc, argv)) {
    case CONFIG_EXIT_OK:
        return 0;
    case CONFIG_EXIT_USAGE:
        /* A health check that cannot read the configuration says "unhealthy". */
        return cfg.healthcheck != CONFIG_HEALTHCHECK_OFF ? 1 : 2;
    case CONFIG_OK:
        break;
    }
    if (cfg.healthcheck != CONFIG_HEALTHCHECK_OFF) {
        rc = probe_run(&cfg);
        config_free(&cfg);
        return rc;
    }
    log_set_level(cfg.log_level);
    log_set_format(cfg.log_format);
    clock_set_zone(cfg.timezone);
    if (cfg.test_mode)
        log_warn("test_mode", "TEST MODE%s: never run this in production",
                 cfg.test_clock ? " with the test clock (X-Thamdo-Test-Now is honoured)" : "");
    if (cfg.n_tokens == 0)
        log_info("admin_off", "admin API off: no THAMDO_ADMIN_TOKENS or THAMDO_ADMIN_TOKENS_FILE");
    else
        log_info("admin_on", "admin API on with %zu token(s)", cfg.n_tokens);

    int embedded = cfg.redis.kind == CONFIG_REDIS_EMBEDDED;
    int generate_secret = cfg.secret_source == CONFIG_SECRET_GENERATED;
    if (embedded || generate_secret) {
        if (datadir_open(&dd, cfg.data_dir, embedded, err, sizeof(err)) != 0) {
            fprintf(stderr, "thamdo: THAMDO_DATA_DIR: %s\n", err);
            goto out;
        }
    }
    if (generate_secret) {
        if (datadir_secret(&dd, &cfg.cookie, err, sizeof(err)) != 0) {
            fprintf(stderr, "thamdo: THAMDO_DATA_DIR: %s\n", err);
            goto out;
        }
        if (!embedded)
            log_warn("secret_in_data_dir",
                     "the cookie secret is kept in %s/secret: instances that share this Redis "
                     "must share it too (set THAMDO_SECRET or THAMDO_SECRET_FILE on each)",
                     dd.path);
    }
    if (embedded) {
        if (redisproc_start(&rp, dd.path, err, sizeof(err)) != 0) {
            fprintf(stderr,
                    "thamdo: THAMDO_REDIS_URL is not set and the private redis-server "
                    "did not start: %s\n",
                    err);
            goto out;
        }
        cfg.redis.kind = CONFIG_REDIS_UNIX;
        snprintf(cfg.redis.path, sizeof(cfg.redis.path), "%s", rp.socket_path);
    }
    if (cfg.polls == NULL)
        log_info("no_polls_file", "no THAMDO_POLLS_FILE: serving the polls already in Redis");
    if (auth_prepare(&cfg) != 0)
        log_warn("openssl_no_sha256",
                 "OpenSSL has no SHA-256 to fetch: admin tokens are checked the slower way");
    /* Once the secret is final, before any worker reads it. */
    if (cookie_conf_key(&cfg.cookie) != 0)
        log_warn("openssl_no_hmac",
                 "OpenSSL has no keyed HMAC context: every cookie is signed one-shot (slower)");

    rc = proc_run(&cfg);

out:
    redisproc_stop(&rp);
    datadir_close(&dd);
    config_free(&cfg);
    return rc;
}
