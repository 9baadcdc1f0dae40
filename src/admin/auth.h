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

#define AUTH_ACTOR_MAX 32 /* a token's name, or "token-<n>" */

/* The 1-based position of the configured token that header (the
 * Authorization value, may be NULL) carries, or 0: none. */
int auth_bearer_ok(const struct config *cfg, const char *header);

/* The actor for the audit log of the token at position which (1-based):
 * its name (THAMDO_ADMIN_TOKENS "name:token"), else "token-<which>". */
void auth_actor(const struct config *cfg, int which, char out[AUTH_ACTOR_MAX + 1]);

#endif
