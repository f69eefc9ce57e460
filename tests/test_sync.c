/*
 * Tests for runtime/sync.c alone: the non-blocking paths and queued
 * waiters driven directly (waiters with neither g nor cw, so a wake does
 * nothing and w->result / w->queued can be checked), then plain C threads
 * through the *_timed forms.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include "../runtime/sync.h"

static lng_waiter mkwaiter(void) {
  lng_waiter w = {0};
  w.result = -1;
  return w;
}

/* ---- waitgroup ---- */

Test(sync_wg, zero_counter_waits_not, .timeout = 30) {
  lng_wg *wg = lng_wg_new();
  cr_assert_not_null(wg);
  cr_assert_eq(wg->obj.kind, LNG_OBJ_WAITGROUP);
  lng_waiter w = mkwaiter();
  cr_assert_eq(lng_wg_wait(wg, NULL), LNG_RES_OK);
  cr_assert_eq(lng_wg_wait(wg, &w), LNG_RES_OK);
  cr_assert_eq(w.queued, 0);
  cr_assert_eq(lng_wg_count(wg), 0);
  lng_obj_unref(&wg->obj);
}

Test(sync_wg, wakes_every_waiter_at_zero, .timeout = 30) {
  lng_wg *wg = lng_wg_new();
  lng_waiter w[4];
  cr_assert_eq(lng_wg_add(wg, 3, -1), LNG_RES_OK);
  cr_assert_eq(lng_wg_wait(wg, NULL), LNG_RES_WOULDBLOCK);
  for (int i = 0; i < 4; i++) {
    w[i] = mkwaiter();
    cr_assert_eq(lng_wg_wait(wg, &w[i]), LNG_RES_PARKED);
    cr_assert_eq(w[i].queued, 1);
  }
  cr_assert_eq(lng_wg_done(wg, -1), LNG_RES_OK);
  cr_assert_eq(lng_wg_add(wg, -1, -1), LNG_RES_OK);
  for (int i = 0; i < 4; i++) cr_assert_eq(w[i].result, -1, "woken before zero");
  cr_assert_eq(lng_wg_count(wg), 1);
  cr_assert_eq(lng_wg_done(wg, -1), LNG_RES_OK);
  for (int i = 0; i < 4; i++) {
    cr_assert_eq(w[i].result, LNG_RES_OK);
    cr_assert_eq(w[i].queued, 0);
    cr_assert_null(w[i].next);
  }
  cr_assert_null(wg->wait.q[LNG_WQ_ONE].head);
  cr_assert_null(wg->wait.q[LNG_WQ_ONE].tail);
  /* reusable */
  cr_assert_eq(lng_wg_add(wg, 1, -1), LNG_RES_OK);
  lng_waiter x = mkwaiter();
  cr_assert_eq(lng_wg_wait(wg, &x), LNG_RES_PARKED);
  cr_assert_eq(lng_wg_done(wg, -1), LNG_RES_OK);
  cr_assert_eq(x.result, LNG_RES_OK);
  lng_obj_unref(&wg->obj);
}

Test(sync_wg, negative_and_overflow_leave_counter, .timeout = 30) {
  lng_wg *wg = lng_wg_new();
  cr_assert_eq(lng_wg_done(wg, -1), LNG_RES_NEGATIVE);
  cr_assert_eq(lng_wg_count(wg), 0);
  cr_assert_eq(lng_wg_add(wg, 5, -1), LNG_RES_OK);
  cr_assert_eq(lng_wg_add(wg, -6, -1), LNG_RES_NEGATIVE);
  cr_assert_eq(lng_wg_add(wg, INT64_MIN, -1), LNG_RES_NEGATIVE);
  cr_assert_eq(lng_wg_count(wg), 5);
  cr_assert_eq(lng_wg_add(wg, INT64_MAX - 5, -1), LNG_RES_OK);
  cr_assert_eq(lng_wg_add(wg, 1, -1), LNG_RES_OVERFLOW);
  cr_assert_eq(lng_wg_count(wg), INT64_MAX);
  cr_assert_eq(lng_wg_add(wg, -INT64_MAX, -1), LNG_RES_OK);
  cr_assert_eq(lng_wg_add(wg, 0, -1), LNG_RES_OK);
  cr_assert_eq(lng_wg_count(wg), 0);
  lng_obj_unref(&wg->obj);
}

Test(sync_wg, cancel, .timeout = 30) {
  lng_wg *wg = lng_wg_new();
  lng_waiter a = mkwaiter(), b = mkwaiter();
  lng_wg_add(wg, 1, -1);
  cr_assert_eq(lng_wg_wait(wg, &a), LNG_RES_PARKED);
  cr_assert_eq(lng_wg_wait(wg, &b), LNG_RES_PARKED);
  cr_assert_eq(lng_wg_cancel(wg, &a), 1);
  cr_assert_eq(lng_wg_cancel(wg, &a), 0);
  lng_wg_done(wg, -1);
  cr_assert_eq(a.result, -1, "a cancelled waiter is not completed");
  cr_assert_eq(b.result, LNG_RES_OK);
  cr_assert_eq(lng_wg_cancel(wg, &b), 0, "a completed waiter cannot be cancelled");
  lng_obj_unref(&wg->obj);
}

/* ---- mutex ---- */

Test(sync_mutex, lock_trylock_unlock, .timeout = 30) {
  lng_mutex *m = lng_mutex_new();
  cr_assert_not_null(m);
  cr_assert_eq(m->obj.kind, LNG_OBJ_MUTEX);
  cr_assert_eq(lng_mutex_unlock(m, -1), LNG_RES_UNLOCKED);
  cr_assert_eq(lng_mutex_trylock(m), LNG_RES_OK);
  cr_assert(lng_mutex_locked(m));
  cr_assert_eq(lng_mutex_trylock(m), LNG_RES_WOULDBLOCK);
  cr_assert_eq(lng_mutex_lock(m, NULL), LNG_RES_WOULDBLOCK);
  cr_assert_eq(lng_mutex_unlock(m, -1), LNG_RES_OK);
  cr_assert_not(lng_mutex_locked(m));
  cr_assert_eq(lng_mutex_unlock(m, -1), LNG_RES_UNLOCKED);
  lng_waiter w = mkwaiter();
  cr_assert_eq(lng_mutex_lock(m, &w), LNG_RES_OK);
  cr_assert_eq(w.queued, 0);
  cr_assert_eq(lng_mutex_unlock(m, -1), LNG_RES_OK);
  lng_obj_unref(&m->obj);
}

/* Unlock frees the lock and wakes the first waiter to try again (RETRY),
   one at a time: a running goroutine may take the lock in between. */
Test(sync_mutex, unlock_wakes_first_to_retry, .timeout = 30) {
  lng_mutex *m = lng_mutex_new();
  enum { N = 4 };
  lng_waiter w[N];
  cr_assert_eq(lng_mutex_lock(m, NULL), LNG_RES_OK);
  for (int i = 0; i < N; i++) {
    w[i] = mkwaiter();
    cr_assert_eq(lng_mutex_lock(m, &w[i]), LNG_RES_PARKED);
  }
  for (int i = 0; i < N; i++) {
    cr_assert_eq(lng_mutex_unlock(m, -1), LNG_RES_OK);
    cr_assert_eq(w[i].result, LNG_RES_RETRY, "waiter %d not woken to retry", i);
    cr_assert_eq(w[i].queued, 0);
    for (int j = i + 1; j < N; j++) cr_assert_eq(w[j].result, -1, "out of order: %d before %d", j, i);
    cr_assert_not(lng_mutex_locked(m), "freed, not handed over");
    /* a barger takes it and gives it back: the woken one is on its way,
       so nobody else is woken */
    cr_assert_eq(lng_mutex_trylock(m), LNG_RES_OK);
    cr_assert_eq(lng_mutex_unlock(m, -1), LNG_RES_OK);
    if (i + 1 < N) cr_assert_eq(w[i + 1].result, -1, "a second waiter woken");
    w[i].result = -1;
    cr_assert_eq(lng_mutex_relock(m, &w[i], 0), LNG_RES_OK, "the free lock went to the woken one");
    cr_assert(lng_mutex_locked(m));
  }
  cr_assert_eq(lng_mutex_unlock(m, -1), LNG_RES_OK);
  cr_assert_not(lng_mutex_locked(m));
  cr_assert_eq(lng_mutex_unlock(m, -1), LNG_RES_UNLOCKED);
  lng_obj_unref(&m->obj);
}

/* A woken waiter that loses to a barger waits again first in line; one
   that has waited past the threshold turns the mutex to hand-off, which
   a waiter handed the lock after a short wait ends. */
Test(sync_mutex, loser_goes_first_then_starving_hands_off, .timeout = 30) {
  lng_mutex *m = lng_mutex_new();
  lng_waiter a = mkwaiter(), b = mkwaiter();
  cr_assert_eq(lng_mutex_lock(m, NULL), LNG_RES_OK);
  cr_assert_eq(lng_mutex_lock(m, &a), LNG_RES_PARKED);
  cr_assert_eq(lng_mutex_lock(m, &b), LNG_RES_PARKED);
  cr_assert_eq(lng_mutex_unlock(m, -1), LNG_RES_OK);
  cr_assert_eq(a.result, LNG_RES_RETRY);
  cr_assert_eq(lng_mutex_trylock(m), LNG_RES_OK);            /* the barger wins */
  a.result = -1;
  cr_assert_eq(lng_mutex_relock(m, &a, 10), LNG_RES_PARKED);
  cr_assert_eq(m->wait.q[LNG_WQ_ONE].head, &a, "the loser is not first in line");
  cr_assert_not(m->starving, "a short wait turned it to hand-off");
  cr_assert_eq(lng_mutex_unlock(m, -1), LNG_RES_OK);
  cr_assert_eq(a.result, LNG_RES_RETRY);
  cr_assert_eq(lng_mutex_trylock(m), LNG_RES_OK);            /* loses again, late now */
  a.result = -1;
  cr_assert_eq(lng_mutex_relock(m, &a, LNG_MUTEX_STARVE_NS + 1), LNG_RES_PARKED);
  cr_assert(m->starving);
  cr_assert_eq(lng_mutex_unlock(m, -1), LNG_RES_OK);
  cr_assert_eq(a.result, LNG_RES_OK, "starving: the lock is handed over");
  cr_assert(lng_mutex_locked(m));
  cr_assert_eq(lng_mutex_trylock(m), LNG_RES_WOULDBLOCK, "a barger got in while starving");
  lng_mutex_settle(m, LNG_MUTEX_STARVE_NS + 1);
  cr_assert(m->starving, "a long wait ended hand-off");
  cr_assert_eq(lng_mutex_unlock(m, -1), LNG_RES_OK);
  cr_assert_eq(b.result, LNG_RES_OK, "starving: handed to the next");
  lng_mutex_settle(m, 10);
  cr_assert_not(m->starving, "a short wait did not end hand-off");
  cr_assert_eq(lng_mutex_unlock(m, -1), LNG_RES_OK);
  cr_assert_not(lng_mutex_locked(m));
  lng_obj_unref(&m->obj);
}

Test(sync_mutex, cancel_and_stale_select_case, .timeout = 30) {
  lng_mutex *m = lng_mutex_new();
  lng_waiter a = mkwaiter(), b = mkwaiter(), c = mkwaiter();
  lng_selgroup grp;
  atomic_init(&grp.fired, 1);       /* b belongs to a select already decided */
  b.sel = &grp;
  b.index = 3;
  lng_mutex_lock(m, NULL);
  lng_mutex_lock(m, &a);
  lng_mutex_lock(m, &b);
  lng_mutex_lock(m, &c);
  cr_assert_eq(lng_mutex_cancel(m, &a), 1);
  cr_assert_eq(lng_mutex_unlock(m, -1), LNG_RES_OK);
  cr_assert_eq(a.result, -1);
  cr_assert_eq(b.result, -1, "a stale select case was woken");
  cr_assert_eq(c.result, LNG_RES_RETRY);
  cr_assert_eq(lng_mutex_cancel(m, &c), 0, "c was woken: nothing to cancel");
  cr_assert_eq(lng_mutex_relock(m, &c, 0), LNG_RES_OK);
  cr_assert_eq(lng_mutex_unlock(m, -1), LNG_RES_OK);
  cr_assert_not(lng_mutex_locked(m));
  lng_obj_unref(&m->obj);
}

/* ---- semaphore ---- */

Test(sync_sema, bad_sizes, .timeout = 30) {
  cr_assert_null(lng_sema_new(0));
  cr_assert_null(lng_sema_new(-1));
  cr_assert_null(lng_sema_new(INT64_MIN));
}

Test(sync_sema, counting_and_overrelease, .timeout = 30) {
  lng_sema *s = lng_sema_new(3);
  cr_assert_not_null(s);
  cr_assert_eq(s->obj.kind, LNG_OBJ_SEMA);
  cr_assert_eq(lng_sema_release(s, -1), LNG_RES_OVERRELEASE);
  cr_assert_eq(lng_sema_available(s), 3);
  for (int i = 0; i < 3; i++) cr_assert_eq(lng_sema_tryacquire(s), LNG_RES_OK);
  cr_assert_eq(lng_sema_tryacquire(s), LNG_RES_WOULDBLOCK);
  cr_assert_eq(lng_sema_acquire(s, NULL), LNG_RES_WOULDBLOCK);
  cr_assert_eq(lng_sema_available(s), 0);
  for (int i = 0; i < 3; i++) cr_assert_eq(lng_sema_release(s, -1), LNG_RES_OK);
  cr_assert_eq(lng_sema_release(s, -1), LNG_RES_OVERRELEASE);
  cr_assert_eq(lng_sema_available(s), 3);
  lng_obj_unref(&s->obj);
}

Test(sync_sema, fifo_handoff, .timeout = 30) {
  lng_sema *s = lng_sema_new(2);
  lng_waiter w[4];
  cr_assert_eq(lng_sema_acquire(s, NULL), LNG_RES_OK);
  lng_waiter first = mkwaiter();
  cr_assert_eq(lng_sema_acquire(s, &first), LNG_RES_OK);
  cr_assert_eq(first.queued, 0);
  for (int i = 0; i < 4; i++) {
    w[i] = mkwaiter();
    cr_assert_eq(lng_sema_acquire(s, &w[i]), LNG_RES_PARKED);
  }
  for (int i = 0; i < 4; i++) {
    cr_assert_eq(lng_sema_release(s, -1), LNG_RES_OK);
    cr_assert_eq(w[i].result, LNG_RES_OK);
    for (int j = i + 1; j < 4; j++) cr_assert_eq(w[j].result, -1);
    cr_assert_eq(lng_sema_available(s), 0, "the unit went to the waiter, not the pool");
  }
  lng_waiter x = mkwaiter();
  cr_assert_eq(lng_sema_acquire(s, &x), LNG_RES_PARKED);
  cr_assert_eq(lng_sema_cancel(s, &x), 1);
  cr_assert_eq(lng_sema_release(s, -1), LNG_RES_OK);
  cr_assert_eq(x.result, -1);
  cr_assert_eq(lng_sema_available(s), 1);
  cr_assert_eq(lng_sema_release(s, -1), LNG_RES_OK);
  cr_assert_eq(lng_sema_release(s, -1), LNG_RES_OVERRELEASE);
  lng_obj_unref(&s->obj);
}

/* ---- plain C threads ---- */

Test(sync_threads, timeouts, .timeout = 30) {
  lng_wg *wg = lng_wg_new();
  lng_mutex *m = lng_mutex_new();
  lng_sema *s = lng_sema_new(1);
  cr_assert_eq(lng_wg_wait_timed(wg, 0), LNG_RES_OK);
  cr_assert_eq(lng_wg_wait_timed(wg, 0.01), LNG_RES_OK);
  lng_wg_add(wg, 1, -1);
  cr_assert_eq(lng_wg_wait_timed(wg, 0), LNG_RES_WOULDBLOCK);
  cr_assert_eq(lng_wg_wait_timed(wg, 0.02), LNG_RES_WOULDBLOCK);
  cr_assert_null(wg->wait.q[LNG_WQ_ONE].head, "a timed-out waiter stays queued");
  cr_assert_eq(lng_mutex_lock_timed(m, -1), LNG_RES_OK);
  cr_assert_eq(lng_mutex_lock_timed(m, 0), LNG_RES_WOULDBLOCK);
  cr_assert_eq(lng_mutex_lock_timed(m, 0.02), LNG_RES_WOULDBLOCK);
  cr_assert_null(m->wait.q[LNG_WQ_ONE].head);
  cr_assert_eq(lng_mutex_unlock(m, -1), LNG_RES_OK);
  cr_assert_not(lng_mutex_locked(m), "a timed-out waiter was handed the lock");
  cr_assert_eq(lng_sema_acquire_timed(s, 0.02), LNG_RES_OK);
  cr_assert_eq(lng_sema_acquire_timed(s, 0.02), LNG_RES_WOULDBLOCK);
  cr_assert_null(s->wait.q[LNG_WQ_ONE].head);
  cr_assert_eq(lng_sema_release(s, -1), LNG_RES_OK);
  cr_assert_eq(lng_sema_available(s), 1);
  lng_obj_unref(&wg->obj);
  lng_obj_unref(&m->obj);
  lng_obj_unref(&s->obj);
}

enum { NTHREADS = 8, ROUNDS = 2000 };

typedef struct shared {
  lng_mutex *m;
  lng_sema *s;
  lng_wg *wg;
  long counter;             /* guarded by m only */
  atomic_int inside, most;
  atomic_int finished;
} shared;

static void *mutex_worker(void *arg) {
  shared *sh = arg;
  for (int i = 0; i < ROUNDS; i++) {
    if (lng_mutex_lock_timed(sh->m, -1) != LNG_RES_OK) abort();
    sh->counter++;
    if (lng_mutex_unlock(sh->m, -1) != LNG_RES_OK) abort();
  }
  return NULL;
}

Test(sync_threads, mutex_excludes, .timeout = 30) {
  shared sh = {0};
  sh.m = lng_mutex_new();
  pthread_t t[NTHREADS];
  for (int i = 0; i < NTHREADS; i++) pthread_create(&t[i], NULL, mutex_worker, &sh);
  for (int i = 0; i < NTHREADS; i++) pthread_join(t[i], NULL);
  cr_assert_eq(sh.counter, (long)NTHREADS * ROUNDS);
  cr_assert_not(lng_mutex_locked(sh.m));
  lng_obj_unref(&sh.m->obj);
}

static void *sema_worker(void *arg) {
  shared *sh = arg;
  for (int i = 0; i < ROUNDS / 4; i++) {
    /* a timeout now and then exercises the cancel race with release */
    double timeout = (i % 7 == 0) ? 0.0001 : -1;
    if (lng_sema_acquire_timed(sh->s, timeout) != LNG_RES_OK) continue;
    int now = atomic_fetch_add(&sh->inside, 1) + 1;
    int most = atomic_load(&sh->most);
    while (now > most && !atomic_compare_exchange_weak(&sh->most, &most, now)) {}
    atomic_fetch_sub(&sh->inside, 1);
    if (lng_sema_release(sh->s, -1) != LNG_RES_OK) abort();
  }
  return NULL;
}

Test(sync_threads, semaphore_bounds, .timeout = 30) {
  shared sh = {0};
  sh.s = lng_sema_new(3);
  pthread_t t[NTHREADS];
  for (int i = 0; i < NTHREADS; i++) pthread_create(&t[i], NULL, sema_worker, &sh);
  for (int i = 0; i < NTHREADS; i++) pthread_join(t[i], NULL);
  cr_assert_leq(atomic_load(&sh.most), 3);
  cr_assert_geq(atomic_load(&sh.most), 1);
  cr_assert_eq(lng_sema_available(sh.s), 3, "a unit was lost or made up");
  cr_assert_null(sh.s->wait.q[LNG_WQ_ONE].head);
  lng_obj_unref(&sh.s->obj);
}

static void *wg_worker(void *arg) {
  shared *sh = arg;
  atomic_fetch_add(&sh->finished, 1);
  if (lng_wg_done(sh->wg, -1) != LNG_RES_OK) abort();
  return NULL;
}

static void *wg_waiter(void *arg) {
  shared *sh = arg;
  if (lng_wg_wait_timed(sh->wg, -1) != LNG_RES_OK) abort();
  if (atomic_load(&sh->finished) != NTHREADS) abort();
  return NULL;
}

Test(sync_threads, waitgroup_waits_for_all, .timeout = 30) {
  for (int round = 0; round < 20; round++) {
    shared sh = {0};
    sh.wg = lng_wg_new();
    pthread_t t[NTHREADS], w[3];
    lng_wg_add(sh.wg, NTHREADS, -1);
    for (int i = 0; i < 3; i++) pthread_create(&w[i], NULL, wg_waiter, &sh);
    for (int i = 0; i < NTHREADS; i++) pthread_create(&t[i], NULL, wg_worker, &sh);
    cr_assert_eq(lng_wg_wait_timed(sh.wg, -1), LNG_RES_OK);
    cr_assert_eq(atomic_load(&sh.finished), NTHREADS);
    for (int i = 0; i < NTHREADS; i++) pthread_join(t[i], NULL);
    for (int i = 0; i < 3; i++) pthread_join(w[i], NULL);
    cr_assert_eq(lng_wg_count(sh.wg), 0);
    lng_obj_unref(&sh.wg->obj);
  }
}
