/*
 * Go's sync primitives as shared runtime objects: wait groups, mutexes and
 * counting semaphores. Like channels, each is a waitable object
 * (waitable.h, whose rules it keeps) with one FIFO of waiters: a waiter is
 * woken with w->result = LNG_RES_OK once its operation is complete.
 *
 * Semaphores hand over directly: release gives the unit to the first
 * queued waiter, so a newcomer never barges in ahead of those already
 * waiting. A mutex is a semaphore of one unit that does what Go's does
 * instead: unlock frees the lock and wakes the first waiter to try again
 * (LNG_RES_RETRY), so a running goroutine that locks again at once takes
 * it without a switch; handing it over at every unlock makes each
 * lock/unlock pair under contention a goroutine switch (a lock convoy).
 * A waiter that has waited longer than LNG_MUTEX_STARVE_NS and loses
 * again turns the mutex to hand-off until the waiters it hands to waited
 * less than that (Go's starvation mode), so nobody waits forever. Plain C
 * threads waiting on a mutex are always handed the lock.
 */
#ifndef LNG_SYNC_H
#define LNG_SYNC_H

#include <stdint.h>
#include "obj.h"
#include "waitable.h"

typedef struct lng_wg {
  lng_obj obj;
  lng_waitable wait;
  int64_t count;
} lng_wg;

typedef struct lng_sema {
  lng_obj obj;           /* LNG_OBJ_SEMA, or LNG_OBJ_MUTEX for a mutex */
  lng_waitable wait;
  int64_t count, max;    /* units free now, units it was made with */
  unsigned char barge;   /* a mutex: unlock frees and wakes, see above */
  unsigned char woken;   /* a waiter woken to retry has not retried yet */
  unsigned char starving;/* hand-off until a waiter gets the lock quickly */
} lng_sema;

#define LNG_MUTEX_STARVE_NS 1000000   /* Go's starvationThresholdNs */

typedef struct lng_sema lng_mutex;

/* Operations return an lng_res. self, below, is the calling worker's
   index, or -1 from a plain C thread. Cancelling (lng_waitable_cancel on
   o->wait) returns 0 when the waiter was completed: it was woken past the
   wait group, or handed the lock or unit. */

/* A new wait group (counter 0) with one reference held by the caller;
   NULL when out of memory. */
lng_wg *lng_wg_new(void);
/* Adds n (possibly negative) to the counter; on NEGATIVE or OVERFLOW it is
   left unchanged. When it reaches 0 every waiter is woken. */
int lng_wg_add(lng_wg *wg, int64_t n, int self);
int lng_wg_done(lng_wg *wg, int self);    /* add(-1) */
/* OK at once if the counter is 0; else queues w (PARKED) or WOULDBLOCK. */
int lng_wg_wait(lng_wg *wg, lng_waiter *w);
int64_t lng_wg_count(lng_wg *wg);
static inline int lng_wg_cancel(lng_wg *wg, lng_waiter *w) { return lng_waitable_cancel(&wg->wait, w); }

/* A new semaphore with n > 0 units; NULL when out of memory or n <= 0. */
lng_sema *lng_sema_new(int64_t n);
/* OK: one unit taken. Else queues w (PARKED: the caller holds a unit once
   woken) or WOULDBLOCK. */
int lng_sema_acquire(lng_sema *s, lng_waiter *w);
int lng_sema_tryacquire(lng_sema *s);      /* OK or WOULDBLOCK */
/* Gives a unit back, to the first waiter if any; OVERRELEASE if every
   unit is already free. */
int lng_sema_release(lng_sema *s, int self);
int64_t lng_sema_available(lng_sema *s);
static inline int lng_sema_cancel(lng_sema *s, lng_waiter *w) { return lng_waitable_cancel(&s->wait, w); }

/* A new, unlocked mutex; NULL when out of memory. */
lng_mutex *lng_mutex_new(void);
/* OK: locked by the caller. Else queues w (PARKED: the caller holds the
   lock once woken) or WOULDBLOCK. */
static inline int lng_mutex_lock(lng_mutex *m, lng_waiter *w) { return lng_sema_acquire(m, w); }
static inline int lng_mutex_trylock(lng_mutex *m) { return lng_sema_acquire(m, NULL); }
/* Unlocks, waking (or, starving, handing the lock to) the first waiter;
   UNLOCKED if the mutex was not locked. Any party may unlock, as in Go. */
int lng_mutex_unlock(lng_mutex *m, int self);
/* For a goroutine woken with RETRY: takes the lock (OK) or queues w again,
   first in line (PARKED). waited_ns: how long it has waited so far; past
   LNG_MUTEX_STARVE_NS, losing again turns the mutex to hand-off. */
int lng_mutex_relock(lng_mutex *m, lng_waiter *w, int64_t waited_ns);
/* For a goroutine handed the lock: it waited waited_ns; a short wait ends
   hand-off. */
void lng_mutex_settle(lng_mutex *m, int64_t waited_ns);
static inline int lng_mutex_locked(lng_mutex *m) { return lng_sema_available(m) == 0; }
static inline int lng_mutex_cancel(lng_mutex *m, lng_waiter *w) { return lng_waitable_cancel(&m->wait, w); }

/* The blocking forms for plain C threads, which sleep on their own
   condition variable: timeout in seconds, < 0 forever, 0 not at all.
   OK, or WOULDBLOCK when the time ran out (nothing was acquired). */
int lng_wg_wait_timed(lng_wg *wg, double timeout);
int lng_sema_acquire_timed(lng_sema *s, double timeout);
static inline int lng_mutex_lock_timed(lng_mutex *m, double timeout) {
  return lng_sema_acquire_timed(m, timeout);
}

#endif
