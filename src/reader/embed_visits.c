/* embed_visits.c - the no-JavaScript visitor counter page.
 *
 *   GET /embed/visits?site=KEY[&lang=en]
 * The same six figures and labels as the widget's counter, numbers written
 * as the widget writes them (1.777.782 in Vietnamese, 1,777,782 in English).
 * The page has no script, no link and no form: inline CSS, answered by
 * page.c (the CSP that lets only the service's own pages and the allowed
 * origins frame it; Cache-Control: no-store, for the figures move and the
 * view is recorded at each load). Must not talk to Redis. */
#include "embed_visits.h"

#include <event2/buffer.h>
#include <stdio.h>

#include "html.h"
#include "page.h"
#include "request.h"
#include "store.h"

/* Labels in the order of struct store_visit_counts, as the widget writes them. */
static const char *const embed_visits_labels[6][2] = {
    {"Hôm nay", "Today"},        {"Hôm qua", "Yesterday"}, {"Tuần này", "This week"},
    {"Tháng này", "This month"}, {"Tất cả", "Total"},      {"Đang truy cập", "Online now"},
};

/* Each notice: its status, error code (for the access log), and its text
 * before and after the site asked for (only EMBED_VISITS_UNKNOWN_SITE names it). */
static const struct {
    int status;
    const char *code;
    const char *text[2], *after[2];
} embed_visits_notices[] = {
    [EMBED_VISITS_BAD_ADDRESS] = {400,
                                  "invalid_parameter",
                                  {"Địa chỉ của bộ đếm không hợp lệ.",
                                   "This counter address is not valid."},
                                  {"", ""}},
    [EMBED_VISITS_REFUSED] = {403,
                              "origin_not_allowed",
                              {"Bộ đếm không hiển thị được trên trang này.",
                               "This counter cannot be shown on this page."},
                              {"", ""}},
    [EMBED_VISITS_UNKNOWN_SITE] = {404,
                                   "unknown_site",
                                   {"Không tìm thấy trang '", "Unknown counter site '"},
                                   {"' trong cấu hình bộ đếm.", "'."}},
    [EMBED_VISITS_UNAVAILABLE] = {503,
                                  "store_unavailable",
                                  {"Chưa tải được số lượt truy cập.",
                                   "The visitor counter could not be loaded."},
                                  {"", ""}},
};

static struct evbuffer *embed_visits_head(const struct request *r)
{
    struct evbuffer *b = evbuffer_new();
    evbuffer_add_printf(
        b,
        "<!doctype html>\n<html lang=\"%s\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        "<title>%s</title><style>"
        "body{margin:0;padding:8px 12px;font:15px/1.45 system-ui,sans-serif;color:#1a1a1a;"
        "background:#fff}"
        "dl{display:grid;grid-template-columns:1fr auto;gap:.3em 1em;margin:0}"
        "dt{margin:0}dd{margin:0;text-align:right;font-weight:700;"
        "font-variant-numeric:tabular-nums}"
        "p{margin:0;color:#5c3b00}"
        "</style></head><body>\n",
        r->lang_en ? "en" : "vi", r->lang_en ? "Visitors" : "Truy cập");
    return b;
}

void embed_visits_page(struct request *r, const struct store_visit_counts *c)
{
    char num[32];
    int en = r->lang_en ? 1 : 0;
    struct evbuffer *b = embed_visits_head(r);
    evbuffer_add_printf(b, "<dl aria-label=\"%s\">\n", en ? "Visitors" : "Truy cập");
    for (size_t i = 0; i < 6; i++) {
        html_format_number(c->v[i], en, num, sizeof(num));
        evbuffer_add_printf(b, "<dt>%s</dt><dd>%s</dd>\n", embed_visits_labels[i][en], num);
    }
    evbuffer_add_printf(b, "</dl>\n");
    page_send(r, 200, b);
}

void embed_visits_notice(struct request *r, enum embed_visits_notice what, const char *site)
{
    int en = r->lang_en ? 1 : 0;
    struct evbuffer *b = embed_visits_head(r);
    request_set_error_code(r, embed_visits_notices[what].code);
    evbuffer_add_printf(b, "<p role=\"alert\">%s", embed_visits_notices[what].text[en]);
    if (what == EMBED_VISITS_UNKNOWN_SITE)
        html_escape(b, site ? site : "");
    evbuffer_add_printf(b, "%s</p>\n", embed_visits_notices[what].after[en]);
    page_send(r, embed_visits_notices[what].status, b);
}
