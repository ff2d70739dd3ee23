/*
 * ar-launcher: starts one batch's job shells inside that batch's bubblewrap sandbox.
 *
 * Started once per batch by the executor (SandboxLauncher.cs) as the command bwrap runs, so a job costs
 * one posix_spawn here rather than a bwrap of its own (~5 ms each). Requests arrive on stdin as
 * NUL-terminated fields, so a script, an argument or a variable may hold any byte but NUL:
 *   R <id> <program> <cwd> <stdout file> <stderr file> <argc> <arg>... <envc> <NAME=value>...
 *   K <id> <signal>                       signal the job's process group
 * Answers go to stdout, one line each:
 *   P <id> <pid>                          started (pid as seen inside the sandbox)
 *   E <id> <status> <cpu µs> <maxrss KiB> <wall µs>
 *                                         ended: exit code, or 128+signal when killed; then what it used
 *                                         (wait4's rusage: user+sys time, peak RSS) and its wall time
 *   E <id> 127                            a job that could not be started (nothing to measure)
 * A job that cannot be started has its reason appended to its stderr file and ends with status 127.
 * Each job leads a session of its own; when its shell ends, what is left of its group is killed
 * before the shell is reaped (the zombie pins the group id). When stdin closes (the executor ended the
 * batch, or died), every job still running is killed and the launcher exits; bwrap, the sandbox's
 * pid 1, then takes whatever else is left with it.
 * Built by AnalysisRunner.Core.csproj with the system C compiler; no library beyond libc.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

struct job { long id; pid_t pid; struct timespec started; };
static struct job *jobs;
static size_t job_count, job_capacity;

static char *input;
static size_t input_length, input_capacity;

static void die(const char *what) { perror(what); exit(1); }

static void write_line(const char *line, int n)
{
    for (int written = 0; written < n;) {
        ssize_t w = write(1, line + written, (size_t)(n - written));
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) exit(1); /* the executor is gone: nothing can hear us */
        written += (int)w;
    }
}

static void answer(char kind, long id, long value)
{
    char line[64];
    write_line(line, snprintf(line, sizeof line, "%c %ld %ld\n", kind, id, value));
}

/* A job's end with what it used: rusage of the shell and every descendant it waited for. */
static void answer_end(long id, int status, const struct rusage *usage, const struct timespec *started)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long long cpu = (long long)(usage->ru_utime.tv_sec + usage->ru_stime.tv_sec) * 1000000 + usage->ru_utime.tv_usec + usage->ru_stime.tv_usec;
    long long wall = (long long)(now.tv_sec - started->tv_sec) * 1000000 + (now.tv_nsec - started->tv_nsec) / 1000;
    char line[128];
    write_line(line, snprintf(line, sizeof line, "E %ld %d %lld %ld %lld\n", id, status, cpu, usage->ru_maxrss, wall));
}

/* The next NUL-terminated field at *at, or NULL while the request is still incomplete. */
static char *field(size_t *at)
{
    char *start = input + *at, *end = memchr(start, '\0', input_length - *at);
    if (!end) return NULL;
    *at = (size_t)(end - input) + 1;
    return start;
}

static int number(size_t *at, long *value)
{
    char *text = field(at), *end;
    if (!text) return 0;
    *value = strtol(text, &end, 10);
    if (*end || end == text) { fprintf(stderr, "ar-launcher: '%s' is not a number\n", text); exit(2); }
    return 1;
}

static void start_job(long id, const char *program, const char *cwd, const char *out, const char *err, char **argv, char **envp)
{
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attributes;
    sigset_t all, none;
    pid_t pid = 0;
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attributes);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, out, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW, 0644);
    posix_spawn_file_actions_addopen(&actions, 2, err, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW, 0644);
    posix_spawn_file_actions_addclosefrom_np(&actions, 3);
    posix_spawn_file_actions_addchdir_np(&actions, cwd);
    sigfillset(&all);
    sigemptyset(&none);
    posix_spawnattr_setsigdefault(&attributes, &all);
    posix_spawnattr_setsigmask(&attributes, &none);
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
    int failed = posix_spawn(&pid, program, &actions, &attributes, argv, envp);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
    if (failed) {
        int fd = open(err, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd >= 0) {
            dprintf(fd, "StartFailed: the sandbox could not start %s in %s: %s\n", program, cwd, strerror(failed));
            close(fd);
        }
        answer('E', id, 127);
        return;
    }
    if (job_count == job_capacity) {
        job_capacity = job_capacity ? job_capacity * 2 : 16;
        jobs = realloc(jobs, job_capacity * sizeof *jobs);
        if (!jobs) die("realloc");
    }
    jobs[job_count] = (struct job){ id, pid, { 0, 0 } };
    clock_gettime(CLOCK_MONOTONIC, &jobs[job_count++].started);
    answer('P', id, pid);
}

/* Handles every complete request at the front of the input; keeps an incomplete one for later. */
static void handle_requests(void)
{
    size_t at = 0;
    for (;;) {
        size_t begin = at;
        char *verb = field(&at);
        long id, count;
        if (!verb || !number(&at, &id)) { at = begin; break; }
        if (strcmp(verb, "K") == 0) {
            long sig;
            if (!number(&at, &sig)) { at = begin; break; }
            for (size_t i = 0; i < job_count; i++)
                if (jobs[i].id == id) kill(-jobs[i].pid, (int)sig);
            continue;
        }
        if (strcmp(verb, "R") != 0) { fprintf(stderr, "ar-launcher: unknown request '%s'\n", verb); exit(2); }
        char *program = field(&at), *cwd = program ? field(&at) : NULL, *out = cwd ? field(&at) : NULL,
             *err = out ? field(&at) : NULL;
        if (!err || !number(&at, &count)) { at = begin; break; }
        char **argv = calloc((size_t)count + 2, sizeof *argv);
        if (!argv) die("calloc");
        const char *name = strrchr(program, '/');
        argv[0] = (char *)(name ? name + 1 : program);
        int complete = 1;
        for (long i = 0; i < count && complete; i++) complete = (argv[i + 1] = field(&at)) != NULL;
        long envc = 0;
        complete = complete && number(&at, &envc);
        char **envp = complete ? calloc((size_t)envc + 1, sizeof *envp) : NULL;
        if (complete && !envp) die("calloc");
        for (long i = 0; complete && i < envc; i++) complete = (envp[i] = field(&at)) != NULL;
        if (complete) start_job(id, program, cwd, out, err, argv, envp);
        free(argv);
        free(envp);
        if (!complete) { at = begin; break; }
    }
    memmove(input, input + at, input_length - at);
    input_length -= at;
}

static void reap(void)
{
    siginfo_t info;
    for (;;) {
        memset(&info, 0, sizeof info);
        if (waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) != 0 || info.si_pid == 0) return;
        pid_t pid = info.si_pid;
        int status = info.si_code == CLD_EXITED ? info.si_status : 128 + info.si_status;
        kill(-pid, SIGKILL); /* what the job left running in its session goes with it */
        struct rusage usage;
        memset(&usage, 0, sizeof usage);
        while (wait4(pid, NULL, 0, &usage) < 0 && errno == EINTR) {}
        for (size_t i = 0; i < job_count; i++)
            if (jobs[i].pid == pid) {
                answer_end(jobs[i].id, status, &usage, &jobs[i].started);
                jobs[i] = jobs[--job_count];
                break;
            }
    }
}

int main(void)
{
    /* Not dumpable: /proc/<launcher>/fd (its request and answer pipes) and its memory then need
     * CAP_SYS_PTRACE, which no job has (bwrap --cap-drop ALL), though jobs run as the launcher's uid; a
     * job could otherwise write "E <id> 0" into the answers and be recorded as succeeded. The jobs it
     * spawns are dumpable again: execve of a program that is not set-id makes a new, dumpable mm. */
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) die("prctl(PR_SET_DUMPABLE)");
    sigset_t child;
    sigemptyset(&child);
    sigaddset(&child, SIGCHLD);
    if (sigprocmask(SIG_BLOCK, &child, NULL) != 0) die("sigprocmask");
    int children = signalfd(-1, &child, SFD_CLOEXEC);
    if (children < 0) die("signalfd");
    signal(SIGPIPE, SIG_IGN);
    struct pollfd fds[2] = { { .fd = 0, .events = POLLIN }, { .fd = children, .events = POLLIN } };
    int open_input = 1;
    while (open_input) {
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR) continue;
            die("poll");
        }
        if (fds[1].revents) {
            struct signalfd_siginfo drained;
            while (read(children, &drained, sizeof drained) < 0 && errno == EINTR) {}
            reap();
        }
        if (fds[0].revents) {
            if (input_capacity - input_length < 65536) {
                input_capacity = input_capacity ? input_capacity * 2 : 1 << 20;
                input = realloc(input, input_capacity);
                if (!input) die("realloc");
            }
            ssize_t n = read(0, input + input_length, input_capacity - input_length);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) { open_input = 0; continue; }
            input_length += (size_t)n;
            handle_requests();
        }
    }
    /* The batch is over or the executor is gone: nothing of it keeps running. */
    for (size_t i = 0; i < job_count; i++) kill(-jobs[i].pid, SIGKILL);
    return 0;
}
