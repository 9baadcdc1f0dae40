/* bots.h - telling crawlers and monitors from readers, by User-Agent.
 *
 * Owns: the list of well-known robot markers. A request without a
 * User-Agent is a robot too: every browser sends one. Must not block a
 * request: a robot only goes uncounted. */
#ifndef THAMDO_BOTS_H
#define THAMDO_BOTS_H

/* 1 when user_agent (may be NULL) looks like a crawler or a monitor. */
int bots_is_robot(const char *user_agent);

#endif
