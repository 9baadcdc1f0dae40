/* embed_visits.h - the visitor counter as a small HTML page, for readers
 * without JavaScript (an <iframe> inside <noscript>): GET /embed/visits.
 *
 * Owns: the page's markup, texts (Vietnamese, or English with r->lang_en)
 * and headers. visits.c records the view and reads the figures; the
 * functions here only answer. Each answers r exactly once (and frees it). */
#ifndef THAMDO_EMBED_VISITS_H
#define THAMDO_EMBED_VISITS_H

struct request;
struct store_visit_counts;

enum embed_visits_notice {
    EMBED_VISITS_BAD_ADDRESS = 0, /* 400: the query cannot be read */
    EMBED_VISITS_REFUSED,         /* 403: framed by a page that is not allowed */
    EMBED_VISITS_UNKNOWN_SITE,    /* 404: the site is not one of THAMDO_SITES */
    EMBED_VISITS_UNAVAILABLE,     /* 503: Redis is away */
};

/* 200: the six figures of the site's counter. */
void embed_visits_page(struct request *r, const struct store_visit_counts *c);

/* A page with one message; site (printable, already shortened) names the
 * site asked for in EMBED_VISITS_UNKNOWN_SITE. */
void embed_visits_notice(struct request *r, enum embed_visits_notice what, const char *site);

#endif
