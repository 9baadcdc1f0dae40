/* embed.c - server-rendered poll page and its form post.
 *
 *   GET  /embed/polls/:id[?lang=en][&view=results][&msg=CODE]
 *   POST /embed/polls/:id[?lang=en]   form option=...  -> 303 to the page
 * Every text from a poll is escaped (html.c). The reader's state comes from
 * the cookie on each request, so a cached portal page still shows each reader
 * the right state; the page only reads the cookie, the form post mints it.
 * A POST must come from the service's own page or an allowed origin (cors.c).
 * Must not talk to Redis except through store.h. */
#include "embed.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <event2/keyvalq_struct.h>

#include "ballot.h"
#include "cache.h"
#include "config.h"
#include "form.h"
#include "cors.h"
#include "html.h"
#include "http_util.h"
#include "log.h"
#include "metrics.h"
#include "page.h"
#include "poll.h"
#include "ratelimit.h"
#include "request.h"
#include "server.h"
#include "store.h"

/* Vietnamese and English texts, indexed by enum embed_text. */
enum embed_text {
    T_VOTE = 0,
    T_SEE_RESULTS,
    T_BACK,
    T_TOTAL,
    T_VOTES_ONE,
    T_VOTES_MANY,
    T_VOTERS_ONE,
    T_VOTERS_MANY,
    T_YOUR_CHOICE,
    T_THANKS,
    T_HIDDEN,
    T_CLOSED,
    T_UPCOMING,
    T_MAX_CHOICES,
    T_MAX_CHOICES_END,
    T_MSG_VOTED,
    T_MSG_CHANGED,
    T_CHANGE,
    T_MSG_ALREADY,
    T_MSG_NO_OPTION,
    T_MSG_TOO_MANY,
    T_MSG_INVALID,
    T_MSG_CLOSED,
    T_UNAVAILABLE,
    T_RETRY,
    T_NOT_FOUND,
    T_FORBIDDEN,
    T_DAMAGED,
    T_NO_VOTER,
    T_RATE_LIMITED,
    T_COUNT,
};

static const char *const embed_texts[T_COUNT][2] = {
    [T_VOTE] = {"Bình chọn", "Vote"},
    [T_SEE_RESULTS] = {"Xem kết quả", "See results"},
    [T_BACK] = {"Quay lại bình chọn", "Back to the poll"},
    [T_TOTAL] = {"Tổng", "Total"},
    [T_VOTES_ONE] = {"phiếu", "vote"},
    [T_VOTES_MANY] = {"phiếu", "votes"},
    [T_VOTERS_ONE] = {"người bình chọn", "voter"},
    [T_VOTERS_MANY] = {"người bình chọn", "voters"},
    [T_YOUR_CHOICE] = {"lựa chọn của bạn", "your choice"},
    [T_THANKS] = {"Cảm ơn bạn đã tham gia bình chọn!", "Thank you for voting!"},
    [T_HIDDEN] = {"Kết quả sẽ được công bố sau.", "The results will be published later."},
    [T_CLOSED] = {"Cuộc thăm dò đã kết thúc.", "This poll is closed."},
    [T_UPCOMING] = {"Cuộc thăm dò chưa bắt đầu.", "This poll has not opened yet."},
    [T_MAX_CHOICES] = {"Chọn tối đa", "Choose up to"},
    [T_MAX_CHOICES_END] = {"phương án.", "options."},
    [T_MSG_VOTED] = {"Đã ghi nhận bình chọn của bạn.", "Your vote has been recorded."},
    [T_MSG_CHANGED] = {"Đã cập nhật lựa chọn của bạn.", "Your vote has been changed."},
    [T_CHANGE] = {"Thay đổi lựa chọn", "Change my vote"},
    [T_MSG_ALREADY] = {"Bạn đã bình chọn trong cuộc thăm dò này.",
                       "You have already voted in this poll."},
    [T_MSG_NO_OPTION] = {"Vui lòng chọn một phương án.", "Please choose an option."},
    [T_MSG_TOO_MANY] = {"Bạn đã chọn quá số phương án cho phép.",
                        "You chose more options than allowed."},
    [T_MSG_INVALID] = {"Phương án không hợp lệ.", "That option is not valid."},
    [T_MSG_CLOSED] = {"Cuộc thăm dò đã kết thúc trước khi phiếu của bạn được gửi; phiếu chưa "
                      "được tính.",
                      "This poll closed before your vote arrived; your vote was not counted."},
    [T_UNAVAILABLE] = {"Hệ thống đang bận, vui lòng thử lại sau ít phút.",
                       "The service is busy. Please try again in a few minutes."},
    [T_RETRY] = {"Thử lại", "Try again"},
    [T_NOT_FOUND] = {"Không tìm thấy cuộc thăm dò.", "Poll not found."},
    [T_FORBIDDEN] = {"Không thể bình chọn từ trang này.", "Votes cannot be sent from this page."},
    [T_DAMAGED] = {"Cuộc thăm dò này tạm thời không hiển thị được do lỗi dữ liệu.",
                   "This poll cannot be shown right now: its stored data is damaged."},
    [T_NO_VOTER] = {"Chưa ghi nhận được bình chọn của bạn. Vui lòng thử lại.",
                    "Your vote could not be recorded. Please try again."},
    [T_RATE_LIMITED] = {"Có quá nhiều phiếu bình chọn gửi từ mạng của bạn. Phiếu của bạn chưa "
                        "được tính. Vui lòng thử lại sau, hoặc bình chọn trên trang có bật "
                        "JavaScript.",
                        "Too many votes came from your network. Your vote was not counted. "
                        "Please try again later, or vote on the page with JavaScript enabled."},
};

/* The message of each ?msg= code; a message that tells the poll's state
 * (closed, not open yet) stands for the state line, which is then left out. */
static const struct {
    const char *code;
    enum embed_text text;
    enum embed_text replaces; /* T_COUNT: none */
} embed_messages[] = {
    {"voted", T_MSG_VOTED, T_COUNT},
    {"changed", T_MSG_CHANGED, T_COUNT},
    {"already_voted", T_MSG_ALREADY, T_COUNT},
    {"no_option", T_MSG_NO_OPTION, T_COUNT},
    {"too_many_options", T_MSG_TOO_MANY, T_COUNT},
    {"invalid_option", T_MSG_INVALID, T_COUNT},
    {"invalid_json", T_MSG_INVALID, T_COUNT},
    {"poll_closed", T_MSG_CLOSED, T_CLOSED},
    {"poll_not_open", T_UPCOMING, T_UPCOMING},
};

static const char *embed_t(const struct request *r, enum embed_text t)
{
    return embed_texts[t][r->lang_en ? 1 : 0];
}

/* Query parameters of the page. */
struct embed_query {
    int view_results;
    int view_change; /* a reader who voted asks for the form again (allow_change) */
    char msg[32];
};

static void embed_read_query(struct request *r, struct embed_query *q)
{
    struct form_param params[] = {{.name = "lang"}, {.name = "view"}, {.name = "msg"}};
    memset(q, 0, sizeof(*q));
    (void)form_params(evhttp_uri_get_query(evhttp_request_get_evhttp_uri(r->req)), params, 3);
    for (size_t i = 0; i < 3; i++) {
        if (params[i].bad || params[i].truncated)
            params[i].value[0] = '\0'; /* not a value the page knows */
    }
    r->lang_en = strcmp(params[0].value, "en") == 0;
    q->view_results = strcmp(params[1].value, "results") == 0;
    q->view_change = strcmp(params[1].value, "change") == 0;
    if (strlen(params[2].value) < sizeof(q->msg))
        memcpy(q->msg, params[2].value, strlen(params[2].value) + 1);
}

static void embed_head(struct request *r, struct evbuffer *b, const char *title)
{
    evbuffer_add_printf(b,
                        "<!doctype html>\n<html lang=\"%s\"><head><meta charset=\"utf-8\">"
                        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                        "<title>",
                        r->lang_en ? "en" : "vi");
    html_escape(b, title);
    evbuffer_add_printf(
        b, "</title><style>"
           "body{margin:0;padding:12px;font:16px/1.45 system-ui,sans-serif;color:#1a1a1a;"
           "background:#fff}"
           "fieldset{border:0;margin:0;padding:0}legend{font-weight:700;margin-bottom:8px;"
           "padding:0}"
           "label{display:flex;gap:8px;align-items:flex-start;padding:6px 0;cursor:pointer}"
           "input{width:1.2em;height:1.2em;margin:2px 0 0}"
           "button,a.btn{font:inherit;background:#0b5394;color:#fff;border:0;border-radius:4px;"
           "padding:8px 16px;margin-top:8px;cursor:pointer;text-decoration:none;display:inline-"
           "block}"
           ":focus-visible{outline:3px solid #f1a100;outline-offset:2px}"
           "a{color:#0b5394}.msg{padding:8px;border-radius:4px;background:#fff4e5;"
           "color:#5c3b00;margin-bottom:8px}.ok{background:#e6f4ea;color:#1e4620}"
           ".res{list-style:none;margin:0;padding:0}.res li{margin:6px 0}"
           ".bar{background:#e8eef5;height:10px;border-radius:5px;overflow:hidden;margin-top:3px}"
           ".bar span{display:block;height:100%%;background:#0b5394}"
           ".mine{font-weight:700}.muted{color:#555}"
           "</style></head><body>\n");
}

/* Writes the message of code, if it has one; returns the state line it
 * stands for (T_COUNT: none). */
static enum embed_text embed_message(struct request *r, struct evbuffer *b, const char *code)
{
    for (size_t i = 0; i < sizeof(embed_messages) / sizeof(embed_messages[0]); i++) {
        if (strcmp(embed_messages[i].code, code) == 0) {
            int ok = strcmp(code, "voted") == 0 || strcmp(code, "changed") == 0;
            evbuffer_add_printf(b, "<p class=\"msg%s\" role=\"%s\">%s</p>\n", ok ? " ok" : "",
                                ok ? "status" : "alert", embed_t(r, embed_messages[i].text));
            return embed_messages[i].replaces;
        }
    }
    return T_COUNT;
}

/* "1 vote", "2 votes" (en); "1 phiếu" (vi): n written for the reader's language. */
static void embed_count(struct request *r, struct evbuffer *b, long long n, enum embed_text one,
                        enum embed_text many, int strong)
{
    char num[32];
    html_format_number(n, r->lang_en, num, sizeof(num));
    evbuffer_add_printf(b, strong ? "<strong>%s</strong> %s" : "%s %s", num,
                        embed_t(r, n == 1 ? one : many));
}

static int embed_chose(const struct store_poll_reply *p, const char *opt)
{
    size_t len = strlen(opt);
    const char *c = p->choice;
    if (!c)
        return 0;
    const char *end = c + p->choice_len;
    while (c < end) {
        const char *comma = memchr(c, ',', (size_t)(end - c));
        size_t n = comma ? (size_t)(comma - c) : (size_t)(end - c);
        if (n == len && memcmp(c, opt, n) == 0)
            return 1;
        c += n + 1;
    }
    return 0;
}

static void embed_results(struct request *r, struct evbuffer *b, const struct store_poll_reply *p)
{
    json_t *res = poll_results(p->def, p->counts, p->voters);
    long long total = json_integer_value(json_object_get(res, "total"));
    char pct[16], width[16];
    size_t i;
    const json_t *o;
    evbuffer_add_printf(b, "<ul class=\"res\">\n");
    json_array_foreach(json_object_get(res, "options"), i, o)
    {
        const char *id = json_string_value(json_object_get(o, "id"));
        long long votes = json_integer_value(json_object_get(o, "votes"));
        long long tenths = poll_percent_tenths(votes, total);
        int mine = embed_chose(p, id);
        html_format_percent(tenths, r->lang_en, pct, sizeof(pct));
        html_format_percent(tenths, 1, width, sizeof(width)); /* CSS wants a dot */
        evbuffer_add_printf(b, "<li%s>", mine ? " class=\"mine\"" : "");
        html_escape(b, json_string_value(json_object_get(o, "label")));
        if (mine)
            evbuffer_add_printf(b, " (✓ %s)", embed_t(r, T_YOUR_CHOICE));
        evbuffer_add_printf(b, "<br><span class=\"muted\">");
        embed_count(r, b, votes, T_VOTES_ONE, T_VOTES_MANY, 0);
        evbuffer_add_printf(b,
                            " (%s)</span><div class=\"bar\" aria-hidden=\"true\">"
                            "<span style=\"width:%s\"></span></div></li>\n",
                            pct, width);
    }
    evbuffer_add_printf(b, "</ul>\n<p>%s: ", embed_t(r, T_TOTAL));
    embed_count(r, b, total, T_VOTES_ONE, T_VOTES_MANY, 1);
    if (json_integer_value(json_object_get(p->def, "max_choices")) > 1) {
        evbuffer_add_printf(b, " · ");
        embed_count(r, b, p->voters, T_VOTERS_ONE, T_VOTERS_MANY, 0);
    }
    evbuffer_add_printf(b, "</p>\n");
    json_decref(res);
}

static void embed_form(struct request *r, struct evbuffer *b, const struct store_poll_reply *p)
{
    json_int_t max = json_integer_value(json_object_get(p->def, "max_choices"));
    char num[32];
    evbuffer_add_printf(b, "<form method=\"post\" action=\"/embed/polls/%s%s\"><fieldset><legend>",
                        r->poll_id, r->lang_en ? "?lang=en" : "");
    html_escape(b, json_string_value(json_object_get(p->def, "question")));
    evbuffer_add_printf(b, "</legend>\n");
    if (max > 1) {
        html_format_number(max, r->lang_en, num, sizeof(num));
        evbuffer_add_printf(b, "<p class=\"muted\">%s %s %s</p>\n", embed_t(r, T_MAX_CHOICES), num,
                            embed_t(r, T_MAX_CHOICES_END));
    }
    size_t i;
    json_t *o;
    json_array_foreach(json_object_get(p->def, "options"), i, o)
    {
        evbuffer_add_printf(b, "<label><input type=\"%s\" name=\"option\" value=\"",
                            max > 1 ? "checkbox" : "radio");
        html_escape(b, json_string_value(json_object_get(o, "id")));
        evbuffer_add_printf(b, "\"%s%s><span>", max > 1 ? "" : " required",
                            embed_chose(p, json_string_value(json_object_get(o, "id"))) ? " checked"
                                                                                        : "");
        html_escape(b, json_string_value(json_object_get(o, "label")));
        evbuffer_add_printf(b, "</span></label>\n");
    }
    evbuffer_add_printf(b, "<button type=\"submit\">%s</button></fieldset></form>\n",
                        embed_t(r, T_VOTE));
}

/* A short page with one message (errors), and a link back to the poll. */
static void embed_notice(struct request *r, int status, const char *code, enum embed_text text,
                         int retry)
{
    request_set_error_code(r, code); /* for the access log */
    struct evbuffer *b = evbuffer_new();
    embed_head(r, b, embed_t(r, text));
    evbuffer_add_printf(b, "<p class=\"msg\" role=\"alert\">%s</p>\n", embed_t(r, text));
    if (retry)
        evbuffer_add_printf(b, "<a class=\"btn\" href=\"/embed/polls/%s%s\">%s</a>\n", r->poll_id,
                            r->lang_en ? "?lang=en" : "", embed_t(r, T_RETRY));
    page_send(r, status, b);
}

static void embed_page_cb(void *arg, const struct store_poll_reply *p)
{
    struct request *r = arg;
    struct embed_query q;
    if (!p) {
        embed_notice(r, 503, "store_unavailable", T_UNAVAILABLE, 1);
        return;
    }
    if (strcmp(p->code, "poll_damaged") == 0) {
        embed_notice(r, 500, "poll_damaged", T_DAMAGED, 0);
        return;
    }
    if (!p->def) {
        embed_notice(r, 404, "poll_not_found", T_NOT_FOUND, 0);
        return;
    }
    embed_read_query(r, &q);
    int voted = p->choice != NULL;
    enum poll_state state = poll_state_at(p->def, r->now);
    int visible = poll_results_visible(p->def, r->now, voted);
    const char *lang = r->lang_en ? "&amp;lang=en" : "";

    struct evbuffer *b = evbuffer_new();
    embed_head(r, b, json_string_value(json_object_get(p->def, "question")));
    enum embed_text said = q.msg[0] ? embed_message(r, b, q.msg) : T_COUNT;
    int may_change = voted && json_is_true(json_object_get(p->def, "allow_change"));
    if (state == POLL_OPEN && (!voted || (may_change && q.view_change)) && !q.view_results) {
        embed_form(r, b, p);
        if (visible)
            evbuffer_add_printf(b, "<p><a href=\"/embed/polls/%s?view=results%s\">%s</a></p>\n",
                                r->poll_id, lang, embed_t(r, T_SEE_RESULTS));
    } else {
        evbuffer_add_printf(b, "<h1 style=\"font-size:1em\">");
        html_escape(b, json_string_value(json_object_get(p->def, "question")));
        evbuffer_add_printf(b, "</h1>\n");
        enum embed_text line = state == POLL_CLOSED     ? T_CLOSED
                               : state == POLL_UPCOMING ? T_UPCOMING
                                                        : T_COUNT;
        if (line != T_COUNT && line != said) /* once: the message may have said it */
            evbuffer_add_printf(b, "<p>%s</p>\n", embed_t(r, line));
        if (visible)
            embed_results(r, b, p);
        else if (voted)
            evbuffer_add_printf(b, "<p>%s</p>\n", embed_t(r, T_HIDDEN));
        if (voted)
            evbuffer_add_printf(b, "<p>%s</p>\n", embed_t(r, T_THANKS));
        if (state == POLL_OPEN && may_change)
            evbuffer_add_printf(b, "<p><a href=\"/embed/polls/%s?view=change%s\">%s</a></p>\n",
                                r->poll_id, lang, embed_t(r, T_CHANGE));
        if (state == POLL_OPEN && !voted)
            evbuffer_add_printf(b, "<p><a href=\"/embed/polls/%s%s\">%s</a></p>\n", r->poll_id,
                                r->lang_en ? "?lang=en" : "", embed_t(r, T_BACK));
    }
    page_send(r, 200, b);
}

void embed_page(struct request *r)
{
    /* Reads the cookie, never mints one: only the form post does, so that a
     * page shown in several frames at once cannot hand out several ids. */
    request_voter(r, 0);
    store_poll_view(r->srv->store, r->poll_id, r->has_voter ? r->voter : NULL, 0, -1, embed_page_cb,
                    r);
}

/* 303 back to the page with a message code. */
static void embed_back(struct request *r, const char *msg)
{
    char location[160];
    snprintf(location, sizeof(location), "/embed/polls/%s?msg=%s%s", r->poll_id, msg,
             r->lang_en ? "&lang=en" : "");
    request_reply_redirect(r, location);
}

static void embed_vote_cb(void *arg, const struct store_poll_reply *p)
{
    struct request *r = arg;
    if (!p) {
        embed_notice(r, 503, "store_unavailable", T_UNAVAILABLE, 1);
        return;
    }
    cache_update(r->srv->cache, r->poll_id, p);
    metrics_vote(p->code);
    if (p->choice)
        seen_mark(&r->seen, r->poll_id);
    if (ratelimit_refused(p->code)) {
        /* No proof of work without JavaScript: past the free ballots, a page that says to come
         * back later or use the page with JavaScript. */
        metrics_inc(strcmp(p->code, "rate_limited") == 0 ? METRICS_VOTES_LIMITED
                                                         : METRICS_VOTES_CHALLENGED);
        ratelimit_retry_after(r, p->retry_after);
        embed_notice(r, 429, "rate_limited", T_RATE_LIMITED, 1);
        return;
    }
    if (strcmp(p->code, "poll_not_found") == 0) {
        embed_notice(r, 404, "poll_not_found", T_NOT_FOUND, 0);
        return;
    }
    if (strcmp(p->code, "poll_damaged") == 0) {
        embed_notice(r, 500, "poll_damaged", T_DAMAGED, 0);
        return;
    }
    if (strcmp(p->code, "poll_resetting") == 0) { /* an editor's reset: nothing counted */
        embed_notice(r, 503, "poll_resetting", T_UNAVAILABLE, 1);
        return;
    }
    embed_back(r, strcmp(p->code, "ok") == 0 ? "voted" : p->code); /* "changed" too */
}

/* Reads the ballot of the form post into b; answers (303 back with the code,
 * or 403) and returns -1 when there is none. */
static int embed_vote_ballot(struct request *r, struct ballot *b)
{
    const char *data;
    size_t len;
    const char *code = "invalid_option";
    if (!cors_source_allowed(r)) {
        log_info("embed_vote_refused",
                 "embed vote refused: posted from a page that is not allowed");
        embed_notice(r, 403, "origin_not_allowed", T_FORBIDDEN, 0);
        return -1;
    }
    if (http_body(r->req, r->srv->cfg->max_body, &data, &len) != 0 ||
        http_media_type(r->req) != HTTP_MEDIA_FORM ||
        ballot_parse(b, BALLOT_FORM, data, len, &code) != 0) {
        embed_back(r, code);
        return -1;
    }
    return 0;
}

/* The ballot goes to the store (which copies the options). */
static void embed_vote_send(struct request *r, const struct ballot *b)
{
    struct ratelimit_args limits;
    store_poll_vote(r->srv->store, r->poll_id, r->voter, r->now, b->ptrs, b->n, -1,
                    ratelimit_args(r, 0, &limits), embed_vote_cb, r);
}

/* The limits are on and the bucket is known (ok 0: the salt could not be had). */
static void embed_vote_identified(struct request *r, int ok)
{
    if (!ok) {
        embed_notice(r, 503, "store_unavailable", T_UNAVAILABLE, 1);
        return;
    }
    struct ballot ballot;
    ratelimit_ballot(r, &ballot);
    embed_vote_send(r, &ballot);
}

void embed_vote(struct request *r)
{
    struct embed_query q;
    struct ballot ballot;
    embed_read_query(r, &q);
    if (embed_vote_ballot(r, &ballot) != 0)
        return;
    request_voter(r, 1);
    if (!r->has_voter) {
        log_error("voter_id_failed", "embed vote: could not create a voter id");
        embed_notice(r, 500, "internal_error", T_NO_VOTER, 1);
        return;
    }
    if (!ratelimit_begin(r, &ballot, embed_vote_identified))
        embed_vote_send(r, &ballot);
}
