/*
 * Wait groups, mutexes and semaphores; see sync.h.
 *
 * As in chan.c, waiters are woken after the object's lock is released: a
 * completed waiter is already off the queue with its result written. When
 * several are woken at once (a wait group reaching zero) they are chained
 * through their `next` links only, never pushed on another lng_waitq, so
 * `queued` stays 0 and a concurrent cancel sees them as completed.
 */
#include <errno.h>
#include <stdlib.h>
#include <time.h>
#include "sync.h"

/* ---- wait groups ---- */

static void wg_destroy(lng_obj *o) {
  lng_wg *wg = (lng_wg *)o;
  pthread_mutex_destroy(&wg->mu);
  free(wg);
}

lng_wg *lng_wg_new(void) {
  lng_wg *wg = calloc(1, sizeof *wg);
  if (!wg) return NULL;
  pthread_mutex_init(&wg->mu, NULL);
  lng_obj_init(&wg->obj, LNG_OBJ_WAITGROUP, wg_destroy);
  return wg;
}

int lng_wg_add(lng_wg *wg, int64_t n, int self) {
  lng_waiter *first = NULL, *last = NULL, *w;
  pthread_mutex_lock(&wg->mu);
  /* count >= 0, so count + n cannot overflow for n < 0 */
  if (n < 0 ? wg->count + n < 0 : wg->count > INT64_MAX - n) {
    int r = n < 0 ? LNG_SYNC_NEGATIVE : LNG_SYNC_OVERFLOW;
    pthread_mutex_unlock(&wg->mu);
    return r;
  }
  wg->count += n;
  if (wg->count == 0) {
    while ((w = lng_waitq_take(&wg->waiters)) != NULL) {
      w->result = LNG_WAIT_OK;
      if (last) last->next = w; else first = w;
      last = w;
    }
  }
  pthread_mutex_unlock(&wg->mu);
  while ((w = first) != NULL) {
    first = w->next;          /* read before the wake: the waiter may be reused at once */
    w->next = NULL;
    lng_waiter_wake(w, self);
  }
  return LNG_SYNC_OK;
}

int lng_wg_done(lng_wg *wg, int self) { return lng_wg_add(wg, -1, self); }

int lng_wg_wait(lng_wg *wg, lng_waiter *w) {
  int r = LNG_SYNC_OK;
  pthread_mutex_lock(&wg->mu);
  if (wg->count > 0) {
    if (w) {
      lng_waitq_push(&wg->waiters, w);
      r = LNG_SYNC_PARKED;
    } else {
      r = LNG_SYNC_WOULDBLOCK;
    }
  }
  pthread_mutex_unlock(&wg->mu);
  return r;
}

int64_t lng_wg_count(lng_wg *wg) {
  pthread_mutex_lock(&wg->mu);
  int64_t n = wg->count;
  pthread_mutex_unlock(&wg->mu);
  return n;
}

int lng_wg_cancel(lng_wg *wg, lng_waiter *w) {
  pthread_mutex_lock(&wg->mu);
  int was = w->queued;
  if (was) lng_waitq_remove(&wg->waiters, w);
  pthread_mutex_unlock(&wg->mu);
  return was;
}

/* ---- mutexes ---- */

static void mutex_destroy(lng_obj *o) {
  lng_mutex *m = (lng_mutex *)o;
  pthread_mutex_destroy(&m->mu);
  free(m);
}

lng_mutex *lng_mutex_new(void) {
  lng_mutex *m = calloc(1, sizeof *m);
  if (!m) return NULL;
  pthread_mutex_init(&m->mu, NULL);
  lng_obj_init(&m->obj, LNG_OBJ_MUTEX, mutex_destroy);
  return m;
}

int lng_mutex_lock(lng_mutex *m, lng_waiter *w) {
  int r = LNG_SYNC_OK;
  pthread_mutex_lock(&m->mu);
  if (!m->locked) {
    m->locked = 1;
  } else if (w) {
    lng_waitq_push(&m->waiters, w);
    r = LNG_SYNC_PARKED;
  } else {
    r = LNG_SYNC_WOULDBLOCK;
  }
  pthread_mutex_unlock(&m->mu);
  return r;
}

int lng_mutex_trylock(lng_mutex *m) { return lng_mutex_lock(m, NULL); }

int lng_mutex_unlock(lng_mutex *m, int self) {
  lng_waiter *w = NULL;
  pthread_mutex_lock(&m->mu);
  if (!m->locked) {
    pthread_mutex_unlock(&m->mu);
    return LNG_SYNC_UNLOCKED;
  }
  w = lng_waitq_take(&m->waiters);
  if (w) w->result = LNG_WAIT_OK;     /* handed over: it stays locked, by w now */
  else m->locked = 0;
  pthread_mutex_unlock(&m->mu);
  if (w) lng_waiter_wake(w, self);
  return LNG_SYNC_OK;
}

int lng_mutex_locked(lng_mutex *m) {
  pthread_mutex_lock(&m->mu);
  int l = m->locked;
  pthread_mutex_unlock(&m->mu);
  return l;
}

int lng_mutex_cancel(lng_mutex *m, lng_waiter *w) {
  pthread_mutex_lock(&m->mu);
  int was = w->queued;
  if (was) lng_waitq_remove(&m->waiters, w);
  pthread_mutex_unlock(&m->mu);
  return was;
}

/* ---- semaphores ---- */

static void sema_destroy(lng_obj *o) {
  lng_sema *s = (lng_sema *)o;
  pthread_mutex_destroy(&s->mu);
  free(s);
}

lng_sema *lng_sema_new(int64_t n) {
  if (n <= 0) return NULL;
  lng_sema *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  s->count = s->max = n;
  pthread_mutex_init(&s->mu, NULL);
  lng_obj_init(&s->obj, LNG_OBJ_SEMA, sema_destroy);
  return s;
}

int lng_sema_acquire(lng_sema *s, lng_waiter *w) {
  int r = LNG_SYNC_OK;
  pthread_mutex_lock(&s->mu);
  /* Units are handed straight to waiters, so a free unit means nobody waits. */
  if (s->count > 0) {
    s->count--;
  } else if (w) {
    lng_waitq_push(&s->waiters, w);
    r = LNG_SYNC_PARKED;
  } else {
    r = LNG_SYNC_WOULDBLOCK;
  }
  pthread_mutex_unlock(&s->mu);
  return r;
}

int lng_sema_tryacquire(lng_sema *s) { return lng_sema_acquire(s, NULL); }

int lng_sema_release(lng_sema *s, int self) {
  lng_waiter *w = NULL;
  int r = LNG_SYNC_OK;
  pthread_mutex_lock(&s->mu);
  w = lng_waitq_take(&s->waiters);
  if (w) w->result = LNG_WAIT_OK;     /* the unit goes straight to w */
  else if (s->count >= s->max) r = LNG_SYNC_OVERRELEASE;
  else s->count++;
  pthread_mutex_unlock(&s->mu);
  if (w) lng_waiter_wake(w, self);
  return r;
}

int64_t lng_sema_available(lng_sema *s) {
  pthread_mutex_lock(&s->mu);
  int64_t n = s->count;
  pthread_mutex_unlock(&s->mu);
  return n;
}

int lng_sema_cancel(lng_sema *s, lng_waiter *w) {
  pthread_mutex_lock(&s->mu);
  int was = w->queued;
  if (was) lng_waitq_remove(&s->waiters, w);
  pthread_mutex_unlock(&s->mu);
  return was;
}

/* ---- plain C threads ---- */

enum { OP_WG, OP_MUTEX, OP_SEMA };

static int op_start(int op, void *o, lng_waiter *w) {
  switch (op) {
    case OP_WG: return lng_wg_wait(o, w);
    case OP_MUTEX: return lng_mutex_lock(o, w);
    default: return lng_sema_acquire(o, w);
  }
}

static int op_cancel(int op, void *o, lng_waiter *w) {
  switch (op) {
    case OP_WG: return lng_wg_cancel(o, w);
    case OP_MUTEX: return lng_mutex_cancel(o, w);
    default: return lng_sema_cancel(o, w);
  }
}

static int op_timed(int op, void *o, double timeout) {
  if (timeout == 0) return op_start(op, o, NULL);
  lng_cwait cw;
  lng_waiter w = {0};
  lng_cwait_init(&cw);
  w.cw = &cw;               /* ready before the waiter is queued: a completer signals it */
  int r = op_start(op, o, &w);
  if (r == LNG_SYNC_PARKED) {
    int done = lng_cwait_sleep(&cw, timeout);
    if (!done && !op_cancel(op, o, &w)) done = lng_cwait_sleep(&cw, -1);   /* completed meanwhile */
    r = done ? LNG_SYNC_OK : LNG_SYNC_WOULDBLOCK;
  }
  lng_cwait_destroy(&cw);
  return r;
}

int lng_wg_wait_timed(lng_wg *wg, double timeout) { return op_timed(OP_WG, wg, timeout); }
int lng_mutex_lock_timed(lng_mutex *m, double timeout) { return op_timed(OP_MUTEX, m, timeout); }
int lng_sema_acquire_timed(lng_sema *s, double timeout) { return op_timed(OP_SEMA, s, timeout); }
