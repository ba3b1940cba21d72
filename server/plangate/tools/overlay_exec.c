/* Mount a copy-on-write layer over the workspace, then become the sandbox (overlay.py).

   usage: overlay_exec OPTIONS TARGET PROGRAM [ARG...]

   In new user and mount namespaces where the caller is root (its own uid and gid mapped to
   0), mount overlayfs on TARGET with OPTIONS, then exec PROGRAM (bwrap). The same as
   `unshare -Urm sh -c 'mount -t overlay ... && exec ...'`, in one process instead of four. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

static int put(const char *path, const char *text) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    size_t length = strlen(text);
    ssize_t written = write(fd, text, length);
    close(fd);
    return written == (ssize_t)length ? 0 : -1;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: overlay_exec OPTIONS TARGET PROGRAM [ARG...]\n");
        return 2;
    }
    char map[64];
    unsigned uid = getuid(), gid = getgid();
    if (unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0) {
        perror("overlay_exec: unshare");
        return 1;
    }
    snprintf(map, sizeof map, "0 %u 1\n", uid);
    if (put("/proc/self/uid_map", map) != 0) {
        perror("overlay_exec: uid_map");
        return 1;
    }
    put("/proc/self/setgroups", "deny"); /* absent on old kernels: then gid_map works without */
    snprintf(map, sizeof map, "0 %u 1\n", gid);
    if (put("/proc/self/gid_map", map) != 0) {
        perror("overlay_exec: gid_map");
        return 1;
    }
    if (mount("plangate", argv[2], "overlay", 0, argv[1]) != 0) {
        perror("overlay_exec: mount");
        return 1;
    }
    execv(argv[3], argv + 3);
    perror("overlay_exec: exec");
    return 127;
}
