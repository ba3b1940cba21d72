/* The exec-time guard, compiled: the same client as guard_entry.py, in about a millisecond
 * instead of a Python start (bench/guard.py prints both).
 *
 * PlanGate compiles this once per process when a C compiler is there (guard.py) and binds the
 * one binary over every real file of every guarded program. It finds out which program it
 * stands for from /proc/self/exe (the path it is mounted at: /usr/bin/git, or
 * /usr/lib/git-core/git when reached through a git-push link) and the map PlanGate wrote into
 * the guard folder: "exe\tprogram\treal" lines. Then, like guard_entry.py: the working folder
 * and the words go to PlanGate's socket; "run" execs the real file with the same argv,
 * anything else prints the reason and exits 126. No answer is a refusal.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#ifndef GUARD_FOLDER
#define GUARD_FOLDER "/tmp/.plangate-guard"
#endif
#define DENIED 126
#define PREFIX "PlanGate: denied at run time: "
#define MAX_REPLY 65536

static int refuse(const char *why) {
    fprintf(stderr, PREFIX "%s\n", why);
    return DENIED;
}

/* Append `text` and a NUL to buf; 0 when it does not fit. */
static int put(char *buf, size_t cap, size_t *len, const char *text) {
    size_t n = strlen(text) + 1;
    if (*len + n > cap) return 0;
    memcpy(buf + *len, text, n);
    *len += n;
    return 1;
}

int main(int argc, char **argv) {
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n < 0) return refuse("the exec-time guard cannot tell which program it stands for");
    exe[n] = '\0';

    static char line[3 * PATH_MAX + 4];
    char *program = NULL, *real = NULL;
    FILE *map = fopen(GUARD_FOLDER "/map", "r");
    if (map == NULL) return refuse("the exec-time guard has no map of programs");
    while (fgets(line, sizeof line, map) != NULL) {
        line[strcspn(line, "\n")] = '\0';
        char *tab1 = strchr(line, '\t');
        char *tab2 = tab1 ? strchr(tab1 + 1, '\t') : NULL;
        if (tab2 == NULL) continue;
        *tab1 = *tab2 = '\0';
        if (strcmp(line, exe) == 0) {
            program = tab1 + 1;
            real = tab2 + 1;
            break;
        }
    }
    fclose(map);
    if (program == NULL) return refuse("a copy of a guarded program does not run");

    /* The request: cwd, then the words as the policy reads them (git-push x is git push x). */
    static char request[1 << 20];
    size_t len = 0;
    char cwd[PATH_MAX];
    int fits = put(request, sizeof request, &len, getcwd(cwd, sizeof cwd) ? cwd : "");
    fits = fits && put(request, sizeof request, &len, program);
    const char *name = argc > 0 ? strrchr(argv[0], '/') : NULL;
    name = name ? name + 1 : (argc > 0 ? argv[0] : "");
    size_t plen = strlen(program);
    if (strncmp(name, program, plen) == 0 && name[plen] == '-' && name[plen + 1] != '\0')
        fits = fits && put(request, sizeof request, &len, name + plen + 1);
    for (int i = 1; i < argc && fits; i++) fits = put(request, sizeof request, &len, argv[i]);
    if (!fits) return refuse("the command line is too long for the exec-time guard");
    len--; /* the words are separated by NULs, not terminated */

    int sock = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    strncpy(addr.sun_path, GUARD_FOLDER "/sock", sizeof addr.sun_path - 1);
    struct timeval timeout = {.tv_sec = 60};
    setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    if (sock < 0 || connect(sock, (struct sockaddr *)&addr, sizeof addr) != 0)
        return refuse("the exec-time guard could not reach PlanGate");
    for (size_t sent = 0; sent < len;) {
        ssize_t k = write(sock, request + sent, len - sent);
        if (k <= 0) return refuse("the exec-time guard could not reach PlanGate");
        sent += (size_t)k;
    }
    shutdown(sock, SHUT_WR);
    static char reply[MAX_REPLY + 1];
    size_t got = 0;
    ssize_t k;
    while (got < MAX_REPLY && (k = read(sock, reply + got, MAX_REPLY - got)) > 0) got += (size_t)k;
    reply[got] = '\0';
    close(sock);

    if (got == 3 && memcmp(reply, "run", 3) == 0) {
        execv(real, argv); /* argv[0] as executed: a multi-call binary dispatches on it */
        perror("PlanGate: could not run the real program");
        return DENIED + 1;
    }
    char *message = strchr(reply, '\n');
    return refuse(message && message[1] ? message + 1 : "no answer from PlanGate");
}
