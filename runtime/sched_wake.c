/*
 * Idling and waking: a worker with nothing to do spins briefly, then
 * sleeps until a goroutine is put in its inbox, one is spawned for anyone
 * to take, or the earliest timer is due; and the ways back: making a
 * parked goroutine runnable, waking a waiter (a goroutine or a C thread),
 * aborting a wait. See sched_int.h.
 *
 * With fds registered in the poller (netpoll.h) one idle worker at a time
 * sleeps in epoll_wait instead of on its condition variable, as Go's
 * scheduler does: it wakes for I/O, for its next timer, or when a waker
 * breaks the poll through the eventfd (a worker's `polling` flag says
 * which way to wake it). The others sleep on their condition variables;
 * goroutines the poll makes ready on their workers reach them through
 * their inboxes. Busy workers poll without waiting every so many picks
 * (sched_run.c), and the monitor does when nobody has for a while.
 */
#include <sched.h>
#include "sched_int.h"
#include "cond.h"

#define SPIN_ROUNDS 200    /* idle polls before sleeping */

/* w sleeps in the poller: break it (after the waker's own store, which
   the worker reads after setting `polling`, so one of the two sees the
   other). */
static void kick(worker *w) {
  if (atomic_load(&w->polling)) {
    lng_netpoll *np = atomic_load(&w->s->np);
    if (np) lng_netpoll_break(np);
  }
}

void lng_worker_wake(worker *w) {
  lng_cond_signal(&w->mu, &w->cv);
  kick(w);
}

/* Puts g where w's owner finds it, waking the owner if it sleeps. */
void lng_worker_inbox_push(worker *w, lng_g *g) {
  pthread_mutex_lock(&w->mu);
  gq_push(&w->inbox, g);
  atomic_store(&w->hasinbox, 1);
  if (atomic_load(&w->sleeping)) pthread_cond_signal(&w->cv);
  pthread_mutex_unlock(&w->mu);
  kick(w);
}

void lng_sched_ready(lng_sched *s, lng_g *g, int self) {
  worker *w = &s->w[g->worker];
  if (self == g->worker) {
    if (w->inrun) atomic_store_explicit(&w->owed, ++w->pend, memory_order_relaxed);
    else atomic_fetch_add(&s->active, 1);
    gq_push(&w->runq, g);
    return;
  }
  atomic_fetch_add(&s->active, 1);
  lng_worker_inbox_push(w, g);
}

void lng_sched_arm(lng_g *g) {
  if (g->cancel) atomic_store(&g->abortstate, LNG_ABORT_ARMED);
}

void lng_sched_disarm(lng_g *g) {
  for (;;) {
    int st = LNG_ABORT_ARMED;
    if (atomic_compare_exchange_strong(&g->abortstate, &st, LNG_ABORT_NONE)) break;
    if (st == LNG_ABORT_NONE) break;
    sched_yield();                /* an abort is looking at g: it is quick */
  }
  g->cancel = NULL;
  g->cancelobj = NULL;
}

int lng_sched_abort(lng_sched *s, lng_g *g, atomic_int *request) {
  (void)s;
  for (;;) {
    int st = LNG_ABORT_ARMED;
    if (atomic_compare_exchange_strong(&g->abortstate, &st, LNG_ABORT_BUSY)) break;
    if (st == LNG_ABORT_NONE) return 0;  /* not in an abortable wait: the request stays */
    sched_yield();                       /* the other side is looking at g: it is quick */
  }
  /* The request is taken only while g's wait is held: one taken before by
     someone else (g itself, once armed) must not abort the wait g is in
     now, which may be a later one. */
  if (!atomic_exchange(request, 0)) {
    atomic_store(&g->abortstate, LNG_ABORT_ARMED);
    return 0;
  }
  int took = g->cancel(g);
  if (took) g->aborted = 1;
  else atomic_store(request, 1);        /* the wait completed: g runs soon and finds the request */
  atomic_store(&g->abortstate, LNG_ABORT_NONE);
  return took;        /* the caller makes g runnable: lng_sched_ready */
}

void lng_waiter_wake(lng_waiter *w, int self) {
  if (w->g) {
    lng_sched_ready(w->sched, w->g, self);
  } else if (w->cw) {
    lng_cwait_wake(w->cw);
  }
}

static int has_work(worker *w) {
  return atomic_load(&w->hasinbox) || atomic_load(&w->s->nfresh) > 0 ||
         atomic_load(&w->s->stopping);
}

/* Sleeps in the poller (w->mu released meanwhile) until an event, a
   break or the next timer; 1 if it made goroutines of w runnable. */
static int poll_sleep(worker *w, lng_netpoll *np) {
  lng_sched *s = w->s;
  atomic_store(&w->polling, 1);
  pthread_mutex_unlock(&w->mu);
  if (!has_work(w) && !timer_due(s)) {
    int64_t next = atomic_load(&s->timers.next), timeout = -1;
    if (next != INT64_MAX) {
      timeout = next - lng_now_ns();
      if (timeout < 0) timeout = 0;
    }
    lng_netpoll_poll(np, timeout, w->index);
  }
  atomic_store(&w->polling, 0);
  pthread_mutex_lock(&w->mu);
  return w->runq.head != NULL;
}

/* Polls without waiting, then spins briefly, then sleeps until woken or
   the earliest timer is due: in the poller if nobody else is, else on the
   condition variable. */
void lng_worker_idle(worker *w) {
  lng_sched *s = w->s;
  lng_netpoll *np = active_netpoll(s);
  if (np && lng_netpoll_poll(np, 0, w->index) >= 0 && w->runq.head) return;
  for (int i = 0; i < SPIN_ROUNDS; i++) {
    if (has_work(w) || timer_due(s)) return;
    if (i & 7) sched_yield();
    /* (the network too: a reply that arrives while this worker spins
       must not wait for the spinning to end) */
    else if (np && lng_netpoll_poll(np, 0, w->index) > 0 && w->runq.head) return;
  }
  pthread_mutex_lock(&w->mu);
  atomic_store(&w->sleeping, 1);
  while (!has_work(w) && !timer_due(s)) {
    if ((np = active_netpoll(s)) && !lng_netpoll_polling(np)) {
      if (poll_sleep(w, np)) break;
      continue;
    }
    int64_t next = atomic_load(&s->timers.next);
    if (next == INT64_MAX) {
      pthread_cond_wait(&w->cv, &w->mu);
    } else {
      struct timespec ts = lng_timespec_ns(next);
      pthread_cond_timedwait(&w->cv, &w->mu, &ts);
    }
  }
  atomic_store(&w->sleeping, 0);
  pthread_mutex_unlock(&w->mu);
}

int lng_sched_timer_add(lng_sched *s, lng_timer *t) {
  int64_t before = atomic_load(&s->timers.next);
  int64_t due = t->due;            /* once added, t may fire and be freed elsewhere */
  if (lng_timers_add(&s->timers, t) != 0) return -1;
  /* An earlier deadline than the sleepers know of: one of them re-arms. */
  if (due < before) {
    for (int i = 0; i < s->n; i++)
      if (atomic_load(&s->w[i].sleeping)) { lng_worker_wake(&s->w[i]); break; }
  }
  return 0;
}

int lng_sched_timer_del(lng_sched *s, lng_timer *t) {
  return lng_timers_del(&s->timers, t);
}

/* ---- the poller ---- */

lng_netpoll *lng_sched_netpoll(lng_sched *s) {
  lng_netpoll *np = atomic_load_explicit(&s->np, memory_order_acquire);
  if (np) return np;
  pthread_mutex_lock(&s->npmu);
  if (!(np = atomic_load(&s->np)) && (np = lng_netpoll_new(s))) atomic_store(&s->np, np);
  pthread_mutex_unlock(&s->npmu);
  return np;
}

/* A sleeper on its condition variable takes up polling, if nobody polls. */
void lng_sched_netpoll_started(lng_sched *s) {
  lng_netpoll *np = atomic_load(&s->np);
  if (!np || lng_netpoll_polling(np)) return;
  for (int i = 0; i < s->n; i++)
    if (atomic_load(&s->w[i].sleeping)) { lng_worker_wake(&s->w[i]); break; }
}
