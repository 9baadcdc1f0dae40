/* visits.h - the visitor counter ("Truy cập"): recording and reading visits
 * of a site, per-day history and bases for editors.
 *
 * Each entry point owns r and answers it exactly once. */
#ifndef THAMDO_VISITS_H
#define THAMDO_VISITS_H

struct request;

void visits_record(struct request *r);
void visits_read(struct request *r);
/* GET (and HEAD) /embed/visits: the counter as an HTML page. */
void visits_embed(struct request *r);
void visits_history(struct request *r);
void visits_set_bases(struct request *r);

#endif
