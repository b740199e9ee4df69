/* webfiles.h - the dashboard's files (web/), embedded in kvfleetd.
 *
 * server/gen_web.sh turns every file under a directory into one row of a
 * table (built into $(BUILD)/gen/web_files.c from web/), so the controller
 * is one binary with nothing to install beside it and no file-system path a
 * request could escape through. Lookups are pure functions over a table, so
 * unit tests can serve a fixture table instead. */
#ifndef KVFLEET_API_WEBFILES_H
#define KVFLEET_API_WEBFILES_H

#include <stddef.h>

struct api_web_file {
    const char *path;            /* relative, '/'-separated: "index.html", "js/app.js" */
    const unsigned char *data;   /* len bytes (followed by a NUL not counted in len) */
    size_t len;
    const char *etag;            /* quoted strong tag computed at build time */
};

/* The table generated from web/ (may be empty: count 0). */
extern const struct api_web_file api_web_files[];
extern const size_t api_web_files_count;

/* The file at an exact relative path, or NULL. */
const struct api_web_file *api_web_find(const struct api_web_file *files, size_t n,
                                        const char *path);

/* Content type from the extension (application/octet-stream when unknown). */
const char *api_web_content_type(const char *path);

/* 0 when no segment of path is "." or "..", -1 otherwise. */
int api_web_path_check(const char *path);

#endif
