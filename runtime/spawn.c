/* Child processes: posix_spawn and the wait on the pool; see spawn.h. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "spawn.h"

extern char **environ;

int lng_proc_spawn(const lng_spawnopts *o, pid_t *pid) {
  posix_spawnattr_t at;
  posix_spawn_file_actions_t fa;
  int r = posix_spawnattr_init(&at);
  if (r) return r;
  r = posix_spawn_file_actions_init(&fa);
  if (r) { posix_spawnattr_destroy(&at); return r; }
  sigset_t all, none;
  sigfillset(&all);
  sigemptyset(&none);
  r = posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  if (!r) r = posix_spawnattr_setsigdefault(&at, &all);
  if (!r) r = posix_spawnattr_setsigmask(&at, &none);
  /* dup2 clears close-on-exec on the copy (glibc clears it too when a
     descriptor is already in place, as POSIX now asks) */
  for (int i = 0; i < 3 && !r; i++)
    if (o->fd[i] >= 0) r = posix_spawn_file_actions_adddup2(&fa, o->fd[i], i);
  if (!r && o->cwd) r = posix_spawn_file_actions_addchdir_np(&fa, o->cwd);
  if (!r) {
    char *const *env = o->envp ? o->envp : environ;
    r = strchr(o->path, '/') ? posix_spawn(pid, o->path, &fa, &at, o->argv, env)
                             : posix_spawnp(pid, o->path, &fa, &at, o->argv, env);
  }
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&at);
  return r;
}

int lng_proc_waitpid(pid_t pid, int *status) {
  for (;;) {
    if (waitpid(pid, status, 0) == pid) return 0;
    if (errno != EINTR) return errno;
  }
}

static void waitjob_run(lng_bjob *job) {
  lng_waitjob *j = (lng_waitjob *)job;
  int pfd = (int)syscall(SYS_pidfd_open, j->pid, 0);
  if (pfd >= 0) {
    /* readable once the child has exited; the pool stopping ends the wait
       (the child is then left to lungo's own exit) */
    int r = lng_bjob_wait_fd(job, pfd, POLLIN, -1);
    close(pfd);
    if (r < 0) { j->err = ECANCELED; return; }
  }
  j->err = lng_proc_waitpid(j->pid, &j->status);
  j->reaped = 1;
}

lng_waitjob *lng_waitjob_new(pid_t pid) {
  lng_waitjob *j = calloc(1, sizeof *j);
  if (!j) return NULL;
  j->pid = pid;
  j->job.run = waitjob_run;
  j->job.free = NULL;
  j->job.lane = LNG_LANE_WAIT;
  j->job.abortable = 0;      /* reaps the child even when nobody waits any more */
  lng_bjob_init(&j->job);
  return j;
}
