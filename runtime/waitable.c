/* What every waitable object does alike; see waitable.h. */
#include "waitable.h"

void lng_wakes_wake(lng_waitq *list, int self) {
  lng_waiter *w;
  while ((w = list->head) != NULL) {
    list->head = w->next;     /* read before the wake: the waiter may be reused at once */
    w->next = NULL;
    lng_waiter_wake(w, self);
  }
  list->tail = NULL;
}

int lng_waitable_cancel(lng_waitable *o, lng_waiter *w) {
  lng_waitable_lock(o);
  int was = w->queued != 0;
  if (was) lng_waitq_remove(&o->q[w->queued - 1], w);
  lng_waitable_unlock(o);
  return was;
}

int lng_waitable_cwait(lng_waitable *o, lng_waiter *w, double timeout,
                       lng_waitable_op op, void *arg) {
  if (timeout == 0) return op(o, NULL, arg);
  lng_cwait cw;
  lng_cwait_init(&cw);
  w->cw = &cw;              /* ready before the waiter is queued: a completer signals it */
  int r = op(o, w, arg);
  if (r == LNG_RES_PARKED) {
    int done = lng_cwait_sleep(&cw, timeout);
    if (!done && !lng_waitable_cancel(o, w)) done = lng_cwait_sleep(&cw, -1);   /* completed meanwhile */
    r = done ? w->result : LNG_RES_WOULDBLOCK;
  }
  lng_cwait_destroy(&cw);
  w->cw = NULL;
  return r;
}
