/* assets.c - serving the built-in files of web/.
 *
 * Each file is embedded twice (raw and gzip -9) with an ETag taken from its
 * SHA-256 at build time (scripts/embed_assets.sh); the gzip copy has its own
 * ETag (the same with "-gz"). A client that accepts gzip gets the smaller
 * copy; one whose If-None-Match names the ETag of the copy it would get
 * gets 304. Must not touch the file system or keep state. */
#include "assets.h"

#include <event2/buffer.h>
#include <stddef.h>
#include <stdio.h>
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

/* The validator of the copy sent: the file's ETag for the raw bytes, the
 * same with "-gz" inside the quotes for the gzip copy, so that a cache
 * never answers one coding's request with the other's bytes. */
static void assets_etag(const struct asset_file *a, int gzip, char *buf, size_t size)
{
    size_t n = strlen(a->etag); /* "0123456789abcdef0123" */
    if (!gzip || n < 2 || n + 3 >= size)
        snprintf(buf, size, "%s", a->etag);
    else
        snprintf(buf, size, "%.*s-gz\"", (int)(n - 1), a->etag);
}

/* 1 when If-None-Match (a list of entity tags, or *) names etag; weak tags
 * (W/"...") match too, as RFC 9110 wants for If-None-Match. */
static int assets_none_match(const char *inm, const char *etag)
{
    size_t want = strlen(etag);
    for (const char *p = inm; p && *p;) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        size_t n = strcspn(p, ",");
        size_t len = n;
        while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
            len--;
        const char *tag = p;
        if (len == 1 && tag[0] == '*')
            return 1;
        if (len > 2 && tag[0] == 'W' && tag[1] == '/') {
            tag += 2;
            len -= 2;
        }
        if (len == want && memcmp(tag, etag, want) == 0)
            return 1;
        p += n;
    }
    return 0;
}

void assets_serve(struct request *r, const char *name)
{
    const struct asset_file *a = assets_find(name);
    char etag[64];
    if (!a) {
        request_reply_error(r, 404, "not_found", "There is nothing at this address.");
        return;
    }
    const char *type = assets_type(a->name);
    int html = strstr(type, "text/html") != NULL;
    int gzip = assets_accepts_gzip(request_header(r, "Accept-Encoding"));
    assets_etag(a, gzip, etag, sizeof(etag));
    request_add_header(r, "ETag", etag);
    request_add_header(r, "Vary", "Accept-Encoding");
    /* Pages revalidate every time; scripts and styles may be reused for five
     * minutes, so a release reaches readers quickly without a versioned URL. */
    request_add_header(r, "Cache-Control", html ? "no-cache" : "public, max-age=300");
    request_add_header(r, "X-Content-Type-Options", "nosniff");

    const char *inm = request_header(r, "If-None-Match");
    if (inm && assets_none_match(inm, etag)) {
        request_reply_buffer(r, 304, NULL, NULL);
        return;
    }
    struct evbuffer *body = evbuffer_new();
    if (gzip) {
        request_add_header(r, "Content-Encoding", "gzip");
        evbuffer_add_reference(body, a->gz, a->gz_len, NULL, NULL);
    } else {
        evbuffer_add_reference(body, a->raw, a->raw_len, NULL, NULL);
    }
    request_reply_buffer(r, 200, type, body);
    evbuffer_free(body);
}
