/* auth.c - constant-time bearer token check.
 *
 * Both sides are hashed with SHA-256 before comparing, so the time taken
 * depends neither on where they differ nor on their lengths, and every
 * configured token is compared every time. The tokens' digests are made once
 * at start, with SHA-256 fetched once (no implicit fetch per request). Must
 * not log. */
#include "auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
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
    int ok = 0;
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
    for (size_t i = 0; i < cfg->n_tokens; i++)
        ok |= CRYPTO_memcmp(given, cfg->admin_token_digests[i], 32) == 0;
    OPENSSL_cleanse(given, sizeof(given));
    return ok;
}
