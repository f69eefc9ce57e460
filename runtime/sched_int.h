/*
 * The scheduler's insides, shared by its files (none of it is API):
 *   sched.c          lifecycle, the program outcome, the figures
 *   sched_run.c      goroutine records, run queues, spawning and stealing,
 *                    the worker loop
 *   sched_wake.c     idling and sleeping, wake-ups, aborting a wait
 *   sched_dead.c     counting runnable goroutines, deadlock detection
 *   sched_monitor.c  the preemption monitor, which also polls the network
 *                    when no worker has for a while
 *   netpoll.c        the network poller, whose blocking poll is an idle
 *                    worker's sleep (sched_wake.c)
 *
 * Each worker owns: a run queue only it touches; an inbox, under its mutex,
 * where other threads put the goroutines they wake (and the share of a
 * burst of unstarted ones another worker hands it); and a queue of
 * goroutines not started yet, which the owner takes newest first and idle
 * workers steal oldest first (a started goroutine lives in one shard's
 * lua_State and cannot move, an unstarted one is only a message). A worker
 * with nothing to do spins briefly, then sleeps on its condition variable.
 */
#ifndef LNG_SCHED_INT_H
#define LNG_SCHED_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include "sched.h"
#include "timer.h"
#include "bigbuf.h"
#include "bufcache.h"
#include "netpoll.h"

#define STEAL_MAX 256      /* goroutines taken at once at most */

typedef struct gqueue { lng_g *head, *tail; } gqueue;

/* Unstarted goroutines are kept in an array, each with its spawn time:
   a thief copies out half of them without touching a record it does not
   own yet (walking a list of records made on another CPU, under the
   spawner's lock, was most of what stealing cost). */
typedef struct fslot { lng_g *g; uint32_t born; } fslot;

static inline uint32_t now_us(void) { return (uint32_t)(lng_now_ns() / 1000); }   /* wraps: compare differences */

typedef struct worker {
  lng_sched *s;
  int index;
  pthread_t thread;
  pthread_mutex_t mu;        /* inbox, sleeping */
  pthread_cond_t cv;
  gqueue inbox;
  atomic_int hasinbox;
  atomic_int sleeping;        /* 1 asleep, 2 napping (see lng_worker_idle) */
  unsigned looks;            /* owner only: idle looks at others' unstarted goroutines */
  atomic_int polling;        /* blocked in the poller, not on cv: a wake breaks the poll */
  atomic_int niowait;        /* its goroutines parked in the poller */
  atomic_llong iolast;       /* when the poller last woke one of them (lng_now_ns) */
  gqueue runq;               /* owner only */
  /* Owner only: goroutines that gave up their turn (go.yield, or
     preempted). They go after those woken meanwhile, which a spinner
     sharing the run queue with them would otherwise keep waiting. */
  gqueue yieldq;
  pthread_mutex_t freshmu;   /* the unstarted queue: a ring of fqcap slots */
  fslot *fq;
  size_t fqcap, fqhead, fqlen;
  atomic_long nfresh;        /* fqlen, for others to glance at: written under freshmu */
  atomic_uint freshsince;    /* born of fresh's head (valid while nfresh > 0) */
  atomic_uint freshpops;     /* unstarted goroutines the owner has started: its progress */
  /* Owner only, one per other worker: the last freshpops seen there and
     when it was first seen (steal waits until a victim stops starting
     its own unstarted goroutines). */
  struct peek { uint32_t pops, at; } *peek;
  uint32_t stamp;            /* under freshmu: the clock as of a recent spawn */
  unsigned nstamp;
  lng_g *stolen[STEAL_MAX];  /* owner only: what a steal copies out */
  lng_g *gfree;              /* records to reuse, owner only (linked by next) */
  int ngfree;
  lng_g *all;                /* started goroutines, owner only */
  /* Goroutines started and finished here so far: written by the owner
     only (a release store, no read-modify-write), read by lng_sched_stats,
     whose order of reads their being monotonic makes consistent. */
  atomic_ullong nstarted, nfinished;
  unsigned spreadnext;       /* owner only: where the next spread goroutine goes (place) */
  unsigned tick;
  atomic_int busy;           /* running goroutines: set at the first after idling, cleared to idle */
  atomic_ullong runs;        /* goroutines run so far (written by the owner only) */
  int inrun;                 /* owner only: a goroutine is running (see pend) */
  long pend;                 /* owner only: wake-ups during this run not yet in active */
  /* pend, published for the monitor: a goroutine woken by one that then
     computes for long is runnable, though `active` does not count it yet.
     A relaxed store by the owner, read every 10 ms at most. */
  atomic_long owed;
  unsigned long long seen;   /* the monitor's last look at runs */
} worker;

struct lng_sched {
  int n;
  worker *w;
  const lng_vmops *ops;
  void *ud;
  atomic_llong nextid, live, active, spawned, nfresh;
  atomic_int stopping;
  atomic_llong holds;          /* C-held channels and the like: possible wakers */
  atomic_llong iowait;         /* goroutines waiting in the poller: possible wakers */
  _Atomic(lng_netpoll *) np;   /* the poller, once made (netpoll.h) */
  pthread_mutex_t npmu;        /* making it */
  lng_bigpool *bigpool;        /* big message buffers made by the workers */
  lng_bufdepot bufdepot;       /* mid-size ones passed between their caches */
  int service;                 /* the end of every goroutine does not end the program */
  int mainreturned;            /* the main goroutine ended (set by its worker; read once they stop) */
  pthread_mutex_t gmu;         /* records moving between workers' caches */
  lng_g *gfree;
  atomic_long ngfree;
  int started, joined;
  /* Workers wait here until every one of them exists: a failed start must
     not leave the program half run (the main chunk printing, then "cannot
     start the runtime"). */
  pthread_mutex_t gatemu;
  pthread_cond_t gatecv;
  int gateopen;
  lng_timers timers;
  void (*nudge)(void *ud, int worker);
  void (*preempt)(void *ud, int worker);
  pthread_t monitor;         /* preemption: see monitor_main */
  int monstarted;
  pthread_mutex_t monmu;
  pthread_cond_t moncv;
  atomic_int monidle;
  pthread_mutex_t outmu;
  pthread_cond_t outcv;
  int done, status, exitcode;
  char *message;
};

static inline void gq_push(gqueue *q, lng_g *g) {
  g->next = NULL;
  if (q->tail) q->tail->next = g; else q->head = g;
  q->tail = g;
}

static inline lng_g *gq_pop(gqueue *q) {
  lng_g *g = q->head;
  if (g) {
    q->head = g->next;
    if (!q->head) q->tail = NULL;
    g->next = NULL;
  }
  return g;
}

static inline void gq_append(gqueue *q, gqueue *from) {
  if (!from->head) return;
  if (q->tail) q->tail->next = from->head; else q->head = from->head;
  q->tail = from->tail;
  from->head = from->tail = NULL;
}

/* +1 on a counter only its owner writes: no locked instruction, and the
   release orders what came before (the goroutine's live++ at its spawn)
   for a reader that sees the new value. */
static inline void owner_bump(atomic_ullong *c) {
  atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + 1,
                        memory_order_release);
}

/* A timer is due that nobody has fired yet. */
static inline int timer_due(lng_sched *s) {
  int64_t next = atomic_load(&s->timers.next);
  return next != INT64_MAX && next <= lng_now_ns();
}

/* The runtime's poller if it has fds to poll, else NULL. */
static inline lng_netpoll *active_netpoll(lng_sched *s) {
  lng_netpoll *np = atomic_load_explicit(&s->np, memory_order_acquire);
  return np && lng_netpoll_active(np) ? np : NULL;
}

/* sched_run.c: the body of a worker thread */
void *lng_worker_main(void *arg);
void lng_worker_free_gs(worker *w);

/* sched_wake.c */
void lng_worker_wake(worker *w);
void lng_worker_inbox_push(worker *w, lng_g *g);
void lng_worker_idle(worker *w);

/* sched_dead.c */
void lng_sched_check_dead(lng_sched *s);
/* A goroutine stops counting as running or runnable (parks, ends). */
static inline void lng_sched_inactive(lng_sched *s) {
  if (atomic_fetch_sub(&s->active, 1) == 1) lng_sched_check_dead(s);
}
char *lng_sched_deadlock_report(lng_sched *s);

/* sched_monitor.c */
void *lng_monitor_main(void *arg);
void lng_monitor_wake(lng_sched *s);

#endif
