/*
 * Go's sync primitives as shared runtime objects: wait groups, mutexes and
 * counting semaphores. Like channels, each is a waitable object
 * (waitable.h, whose rules it keeps) with one FIFO of waiters: a waiter is
 * woken with w->result = LNG_RES_OK once its operation is complete.
 *
 * Mutexes and semaphores hand over directly: unlock / release give the
 * lock / unit to the first queued waiter, so a newcomer never barges in
 * ahead of those already waiting. A mutex is a semaphore of one unit.
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
} lng_sema;

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
/* Unlocks, handing the lock to the first waiter if any; UNLOCKED if the
   mutex was not locked. Any party may unlock, as in Go. */
int lng_mutex_unlock(lng_mutex *m, int self);
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
