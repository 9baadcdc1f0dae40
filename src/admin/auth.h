/* auth.h - the admin bearer tokens.
 *
 * Owns: checking "Authorization: Bearer <token>" against THAMDO_ADMIN_TOKENS
 * in constant time. Must never log, echo or hint at a token: a wrong token,
 * a missing one and a malformed header are the same answer. */
#ifndef THAMDO_AUTH_H
#define THAMDO_AUTH_H

struct config;

/* Once at start, before any worker: the digest of each configured token
 * (cfg->admin_token_digests). 0, or -1 when OpenSSL has no SHA-256. */
int auth_prepare(struct config *cfg);

/* 1 when header (the Authorization value, may be NULL) carries one of the
 * configured tokens. */
int auth_bearer_ok(const struct config *cfg, const char *header);

#endif
