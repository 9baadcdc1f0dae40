/* datadir.c - create, lock and read the data directory.
 *
 * The lock is an flock() on DIR/thamdo.lock held for the life of the process,
 * released by the kernel if the process dies. The secret is written with
 * O_EXCL, so two instances starting at once agree on one secret. */
#include "datadir.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

static int datadir_mkdirs(const char *path)
{
    char buf[4096];
    size_t len = strlen(path);
    if (len == 0 || len >= sizeof(buf))
        return -1;
    memcpy(buf, path, len + 1);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0700) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(buf, 0700) != 0 && errno != EEXIST)
        return -1;
    return 0;
}

int datadir_open(struct datadir *dd, const char *path, int lock, char *err, size_t err_size)
{
    dd->lock_fd = -1;
    if (datadir_mkdirs(path) != 0) {
        snprintf(err, err_size, "cannot create directory %s: %s", path, strerror(errno));
        return -1;
    }
    char *abs = realpath(path, NULL);
    if (!abs || strlen(abs) >= sizeof(dd->path)) {
        snprintf(err, err_size, "cannot resolve directory %s", path);
        free(abs);
        return -1;
    }
    snprintf(dd->path, sizeof(dd->path), "%s", abs);
    free(abs);
    if (!lock)
        return 0;

    char lockpath[4200];
    snprintf(lockpath, sizeof(lockpath), "%s/thamdo.lock", dd->path);
    int fd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, err_size, "cannot open %s: %s", lockpath, strerror(errno));
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        snprintf(err, err_size,
                 "%s is in use by another thamdo; give each instance its own data directory, "
                 "or share one Redis with THAMDO_REDIS_URL",
                 dd->path);
        close(fd);
        return -1;
    }
    dd->lock_fd = fd;
    return 0;
}

static int datadir_read_secret(const char *file, struct cookie_conf *conf, char *err,
                               size_t err_size)
{
    char buf[COOKIE_SECRET_MAX + 2];
    int fd = open(file, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    struct stat sb;
    if (fstat(fd, &sb) == 0 && (sb.st_mode & 077))
        log_warn("secret_file_readable", "%s is readable by other users; chmod 600 it", file);
    ssize_t n = read(fd, buf, sizeof(buf));
    close(fd);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        n--;
    if (n < COOKIE_SECRET_MIN || n > COOKIE_SECRET_MAX) {
        OPENSSL_cleanse(buf, sizeof(buf));
        snprintf(err, err_size, "%s must hold a secret of 32 to 256 bytes", file);
        errno = EINVAL;
        return -1;
    }
    memcpy(conf->secret, buf, (size_t)n);
    conf->secret_len = (size_t)n;
    OPENSSL_cleanse(buf, sizeof(buf));
    return 0;
}

int datadir_secret(const struct datadir *dd, struct cookie_conf *conf, char *err, size_t err_size)
{
    char file[4200];
    snprintf(file, sizeof(file), "%s/secret", dd->path);
    if (datadir_read_secret(file, conf, err, err_size) == 0)
        return 0;
    if (errno != ENOENT) {
        if (errno != EINVAL)
            snprintf(err, err_size, "cannot read %s: %s", file, strerror(errno));
        return -1;
    }

    unsigned char raw[32];
    char hex[65];
    if (RAND_bytes(raw, sizeof(raw)) != 1) {
        snprintf(err, err_size, "the random number generator failed");
        return -1;
    }
    for (size_t i = 0; i < sizeof(raw); i++)
        snprintf(hex + 2 * i, 3, "%02x", raw[i]);
    OPENSSL_cleanse(raw, sizeof(raw));

    int fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        OPENSSL_cleanse(hex, sizeof(hex));
        if (errno == EEXIST) /* another instance just made it */
            return datadir_read_secret(file, conf, err, err_size);
        snprintf(err, err_size, "cannot create %s: %s", file, strerror(errno));
        return -1;
    }
    int ok = write(fd, hex, 64) == 64 && write(fd, "\n", 1) == 1 && fsync(fd) == 0;
    close(fd);
    if (!ok) {
        OPENSSL_cleanse(hex, sizeof(hex));
        unlink(file);
        snprintf(err, err_size, "cannot write %s", file);
        return -1;
    }
    memcpy(conf->secret, hex, 64);
    conf->secret_len = 64;
    OPENSSL_cleanse(hex, sizeof(hex));
    log_info("secret_generated", "generated a new cookie secret in %s", file);
    return 0;
}

void datadir_close(struct datadir *dd)
{
    if (dd->lock_fd >= 0)
        close(dd->lock_fd);
    dd->lock_fd = -1;
}
