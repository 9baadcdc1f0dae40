/* store_salt.c - the daily salt of reader identities (salt.lua).
 *
 * One key per day, PREFIX salt:<day>, 32 random bytes written with SET NX so
 * that every worker of every instance gets the first one written, expiring
 * after STORE_SALT_SECONDS. Must not log the salt. */
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <string.h>

#include "log.h"
#include "store.h"
#include "store_call.h"

static void store_parse_salt(struct store_call *c, const redisReply *reply)
{
    store_salt_cb *cb = (store_salt_cb *)c->cb;
    if (!reply || reply->type == REDIS_REPLY_NIL) { /* nil: none made (the CSPRNG failed) */
        cb(c->arg, NULL);
        return;
    }
    if (reply->type != REDIS_REPLY_STRING || reply->len != STORE_SALT_LEN) {
        log_error("salt_damaged", "redis %s: the day's salt is not %d bytes", c->what,
                  STORE_SALT_LEN);
        cb(c->arg, NULL);
        return;
    }
    cb(c->arg, (const unsigned char *)reply->str);
}

void store_salt_get(struct store *st, const char *day, store_salt_cb *cb, void *arg)
{
    unsigned char fresh[STORE_SALT_LEN];
    struct store_call *c =
        store_call_new(st, STORE_SCRIPT_SALT, "salt", store_parse_salt, (store_fn *)cb, arg);
    int made = RAND_bytes(fresh, sizeof(fresh)) == 1;
    if (!made) /* then only a salt already made is read */
        log_error("salt_random_failed", "the CSPRNG failed: no salt made");
    store_call_arg(c, "1", 1);
    store_call_argf(c, "%ssalt:%s", store_key_prefix(st), day);
    store_call_arg(c, fresh, made ? sizeof(fresh) : 0);
    store_call_argf(c, "%d", STORE_SALT_SECONDS);
    OPENSSL_cleanse(fresh, sizeof(fresh));
    store_call_send(c);
}
