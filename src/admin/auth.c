/* auth.c - constant-time bearer token check.
 *
 * Both sides are hashed with SHA-256 before comparing, so the time taken
 * depends neither on where they differ nor on their lengths, and every
 * configured token is compared every time. The tokens' digests are made once
 * at start, with SHA-256 fetched once (no implicit fetch per request). The
 * actor of an editor's action is the matching token's name, or "token-<n>"
 * (its position): never the token or its digest. Must not log. */
#include "auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "config.h"

static EVP_MD *auth_sha256; /* fetched once by auth_prepare(); read-only after */

static void auth_digest(const char *s, size_t len, unsigned char out[32])
{
    unsigned int n = 32;
    EVP_Digest(s, len, out, &n, auth_sha256 ? auth_sha256 : EVP_sha256(), NULL);
}

int auth_prepare(struct config *cfg)
{
    if (!auth_sha256)
        auth_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    for (size_t i = 0; i < cfg->n_tokens; i++)
        auth_digest(cfg->admin_tokens[i], strlen(cfg->admin_tokens[i]),
                    cfg->admin_token_digests[i]);
    return auth_sha256 ? 0 : -1;
}

int auth_bearer_ok(const struct config *cfg, const char *header)
{
    unsigned char given[32];
    unsigned found = 0;
    if (!header || cfg->n_tokens == 0 || strncasecmp(header, "Bearer ", 7) != 0)
        return 0;
    const char *token = header + 7;
    while (*token == ' ')
        token++;
    size_t len = strlen(token);
    while (len > 0 && token[len - 1] == ' ')
        len--;
    if (len == 0)
        return 0;
    auth_digest(token, len, given);
    /* Every token is compared; the position of the one that matches is kept
     * without a branch on the comparison (two tokens are never equal
     * digests in practice; the last match would win). */
    for (size_t i = 0; i < cfg->n_tokens; i++) {
        unsigned match = (unsigned)(CRYPTO_memcmp(given, cfg->admin_token_digests[i], 32) == 0);
        unsigned mask = 0u - match;
        found = (found & ~mask) | ((unsigned)(i + 1) & mask);
    }
    OPENSSL_cleanse(given, sizeof(given));
    return (int)found;
}

void auth_actor(const struct config *cfg, int which, char out[AUTH_ACTOR_MAX + 1])
{
    if (which >= 1 && (size_t)which <= cfg->n_tokens && cfg->admin_token_names[which - 1][0])
        snprintf(out, AUTH_ACTOR_MAX + 1, "%s", cfg->admin_token_names[which - 1]);
    else
        snprintf(out, AUTH_ACTOR_MAX + 1, "token-%d", which);
}
