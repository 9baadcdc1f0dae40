/* widget-pow-tool.c - the service's own proof-of-work code (src/http/pow.c) from the command
 * line, for the browser tests and tests/browser/pow-bench.mjs.
 *
 *   widget-pow-tool mint SECRET POLL BUCKET DIFFICULTY EXPIRES   prints a token
 *   widget-pow-tool check SECRET HEADER POLL BUCKET NOW          prints pow_check's result name
 *   widget-pow-tool solve TOKEN DIFFICULTY                       prints the smallest answer
 *   widget-pow-tool rate DIFFICULTY SECONDS                      a scripted voter on one core
 *
 * rate mints challenges and solves them one after another for SECONDS on the calling thread
 * (OpenSSL's SHA-256, the token's prefix hashed once per challenge as a real solver would),
 * and prints one JSON line {difficulty, solves, seconds, per_second, hashes_per_second}.
 * Owns nothing of the product; must not be linked into it. */
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cookie.h"
#include "pow.h"

static void tool_conf(struct cookie_conf *conf, const char *secret)
{
    memset(conf, 0, sizeof(*conf));
    conf->secret_len = strlen(secret);
    if (conf->secret_len > COOKIE_SECRET_MAX) {
        fprintf(stderr, "secret too long\n");
        exit(2);
    }
    memcpy(conf->secret, secret, conf->secret_len);
}

/* The smallest answer for token at difficulty; *hashes gets how many were tried. */
static unsigned long long tool_solve(const char *token, int difficulty, unsigned long long *hashes)
{
    EVP_MD_CTX *base = EVP_MD_CTX_new();
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!base || !ctx || EVP_DigestInit_ex(base, EVP_sha256(), NULL) != 1 ||
        EVP_DigestUpdate(base, token, strlen(token)) != 1 || EVP_DigestUpdate(base, ":", 1) != 1)
        abort();
    unsigned char d[32];
    char num[24];
    unsigned long long a = 0;
    for (;; a++) {
        int n = snprintf(num, sizeof(num), "%llu", a);
        if (EVP_MD_CTX_copy_ex(ctx, base) != 1 || EVP_DigestUpdate(ctx, num, (size_t)n) != 1 ||
            EVP_DigestFinal_ex(ctx, d, NULL) != 1)
            abort();
        if (pow_zero_bits(d) >= difficulty)
            break;
    }
    EVP_MD_CTX_free(ctx);
    EVP_MD_CTX_free(base);
    if (hashes)
        *hashes += a + 1;
    return a;
}

static double tool_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    struct cookie_conf conf;
    char token[POW_TOKEN_MAX + 1];
    if (argc == 7 && strcmp(argv[1], "mint") == 0) {
        tool_conf(&conf, argv[2]);
        if (pow_mint(&conf, argv[3], argv[4], atoi(argv[5]), strtoll(argv[6], NULL, 10), token) !=
            0)
            return 1;
        puts(token);
        return 0;
    }
    if (argc == 7 && strcmp(argv[1], "check") == 0) {
        struct pow_proof proof;
        tool_conf(&conf, argv[2]);
        enum pow_result r =
            pow_check(&conf, argv[3], argv[4], argv[5], strtoll(argv[6], NULL, 10), &proof);
        printf("%s %d %s\n", pow_result_name(r), proof.difficulty, proof.id);
        return 0;
    }
    if (argc == 4 && strcmp(argv[1], "solve") == 0) {
        printf("%llu\n", tool_solve(argv[2], atoi(argv[3]), NULL));
        return 0;
    }
    if (argc == 4 && strcmp(argv[1], "rate") == 0) {
        int difficulty = atoi(argv[2]);
        double seconds = atof(argv[3]);
        unsigned long long hashes = 0, solves = 0;
        tool_conf(&conf, "a-secret-of-the-scripted-voter-of-32-bytes");
        double start = tool_now(), elapsed = 0;
        while (elapsed < seconds) {
            if (pow_mint(&conf, "bench", "0123456789abcdef", difficulty, 4000000000LL, token) != 0)
                return 1;
            tool_solve(token, difficulty, &hashes);
            solves++;
            elapsed = tool_now() - start;
        }
        printf("{\"difficulty\":%d,\"solves\":%llu,\"seconds\":%.3f,\"per_second\":%.3f,"
               "\"hashes_per_second\":%.0f}\n",
               difficulty, solves, elapsed, (double)solves / elapsed, (double)hashes / elapsed);
        return 0;
    }
    fprintf(stderr, "usage: widget-pow-tool mint SECRET POLL BUCKET DIFFICULTY EXPIRES\n"
                    "       widget-pow-tool check SECRET HEADER POLL BUCKET NOW\n"
                    "       widget-pow-tool solve TOKEN DIFFICULTY\n"
                    "       widget-pow-tool rate DIFFICULTY SECONDS\n");
    return 2;
}
