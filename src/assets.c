/* assets.c - serving the built-in files of web/.
 *
 * Each file is embedded twice (raw and gzip -9) with an ETag taken from its
 * SHA-256 at build time (scripts/embed_assets.sh). A client that sends a
 * matching If-None-Match gets 304; one that accepts gzip gets the smaller
 * copy. Must not touch the file system or keep state. */
#include "assets.h"

#include <event2/buffer.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "request.h"

struct asset_file {
    const char *name;
    const char *etag;
    const unsigned char *raw;
    size_t raw_len;
    const unsigned char *gz;
    size_t gz_len;
};

#include "web_assets.h" /* generated: assets_table */

static const struct asset_file *assets_find(const char *name)
{
    for (const struct asset_file *a = assets_table; a->name; a++) {
        if (strcmp(a->name, name) == 0)
            return a;
    }
    return NULL;
}

int assets_exists(const char *name)
{
    return assets_find(name) != NULL;
}

static const char *assets_type(const char *name)
{
    static const struct {
        const char *ext;
        const char *type;
    } types[] = {
        {".js", "application/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".html", "text/html; charset=utf-8"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".json", "application/json; charset=utf-8"},
    };
    const char *dot = strrchr(name, '.');
    for (size_t i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++) {
        if (strcmp(dot, types[i].ext) == 0)
            return types[i].type;
    }
    return "application/octet-stream";
}

/* 1 when Accept-Encoding admits gzip (and does not give it q=0). */
static int assets_accepts_gzip(const char *ae)
{
    const char *p = ae ? strcasestr(ae, "gzip") : NULL;
    if (!p)
        return 0;
    p += 4;
    while (*p == ' ')
        p++;
    if (*p == ';') {
        const char *q = strstr(p, "q=");
        if (q && strtod(q + 2, NULL) <= 0.0)
            return 0;
    }
    return 1;
}

void assets_serve(struct request *r, const char *name)
{
    const struct asset_file *a = assets_find(name);
    if (!a) {
        request_reply_error(r, 404, "not_found", "There is nothing at this address.");
        return;
    }
    const char *type = assets_type(a->name);
    int html = strstr(type, "text/html") != NULL;
    request_add_header(r, "ETag", a->etag);
    request_add_header(r, "Vary", "Accept-Encoding");
    /* Pages revalidate every time; scripts and styles may be reused for five
     * minutes, so a release reaches readers quickly without a versioned URL. */
    request_add_header(r, "Cache-Control", html ? "no-cache" : "public, max-age=300");
    request_add_header(r, "X-Content-Type-Options", "nosniff");

    const char *inm = request_header(r, "If-None-Match");
    if (inm && (strcmp(inm, "*") == 0 || strstr(inm, a->etag) != NULL)) {
        request_reply_buffer(r, 304, NULL, NULL);
        return;
    }
    struct evbuffer *body = evbuffer_new();
    if (assets_accepts_gzip(request_header(r, "Accept-Encoding"))) {
        request_add_header(r, "Content-Encoding", "gzip");
        evbuffer_add_reference(body, a->gz, a->gz_len, NULL, NULL);
    } else {
        evbuffer_add_reference(body, a->raw, a->raw_len, NULL, NULL);
    }
    request_reply_buffer(r, 200, type, body);
    evbuffer_free(body);
}
