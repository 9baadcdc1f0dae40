/* admin.h - the editors' API under /admin/v1 and the dashboard page /admin/.
 *
 * Authentication (dispatch.c, auth.c) has already passed when these run.
 * Each entry point owns r and answers it exactly once. */
#ifndef THAMDO_ADMIN_H
#define THAMDO_ADMIN_H

struct request;

void admin_page(struct request *r);
void admin_poll_list(struct request *r);
void admin_poll_create(struct request *r);
void admin_poll_get(struct request *r);
void admin_poll_patch(struct request *r);
void admin_poll_archive(struct request *r);
void admin_poll_restore(struct request *r);
void admin_poll_close(struct request *r);
void admin_poll_reopen(struct request *r);
void admin_poll_results(struct request *r);
void admin_poll_series(struct request *r);
void admin_poll_reset(struct request *r);

#endif
