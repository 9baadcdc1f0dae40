/* embed.h - the no-JavaScript poll page, for an <iframe> or a reader
 * without JavaScript: GET renders the poll (or the results) as plain HTML,
 * POST records a vote through the same store call as the API and answers
 * 303 back to the page (post/redirect/get).
 *
 * Each entry point owns r and answers it exactly once. */
#ifndef THAMDO_EMBED_H
#define THAMDO_EMBED_H

struct request;

void embed_page(struct request *r);
void embed_vote(struct request *r);

#endif
