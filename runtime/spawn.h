/*
 * Child processes: starting one with posix_spawn (os.execute, io.popen,
 * go.exec) and waiting for its end without blocking a worker.
 *
 * A child starts with every signal at its default action and none blocked,
 * whatever lungo's threads block or handle (the workers block SIGINT; a
 * shell would otherwise hand that on, and Ctrl-C would not stop the
 * child). Descriptors lungo opens are all close-on-exec; only those given
 * in fd[] reach the child, as its 0, 1 and 2.
 *
 * The wait is a pool job (blockpool.h, WAIT lane) on a pidfd: the thread
 * polls it (a cancel or a shutdown ends that) and reaps the child once it
 * has exited. Without pidfd_open (Linux < 5.3) the thread blocks in
 * waitpid. A job whose goroutine was taken off the wait (an interrupt)
 * still reaps the child, so no zombie is left behind.
 *
 * Plain C, no Lua.
 */
#ifndef LNG_SPAWN_H
#define LNG_SPAWN_H

#include <sys/types.h>
#include "blockpool.h"

typedef struct lng_spawnopts {
  const char *path;          /* the program; searched in PATH when it has no "/" */
  char *const *argv;
  char *const *envp;         /* NULL: lungo's environment */
  const char *cwd;           /* NULL: lungo's */
  int fd[3];                 /* the child's stdin, stdout, stderr: -1 inherits lungo's */
} lng_spawnopts;

/* Starts the child: 0 and *pid, or an errno value. */
int lng_proc_spawn(const lng_spawnopts *o, pid_t *pid);

typedef struct lng_waitjob {
  lng_bjob job;
  pid_t pid;
  int status;                /* waitpid's, once done */
  int err;                   /* errno when waitpid failed, else 0 */
  int reaped;
} lng_waitjob;

/* A job that waits for pid and reaps it; NULL when out of memory. */
lng_waitjob *lng_waitjob_new(pid_t pid);

/* Blocking: waits for pid in the calling thread (where nothing can park). */
int lng_proc_waitpid(pid_t pid, int *status);

#endif
