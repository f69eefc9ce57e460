/* Child processes as runtime objects; see proc.h. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "proc.h"

static void proc_destroy(lng_obj *o) {
  lng_proc *p = (lng_proc *)o;
  lng_proc_reap(p);          /* an ended child is not left a zombie */
  if (p->pd) lng_pollfd_free(p->pd);
  for (int i = 0; i < 3; i++)
    if (p->io[i]) lng_obj_unref(p->io[i]);
  pthread_mutex_destroy(&p->mu);
  free(p);
}

lng_proc *lng_proc_new(lng_netpoll *np, pid_t pid) {
  lng_proc *p = calloc(1, sizeof *p);
  if (!p) return NULL;
  lng_obj_init(&p->obj, LNG_OBJ_PROC, proc_destroy);
  p->pid = pid;
  pthread_mutex_init(&p->mu, NULL);
  int fd = np ? (int)syscall(SYS_pidfd_open, pid, 0) : -1;   /* close-on-exec by itself */
  if (fd >= 0 && !(p->pd = lng_pollfd_open(np, fd))) close(fd);
  return p;
}

int lng_proc_reap(lng_proc *p) {
  pthread_mutex_lock(&p->mu);
  if (!p->reaped) {
    int st;
    pid_t r;
    do r = waitpid(p->pid, &st, WNOHANG); while (r < 0 && errno == EINTR);
    if (r == p->pid) { p->reaped = 1; p->status = st; }
    else if (r < 0) { p->reaped = 1; p->err = errno; }
  }
  int done = p->reaped;
  pthread_mutex_unlock(&p->mu);
  if (done && p->pd) lng_pollfd_close(p->pd, -1);   /* wakes the other waiters; idempotent */
  return done;
}

void lng_proc_wait_blocking(lng_proc *p) {
  siginfo_t si;
  /* WNOWAIT: the child is left to be reaped under the mutex */
  while (waitid(P_PID, (id_t)p->pid, &si, WEXITED | WNOWAIT) < 0 && errno == EINTR) {}
  lng_proc_reap(p);
}

int lng_proc_kill(lng_proc *p, int sig) {
  int r = 0;
  pthread_mutex_lock(&p->mu);
  if (p->reaped) r = ESRCH;
  else if (kill(p->pid, sig) != 0) r = errno;
  pthread_mutex_unlock(&p->mu);
  return r;
}
