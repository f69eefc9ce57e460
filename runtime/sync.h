/*
 * Go's sync primitives as shared runtime objects: wait groups, mutexes and
 * counting semaphores. Like channels, each has its own lock and a FIFO of
 * waiters, and no operation blocks here: one that must wait queues the
 * caller's waiter (which then parks or sleeps, and is woken with
 * w->result = LNG_WAIT_OK once the operation is complete) or, given no
 * waiter, reports WOULDBLOCK. A waiter is woken only after the object's
 * lock is released.
 *
 * Mutexes and semaphores hand over directly: unlock / release give the
 * lock / unit to the first queued waiter, so a newcomer never barges in
 * ahead of those already waiting.
 */
#ifndef LNG_SYNC_H
#define LNG_SYNC_H

#include <pthread.h>
#include <stdint.h>
#include "obj.h"
#include "waiter.h"

typedef enum {
  LNG_SYNC_OK = 0,      /* done */
  LNG_SYNC_WOULDBLOCK,  /* no waiter given and the operation would wait */
  LNG_SYNC_PARKED,      /* the waiter is queued: wait, then it is done */
  LNG_SYNC_NEGATIVE,    /* waitgroup add: the counter would drop below zero */
  LNG_SYNC_OVERFLOW,    /* waitgroup add: the counter would overflow */
  LNG_SYNC_UNLOCKED,    /* mutex unlock: it was not locked */
  LNG_SYNC_OVERRELEASE  /* semaphore release: more units than it was made with */
} lng_syncres;

typedef struct lng_wg {
  lng_obj obj;
  pthread_mutex_t mu;
  int64_t count;
  lng_waitq waiters;
} lng_wg;

typedef struct lng_mutex {
  lng_obj obj;
  pthread_mutex_t mu;
  int locked;
  lng_waitq waiters;
} lng_mutex;

typedef struct lng_sema {
  lng_obj obj;
  pthread_mutex_t mu;
  int64_t count, max;    /* units free now, units it was made with */
  lng_waitq waiters;
} lng_sema;

/* self, below, is the calling worker's index, or -1 from a plain C thread. */

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
/* Takes a queued waiter back; returns whether it was still queued (if
   not, it has been completed). */
int lng_wg_cancel(lng_wg *wg, lng_waiter *w);

/* A new, unlocked mutex; NULL when out of memory. */
lng_mutex *lng_mutex_new(void);
/* OK: locked by the caller. Else queues w (PARKED: the caller holds the
   lock once woken) or WOULDBLOCK. */
int lng_mutex_lock(lng_mutex *m, lng_waiter *w);
int lng_mutex_trylock(lng_mutex *m);       /* OK or WOULDBLOCK */
/* Unlocks, handing the lock to the first waiter if any; UNLOCKED if the
   mutex was not locked. Any party may unlock, as in Go. */
int lng_mutex_unlock(lng_mutex *m, int self);
int lng_mutex_locked(lng_mutex *m);
/* As lng_wg_cancel; when it returns 0 the waiter was handed the lock. */
int lng_mutex_cancel(lng_mutex *m, lng_waiter *w);

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
/* As lng_wg_cancel; when it returns 0 the waiter was handed a unit. */
int lng_sema_cancel(lng_sema *s, lng_waiter *w);

/* The blocking forms for plain C threads, which sleep on their own
   condition variable: timeout in seconds, < 0 forever, 0 not at all.
   OK, or WOULDBLOCK when the time ran out (nothing was acquired). */
int lng_wg_wait_timed(lng_wg *wg, double timeout);
int lng_mutex_lock_timed(lng_mutex *m, double timeout);
int lng_sema_acquire_timed(lng_sema *s, double timeout);

#endif
