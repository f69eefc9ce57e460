/*
 * Child processes: starting one with posix_spawn (os.execute, io.popen,
 * go.exec).
 *
 * A child starts with every signal at its default action and none blocked,
 * whatever lungo's threads block or handle (the workers block SIGINT; a
 * shell would otherwise hand that on, and Ctrl-C would not stop the
 * child). Descriptors lungo opens are all close-on-exec; only those given
 * in fd[] reach the child, as its 0, 1 and 2.
 *
 * Waiting for the child is proc.h's (a pidfd on the netpoller).
 *
 * Plain C, no Lua.
 */
#ifndef LNG_SPAWN_H
#define LNG_SPAWN_H

#include <sys/types.h>

typedef struct lng_spawnopts {
  const char *path;          /* the program; searched in PATH when it has no "/" */
  char *const *argv;
  char *const *envp;         /* NULL: lungo's environment */
  const char *cwd;           /* NULL: lungo's */
  int fd[3];                 /* the child's stdin, stdout, stderr: -1 inherits lungo's */
} lng_spawnopts;

/* Starts the child: 0 and *pid, or an errno value. */
int lng_proc_spawn(const lng_spawnopts *o, pid_t *pid);

/* write(2) to a pipe that raises no SIGPIPE when the reader has gone
   (EPIPE then, as send with MSG_NOSIGNAL does for sockets): SIGPIPE is
   blocked for the call and a pending one taken back. Lungo's threads keep
   SIGPIPE's default otherwise, so `lungo script | head` ends as lua does. */
ssize_t lng_write_nosigpipe(int fd, const void *buf, size_t n);

/* Blocking: waits for pid in the calling thread (where nothing can park). */
int lng_proc_waitpid(pid_t pid, int *status);

#endif
