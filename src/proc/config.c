/* config.c - defaults, THAMDO_* environment variables and flags.
 *
 * One table lists every setting once: its variable, its flag, its help line
 * and its parser. Environment first, then flags, then the checks that span
 * several settings. The first error prints "thamdo: NAME: reason" and stops.
 * Must not echo a secret or a password in any message. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cors.h"
#include "poll.h"
#include "text.h"
#include "version.h"

/* Why a value was refused: a constant string, or text written into buf. */
struct config_err {
    const char *why;
    char buf[256];
};

typedef int config_setter(struct config *cfg, const char *value, struct config_err *e);

struct config_opt {
    const char *env;
    const char *flag;
    const char *arg;
    const char *help;
    config_setter *set;
};

static int config_copy(char *dst, size_t size, const char *value, const char **why)
{
    size_t len = strlen(value);
    if (len == 0) {
        *why = "must not be empty";
        return -1;
    }
    if (len >= size) {
        *why = "is too long";
        return -1;
    }
    memcpy(dst, value, len + 1);
    return 0;
}

int config_parse_listen(const char *s, char *host, size_t host_size, int *port)
{
    const char *colon;
    const char *h = s;
    size_t hlen;
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (!close || close[1] != ':')
            return -1;
        h = s + 1;
        hlen = (size_t)(close - h);
        colon = close + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon || memchr(s, ':', (size_t)(colon - s)))
            return -1;
        hlen = (size_t)(colon - s);
    }
    if (hlen == 0 || hlen >= host_size)
        return -1;
    long long p;
    if (text_parse_int(colon + 1, 0, 65535, &p) != 0)
        return -1;
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    *port = (int)p;
    return 0;
}

static int config_set_listen(struct config *cfg, const char *v, struct config_err *e)
{
    if (config_parse_listen(v, cfg->listen_host, sizeof(cfg->listen_host), &cfg->listen_port)) {
        e->why = "expected HOST:PORT, for example 127.0.0.1:8080 or [::1]:8080";
        return -1;
    }
    return 0;
}

int config_parse_redis_url(const char *url, struct config_redis *r, const char **why)
{
    memset(r, 0, sizeof(*r));
    if (strncmp(url, "unix://", 7) == 0) {
        const char *path = url + 7;
        const char *q = strchr(path, '?');
        size_t plen = q ? (size_t)(q - path) : strlen(path);
        if (plen == 0 || path[0] != '/' || plen >= sizeof(r->path)) {
            *why = "expected unix:///absolute/path[?db=N]";
            return -1;
        }
        memcpy(r->path, path, plen);
        r->path[plen] = '\0';
        r->kind = CONFIG_REDIS_UNIX;
        if (q) {
            long long db;
            if (strncmp(q, "?db=", 4) != 0 || text_parse_int(q + 4, 0, 15, &db) != 0) {
                *why = "expected unix:///absolute/path[?db=N] with N from 0 to 15";
                return -1;
            }
            r->db = (int)db;
        }
        return 0;
    }
    if (strncmp(url, "redis://", 8) != 0) {
        *why = "expected redis://[:password@]host:port[/db] or unix:///path";
        return -1;
    }
    const char *p = url + 8;
    const char *at = strrchr(p, '@');
    if (at) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        if (!colon) {
            *why = "expected redis://[user]:password@host:port[/db]";
            return -1;
        }
        size_t ulen = (size_t)(colon - p), plen = (size_t)(at - colon - 1);
        if (ulen >= sizeof(r->username) || plen >= sizeof(r->password)) {
            *why = "user name or password is too long";
            return -1;
        }
        memcpy(r->username, p, ulen);
        r->username[ulen] = '\0';
        memcpy(r->password, colon + 1, plen);
        r->password[plen] = '\0';
        p = at + 1;
    }
    char hostport[CONFIG_HOST_MAX + 8];
    const char *slash = strchr(p, '/');
    size_t hplen = slash ? (size_t)(slash - p) : strlen(p);
    if (hplen == 0 || hplen >= sizeof(hostport)) {
        *why = "expected redis://[:password@]host:port[/db]";
        return -1;
    }
    memcpy(hostport, p, hplen);
    hostport[hplen] = '\0';
    if (hostport[0] != '[' && strchr(hostport, ':') == NULL) {
        /* host alone: the default port */
        if (hplen >= sizeof(r->host)) {
            *why = "host name is too long";
            return -1;
        }
        memcpy(r->host, hostport, hplen + 1);
        r->port = 6379;
    } else if (config_parse_listen(hostport, r->host, sizeof(r->host), &r->port) != 0 ||
               r->port == 0) {
        *why = "expected redis://[:password@]host:port[/db]";
        return -1;
    }
    if (slash && slash[1] != '\0') {
        long long db;
        if (text_parse_int(slash + 1, 0, 15, &db) != 0) {
            *why = "database number must be from 0 to 15";
            return -1;
        }
        r->db = (int)db;
    }
    r->kind = CONFIG_REDIS_TCP;
    return 0;
}

static int config_set_redis_url(struct config *cfg, const char *v, struct config_err *e)
{
    if (*v == '\0') {
        cfg->redis.kind = CONFIG_REDIS_EMBEDDED;
        return 0;
    }
    return config_parse_redis_url(v, &cfg->redis, &e->why);
}

static int config_set_data_dir(struct config *cfg, const char *v, struct config_err *e)
{
    return config_copy(cfg->data_dir, sizeof(cfg->data_dir), v, &e->why);
}

static int config_set_secret(struct config *cfg, const char *v, struct config_err *e)
{
    size_t len = strlen(v);
    if (len < COOKIE_SECRET_MIN || len > COOKIE_SECRET_MAX) {
        e->why = "must be from 32 to 256 bytes long (generate one with: openssl rand -hex 32)";
        return -1;
    }
    memcpy(cfg->cookie.secret, v, len);
    cfg->cookie.secret_len = len;
    cfg->secret_source = CONFIG_SECRET_ENV;
    return 0;
}

static int config_set_secret_file(struct config *cfg, const char *v, struct config_err *e)
{
    char buf[COOKIE_SECRET_MAX + 2];
    FILE *f = fopen(v, "rb");
    if (!f) {
        e->why = "cannot read the file";
        return -1;
    }
    size_t n = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        n--;
    if (n < COOKIE_SECRET_MIN || n > COOKIE_SECRET_MAX) {
        OPENSSL_cleanse(buf, sizeof(buf));
        e->why = "the file must hold a secret of 32 to 256 bytes";
        return -1;
    }
    memcpy(cfg->cookie.secret, buf, n);
    cfg->cookie.secret_len = n;
    cfg->secret_source = CONFIG_SECRET_FILE;
    OPENSSL_cleanse(buf, sizeof(buf));
    return 0;
}

/* Reads at most size - 1 bytes of the file at path into buf, NUL-ended. */
static int config_read_text(const char *path, char *buf, size_t size, struct config_err *e)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        e->why = "cannot read the file";
        return -1;
    }
    size_t n = fread(buf, 1, size - 1, f);
    fclose(f);
    buf[n] = '\0';
    return 0;
}

/* Adds the previous secrets of list, split at any of seps; blanks and the
 * white space around each are skipped. */
static int config_add_previous(struct config *cfg, const char *list, const char *seps,
                               struct config_err *e)
{
    const char *p = list;
    while (*p) {
        size_t len = strcspn(p, seps);
        const char *next = p[len] ? p + len + 1 : p + len;
        while (len > 0 && strchr(" \t\r", p[len - 1]))
            len--;
        while (len > 0 && strchr(" \t\r", *p)) {
            p++;
            len--;
        }
        if (len > 0) {
            if (len < COOKIE_SECRET_MIN || len > COOKIE_SECRET_MAX) {
                e->why = "each previous secret must be from 32 to 256 bytes long";
                return -1;
            }
            if (cfg->cookie.n_previous == COOKIE_PREVIOUS_MAX) {
                e->why = "at most 8 previous secrets";
                return -1;
            }
            struct cookie_key *k = &cfg->cookie.previous[cfg->cookie.n_previous++];
            memcpy(k->secret, p, len);
            k->len = len;
        }
        p = next;
    }
    return 0;
}

static int config_set_secret_previous(struct config *cfg, const char *v, struct config_err *e)
{
    return config_add_previous(cfg, v, ",", e);
}

static int config_set_secret_previous_file(struct config *cfg, const char *v, struct config_err *e)
{
    char buf[COOKIE_PREVIOUS_MAX * (COOKIE_SECRET_MAX + 2) + 1];
    if (config_read_text(v, buf, sizeof(buf), e) != 0)
        return -1;
    int rc = config_add_previous(cfg, buf, "\n", e);
    OPENSSL_cleanse(buf, sizeof(buf));
    return rc;
}

static int config_set_polls_file(struct config *cfg, const char *v, struct config_err *e)
{
    if (config_copy(cfg->polls_file, sizeof(cfg->polls_file), v, &e->why))
        return -1;
    json_decref(cfg->polls);
    cfg->polls = poll_load_file(v, e->buf, sizeof(e->buf));
    if (!cfg->polls) {
        e->why = e->buf;
        return -1;
    }
    return 0;
}

static int config_set_key_prefix(struct config *cfg, const char *v, struct config_err *e)
{
    for (const char *p = v; *p; p++) {
        if (*p <= ' ' || *p == '{' || *p == '}' || (unsigned char)*p >= 0x7f) {
            e->why = "may hold printable ASCII without spaces or braces only";
            return -1;
        }
    }
    size_t len = strlen(v);
    if (len >= sizeof(cfg->key_prefix)) {
        e->why = "is too long (64 bytes at most)";
        return -1;
    }
    memcpy(cfg->key_prefix, v, len + 1);
    return 0;
}

static int config_set_redis_timeout(struct config *cfg, const char *v, struct config_err *e)
{
    long long ms;
    if (text_parse_int(v, 50, 60000, &ms)) {
        e->why = "expected milliseconds from 50 to 60000";
        return -1;
    }
    cfg->redis_timeout_ms = (int)ms;
    return 0;
}

/* Redis Sentinel */
static int config_set_sentinels(struct config *cfg, const char *v, struct config_err *e)
{
    cfg->n_sentinels = 0;
    for (const char *p = v; *p;) {
        size_t len = strcspn(p, ",");
        char item[CONFIG_HOST_MAX + 16];
        if (len == 0 || len >= sizeof(item) || cfg->n_sentinels == CONFIG_SENTINELS_MAX) {
            e->why = "expected HOST:PORT,... (at most 16), for example 10.0.0.5:26379,[::1]:26379";
            return -1;
        }
        memcpy(item, p, len);
        item[len] = '\0';
        struct config_hostport *s = &cfg->sentinels[cfg->n_sentinels];
        if (config_parse_listen(item, s->host, sizeof(s->host), &s->port) != 0 || s->port == 0) {
            e->why = "expected HOST:PORT,... (at most 16), for example 10.0.0.5:26379,[::1]:26379";
            return -1;
        }
        cfg->n_sentinels++;
        p += len;
        if (*p == ',' && *++p == '\0') {
            e->why = "expected HOST:PORT,... (at most 16), for example 10.0.0.5:26379,[::1]:26379";
            return -1;
        }
    }
    return 0;
}

static int config_set_sentinel_master(struct config *cfg, const char *v, struct config_err *e)
{
    if (config_copy(cfg->sentinel_master, sizeof(cfg->sentinel_master), v, &e->why) != 0)
        return -1;
    for (const char *p = v; *p; p++) {
        if (*p <= ' ' || *p == 0x7f) {
            e->why = "must not hold spaces or control characters";
            return -1;
        }
    }
    return 0;
}

static int config_set_sentinel_password(struct config *cfg, const char *v, struct config_err *e)
{
    return config_copy(cfg->sentinel_password, sizeof(cfg->sentinel_password), v, &e->why);
}

static int config_set_wait_replicas(struct config *cfg, const char *v, struct config_err *e)
{
    long long n;
    if (text_parse_int(v, 0, CONFIG_REPLICAS_MAX, &n)) {
        e->why = "expected a number of replicas from 0 to 64";
        return -1;
    }
    cfg->redis_wait_replicas = (int)n;
    return 0;
}

static int config_set_cookie_name(struct config *cfg, const char *v, struct config_err *e)
{
    size_t len = strlen(v);
    if (len == 0 || len > COOKIE_NAME_MAX) {
        e->why = "expected 1 to 64 characters";
        return -1;
    }
    for (const char *p = v; *p; p++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-')) {
            e->why = "may hold letters, digits, '_' and '-' only";
            return -1;
        }
    }
    memcpy(cfg->cookie.name, v, len + 1);
    return 0;
}

static int config_set_samesite(struct config *cfg, const char *v, struct config_err *e)
{
    if (cookie_parse_samesite(v, &cfg->cookie.samesite)) {
        e->why = "expected Lax, Strict or None";
        return -1;
    }
    return 0;
}

static int config_set_secure(struct config *cfg, const char *v, struct config_err *e)
{
    if (text_parse_bool(v, &cfg->cookie.secure)) {
        e->why = "expected true or false";
        return -1;
    }
    return 0;
}

static int config_set_partitioned(struct config *cfg, const char *v, struct config_err *e)
{
    if (text_parse_bool(v, &cfg->cookie.partitioned)) {
        e->why = "expected true or false";
        return -1;
    }
    return 0;
}

static int config_set_max_age(struct config *cfg, const char *v, struct config_err *e)
{
    if (text_parse_int(v, 60, 34560000, &cfg->cookie.max_age)) {
        e->why = "expected seconds from 60 to 34560000 (400 days)";
        return -1;
    }
    return 0;
}

static int config_set_max_body(struct config *cfg, const char *v, struct config_err *e)
{
    long long n;
    if (text_parse_int(v, 256, 1048576, &n)) {
        e->why = "expected bytes from 256 to 1048576";
        return -1;
    }
    cfg->max_body = (size_t)n;
    return 0;
}

static int config_set_origins(struct config *cfg, const char *v, struct config_err *e)
{
    cfg->n_origins = 0;
    const char *p = v;
    while (*p) {
        size_t skip = strspn(p, ", \t");
        p += skip;
        size_t len = strcspn(p, ", \t");
        if (len == 0)
            break;
        if (cfg->n_origins >= CONFIG_ORIGINS_MAX) {
            e->why = "lists too many origins (64 at most)";
            return -1;
        }
        char *o = cfg->allowed_origins[cfg->n_origins];
        if (len >= CONFIG_ORIGIN_LEN) {
            e->why = "an origin is too long";
            return -1;
        }
        memcpy(o, p, len);
        o[len] = '\0';
        if (cors_normalise_origin(o) != 0) {
            snprintf(e->buf, sizeof(e->buf),
                     "'%.100s' is not an origin like https://portal.example.vn or "
                     "http://localhost:8000 (no path, no '*')",
                     o);
            e->why = e->buf;
            return -1;
        }
        cfg->n_origins++;
        p += len;
    }
    return 0;
}

/* Rate limits and proof of work */
static int config_set_rate_limits(struct config *cfg, const char *v, struct config_err *e)
{
    if (strcmp(v, "on") == 0 || strcmp(v, "off") == 0) {
        cfg->rate_limits = strcmp(v, "on") == 0;
        return 0;
    }
    e->why = "expected on or off";
    return -1;
}

static int config_set_trusted_proxies(struct config *cfg, const char *v, struct config_err *e)
{
    return client_trust_parse(&cfg->trusted_proxies, v, &e->why);
}

static int config_set_count(int *out, const char *v, long long min, long long max,
                            struct config_err *e)
{
    long long n;
    if (text_parse_int(v, min, max, &n)) {
        snprintf(e->buf, sizeof(e->buf), "expected a whole number from %lld to %lld", min, max);
        e->why = e->buf;
        return -1;
    }
    *out = (int)n;
    return 0;
}

static int config_set_rate_window(struct config *cfg, const char *v, struct config_err *e)
{
    return config_set_count(&cfg->rate_window, v, 10, 86400, e);
}

static int config_set_rate_free(struct config *cfg, const char *v, struct config_err *e)
{
    return config_set_count(&cfg->rate_free, v, 1, 1000000, e);
}

static int config_set_rate_max(struct config *cfg, const char *v, struct config_err *e)
{
    return config_set_count(&cfg->rate_max, v, 1, 1000000, e);
}

static int config_set_rate_attempts(struct config *cfg, const char *v, struct config_err *e)
{
    return config_set_count(&cfg->rate_attempts, v, 1, 10000000, e);
}

static int config_set_pow_difficulty(struct config *cfg, const char *v, struct config_err *e)
{
    return config_set_count(&cfg->pow_difficulty, v, 1, 24, e);
}

static int config_set_pow_seconds(struct config *cfg, const char *v, struct config_err *e)
{
    return config_set_count(&cfg->pow_seconds, v, 10, 3600, e);
}

/* Adds the tokens of text (separated by commas, spaces or newlines). */
static int config_add_tokens(struct config *cfg, const char *v, struct config_err *e)
{
    const char *p = v;
    while (*p) {
        p += strspn(p, ", \t\r\n");
        size_t len = strcspn(p, ", \t\r\n");
        if (len == 0)
            break;
        if (len < CONFIG_TOKEN_MIN || len >= CONFIG_TOKEN_LEN) {
            e->why = "every token must be 16 to 255 characters (openssl rand -hex 32 makes one)";
            return -1;
        }
        if (cfg->n_tokens >= CONFIG_TOKENS_MAX) {
            e->why = "too many tokens (16 at most)";
            return -1;
        }
        memcpy(cfg->admin_tokens[cfg->n_tokens], p, len);
        cfg->admin_tokens[cfg->n_tokens][len] = '\0';
        cfg->n_tokens++;
        p += len;
    }
    return 0;
}

static int config_set_tokens(struct config *cfg, const char *v, struct config_err *e)
{
    return config_add_tokens(cfg, v, e);
}

static int config_set_tokens_file(struct config *cfg, const char *v, struct config_err *e)
{
    char buf[CONFIG_TOKENS_MAX * (CONFIG_TOKEN_LEN + 2)];
    if (config_read_text(v, buf, sizeof(buf), e) != 0)
        return -1;
    int rc = config_add_tokens(cfg, buf, e);
    OPENSSL_cleanse(buf, sizeof(buf));
    if (rc == 0 && cfg->n_tokens == 0) {
        e->why = "the file holds no token";
        return -1;
    }
    return rc;
}

static int config_set_admin_listen(struct config *cfg, const char *v, struct config_err *e)
{
    if (config_parse_listen(v, cfg->admin_listen_host, sizeof(cfg->admin_listen_host),
                            &cfg->admin_listen_port)) {
        e->why = "expected HOST:PORT, for example 127.0.0.1:8081 or [::1]:8081";
        return -1;
    }
    cfg->admin_listen = 1;
    return 0;
}

static int config_set_timezone(struct config *cfg, const char *v, struct config_err *e)
{
    char path[PATH_MAX];
    if (config_copy(cfg->timezone, sizeof(cfg->timezone), v, &e->why))
        return -1;
    if (strstr(v, "..") || v[0] == '/') {
        e->why = "expected a time zone name such as Asia/Ho_Chi_Minh";
        return -1;
    }
    snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", v);
    FILE *f = fopen(path, "rb");
    char magic[4] = {0};
    if (!f || fread(magic, 1, 4, f) != 4 || memcmp(magic, "TZif", 4) != 0) {
        if (f)
            fclose(f);
        e->why = "not in the system time zone database (install tzdata; e.g. Asia/Ho_Chi_Minh)";
        return -1;
    }
    fclose(f);
    return 0;
}

static int config_set_mode(struct config *cfg, const char *v, struct config_err *e)
{
    if (strcmp(v, "production") == 0)
        cfg->test_mode = 0;
    else if (strcmp(v, "test") == 0)
        cfg->test_mode = 1;
    else {
        e->why = "expected production or test";
        return -1;
    }
    return 0;
}

static int config_set_demo(struct config *cfg, const char *v, struct config_err *e)
{
    if (text_parse_bool(v, &cfg->demo)) {
        e->why = "expected true or false";
        return -1;
    }
    return 0;
}

static int config_set_test_clock(struct config *cfg, const char *v, struct config_err *e)
{
    if (text_parse_bool(v, &cfg->test_clock)) {
        e->why = "expected true or false";
        return -1;
    }
    return 0;
}

static int config_set_sites(struct config *cfg, const char *v, struct config_err *e)
{
    cfg->n_sites = 0;
    const char *p = v;
    while (*p) {
        p += strspn(p, ", \t");
        size_t len = strcspn(p, ", \t");
        if (len == 0)
            break;
        if (!text_is_slug(p, len)) {
            e->why = "site keys must be 1 to 64 characters of a-z, 0-9 and '-'";
            return -1;
        }
        if (cfg->n_sites >= CONFIG_SITES_MAX) {
            e->why = "too many sites (256 at most)";
            return -1;
        }
        memcpy(cfg->sites[cfg->n_sites], p, len);
        cfg->sites[cfg->n_sites][len] = '\0';
        cfg->n_sites++;
        p += len;
    }
    if (cfg->n_sites == 0) {
        e->why = "list at least one site key";
        return -1;
    }
    return 0;
}

static int config_set_visit_mode(struct config *cfg, const char *v, struct config_err *e)
{
    if (strcmp(v, "session") == 0)
        cfg->visit_hits = 0;
    else if (strcmp(v, "hits") == 0)
        cfg->visit_hits = 1;
    else {
        e->why = "expected session or hits";
        return -1;
    }
    return 0;
}

static int config_set_minutes(int *out, const char *v, struct config_err *e)
{
    long long n;
    if (text_parse_int(v, 1, 1440, &n)) {
        e->why = "expected minutes from 1 to 1440";
        return -1;
    }
    *out = (int)n;
    return 0;
}

static int config_set_session(struct config *cfg, const char *v, struct config_err *e)
{
    return config_set_minutes(&cfg->session_minutes, v, e);
}

static int config_set_max_streams(struct config *cfg, const char *v, struct config_err *e)
{
    long long n;
    if (text_parse_int(v, 0, 1000000, &n)) {
        e->why = "expected a number of streams from 0 (live results off) to 1000000";
        return -1;
    }
    cfg->max_streams = (int)n;
    return 0;
}

/* Stopping and limits on slow or greedy clients. */
static int config_set_ms(int *out, const char *v, long long min, long long max,
                         struct config_err *e)
{
    long long ms;
    if (text_parse_int(v, min, max, &ms)) {
        e->why = min == 0 ? "expected milliseconds from 0 to 600000"
                          : "expected milliseconds from 10 to 3600000";
        return -1;
    }
    *out = (int)ms;
    return 0;
}

static int config_set_lame_duck(struct config *cfg, const char *v, struct config_err *e)
{
    return config_set_ms(&cfg->lame_duck_ms, v, 0, 600000, e);
}

static int config_set_drain(struct config *cfg, const char *v, struct config_err *e)
{
    return config_set_ms(&cfg->drain_ms, v, 0, 600000, e);
}

static int config_set_header_timeout(struct config *cfg, const char *v, struct config_err *e)
{
    return config_set_ms(&cfg->header_timeout_ms, v, 10, 3600000, e);
}

static int config_set_body_timeout(struct config *cfg, const char *v, struct config_err *e)
{
    return config_set_ms(&cfg->body_timeout_ms, v, 10, 3600000, e);
}

static int config_set_max_connections(struct config *cfg, const char *v, struct config_err *e)
{
    long long n;
    if (text_parse_int(v, 0, 10000000, &n)) {
        e->why = "expected a number of connections from 1 to 10000000 (0: from the descriptor "
                 "limit)";
        return -1;
    }
    cfg->max_connections = (int)n;
    return 0;
}

static int config_set_online(struct config *cfg, const char *v, struct config_err *e)
{
    if (config_set_minutes(&cfg->online_minutes, v, e))
        return -1;
    if (cfg->online_minutes > 60) {
        e->why = "expected minutes from 1 to 60";
        return -1;
    }
    return 0;
}

static int config_set_threads(struct config *cfg, const char *v, struct config_err *e)
{
    long long n;
    if (text_parse_int(v, 1, CONFIG_THREADS_MAX, &n)) {
        e->why = "expected a number of event loops from 1 to 64";
        return -1;
    }
    cfg->threads = (int)n;
    return 0;
}

static int config_set_log_level(struct config *cfg, const char *v, struct config_err *e)
{
    if (log_parse_level(v, &cfg->log_level)) {
        e->why = "expected debug, info, warn or error";
        return -1;
    }
    return 0;
}

/* logs and metrics */
static int config_set_log_format(struct config *cfg, const char *v, struct config_err *e)
{
    if (log_parse_format(v, &cfg->log_format)) {
        e->why = "expected text or json";
        return -1;
    }
    return 0;
}

static const struct config_opt config_opts[] = {
    {"THAMDO_LISTEN", "listen", "HOST:PORT", "address to serve HTTP on (127.0.0.1:8080)",
     config_set_listen},
    {"THAMDO_REDIS_URL", "redis-url", "URL",
     "redis://[[user]:password@]host:port[/db] or unix:///path; empty: start a private "
     "redis-server",
     config_set_redis_url},
    {"THAMDO_DATA_DIR", "data-dir", "DIR",
     "private redis-server data and the generated secret (./var)", config_set_data_dir},
    {"THAMDO_SECRET", "secret", "SECRET", "cookie signing secret, 32 to 256 bytes",
     config_set_secret},
    {"THAMDO_SECRET_FILE", "secret-file", "FILE", "file holding the cookie signing secret",
     config_set_secret_file},
    {"THAMDO_SECRET_PREVIOUS", "secret-previous", "SECRETS",
     "earlier cookie secrets still accepted, comma-separated; their cookies are signed anew",
     config_set_secret_previous},
    {"THAMDO_SECRET_PREVIOUS_FILE", "secret-previous-file", "FILE",
     "file with earlier cookie secrets, one per line (adds to THAMDO_SECRET_PREVIOUS)",
     config_set_secret_previous_file},
    {"THAMDO_POLLS_FILE", "polls-file", "FILE", "polls to create at start if missing (JSON)",
     config_set_polls_file},
    {"THAMDO_KEY_PREFIX", "key-prefix", "PREFIX", "prefix of every Redis key (thamdo:)",
     config_set_key_prefix},
    {"THAMDO_REDIS_TIMEOUT_MS", "redis-timeout-ms", "MS",
     "answer 503 when Redis takes longer than this (2000)", config_set_redis_timeout},
    /* Redis Sentinel */
    {"THAMDO_SENTINELS", "sentinels", "HOST:PORT,...",
     "Redis Sentinels to ask for the primary (THAMDO_REDIS_URL then gives only password and db)",
     config_set_sentinels},
    {"THAMDO_SENTINEL_MASTER", "sentinel-master", "NAME",
     "the primary's name in the Sentinels' configuration (mymaster)", config_set_sentinel_master},
    {"THAMDO_SENTINEL_PASSWORD", "sentinel-password", "PASSWORD",
     "password of the Sentinels (requirepass); none: no AUTH to them",
     config_set_sentinel_password},
    {"THAMDO_REDIS_WAIT_REPLICAS", "redis-wait-replicas", "N",
     "a vote is acknowledged once this many replicas have it (0)", config_set_wait_replicas},
    {"THAMDO_COOKIE_NAME", "cookie-name", "NAME", "voter cookie name (thamdo_vid)",
     config_set_cookie_name},
    {"THAMDO_COOKIE_SAMESITE", "cookie-samesite", "Lax|Strict|None",
     "voter cookie SameSite (Lax); None implies Secure", config_set_samesite},
    {"THAMDO_COOKIE_SECURE", "cookie-secure", "BOOL", "send the cookie over HTTPS only (false)",
     config_set_secure},
    {"THAMDO_COOKIE_PARTITIONED", "cookie-partitioned", "BOOL",
     "add Partitioned for cross-site embeds (false); needs Secure", config_set_partitioned},
    {"THAMDO_COOKIE_MAX_AGE", "cookie-max-age", "SECONDS", "voter cookie lifetime (34560000)",
     config_set_max_age},
    {"THAMDO_MAX_BODY", "max-body", "BYTES", "largest request body accepted (4096)",
     config_set_max_body},
    {"THAMDO_ALLOWED_ORIGINS", "allowed-origins", "ORIGINS",
     "web origins whose pages may use the API with the reader's cookie (comma-separated)",
     config_set_origins},
    /* Rate limits and proof of work */
    {"THAMDO_RATE_LIMITS", "rate-limits", "on|off",
     "limit votes per address bucket and poll, with proof of work past the free ones (on)",
     config_set_rate_limits},
    {"THAMDO_TRUSTED_PROXIES", "trusted-proxies", "CIDRS",
     "proxies whose Forwarded / X-Forwarded-For name the reader (CIDR list; none)",
     config_set_trusted_proxies},
    {"THAMDO_RATE_WINDOW_SECONDS", "rate-window-seconds", "SECONDS",
     "length of a rate-limit window (600)", config_set_rate_window},
    {"THAMDO_RATE_FREE", "rate-free", "N",
     "first ballots per bucket, poll and window without a challenge (20)", config_set_rate_free},
    {"THAMDO_RATE_MAX", "rate-max", "N",
     "first ballots per bucket, poll and window at most, challenges solved or not (60)",
     config_set_rate_max},
    {"THAMDO_RATE_ATTEMPTS", "rate-attempts", "N",
     "vote requests of any kind per bucket, poll and window (300)", config_set_rate_attempts},
    {"THAMDO_POW_DIFFICULTY", "pow-difficulty", "BITS",
     "leading zero bits of the first challenge; rises with the bucket's rate, up to 24 (14)",
     config_set_pow_difficulty},
    {"THAMDO_POW_SECONDS", "pow-seconds", "SECONDS", "lifetime of a challenge (120)",
     config_set_pow_seconds},
    {"THAMDO_ADMIN_TOKENS", "admin-tokens", "TOKENS",
     "bearer tokens of the admin API, comma-separated; none: admin is off", config_set_tokens},
    {"THAMDO_ADMIN_TOKENS_FILE", "admin-tokens-file", "FILE",
     "file with admin tokens, one per line (adds to THAMDO_ADMIN_TOKENS)", config_set_tokens_file},
    {"THAMDO_ADMIN_LISTEN", "admin-listen", "HOST:PORT",
     "serve the admin API and dashboard on this address only, without CORS (none: on "
     "THAMDO_LISTEN)",
     config_set_admin_listen},
    {"THAMDO_TIMEZONE", "timezone", "ZONE",
     "time zone of days, weeks and reports (Asia/Ho_Chi_Minh)", config_set_timezone},
    {"THAMDO_SITES", "sites", "KEYS",
     "sites the visitor counter counts for, comma-separated; the first is the default (default)",
     config_set_sites},
    {"THAMDO_VISIT_MODE", "visit-mode", "session|hits",
     "one visit per reader per session, or every page view (session)", config_set_visit_mode},
    {"THAMDO_VISIT_SESSION_MINUTES", "visit-session-minutes", "MINUTES",
     "a reader seen again within this is the same visit (30)", config_set_session},
    {"THAMDO_ONLINE_MINUTES", "online-minutes", "MINUTES",
     "\"online\" counts distinct readers seen within this (5)", config_set_online},
    {"THAMDO_MAX_STREAMS", "max-streams", "N",
     "live results streams open at once in this process (20000; 0: off)", config_set_max_streams},
    /* Stopping and limits on slow or greedy clients */
    {"THAMDO_LAME_DUCK_MS", "lame-duck-ms", "MS",
     "after a stop signal, /readyz fails this long before the listener closes (0)",
     config_set_lame_duck},
    {"THAMDO_DRAIN_MS", "drain-ms", "MS",
     "longest wait at a stop for the answers still being sent (10000)", config_set_drain},
    {"THAMDO_MAX_CONNECTIONS", "max-connections", "N",
     "open connections at once in this process (0: the descriptor limit less a reserve)",
     config_set_max_connections},
    {"THAMDO_HEADER_TIMEOUT_MS", "header-timeout-ms", "MS",
     "a request head must arrive whole within this of its first byte (10000)",
     config_set_header_timeout},
    {"THAMDO_BODY_TIMEOUT_MS", "body-timeout-ms", "MS",
     "a request body must arrive whole within this of its head (30000)", config_set_body_timeout},
    {"THAMDO_DEMO", "demo", "BOOL", "serve the demo portal page at / (true)", config_set_demo},
    {"THAMDO_MODE", "mode", "production|test", "test enables test-only settings (production)",
     config_set_mode},
    {"THAMDO_TEST_CLOCK", "test-clock", "BOOL",
     "TEST ONLY: take the time from the X-Thamdo-Test-Now header; refused in production mode",
     config_set_test_clock},
    {"THAMDO_THREADS", "threads", "N",
     "event loops serving HTTP, each with its own Redis link (one per online CPU)",
     config_set_threads},
    {"THAMDO_LOG_LEVEL", "log-level", "LEVEL", "debug, info, warn or error (info)",
     config_set_log_level},
    /* logs and metrics */
    {"THAMDO_LOG_FORMAT", "log-format", "text|json",
     "log lines as text, or one JSON object a line (text)", config_set_log_format},
};

#define CONFIG_NOPTS (sizeof(config_opts) / sizeof(config_opts[0]))

static size_t config_index(config_setter *set)
{
    size_t i = 0;
    while (i < CONFIG_NOPTS && config_opts[i].set != set)
        i++;
    return i;
}

static void config_usage(FILE *out)
{
    fprintf(out, "Usage: thamdo [OPTION]...\n"
                 "Opinion-poll and visitor-counter service for web portals.\n\n"
                 "Every option can also be set by the environment variable shown;\n"
                 "a flag overrides the variable.\n\n");
    for (size_t i = 0; i < CONFIG_NOPTS; i++) {
        const struct config_opt *o = &config_opts[i];
        char left[64];
        snprintf(left, sizeof(left), "--%s=%s", o->flag, o->arg);
        fprintf(out, "  %-34s %s\n  %-34s   env %s\n", left, o->help, "", o->env);
    }
    fprintf(out, "  %-34s %s\n  %-34s %s\n", "--help", "print this help and exit", "--version",
            "print the version and exit");
    fprintf(out, "  %-34s %s\n  %-34s   %s\n", "--healthcheck[=ready|live]",
            "GET /readyz (live: /healthz) on the listen address, 0.0.0.0 and :: meaning", "",
            "loopback; exit 0 on 200 within 2 s, else 1 (for a container's HEALTHCHECK)");
}

static void config_defaults(struct config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    snprintf(cfg->listen_host, sizeof(cfg->listen_host), "127.0.0.1");
    cfg->listen_port = 8080;
    cfg->redis.kind = CONFIG_REDIS_EMBEDDED;
    snprintf(cfg->data_dir, sizeof(cfg->data_dir), "./var");
    snprintf(cfg->key_prefix, sizeof(cfg->key_prefix), "thamdo:");
    cfg->redis_timeout_ms = 2000;
    snprintf(cfg->sentinel_master, sizeof(cfg->sentinel_master), "mymaster");
    cfg->max_body = 4096;
    cfg->rate_limits = 1;
    cfg->rate_window = 600;
    cfg->rate_free = 20;
    cfg->rate_max = 60;
    cfg->rate_attempts = 300;
    cfg->pow_difficulty = 14;
    cfg->pow_seconds = 120;
    cfg->log_level = LOG_INFO;
    cfg->log_format = LOG_FORMAT_TEXT;
    snprintf(cfg->cookie.name, sizeof(cfg->cookie.name), "thamdo_vid");
    snprintf(cfg->timezone, sizeof(cfg->timezone), "Asia/Ho_Chi_Minh");
    snprintf(cfg->sites[0], sizeof(cfg->sites[0]), "default");
    cfg->n_sites = 1;
    cfg->session_minutes = 30;
    cfg->online_minutes = 5;
    cfg->max_streams = 20000;
    cfg->drain_ms = 10000;
    cfg->header_timeout_ms = 10000;
    cfg->body_timeout_ms = 30000;
    cfg->demo = 1;
    cfg->cookie.samesite = COOKIE_SAMESITE_LAX;
    cfg->cookie.max_age = 34560000;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    cfg->threads = cpus < 1 ? 1 : cpus > CONFIG_THREADS_MAX ? CONFIG_THREADS_MAX : (int)cpus;
}

static int config_apply(struct config *cfg, const struct config_opt *o, const char *value,
                        const char *name)
{
    struct config_err e = {.why = "invalid value"};
    if (o->set(cfg, value, &e) != 0) {
        fprintf(stderr, "thamdo: %s: %s\n", name, e.why);
        return -1;
    }
    return 0;
}

enum config_result config_load(struct config *cfg, int argc, char **argv)
{
    /* The value of each setting and where it came from: a flag wins over the
     * variable, so a bad variable that a flag overrides is never read. */
    const char *value[CONFIG_NOPTS] = {0};
    char source[CONFIG_NOPTS][80];
    config_defaults(cfg);

    for (size_t i = 0; i < CONFIG_NOPTS; i++) {
        value[i] = getenv(config_opts[i].env);
        snprintf(source[i], sizeof(source[i]), "%s", config_opts[i].env);
    }

    struct option longopts[CONFIG_NOPTS + 4];
    for (size_t i = 0; i < CONFIG_NOPTS; i++)
        longopts[i] = (struct option){config_opts[i].flag, required_argument, NULL, (int)i};
    longopts[CONFIG_NOPTS] = (struct option){"help", no_argument, NULL, 'h' + 1000};
    longopts[CONFIG_NOPTS + 1] = (struct option){"version", no_argument, NULL, 'v' + 1000};
    longopts[CONFIG_NOPTS + 2] =
        (struct option){"healthcheck", optional_argument, NULL, 'c' + 1000};
    longopts[CONFIG_NOPTS + 3] = (struct option){NULL, 0, NULL, 0};

    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (c == 'h' + 1000) {
            config_usage(stdout);
            return CONFIG_EXIT_OK;
        }
        if (c == 'v' + 1000) {
            printf("thamdo %s\n", THAMDO_VERSION);
            return CONFIG_EXIT_OK;
        }
        if (c == 'c' + 1000) {
            if (optarg == NULL || strcmp(optarg, "ready") == 0) {
                cfg->healthcheck = CONFIG_HEALTHCHECK_READY;
            } else if (strcmp(optarg, "live") == 0) {
                cfg->healthcheck = CONFIG_HEALTHCHECK_LIVE;
            } else {
                cfg->healthcheck = CONFIG_HEALTHCHECK_READY; /* so the exit status is 1 */
                fprintf(stderr, "thamdo: --healthcheck: expected ready or live\n");
                goto usage;
            }
            continue;
        }
        if (c < 0 || (size_t)c >= CONFIG_NOPTS) {
            const char *bad = argv[optind - 1] ? argv[optind - 1] : "?";
            fprintf(stderr, "thamdo: %s: unknown option or missing value (see --help)\n", bad);
            goto usage;
        }
        value[c] = optarg;
        snprintf(source[c], sizeof(source[c]), "--%s", config_opts[c].flag);
    }
    if (optind < argc) {
        fprintf(stderr, "thamdo: %s: unexpected argument (see --help)\n", argv[optind]);
        goto usage;
    }

    int secret_set = 0, secure_set = 0;
    for (size_t i = 0; i < CONFIG_NOPTS; i++) {
        if (value[i] == NULL)
            continue;
        if (config_opts[i].set == config_set_secret_file && secret_set) {
            fprintf(stderr,
                    "thamdo: %s: set either THAMDO_SECRET or THAMDO_SECRET_FILE, not both\n",
                    source[i]);
            goto usage;
        }
        if (config_opts[i].set == config_set_secret)
            secret_set = 1;
        if (config_opts[i].set == config_set_secure)
            secure_set = 1;
        if (config_apply(cfg, &config_opts[i], value[i], source[i]))
            goto usage;
    }

    if (cfg->cookie.samesite == COOKIE_SAMESITE_NONE) {
        if (secure_set && !cfg->cookie.secure) {
            fprintf(stderr, "thamdo: THAMDO_COOKIE_SECURE: SameSite=None requires Secure\n");
            goto usage;
        }
        cfg->cookie.secure = 1;
    }
    if (!value[config_index(config_set_timezone)]) {
        /* The default zone must exist too: a machine without tzdata would
         * otherwise count days in UTC without a word. */
        char zone[CONFIG_TZ_LEN];
        struct config_err e = {.why = "invalid value"};
        memcpy(zone, cfg->timezone, sizeof(zone));
        if (config_set_timezone(cfg, zone, &e) != 0) {
            fprintf(stderr, "thamdo: THAMDO_TIMEZONE: %s: %s\n", zone, e.why);
            goto usage;
        }
    }
    if (cfg->n_sentinels > 0) {
        /* Redis Sentinel: the primary's address comes from the Sentinels. */
        if (cfg->redis.kind == CONFIG_REDIS_UNIX) {
            fprintf(stderr, "thamdo: THAMDO_SENTINELS: the primary is reached over TCP; "
                            "THAMDO_REDIS_URL may give redis://:password@any/db, not a socket\n");
            goto usage;
        }
        cfg->redis.kind = CONFIG_REDIS_TCP;
    }
    if (cfg->test_clock && !cfg->test_mode) {
        fprintf(stderr, "thamdo: THAMDO_TEST_CLOCK: a test-only setting, refused in production "
                        "mode (it needs THAMDO_MODE=test)\n");
        goto usage;
    }
    if (cfg->rate_max < cfg->rate_free) {
        fprintf(stderr, "thamdo: THAMDO_RATE_MAX: must be at least THAMDO_RATE_FREE (%d)\n",
                cfg->rate_free);
        goto usage;
    }
    if (cfg->cookie.partitioned && !cfg->cookie.secure) {
        fprintf(stderr, "thamdo: THAMDO_COOKIE_PARTITIONED: Partitioned requires Secure "
                        "(set THAMDO_COOKIE_SAMESITE=None or THAMDO_COOKIE_SECURE=true)\n");
        goto usage;
    }
    return CONFIG_OK;

usage:
    config_free(cfg);
    return CONFIG_EXIT_USAGE;
}

void config_free(struct config *cfg)
{
    cookie_conf_unkey(&cfg->cookie);
    OPENSSL_cleanse(cfg->cookie.secret, sizeof(cfg->cookie.secret));
    OPENSSL_cleanse(cfg->cookie.previous, sizeof(cfg->cookie.previous));
    OPENSSL_cleanse(cfg->redis.password, sizeof(cfg->redis.password));
    OPENSSL_cleanse(cfg->sentinel_password, sizeof(cfg->sentinel_password));
    OPENSSL_cleanse(cfg->admin_tokens, sizeof(cfg->admin_tokens));
    OPENSSL_cleanse(cfg->admin_token_digests, sizeof(cfg->admin_token_digests));
    json_decref(cfg->polls);
    cfg->polls = NULL;
}
