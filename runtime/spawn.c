/* Starting child processes with posix_spawn; see spawn.h. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <time.h>
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

ssize_t lng_write_nosigpipe(int fd, const void *buf, size_t n) {
  sigset_t pipeset, old;
  sigemptyset(&pipeset);
  sigaddset(&pipeset, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipeset, &old);
  ssize_t w = write(fd, buf, n);
  int e = errno;
  if (w < 0 && e == EPIPE && !sigismember(&old, SIGPIPE)) {
    struct timespec zero = { 0, 0 };
    while (sigtimedwait(&pipeset, NULL, &zero) < 0 && errno == EINTR) {}
  }
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  errno = e;
  return w;
}
