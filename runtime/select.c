/* select; see select.h. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "select.h"

static int byaddr(const void *a, const void *b) {
  const lng_chan *x = *(lng_chan *const *)a, *y = *(lng_chan *const *)b;
  return ((uintptr_t)x > (uintptr_t)y) - ((uintptr_t)x < (uintptr_t)y);
}

/* Sorted, without duplicates; returns how many. */
static int lockset(lng_selcase *cs, int n, lng_chan **locks) {
  int k = 0;
  for (int i = 0; i < n; i++) if (cs[i].c) locks[k++] = cs[i].c;
  if (k > 8) {
    qsort(locks, (size_t)k, sizeof *locks, byaddr);
  } else {                       /* the usual two or three cases: no call */
    for (int i = 1; i < k; i++) {
      lng_chan *x = locks[i];
      int j = i;
      for (; j > 0 && (uintptr_t)locks[j - 1] > (uintptr_t)x; j--) locks[j] = locks[j - 1];
      locks[j] = x;
    }
  }
  int u = 0;
  for (int i = 0; i < k; i++) if (u == 0 || locks[u - 1] != locks[i]) locks[u++] = locks[i];
  return u;
}

static void unlock_all(lng_chan **locks, int k) {
  for (int i = k - 1; i >= 0; i--) lng_waitable_unlock(&locks[i]->wait);
}

int lng_select_run(lng_selcase *cs, int n, const int *order, lng_chan **locks,
               lng_msg *out, lng_waiter *ws, lng_selgroup *grp, int self, int *res) {
  int k = lockset(cs, n, locks);
  for (int i = 0; i < k; i++) lng_waitable_lock(&locks[i]->wait);
  for (int j = 0; j < n; j++) {
    int i = order[j];
    if (!cs[i].c) continue;
    lng_waiter *wake;
    int r = cs[i].send ? lng_chan_send_locked(cs[i].c, cs[i].msg, &wake)
                       : lng_chan_recv_locked(cs[i].c, out, &wake);
    if (r == LNG_RES_WOULDBLOCK) continue;
    unlock_all(locks, k);
    if (wake) lng_waiter_wake(wake, self);
    *res = r;
    return i;
  }
  if (!ws) {
    unlock_all(locks, k);
    *res = LNG_RES_WOULDBLOCK;
    return -1;
  }
  atomic_store(&grp->fired, 0);
  for (int i = 0; i < n; i++) {
    lng_waiter *w = &ws[i];
    w->sel = grp;
    w->index = i;
    w->result = LNG_RES_OK;
    w->queued = 0;
    if (!cs[i].c) continue;
    w->slot = cs[i].send ? cs[i].msg : out;
    lng_waitable_block(&cs[i].c->wait, cs[i].send ? LNG_WQ_SEND : LNG_WQ_RECV, w);
  }
  unlock_all(locks, k);
  *res = LNG_RES_PARKED;
  return -1;
}

int lng_select_abort(lng_selgroup *grp) {
  int expect = 0;
  return atomic_compare_exchange_strong(&grp->fired, &expect, -1);
}

int lng_select_finish(lng_selcase *cs, int n, lng_waiter *ws, lng_selgroup *grp, int *res) {
  for (int i = 0; i < n; i++)
    if (cs[i].c) lng_chan_cancel(cs[i].c, &ws[i]);
  int fired = atomic_load(&grp->fired);
  if (fired < 0) {
    *res = LNG_RES_ABORTED;
    return -1;
  }
  int won = fired - 1;
  *res = won >= 0 && ws[won].result == LNG_RES_CLOSED ? LNG_RES_CLOSED : LNG_RES_OK;
  return won;
}

int lng_select_cwait(lng_selcase *cs, int n, const int *order, lng_chan **locks,
                     lng_msg *out, lng_waiter *ws, double timeout, int *res) {
  lng_selgroup grp;
  if (timeout == 0) return lng_select_run(cs, n, order, locks, out, NULL, &grp, -1, res);
  lng_cwait cw;
  lng_cwait_init(&cw);
  memset(ws, 0, (size_t)n * sizeof *ws);
  for (int i = 0; i < n; i++) ws[i].cw = &cw;   /* ready before queued: a completer signals it */
  int i = lng_select_run(cs, n, order, locks, out, ws, &grp, -1, res);
  if (i < 0 && *res == LNG_RES_PARKED) {
    int done = lng_cwait_sleep(&cw, timeout);
    /* Out of time: claim the select first. Failing that, a completer won
       the claim and is handing its value over: wait for its signal. */
    if (!done && !lng_select_abort(&grp)) lng_cwait_sleep(&cw, -1);
    i = lng_select_finish(cs, n, ws, &grp, res);
    if (i < 0) *res = LNG_RES_WOULDBLOCK;
  }
  lng_cwait_destroy(&cw);
  return i;
}
