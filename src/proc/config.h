/* config.h - the service configuration, read once at start.
 *
 * Sources, later wins: built-in defaults, THAMDO_* environment variables,
 * command-line flags. Owns: parsing and checking every value; the first bad
 * value stops the start with one line naming the variable or flag. After
 * config_load() returns the struct is read-only and may be shared by every
 * worker. Must not open sockets or touch Redis. */
#ifndef THAMDO_CONFIG_H
#define THAMDO_CONFIG_H

#include <limits.h>
#include <stddef.h>

#include "client.h"
#include "cookie.h"
#include "log.h"

#define CONFIG_HOST_MAX    255
#define CONFIG_PREFIX_MAX  64
#define CONFIG_PASS_MAX    256
#define CONFIG_ORIGIN_LEN  256 /* "https://host:port" */
#define CONFIG_ORIGINS_MAX 64
#define CONFIG_TOKENS_MAX  16
#define CONFIG_TOKEN_MIN   16
#define CONFIG_TOKEN_LEN   256
#define CONFIG_TZ_LEN      64
#define CONFIG_SITES_MAX   256
#define CONFIG_SITE_LEN    65
#define CONFIG_THREADS_MAX 64
/* Redis Sentinel */
#define CONFIG_SENTINELS_MAX 16
#define CONFIG_REPLICAS_MAX  64

enum config_redis_kind {
    CONFIG_REDIS_EMBEDDED = 0, /* private redis-server in the data directory */
    CONFIG_REDIS_TCP,
    CONFIG_REDIS_UNIX,
};

struct config_redis {
    enum config_redis_kind kind;
    char host[CONFIG_HOST_MAX + 1];
    int port;
    char path[PATH_MAX];
    char username[CONFIG_PASS_MAX + 1]; /* empty: AUTH with the password alone */
    char password[CONFIG_PASS_MAX + 1]; /* empty: no AUTH */
    int db;
};

/* Redis Sentinel: one Sentinel's address. */
struct config_hostport {
    char host[CONFIG_HOST_MAX + 1];
    int port;
};

enum config_secret_source {
    CONFIG_SECRET_GENERATED = 0, /* kept in DATA_DIR/secret */
    CONFIG_SECRET_ENV,
    CONFIG_SECRET_FILE,
};

enum config_healthcheck {
    CONFIG_HEALTHCHECK_OFF = 0, /* serve */
    CONFIG_HEALTHCHECK_READY,   /* --healthcheck: probe /readyz and exit */
    CONFIG_HEALTHCHECK_LIVE,    /* --healthcheck=live: probe /healthz and exit */
};

struct config {
    char listen_host[CONFIG_HOST_MAX + 1];
    int listen_port;
    /* THAMDO_ADMIN_LISTEN: the admin API and dashboard on their own address */
    char admin_listen_host[CONFIG_HOST_MAX + 1];
    int admin_listen_port;
    int admin_listen; /* set: /admin is served there only, and not on listen_host */
    struct config_redis redis;
    char data_dir[PATH_MAX];
    enum config_secret_source secret_source;
    char polls_file[PATH_MAX];
    char key_prefix[CONFIG_PREFIX_MAX + 1];
    int redis_timeout_ms;
    /* Redis Sentinel: with sentinels, the primary's address is asked of them
     * (redis.host/port unused; redis password and db apply to the primary). */
    struct config_hostport sentinels[CONFIG_SENTINELS_MAX];
    size_t n_sentinels;
    char sentinel_master[CONFIG_HOST_MAX + 1];
    char sentinel_password[CONFIG_PASS_MAX + 1]; /* empty: no AUTH to the Sentinels */
    int redis_wait_replicas;                     /* acknowledged writes wait for this many */
    size_t max_body;
    enum log_level log_level;
    /* logs and metrics */
    enum log_format log_format; /* text, or one JSON object a line */
    char allowed_origins[CONFIG_ORIGINS_MAX][CONFIG_ORIGIN_LEN]; /* normalised */
    size_t n_origins;
    /* Rate limits and proof of work (client.c, identity.c, the vote) */
    int rate_limits;                     /* THAMDO_RATE_LIMITS: on */
    struct client_trust trusted_proxies; /* peers whose forwarded headers are read */
    int rate_window;                     /* seconds of a bucket's window */
    int rate_free;      /* first ballots per bucket, poll and window, no challenge */
    int rate_max;       /* hard limit of first ballots */
    int rate_attempts;  /* vote requests of any kind */
    int pow_difficulty; /* base bits of a challenge */
    int pow_seconds;    /* a challenge's lifetime */
    char admin_tokens[CONFIG_TOKENS_MAX][CONFIG_TOKEN_LEN]; /* none: admin routes are off */
    size_t n_tokens;
    unsigned char admin_token_digests[CONFIG_TOKENS_MAX][32]; /* SHA-256 of each (auth_prepare) */
    char timezone[CONFIG_TZ_LEN];                             /* IANA name, e.g. Asia/Ho_Chi_Minh */
    char sites[CONFIG_SITES_MAX][CONFIG_SITE_LEN]; /* counter sites; the first is the default */
    size_t n_sites;
    int visit_hits;      /* count every page view, not one per session */
    int session_minutes; /* a reader seen again within this is the same visit */
    int online_minutes;  /* "online" = distinct readers seen within this */
    int max_streams;     /* live results streams at once in the process (0: off) */

    /* Stopping and limits on slow or greedy clients (server.c, conn.c) */
    int lame_duck_ms;      /* /readyz fails this long before the listener closes */
    int drain_ms;          /* longest wait for the open connections at a stop */
    int max_connections;   /* open connections in the process (0: from the descriptor limit) */
    int header_timeout_ms; /* a request head must be complete this long after its first byte */
    int body_timeout_ms;   /* a request body must be complete this long after its head */

    int threads;               /* event-loop workers, 1..CONFIG_THREADS_MAX */
    int demo;                  /* serve the demo portal page at / */
    int test_mode;             /* THAMDO_MODE=test */
    int test_clock;            /* honour X-Thamdo-Test-Now (test mode only) */
    struct cookie_conf cookie; /* holds the secret once loaded */
    struct json_t *polls;      /* checked definitions of the polls file, or NULL */

    /* deployment: --healthcheck makes this run a probe of a running service */
    enum config_healthcheck healthcheck;
};

enum config_result {
    CONFIG_OK = 0,
    CONFIG_EXIT_OK,    /* --help or --version printed: exit 0 */
    CONFIG_EXIT_USAGE, /* error printed: exit 2 */
};

/* Fills cfg from defaults, environment and argv. On error prints one line to
 * stderr. The secret is loaded here unless it is to be generated. */
enum config_result config_load(struct config *cfg, int argc, char **argv);

/* Parses a Redis URL into r. 0 on success; on error *why says what is wrong. */
int config_parse_redis_url(const char *url, struct config_redis *r, const char **why);

/* Parses "host:port" or "[v6]:port". 0 on success. */
int config_parse_listen(const char *s, char *host, size_t host_size, int *port);

/* Wipes the secret and password and frees the loaded polls. */
void config_free(struct config *cfg);

#endif
