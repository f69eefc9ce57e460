/*
 * Waiters: one blocked party on a waitable object's queue (waitable.h). A
 * waiter is either a parked goroutine (woken through the scheduler) or a
 * plain C thread (woken through its own condition variable). The result
 * is written by whoever completes the wait, under the object's lock, and
 * read by the waiter after it is woken.
 */
#ifndef LNG_WAITER_H
#define LNG_WAITER_H

#include <pthread.h>
#include <stdatomic.h>
#include "msg.h"
#include "res.h"

typedef struct lng_g lng_g;
typedef struct lng_sched lng_sched;

/* A C thread that waits (embedding API); the goroutine case needs none. */
typedef struct lng_cwait {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int done;
} lng_cwait;

void lng_cwait_init(lng_cwait *cw);
void lng_cwait_destroy(lng_cwait *cw);
/* Completes the wait: the sleeper returns 1. */
void lng_cwait_wake(lng_cwait *cw);
/* Sleeps until the waiter is completed (returns 1) or timeout seconds
   pass (returns 0); timeout < 0 waits for good. */
int lng_cwait_sleep(lng_cwait *cw, double timeout);

/* Shared by every case of one select: the first completer wins the CAS. */
typedef struct lng_selgroup {
  atomic_int fired;     /* 0 = still waiting; else 1 + winning case index */
} lng_selgroup;

typedef struct lng_waiter lng_waiter;
struct lng_waiter {
  lng_waiter *next, *prev;
  lng_sched *sched;       /* with g: where to make it runnable again */
  lng_g *g;               /* a parked goroutine, or NULL */
  lng_cwait *cw;          /* a waiting C thread, or NULL */
  lng_selgroup *sel;      /* a select's group, or NULL for a single operation */
  lng_msg *slot;          /* send: the value to hand over; recv: where it goes */
  int index;              /* the case index within a select */
  signed char result;     /* an lng_res (OK or CLOSED), set by the completer */
  unsigned char queued;   /* 0, or on queue queued - 1 of its object right now */
};

/* A FIFO of waiters, intrusive. */
typedef struct lng_waitq { lng_waiter *head, *tail; } lng_waitq;

/* tag: what `queued` says while w is on q (1 + the queue's index). */
static inline void lng_waitq_push(lng_waitq *q, lng_waiter *w, int tag) {
  w->next = NULL;
  w->prev = q->tail;
  if (q->tail) q->tail->next = w; else q->head = w;
  q->tail = w;
  w->queued = (unsigned char)tag;
}

/* The same at the front: a waiter that has waited already goes first. */
static inline void lng_waitq_push_front(lng_waitq *q, lng_waiter *w, int tag) {
  w->prev = NULL;
  w->next = q->head;
  if (q->head) q->head->prev = w; else q->tail = w;
  q->head = w;
  w->queued = (unsigned char)tag;
}

static inline void lng_waitq_remove(lng_waitq *q, lng_waiter *w) {
  if (w->prev) w->prev->next = w->next; else q->head = w->next;
  if (w->next) w->next->prev = w->prev; else q->tail = w->prev;
  w->next = w->prev = NULL;
  w->queued = 0;
}

/* Claims the waiter for completion: always for a single operation, only for
   the first completer of a select. Call with the object's lock held. */
static inline int lng_waiter_claim(lng_waiter *w) {
  if (!w->sel) return 1;
  int expect = 0;
  return atomic_compare_exchange_strong(&w->sel->fired, &expect, w->index + 1);
}

/* Pops the first waiter that can still be claimed; stale select cases are dropped. */
static inline lng_waiter *lng_waitq_take(lng_waitq *q) {
  lng_waiter *w;
  while ((w = q->head) != NULL) {
    lng_waitq_remove(q, w);
    if (lng_waiter_claim(w)) return w;
  }
  return NULL;
}

/* Wakes a claimed waiter; self is the calling worker's index, or -1. */
void lng_waiter_wake(lng_waiter *w, int self);

#endif
