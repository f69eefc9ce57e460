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
lng_mutex *lng_mutex_new(void) { return sema_make(1, LNG_OBJ_MUTEX); }

int lng_sema_acquire(lng_sema *s, lng_waiter *w) {
  int r = LNG_RES_OK;
  lng_waitable_lock(&s->wait);
  /* Units are handed straight to waiters, so a free unit means nobody waits. */
  if (s->count > 0) s->count--;
  else r = lng_waitable_block(&s->wait, LNG_WQ_ONE, w);
  lng_waitable_unlock(&s->wait);
  return r;
}

int lng_sema_tryacquire(lng_sema *s) { return lng_sema_acquire(s, NULL); }

int lng_sema_release(lng_sema *s, int self) {
  int r = LNG_RES_OK;
  lng_waitable_lock(&s->wait);
  /* the unit goes straight to w (a mutex stays locked, by w now) */
  lng_waiter *w = lng_waitable_take(&s->wait, LNG_WQ_ONE, LNG_RES_OK);
  if (!w) {
    if (s->count >= s->max) r = LNG_RES_OVERRELEASE;
    else s->count++;
  }
  lng_waitable_unlock(&s->wait);
  if (w) lng_waiter_wake(w, self);
  return r;
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
