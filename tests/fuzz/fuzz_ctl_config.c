/* fuzz_ctl_config: kvfleetd's config parser (server/config.c), through
 * cfg_load_args as main() calls it: the input is written to a memfd and
 * loaded as the config file (load_file: getline, cfg_split_line with its
 * quoting rules, cfg_apply of every directive, the FATAL CONFIG FILE ERROR
 * message), then split into words and applied again as a command line
 * ("--directive value ..."), the other half of cfg_load_args. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "config.h"

#define FUZZ_MAX_INPUT (64 * 1024)
#define FUZZ_MAX_WORDS 64

static int memfd = -1;
static char memfd_path[64];

static void check_err(const char *err)
{
    if (memchr(err, '\0', 4096) == NULL)
        abort();   /* the message must be terminated within its buffer */
}

static void load_as_file(const uint8_t *data, size_t size)
{
    char err[4096];
    struct cfg c;
    char *argv[] = { "kvfleetd", memfd_path, NULL };
    if (ftruncate(memfd, 0) != 0 || pwrite(memfd, data, size, 0) != (ssize_t)size)
        abort();
    cfg_init(&c);
    err[0] = '\0';
    if (cfg_load_args(&c, 2, argv, err, sizeof(err)) != 0)
        check_err(err);
    cfg_free(&c);
}

/* Words split at blanks (and NULs), as a shell would hand them to main;
 * the first is made an option so that nothing names a file to open. */
static void load_as_args(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 3);
    char *argv[FUZZ_MAX_WORDS + 1];
    int argc = 0;
    char err[4096];
    struct cfg c;
    memcpy(text, "--", 2);
    memcpy(text + 2, data, size);
    text[size + 2] = '\0';
    argv[argc++] = "kvfleetd";
    char *p = text, *end = text + size + 2;
    while (p < end && argc < FUZZ_MAX_WORDS) {
        while (p < end && (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\0'))
            *p++ = '\0';
        if (p >= end)
            break;
        argv[argc++] = p;
        while (p < end && *p != ' ' && *p != '\n' && *p != '\t' && *p != '\0')
            p++;
        if (p < end)
            *p++ = '\0';
    }
    argv[argc] = NULL;
    cfg_init(&c);
    err[0] = '\0';
    if (cfg_load_args(&c, argc, argv, err, sizeof(err)) != 0)
        check_err(err);
    cfg_free(&c);
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FUZZ_MAX_INPUT)
        return 0;
    if (memfd < 0) {
        memfd = memfd_create("fuzz_ctl_config", 0);
        if (memfd < 0)
            abort();
        snprintf(memfd_path, sizeof(memfd_path), "/proc/self/fd/%d", memfd);
    }
    load_as_file(data, size);
    load_as_args(data, size);
    return 0;
}
