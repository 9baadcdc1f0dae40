/* exposition.h - GET /metrics: the service's figures for Prometheus.
 *
 * Owns the answer (text format 0.0.4, no-store) and the route labels it
 * shows; the figures themselves are metrics.c's. Must not change any. */
#ifndef THAMDO_EXPOSITION_H
#define THAMDO_EXPOSITION_H

struct request;

void exposition_metrics(struct request *r);

#endif
