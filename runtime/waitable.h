/*
 * The base that every object goroutines and C threads wait on embeds
 * (channels, wait groups, mutexes, semaphores): a short lock (lock.h) and
 * FIFOs of waiters under it, with what every kind does alike: queue the
 * caller's waiter or report that it would block, take the first waiter
 * that can still be claimed, or all of them, take a waiter back (cancel),
 * wake those taken once the lock is released, and the sleeping wait of a
 * plain C thread.
 *
 * The rules every kind keeps:
 *  - no operation blocks here: one that must wait queues the caller's
 *    waiter (PARKED), which then parks (a goroutine, through the
 *    scheduler) or sleeps (a C thread); given no waiter it reports
 *    WOULDBLOCK;
 *  - a waiter is completed under the lock: taken off its queue, its
 *    result written; it is woken only after the lock is released, and the
 *    goroutine behind it cannot run before lng_sched_ready queues it, so
 *    the waker may finish the hand-off at leisure without holding up the
 *    object's other users;
 *  - waiters completed together are chained through their `next` links
 *    only (lng_wakes_add), never pushed on another queue, so `queued`
 *    stays 0 and a concurrent cancel sees them as completed.
 */
#ifndef LNG_WAITABLE_H
#define LNG_WAITABLE_H

#include <stddef.h>
#include "waiter.h"
#include "lock.h"
#include "res.h"

/* The queues: a channel's receivers and senders; other kinds use one. */
enum { LNG_WQ_RECV = 0, LNG_WQ_SEND = 1, LNG_WQ_ONE = 0, LNG_WQ_N = 2 };

typedef struct lng_waitable {
  lng_lock mu;                  /* short: see lock.h */
  lng_waitq q[LNG_WQ_N];
} lng_waitable;

/* The object of a given type that embeds o as its member `wait`. */
#define lng_waitable_owner(o, type) ((type *)((char *)(o) - offsetof(type, wait)))

static inline void lng_waitable_init(lng_waitable *o) {
  lng_lock_init(&o->mu);
  for (int i = 0; i < LNG_WQ_N; i++) o->q[i] = (lng_waitq){ NULL, NULL };
}

static inline void lng_waitable_lock(lng_waitable *o) { lng_lock_acquire(&o->mu); }
static inline void lng_waitable_unlock(lng_waitable *o) { lng_lock_release(&o->mu); }

/* With o locked, for an operation that cannot complete now: queues w on
   queue qi (PARKED) or, given no waiter, says WOULDBLOCK. */
static inline int lng_waitable_block(lng_waitable *o, int qi, lng_waiter *w) {
  if (!w) return LNG_RES_WOULDBLOCK;
  lng_waitq_push(&o->q[qi], w, qi + 1);
  return LNG_RES_PARKED;
}

/* With o locked: takes the first waiter of queue qi that can still be
   claimed and gives it result r; NULL if there is none. */
static inline lng_waiter *lng_waitable_take(lng_waitable *o, int qi, int r) {
  lng_waiter *w = lng_waitq_take(&o->q[qi]);
  if (w) w->result = (signed char)r;
  return w;
}

/* Appends a completed waiter to a list of those to wake, leaving `queued`
   alone (see above). */
static inline void lng_wakes_add(lng_waitq *list, lng_waiter *w) {
  w->next = NULL;
  if (list->tail) list->tail->next = w; else list->head = w;
  list->tail = w;
}

/* With o locked: takes every claimable waiter of queue qi onto *list,
   each with result r. */
static inline void lng_waitable_takeall(lng_waitable *o, int qi, int r, lng_waitq *list) {
  lng_waiter *w;
  while ((w = lng_waitable_take(o, qi, r)) != NULL) lng_wakes_add(list, w);
}

/* Wakes every waiter of a list made with lng_wakes_add, the lock released;
   self is the calling worker's index, or -1. */
void lng_wakes_wake(lng_waitq *list, int self);

/* Takes a queued waiter back off o (select, timeouts, aborts): 1 if it
   was still queued, 0 if it has been completed (or was never queued). */
int lng_waitable_cancel(lng_waitable *o, lng_waiter *w);

/* An operation on o with w as the caller's waiter (or NULL: not to wait);
   returns an lng_res. */
typedef int (*lng_waitable_op)(lng_waitable *o, lng_waiter *w, void *arg);

/* The blocking form for a plain C thread, which sleeps on its own
   condition variable: runs op with w (set up by the caller, its cw filled
   in here) and, when it parks, sleeps until it is completed or timeout
   seconds pass (< 0: forever; 0: op runs without a waiter). Returns op's
   result, or for a parked wait the waiter's result, or WOULDBLOCK when
   the time ran out (the waiter is then off the queue: nothing happened).
   A completion that races the timeout wins and is reported. */
int lng_waitable_cwait(lng_waitable *o, lng_waiter *w, double timeout,
                       lng_waitable_op op, void *arg);

#endif
