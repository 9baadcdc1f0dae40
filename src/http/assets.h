/* assets.h - the files of web/ (widget, demo page, dashboard), built into
 * the binary and served with ETag, Cache-Control and gzip.
 *
 * Owns: finding a file by name and answering for it (200, 304, HEAD).
 * Must not read the file system at run time. */
#ifndef THAMDO_ASSETS_H
#define THAMDO_ASSETS_H

struct request;

/* Answers the request with the named file (e.g. "widget.js"), or 404
 * not_found when there is none, and frees r. */
void assets_serve(struct request *r, const char *name);

/* 1 when a file of that name is built in. */
int assets_exists(const char *name);

#endif
