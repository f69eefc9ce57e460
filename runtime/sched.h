/*
 * The scheduler: worker threads, their run queues, the stealable queues of
 * goroutines not yet started, parking and waking, and the program outcome
 * (normal end, failure, deadlock). It knows nothing of Lua: running a
 * goroutine is the VM's job, reached through lng_vmops.
 */
#ifndef LNG_SCHED_H
#define LNG_SCHED_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include "g.h"
#include "timer.h"

typedef enum {
  LNG_RUN_YIELD,   /* still runnable: queue it again */
  LNG_RUN_PARK,    /* parked with lng_sched_park; someone will make it ready */
  LNG_RUN_DONE     /* finished (or failed, after lng_sched_fail): drop it */
} lng_runres;

typedef struct lng_vmops {
  /* Starts (g->worker == -1 on entry; the VM sets nothing, the scheduler
     has set g->worker) or resumes g on worker `worker`. */
  lng_runres (*run)(void *ud, int worker, lng_g *g);
  /* Releases the VM side of g: after DONE, and at shutdown for goroutines
     still parked (called on the thread that destroys, workers stopped). */
  void (*drop)(void *ud, int worker, lng_g *g);
  /* Writes where a parked g waits (e.g. "file.lua:12"); workers stopped. */
  void (*describe)(void *ud, int worker, lng_g *g, char *buf, size_t n);
  /* Bytes of VM state allocated (zeroed) with every record, at g->vm: one
     allocation per goroutine instead of two. */
  size_t gsize;
  /* Writes where g was created (e.g. "file.lua:6") from g->site, or
     leaves buf empty when that is unknown; workers stopped. May be NULL. */
  void (*origin)(void *ud, lng_g *g, char *buf, size_t n);
} lng_vmops;

/* Outcome codes are the public LNG_* status codes of lungo.h. */
lng_sched *lng_sched_new(int nworkers, const lng_vmops *ops, void *ud);
int lng_sched_start(lng_sched *s);
/* Stops and joins the workers (if running) and frees every record; the VM
   side of the goroutines still alive is released through ops->drop first. */
void lng_sched_free(lng_sched *s);
int lng_sched_nworkers(const lng_sched *s);
/* The thread of worker i, once started and until joined; 0 or -1. */
int lng_sched_thread(lng_sched *s, int i, pthread_t *t);
/* Called (from the joining thread) for a worker that does not stop on its
   own, repeatedly, while lng_sched_free waits for it. */
void lng_sched_set_nudge(lng_sched *s, void (*nudge)(void *ud, int worker));
/* Called (from the monitor thread) for a worker whose goroutine has run
   for more than 10 ms while others wait: the VM makes it yield soon. */
void lng_sched_set_preempt(lng_sched *s, void (*preempt)(void *ud, int worker));

/* A new record with a fresh id (the first is 1), unstarted, its start
   message empty for the caller to fill. NULL when out of memory. */
lng_g *lng_sched_newg(lng_sched *s);
void lng_sched_freeg(lng_g *g);   /* for a record never spawned */
/* Queues an unstarted g; self is the spawning worker (-1 from C). With
   LNG_G_SPREAD in g->flags it starts on the next worker in turn after
   self's (self's own after every other) instead: a placement hint for
   goroutines meant to run side by side, as a pipeline's parallel stage,
   which would otherwise start, and stay, where they were spawned. */
void lng_sched_spawn(lng_sched *s, lng_g *g, int self);
/* The same with m, not g's own, as the start message: its contents move
   into g and m is left empty, keeping its storage (lng_msgpack_take). */
void lng_sched_spawnmsg(lng_sched *s, lng_g *g, lng_msg *m, int self);
/* The running g is about to block: call after it is on a wait queue,
   before it yields. `reason` is a static string. */
void lng_sched_park(lng_sched *s, lng_g *g, const char *reason);
/* Abort support: the running g, queued as a waiter with g->cancel set,
   arms itself right before it yields; the worker disarms it before it
   resumes it. lng_sched_abort, from any thread (g itself included, once
   armed), serves a pending request: *request, set to 1 by whoever asks,
   is taken (set to 0) only together with g's wait, so that one request
   aborts at most one wait. It takes a parked g back out of its wait
   (g->cancel), sets g->aborted and returns 1. It returns 0, leaving the
   request set, if g was not parked in an abortable wait or the wait had
   just completed; 0 too if the request was already taken. On 1 the
   caller, having done what must come first, makes g runnable with
   lng_sched_ready. */
void lng_sched_arm(lng_g *g);
void lng_sched_disarm(lng_g *g);
int lng_sched_abort(lng_sched *s, lng_g *g, atomic_int *request);
/* No goroutine running or runnable and no timer pending: only C can wake
   anyone now. */
int lng_sched_quiet(lng_sched *s);

/* Makes a parked g runnable; self is the calling worker, or -1. */
void lng_sched_ready(lng_sched *s, lng_g *g, int self);

/* Timers (see timer.h), run by this runtime's workers. */
int lng_sched_timer_add(lng_sched *s, lng_timer *t);
int lng_sched_timer_del(lng_sched *s, lng_timer *t);

/* The poller (netpoll.h): lng_sched_netpoll makes it on first use. Called
   by the poller: an fd was registered (an idle worker takes up polling),
   and goroutines started or stopped waiting for I/O (possible wakers, like
   pending timers; check: whether a drop to zero checks for a deadlock). */
typedef struct lng_netpoll lng_netpoll;
lng_netpoll *lng_sched_netpoll(lng_sched *s);
void lng_sched_netpoll_started(lng_sched *s);
void lng_sched_iowait(lng_sched *s, int delta, int check);
/* The same per worker (the goroutine's): who should poll. */
void lng_sched_iowait_worker(lng_sched *s, int worker, int delta);

/* Possible wakers outside the scheduler's sight (channels held by C):
   while any is held, blocked goroutines are not a deadlock. */
void lng_sched_hold(lng_sched *s, int delta);
/* A hold ends whose goroutine is being made runnable by someone else (an
   aborted wait: the aborter readies it after the cancel): no deadlock
   check now, the goroutine is checked when it parks or ends. */
void lng_sched_unhold_nocheck(lng_sched *s);
/* In service mode the program does not end when no goroutine is left. */
void lng_sched_set_service(lng_sched *s, int on);
/* Whether the calling thread is one of this scheduler's workers. */
int lng_sched_on_worker(lng_sched *s);

/* Ends the program with this outcome unless one is already set; msg is copied. */
void lng_sched_fail(lng_sched *s, int status, int exitcode, const char *msg);
/* Blocks until the program ends; returns the status. */
int lng_sched_wait(lng_sched *s);
int lng_sched_status(lng_sched *s);
int lng_sched_exitcode(lng_sched *s);
const char *lng_sched_message(lng_sched *s);
int lng_sched_stopping(lng_sched *s);

/* Figures for go.count() and go.stats(). */
int64_t lng_sched_live(lng_sched *s);
int64_t lng_sched_spawned(lng_sched *s);
int64_t lng_sched_worker_count(lng_sched *s, int worker);  /* started, not finished, on that worker */
/* The live count, and per_worker[0..n-1] filled with what
   lng_sched_worker_count says, read so that their sum never exceeds the
   live count returned, even while goroutines start and end. */
int64_t lng_sched_stats(lng_sched *s, int64_t *per_worker);

#endif
