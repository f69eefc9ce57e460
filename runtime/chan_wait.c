/*
 * Channel operations for plain C threads: the same queues as goroutines,
 * but the caller sleeps on its own condition variable instead of parking.
 * A timeout takes the waiter back off the queue; if a goroutine completed
 * it in the meantime, the completion wins and is reported.
 */
#include "chan.h"

/* One operation; timeout < 0 waits forever, 0 never waits. */
static int op_wait(lng_chan *c, lng_msg *m, int send, double timeout) {
  lng_cwait cw;
  lng_msg held;
  lng_waiter w = {0};
  lng_msg_init(&held);
  w.cw = &cw;
  w.slot = send ? &held : m;
  if (send) lng_msg_move(&held, m);
  lng_cwait_init(&cw);          /* before the waiter is queued: a completer signals it */
  int r = send ? lng_chan_send(c, &held, timeout == 0 ? NULL : &w, -1)
               : lng_chan_recv(c, m, timeout == 0 ? NULL : &w, -1);
  if (r != LNG_CHAN_PARKED) {
    lng_cwait_destroy(&cw);
    if (send && r != LNG_CHAN_OK) lng_msg_move(m, &held);
    return r;
  }
  int done = lng_cwait_sleep(&cw, timeout);
  if (!done && !lng_chan_cancel(c, &w, send)) done = lng_cwait_sleep(&cw, -1);  /* lost the race */
  lng_cwait_destroy(&cw);
  if (!done) {
    if (send) lng_msg_move(m, &held);
    return LNG_CHAN_WOULDBLOCK;
  }
  if (w.result == LNG_WAIT_CLOSED) {
    if (send) lng_msg_move(m, &held);
    return LNG_CHAN_CLOSED;
  }
  return LNG_CHAN_OK;
}

int lng_chan_send_wait(lng_chan *c, lng_msg *m, double timeout) { return op_wait(c, m, 1, timeout); }
int lng_chan_recv_wait(lng_chan *c, lng_msg *out, double timeout) { return op_wait(c, out, 0, timeout); }
