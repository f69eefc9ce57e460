/*
 * The pool of blocking-call threads: what epoll cannot wait for
 * (getaddrinfo, a read of standard input that is not pollable, a child's
 * exit before the netpoller has a pidfd for it) runs here while the
 * goroutine that asked parks, so that no worker ever blocks in the kernel.
 *
 * Jobs go to a lane; each lane has its own few threads and its own queue,
 * so slow DNS lookups cannot hold up a read of standard input. Threads
 * start when a job finds none idle (up to the lane's maximum; beyond that
 * jobs wait in the lane's FIFO), leave after some seconds without work and
 * are joined when the pool is freed. A job in flight holds the scheduler
 * (lng_sched_hold): the goroutine parked on it is no deadlock.
 *
 * A job is a struct of the caller's that begins with lng_bjob; it is
 * reference-counted (the submitter's reference and the pool's while it is
 * queued or running), so that a goroutine taken off its wait (an
 * interrupt) or dropped at shutdown can let go of a job that still runs.
 * Jobs that wait for a file descriptor do it with lng_bjob_wait_fd, which
 * returns early when the job is cancelled or the pool is stopping: those
 * never hold up a shutdown. Pool threads block every signal (a write to a
 * pipe whose reader is gone gets EPIPE rather than SIGPIPE).
 *
 * Plain C: no Lua here. The pool hangs off the runtime (lng_runtime.bpool).
 */
#ifndef LNG_BLOCKPOOL_H
#define LNG_BLOCKPOOL_H

#include <netdb.h>
#include <stdatomic.h>
#include "sched.h"
#include "waiter.h"

typedef enum {
  LNG_LANE_GENERAL,   /* short blocking calls */
  LNG_LANE_WAIT,      /* waits on the outside world: stdin, pipes, children */
  LNG_LANE_DNS,       /* getaddrinfo */
  LNG_LANE_N
} lng_lane;

typedef struct lng_bpool lng_bpool;
typedef struct lng_bjob lng_bjob;
struct bthread;

struct lng_bjob {
  void (*run)(lng_bjob *job);      /* on a pool thread */
  void (*free)(lng_bjob *job);     /* at the last reference; NULL: free(job) */
  int lane;                        /* lng_lane */
  /* Whether lng_bpool_cancel makes lng_bjob_wait_fd return (a read: the
     reader has gone) or only detaches the waiter (a child's exit: the job
     goes on to reap it). */
  int abortable;
  /* the pool's (set by lng_bpool_submit) */
  lng_bjob *next;
  lng_bpool *pool;
  atomic_int refs;
  lng_waiter *w;                   /* under the pool's lock; NULL once woken or cancelled */
  struct bthread *thr;             /* under the pool's lock: the thread running it */
  atomic_int cancelled;
  int done;                        /* under the pool's lock */
};

lng_bpool *lng_bpool_new(lng_sched *s);
/* Stops the pool: queued jobs are dropped (their waiters never woken: the
   workers are stopped by now), running ones told to stop, every thread
   joined. Call after the workers have stopped, before lng_sched_free. */
void lng_bpool_free(lng_bpool *p);

/* Prepares job (its run, free, lane and abortable set by the caller) with
   one reference, the caller's. */
void lng_bjob_init(lng_bjob *job);
void lng_bjob_unref(lng_bjob *job);

/* Queues job on its lane; w (a parked goroutine's waiter, or a C
   thread's) is woken with LNG_RES_OK once it has run. Returns
   LNG_RES_PARKED, or LNG_RES_WOULDBLOCK when no thread could be started
   and none exists on the lane (out of resources: the caller runs the job
   itself, or reports it). */
int lng_bpool_submit(lng_bpool *p, lng_bjob *job, lng_waiter *w);
/* Takes the waiter back (an interrupted goroutine): 1 if the job had not
   completed (it is then never woken; an abortable job is told to stop),
   0 if it had. Usable as an lng_block_cancel with the job as obj. */
int lng_bpool_cancel(void *job, lng_waiter *w);

/* On the job's pool thread: waits until fd is ready for events (POLLIN,
   POLLOUT), or timeout_ms passes (< 0: no limit). 1: ready (or an error or
   hang-up on fd: the call that follows finds out); 0: time out; -1: the
   job was cancelled (abortable ones only) or the pool is stopping. */
int lng_bjob_wait_fd(lng_bjob *job, int fd, short events, int timeout_ms);
/* Whether the job should give up: cancelled (abortable) or pool stopping. */
int lng_bjob_stopping(lng_bjob *job);

/* Threads of a lane alive now, and how long an idle one stays (5 s by
   default); for tests. */
int lng_bpool_threads(lng_bpool *p, int lane);
void lng_bpool_set_idle(lng_bpool *p, double seconds);

/* getaddrinfo on the DNS lane, for net.resolve and net.dial: make the job,
   submit it with the goroutine's waiter and park (reason "dns"); once
   woken, err is getaddrinfo's result (gai_strerror) and res its list,
   which the job frees with itself. */
typedef struct lng_gai_job {
  lng_bjob job;
  char *host, *service;            /* owned; NULL for none */
  struct addrinfo hints;
  int err;
  struct addrinfo *res;
} lng_gai_job;

lng_gai_job *lng_gai_job_new(const char *host, const char *service, const struct addrinfo *hints);

#endif
