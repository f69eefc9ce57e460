/*
 * A child process as a runtime object (go.exec's proc; os.execute and
 * io.popen use one inside): reference-counted like a channel, so a proc
 * travels between goroutines by reference, with the child's pidfd on the
 * netpoller (netpoll.h). Waiting is: reap if it has ended (lng_proc_reap),
 * else wait for the pidfd to be readable and try again. The goroutine that
 * reaps closes the pidfd's pollfd, which wakes every other waiter with
 * CLOSED: they find the status cached. No turns, so an interrupted waiter
 * leaves nothing held.
 *
 * The pid is signalled and reaped under the proc's mutex: a kill never
 * reaches a reused pid. A proc dropped while its child still runs leaves
 * a zombie until lungo exits (Go's os.Process without Wait does the same).
 */
#ifndef LNG_PROC_H
#define LNG_PROC_H

#include <pthread.h>
#include <sys/types.h>
#include "obj.h"
#include "netpoll.h"

typedef struct lng_proc {
  lng_obj obj;
  pid_t pid;
  lng_pollfd *pd;            /* the pidfd; NULL without pidfd_open (waits go to the pool) */
  pthread_mutex_t mu;        /* reaped, status, err; the pid's validity */
  int reaped, status, err;   /* err: waitpid's errno (ECHILD: reaped elsewhere) */
  lng_obj *io[3];            /* go.exec's pipes (go.net conns) for stdin, stdout, stderr, or NULL */
} lng_proc;

/* A proc for a started child; np may be NULL (no pidfd then). NULL when
   out of memory (the child is still the caller's). */
lng_proc *lng_proc_new(lng_netpoll *np, pid_t pid);
/* Reaps the child if it has ended: 1 (reaped, status or err set, the
   pidfd closed so that other waiters wake), 0 (still running). */
int lng_proc_reap(lng_proc *p);
/* Blocks the calling thread until the child has ended, then reaps it. */
void lng_proc_wait_blocking(lng_proc *p);
/* Sends sig unless the child has been reaped: 0, or an errno value (ESRCH). */
int lng_proc_kill(lng_proc *p, int sig);

#endif
