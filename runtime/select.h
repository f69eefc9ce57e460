/*
 * select over channels, Go's algorithm: lock every channel involved in
 * address order, take the first ready case in a random poll order, else
 * queue one waiter per case, all sharing a group whose first completer wins.
 */
#ifndef LNG_SELECT_H
#define LNG_SELECT_H

#include "chan.h"

typedef struct lng_selcase {
  lng_chan *c;       /* NULL: never ready (Go's nil channel) */
  int send;
  lng_msg *msg;      /* send: the value, moved out when sent */
} lng_selcase;

/* order: the poll order, a permutation of 0..n-1; locks: scratch for n
   pointers; out: where a received value goes; ws: n waiters prepared by
   the caller (g/cw and sched set), or NULL not to wait. Returns the chosen
   case with *res LNG_RES_OK or LNG_RES_CLOSED; or -1 with *res
   LNG_RES_WOULDBLOCK (nothing ready and no waiting asked for) or
   LNG_RES_PARKED (waiters queued: park, then lng_select_finish). */
int lng_select_run(lng_selcase *cs, int n, const int *order, lng_chan **locks,
               lng_msg *out, lng_waiter *ws, lng_selgroup *grp, int self, int *res);
/* Claims the select for an abort (no case completes any more): 1 if it
   was still waiting. lng_select_finish then returns -1 with *res
   LNG_RES_ABORTED. */
int lng_select_abort(lng_selgroup *grp);

/* After a parked select was woken: takes every other waiter back off its
   channel and returns the chosen case, its result in *res. */
int lng_select_finish(lng_selcase *cs, int n, lng_waiter *ws, lng_selgroup *grp, int *res);

/* The whole select for a plain C thread (the embedding API's lng_select),
   which sleeps on a condition variable of its own: order, locks and out as
   above, ws scratch for n waiters. Waits at most timeout seconds (< 0
   forever, 0 not at all). Returns the chosen case with *res OK or CLOSED,
   or -1 with *res WOULDBLOCK when the time ran out (nothing happened). A
   completion that races the timeout wins and is reported. */
int lng_select_cwait(lng_selcase *cs, int n, const int *order, lng_chan **locks,
                     lng_msg *out, lng_waiter *ws, double timeout, int *res);

#endif
