/* handlers_static.c - GET / and GET /{path}: the dashboard files embedded
 * from web/ (webfiles.h). Every path the API does not know lands here;
 * "/" and any path ending in "/" mean that directory's index.html. Files
 * carry their build-time ETag and "Cache-Control: no-cache", so a browser
 * revalidates on each load and gets a 304 until kvfleetd is upgraded. */
#include "api.h"
#include "webfiles.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

const struct api_web_file *api_web_find(const struct api_web_file *files, size_t n,
                                        const char *path)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(files[i].path, path) == 0)
            return &files[i];
    return NULL;
}

const char *api_web_content_type(const char *path)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        { "html", "text/html; charset=utf-8" },
        { "htm", "text/html; charset=utf-8" },
        { "js", "text/javascript; charset=utf-8" },
        { "mjs", "text/javascript; charset=utf-8" },
        { "css", "text/css; charset=utf-8" },
        { "svg", "image/svg+xml" },
        { "png", "image/png" },
        { "json", "application/json" },
        { "ico", "image/x-icon" },
        { "txt", "text/plain; charset=utf-8" },
    };
    const char *base = strrchr(path, '/');
    const char *dot = strrchr(base != NULL ? base + 1 : path, '.');
    if (dot != NULL)
        for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
            if (strcasecmp(dot + 1, types[i].ext) == 0)
                return types[i].type;
    return "application/octet-stream";
}

int api_web_path_check(const char *path)
{
    const char *seg = path;
    for (;;) {
        const char *end = strchr(seg, '/');
        size_t len = end != NULL ? (size_t)(end - seg) : strlen(seg);
        if ((len == 1 && seg[0] == '.') || (len == 2 && seg[0] == '.' && seg[1] == '.'))
            return -1;
        if (end == NULL)
            return 0;
        seg = end + 1;
    }
}

API_HANDLER(api_h_static)
{
    (void)req;
    const char *rel = m->params[0];
    char path[API_PARAM_MAX + sizeof("index.html")];
    size_t n = strlen(rel);
    snprintf(path, sizeof(path), "%s%s", rel, n == 0 || rel[n - 1] == '/' ? "index.html" : "");
    /* The table cannot be escaped, but a client sending dot segments is
     * confused or probing: say so rather than look up a name. */
    if (api_web_path_check(path) != 0) {
        api_error(r, 400, "bad_request", "path must not contain '.' or '..' segments");
        return;
    }
    const struct api_web_file *files = ctx->web_files != NULL ? ctx->web_files : api_web_files;
    size_t nfiles = ctx->web_files != NULL ? ctx->nweb_files : api_web_files_count;
    const struct api_web_file *f = api_web_find(files, nfiles, path);
    if (f == NULL) {
        api_error(r, 404, "not_found", "no such file: /%s", path);
        return;
    }
    api_reply_static(r, 200, api_web_content_type(f->path), f->data, f->len);
    snprintf(r->etag, sizeof(r->etag), "%s", f->etag);
    r->cache_control = "no-cache";
}
