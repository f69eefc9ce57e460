/*
 * Wait groups, mutexes and semaphores; see sync.h. As everywhere
 * (waitable.h), waiters are woken after the object's lock is released.
 */
#include <stdlib.h>
#include "sync.h"

/* Nothing but the memory: the objects hold no message and no waiter
   outlives its wait. */
static void sync_destroy(lng_obj *o) { free(o); }

/* ---- wait groups ---- */

lng_wg *lng_wg_new(void) {
  lng_wg *wg = calloc(1, sizeof *wg);
  if (!wg) return NULL;
  lng_waitable_init(&wg->wait);
  lng_obj_init(&wg->obj, LNG_OBJ_WAITGROUP, sync_destroy);
  return wg;
}

int lng_wg_add(lng_wg *wg, int64_t n, int self) {
  lng_waitq woken = { NULL, NULL };
  lng_waitable_lock(&wg->wait);
  /* count >= 0, so count + n cannot overflow for n < 0 */
  if (n < 0 ? wg->count + n < 0 : wg->count > INT64_MAX - n) {
    lng_waitable_unlock(&wg->wait);
    return n < 0 ? LNG_RES_NEGATIVE : LNG_RES_OVERFLOW;
  }
  wg->count += n;
  if (wg->count == 0) lng_waitable_takeall(&wg->wait, LNG_WQ_ONE, LNG_RES_OK, &woken);
  lng_waitable_unlock(&wg->wait);
  lng_wakes_wake(&woken, self);
  return LNG_RES_OK;
}

int lng_wg_done(lng_wg *wg, int self) { return lng_wg_add(wg, -1, self); }

int lng_wg_wait(lng_wg *wg, lng_waiter *w) {
  int r = LNG_RES_OK;
  lng_waitable_lock(&wg->wait);
  if (wg->count > 0) r = lng_waitable_block(&wg->wait, LNG_WQ_ONE, w);
  lng_waitable_unlock(&wg->wait);
  return r;
}

/* A counter of o, read under o's lock. */
static int64_t read_count(lng_waitable *o, const int64_t *count) {
  lng_waitable_lock(o);
  int64_t n = *count;
  lng_waitable_unlock(o);
  return n;
}

int64_t lng_wg_count(lng_wg *wg) { return read_count(&wg->wait, &wg->count); }

/* ---- semaphores, and mutexes: semaphores of one unit ---- */

static lng_sema *sema_make(int64_t n, int kind) {
  if (n <= 0) return NULL;
  lng_sema *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  s->count = s->max = n;
  lng_waitable_init(&s->wait);
  lng_obj_init(&s->obj, kind, sync_destroy);
  return s;
}

lng_sema *lng_sema_new(int64_t n) { return sema_make(n, LNG_OBJ_SEMA); }
lng_mutex *lng_mutex_new(void) {
  lng_sema *m = sema_make(1, LNG_OBJ_MUTEX);
  if (m) m->barge = 1;
  return m;
}

int lng_sema_acquire(lng_sema *s, lng_waiter *w) {
  int r = LNG_RES_OK;
  lng_waitable_lock(&s->wait);
  /* A semaphore hands units straight to waiters, so a free unit means
     nobody waits; a mutex's free lock may have a woken waiter on its way
     to it, and is taken from it (barging) unless the mutex is starving. */
  if (s->count > 0 && !s->starving) s->count--;
  else r = lng_waitable_block(&s->wait, LNG_WQ_ONE, w);
  lng_waitable_unlock(&s->wait);
  return r;
}

int lng_sema_tryacquire(lng_sema *s) { return lng_sema_acquire(s, NULL); }

/* With the mutex's lock held: frees it, taking the waiter to wake. */
static lng_waiter *mutex_free(lng_sema *m) {
  lng_waiter *w = NULL;
  if (m->woken) {                   /* one is on its way already */
    m->count++;
    return NULL;
  }
  lng_waitq *q = &m->wait.q[LNG_WQ_ONE];
  if (q->head && q->head->cw) {     /* a C thread: handed the lock, no retry */
    return lng_waitable_take(&m->wait, LNG_WQ_ONE, LNG_RES_OK);
  }
  m->count++;
  if ((w = lng_waitable_take(&m->wait, LNG_WQ_ONE, LNG_RES_RETRY)) != NULL) m->woken = 1;
  return w;
}

int lng_sema_release(lng_sema *s, int self) {
  int r = LNG_RES_OK;
  lng_waiter *w = NULL;
  lng_waitable_lock(&s->wait);
  if (s->count >= s->max) {
    r = LNG_RES_OVERRELEASE;
  } else if (s->barge && !s->starving) {
    w = mutex_free(s);
  } else {
    /* the unit goes straight to w (a mutex stays locked, by w now) */
    w = lng_waitable_take(&s->wait, LNG_WQ_ONE, LNG_RES_OK);
    if (!w) {
      s->count++;
      s->starving = 0;
    }
  }
  lng_waitable_unlock(&s->wait);
  if (w) lng_waiter_wake(w, self);
  return r;
}

int lng_mutex_relock(lng_mutex *m, lng_waiter *w, int64_t waited_ns) {
  int r = LNG_RES_OK;
  lng_waitable_lock(&m->wait);
  m->woken = 0;
  if (m->count > 0 && !m->starving) {
    m->count--;
  } else {
    if (waited_ns > LNG_MUTEX_STARVE_NS) m->starving = 1;
    lng_waitq_push_front(&m->wait.q[LNG_WQ_ONE], w, LNG_WQ_ONE + 1);
    r = LNG_RES_PARKED;
  }
  lng_waitable_unlock(&m->wait);
  return r;
}

void lng_mutex_settle(lng_mutex *m, int64_t waited_ns) {
  if (waited_ns >= LNG_MUTEX_STARVE_NS) return;
  lng_waitable_lock(&m->wait);
  m->starving = 0;
  lng_waitable_unlock(&m->wait);
}

int lng_mutex_unlock(lng_mutex *m, int self) {
  int r = lng_sema_release(m, self);
  return r == LNG_RES_OVERRELEASE ? LNG_RES_UNLOCKED : r;
}

int64_t lng_sema_available(lng_sema *s) { return read_count(&s->wait, &s->count); }

/* ---- plain C threads ---- */

static int wg_op(lng_waitable *o, lng_waiter *w, void *arg) {
  (void)arg;
  return lng_wg_wait(lng_waitable_owner(o, lng_wg), w);
}

static int sema_op(lng_waitable *o, lng_waiter *w, void *arg) {
  (void)arg;
  return lng_sema_acquire(lng_waitable_owner(o, lng_sema), w);
}

int lng_wg_wait_timed(lng_wg *wg, double timeout) {
  lng_waiter w = {0};
  return lng_waitable_cwait(&wg->wait, &w, timeout, wg_op, NULL);
}

int lng_sema_acquire_timed(lng_sema *s, double timeout) {
  lng_waiter w = {0};
  return lng_waitable_cwait(&s->wait, &w, timeout, sema_op, NULL);
}
