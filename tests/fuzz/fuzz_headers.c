/* fuzz_headers.c - the request headers the service reads itself:
 * Authorization (auth_bearer_ok, src/admin/auth.c), User-Agent
 * (bots_is_robot, src/rules/bots.c), X-Request-Id (request_id_valid,
 * src/http/request.c) and If-None-Match (http_etag_matches,
 * src/http/http_util.c).
 *
 * The input is one header value, given to each. Properties: a bearer header
 * is accepted only when its token, without the spaces around it, is the
 * configured one, and "Bearer <token>" always is; an accepted request id is
 * 1..REQUEST_ID_MAX bytes of [A-Za-z0-9._:-]; an entity tag is found in an
 * If-None-Match list that names it. */
#include <strings.h>

#include "auth.h"
#include "bots.h"
#include "config.h"
#include "fuzz.h"
#include "http_util.h"
#include "request.h"

#define FUZZ_TOKEN "fuzz-admin-token-0123456789abcdef"

static struct config *fuzz_cfg;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_cfg = calloc(1, sizeof(*fuzz_cfg));
    FUZZ_CHECK(fuzz_cfg != NULL);
    snprintf(fuzz_cfg->admin_tokens[0], sizeof(fuzz_cfg->admin_tokens[0]), "%s", FUZZ_TOKEN);
    fuzz_cfg->n_tokens = 1;
    FUZZ_CHECK(auth_prepare(fuzz_cfg) == 0);
    FUZZ_CHECK(auth_bearer_ok(fuzz_cfg, "Bearer " FUZZ_TOKEN));
    return 0;
}

static void fuzz_bearer(const char *s)
{
    if (!auth_bearer_ok(fuzz_cfg, s))
        return;
    FUZZ_CHECK(strncasecmp(s, "Bearer ", 7) == 0);
    const char *t = s + 7;
    while (*t == ' ')
        t++;
    size_t n = strlen(t);
    while (n > 0 && t[n - 1] == ' ')
        n--;
    FUZZ_CHECK(n == strlen(FUZZ_TOKEN) && memcmp(t, FUZZ_TOKEN, n) == 0);
}

static void fuzz_request_id(const char *s)
{
    if (!request_id_valid(s))
        return;
    size_t n = strlen(s);
    FUZZ_CHECK(n >= 1 && n <= REQUEST_ID_MAX);
    FUZZ_CHECK(strspn(s, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ._:-") ==
               n);
}

static void fuzz_etag(const char *s)
{
    (void)http_etag_matches(s, "\"3f-1a2b\"");
    /* The input's first part (to a comma) as the tag, in a list after another one. */
    char tag[80], header[200];
    size_t n = strcspn(s, ",");
    if (n >= sizeof(tag))
        n = sizeof(tag) - 1;
    memcpy(tag, s, n);
    tag[n] = '\0';
    snprintf(header, sizeof(header), "W/\"x\", %s", tag);
    if (n > 0 && tag[0] != 'W' && tag[0] != '*' && tag[0] != ' ' && tag[0] != '\t' &&
        tag[n - 1] != ' ' && tag[n - 1] != '\t')
        FUZZ_CHECK(http_etag_matches(header, tag));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_strndup(data, size);
    fuzz_bearer(s);
    (void)bots_is_robot(s);
    fuzz_request_id(s);
    fuzz_etag(s);
    free(s);
    return 0;
}
