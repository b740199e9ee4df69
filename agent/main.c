/* kvfleet-agent entry point: parse the configuration exactly like
 * redis-server ([config-file] [--directive value ...]), daemonize if asked,
 * load the dataset, listen, run the loop, and save on the way out. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "server.h"
#include "acl.h"
#include "config.h"
#include "log.h"
#include "mem.h"
#include "util.h"
#include "dict.h"
#include "rdb.h"
#include "aof.h"
#include "register.h"
#include "repl.h"

#define KV_VERSION "7.0.15"

static void main_usage(void)
{
    fprintf(stderr,
            "Usage: ./kvfleet-agent [/path/to/redis.conf] [options] [-]\n"
            "       ./kvfleet-agent - (read config from stdin)\n"
            "       ./kvfleet-agent -v or --version\n"
            "       ./kvfleet-agent -h or --help\n\n"
            "Examples:\n"
            "       ./kvfleet-agent (run the server with default conf)\n"
            "       ./kvfleet-agent /etc/redis/6379.conf\n"
            "       ./kvfleet-agent --port 7777\n"
            "       ./kvfleet-agent --port 7777 --replicaof 127.0.0.1 8888\n"
            "       ./kvfleet-agent /etc/myredis.conf --loglevel verbose -\n");
}

static int main_write_pidfile(const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        log_msg(LOG_WARNING, "Failed to write PID file %s: %s", path, strerror(errno));
        return -1;
    }
    fprintf(f, "%ld\n", (long)getpid());
    if (fclose(f) != 0) {
        log_msg(LOG_WARNING, "Failed to write PID file %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* Classic double-fork-free daemonization, as redis-server does it. */
static void main_daemonize(void)
{
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "fork: %s\n", strerror(errno));
        exit(1);
    }
    if (pid > 0)
        exit(0);
    if (setsid() < 0) {
        fprintf(stderr, "setsid: %s\n", strerror(errno));
        exit(1);
    }
    int fd = open("/dev/null", O_RDWR);
    if (fd >= 0) {
        dup2(fd, STDIN_FILENO);
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
        if (fd > STDERR_FILENO)
            close(fd);
    }
}

/* Early exits free what was built, so sanitizer runs stay leak-free. */
static int main_fail_before_init(srv *s)
{
    cfg_free(&s->config);
    mem_free(s);
    return 1;
}

static int main_fail_after_init(srv *s, const char *pidfile)
{
    if (pidfile)
        unlink(pidfile);
    repl_module_release(s);
    aof_module_release(s);   /* final write + fsync */
    rdb_module_release(s);
    srv_release(s);
    mem_free(s);
    return 1;
}

static void main_seed_hash(void)
{
    char hex[33];
    uint8_t seed[16];
    util_random_hex(hex, sizeof(hex));
    for (int i = 0; i < 16; i++) {
        unsigned v = 0;
        sscanf(hex + i * 2, "%2x", &v);
        seed[i] = (uint8_t)v;
    }
    dict_set_hash_seed(seed);
}

int main(int argc, char **argv)
{
    const char *config_path = NULL;
    int first_opt = 1;
    if (argc >= 2) {
        if (!strcmp(argv[1], "-v") || !strcmp(argv[1], "--version")) {
            printf("Redis server v=%s sha=00000000:0 malloc=%s bits=%d build=kvfleet (kvfleet-agent 0.1.0)\n",
                   KV_VERSION,
#ifdef KV_JEMALLOC
                   "jemalloc",
#else
                   "libc",
#endif
                   (int)(sizeof(long) * 8));
            return 0;
        }
        if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
            main_usage();
            return 0;
        }
        if (argv[1][0] != '-' || (argv[1][1] != '-' && argv[1][1] != '\0')) {
            config_path = argv[1];
            first_opt = 2;
        }
    }
    signal(SIGPIPE, SIG_IGN);
    main_seed_hash();
    dict_use_entry_pool(1);
    util_ticks_init();

    srv *s = mem_calloc(sizeof(*s));
    cfg_init(&s->config);
    char err[2048];
    if (cfg_load(&s->config, config_path, argc - first_opt, argv + first_opt, err, sizeof(err)) != 0) {
        fprintf(stderr, "\n%s\n", err);   /* redis-server's layout: a blank line first */
        return main_fail_before_init(s);
    }
    cfg *c = &s->config;
    if (!realpath(argv[0], s->executable))
        snprintf(s->executable, sizeof(s->executable), "%s", argv[0]);
    if (c->dir && chdir(c->dir) != 0) {
        fprintf(stderr, "Can't chdir to '%s': %s\n", c->dir, strerror(errno));
        return main_fail_before_init(s);
    }
    if (c->daemonize)
        main_daemonize();
    log_set_level(c->loglevel);
    if (c->logfile && c->logfile[0] && log_set_file(c->logfile) != 0) {
        fprintf(stderr, "Can't open the log file: %s\n", strerror(errno));
        return main_fail_before_init(s);
    }
    const char *pidfile = c->pidfile;
    char default_pid[64];
    if (!pidfile && c->daemonize) {
        snprintf(default_pid, sizeof(default_pid), "/var/run/redis_%d.pid", c->port);
        pidfile = default_pid;
    }
    log_msg(LOG_NOTICE, "oO0OoO0OoO0Oo kvfleet-agent is starting oO0OoO0OoO0Oo");
    log_msg(LOG_NOTICE, "kvfleet-agent (Redis %s compatible), bits=%d, pid=%ld, just started",
            KV_VERSION, (int)(sizeof(long) * 8), (long)getpid());
    if (config_path)
        log_msg(LOG_NOTICE, "Configuration loaded");
    else
        log_msg(LOG_WARNING, "Warning: no config file specified, using the default config. In order to specify a config file use ./kvfleet-agent /path/to/redis.conf");

    if (srv_init(s, err, sizeof(err)) != 0) {
        log_msg(LOG_WARNING, "%s", err);
        return main_fail_before_init(s);
    }
    if (srv_listen(s, err, sizeof(err)) != 0) {
        log_msg(LOG_WARNING, "%s", err);
        log_msg(LOG_WARNING, "Failed listening on port %d (tcp), aborting.", c->port);
        return main_fail_after_init(s, NULL);
    }
    if (acl_check_startup(s, err, sizeof(err)) != 0) {
        log_msg(LOG_WARNING, "%s", err);
        return main_fail_after_init(s, NULL);
    }
    if (pidfile)
        main_write_pidfile(pidfile);
    if (rdb_module_init(s, err, sizeof(err)) != 0) {
        log_msg(LOG_WARNING, "%s", err);
        return main_fail_after_init(s, pidfile);
    }
    /* After the RDB module (a preamble base is an RDB), before replication
     * (a replica's AOF is loaded as its own data first). A corrupt AOF
     * refuses start-up and is left as it is. */
    if (aof_module_init(s, err, sizeof(err)) != 0) {
        log_msg(LOG_WARNING, "%s", err);
        return main_fail_after_init(s, pidfile);
    }
    if (repl_module_init(s, err, sizeof(err)) != 0) {
        log_msg(LOG_WARNING, "%s", err);
        return main_fail_after_init(s, pidfile);
    }
    log_msg(LOG_NOTICE, "Server initialized");
    log_msg(LOG_NOTICE, "Ready to accept connections tcp");
    if (register_start(c) != 0)
        log_msg(LOG_WARNING, "Could not start the controller registration thread");

    for (;;) {
        srv_run(s);
        if (srv_prepare_shutdown(s, s->shutdown_flags, err, sizeof(err)) == 0)
            break;
        log_msg(LOG_WARNING, "Errors trying to shut down the server. Check the logs for more information.");
        s->shutdown_asap = 0;
    }
    register_stop();
    log_msg(LOG_NOTICE, "Removing the pid file.");
    if (pidfile)
        unlink(pidfile);
    repl_module_release(s);
    aof_module_release(s);   /* final write + fsync */
    rdb_module_release(s);
    log_msg(LOG_WARNING, "kvfleet-agent is now ready to exit, bye bye...");
    srv_release(s);
    mem_free(s);
    return 0;
}
