/* identity.h - who a reader is without a cookie, and which address bucket
 * they vote from, under a salt that changes every day.
 *
 * API:
 *   identity_bucket()  sets r->bucket (the hashed rate-limit bucket of the
 *                      reader's address) for today's salt, then continues;
 *   identity_reader()  afterwards: the cookie-less reader id of a site.
 * The salt: STORE_SALT_LEN random bytes in Redis at PREFIX salt:<day> (the
 * day of THAMDO_TIMEZONE by the request's clock), made by whichever worker
 * needs it first (store_salt_get), kept by each worker for the day, deleted
 * by Redis after 48 hours: every instance computes the same hashes, and no
 * one can recompute a day's once its salt has expired. Owns: the salt cache
 * (per worker thread) and the hashes. Must not keep or log an address, a
 * salt or a hash input. */
#ifndef THAMDO_IDENTITY_H
#define THAMDO_IDENTITY_H

#include "cookie.h"
#include "request.h"

#define IDENTITY_BUCKET_HEX 16
_Static_assert(IDENTITY_BUCKET_HEX == REQUEST_BUCKET_HEX, "struct request's bucket field");

/* Makes sure r->bucket (16 hex chars + NUL: first 8 bytes of HMAC-SHA256(salt, tag||bucket bytes))
 * is set for today's salt, then calls cb(r, 1); cb(r, 0) when the salt cannot be had (Redis down:
 * the caller answers 503). May call cb before it returns (salt cached by the worker). */
typedef void identity_cb(struct request *r, int ok);
void identity_bucket(struct request *r, identity_cb *cb);

/* After identity_bucket() said 1: the cookie-less reader id for site: the first 16 bytes of
 * HMAC-SHA256(salt, "r" || bucket bytes || 0 || User-Agent || 0 || site). */
void identity_reader(const struct request *r, const char *site, unsigned char out[COOKIE_ID_LEN]);

/* Forgets the calling worker's salts (its loop is ending). */
void identity_thread_end(void);

#endif
