/*
 * Channel operations for plain C threads: the same queues as goroutines,
 * but the caller sleeps on its own condition variable instead of parking.
 * A timeout takes the waiter back off the queue; if a goroutine completed
 * it in the meantime, the completion wins and is reported.
 */
#include <errno.h>
#include <time.h>
#include "chan.h"

static void deadline_after(struct timespec *ts, double seconds) {
  clock_gettime(CLOCK_MONOTONIC, ts);
  time_t whole = (time_t)seconds;
  long ns = (long)((seconds - (double)whole) * 1e9);
  ts->tv_sec += whole;
  ts->tv_nsec += ns;
  if (ts->tv_nsec >= 1000000000L) { ts->tv_sec++; ts->tv_nsec -= 1000000000L; }
}

/* Sleeps until the waiter is completed or the deadline passes; returns done. */
static int sleep_on(lng_cwait *cw, const struct timespec *deadline) {
  pthread_mutex_lock(&cw->mu);
  while (!cw->done) {
    if (!deadline) {
      pthread_cond_wait(&cw->cv, &cw->mu);
    } else if (pthread_cond_timedwait(&cw->cv, &cw->mu, deadline) == ETIMEDOUT) {
      break;
    }
  }
  int done = cw->done;
  pthread_mutex_unlock(&cw->mu);
  return done;
}

static void cwait_init(lng_cwait *cw) {
  pthread_condattr_t a;
  pthread_condattr_init(&a);
  pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
  pthread_mutex_init(&cw->mu, NULL);
  pthread_cond_init(&cw->cv, &a);
  pthread_condattr_destroy(&a);
  cw->done = 0;
}

static void cwait_destroy(lng_cwait *cw) {
  pthread_mutex_destroy(&cw->mu);
  pthread_cond_destroy(&cw->cv);
}

/* One operation; timeout < 0 waits forever, 0 never waits. */
static int op_wait(lng_chan *c, lng_msg *m, int send, double timeout) {
  lng_cwait cw;
  lng_msg held;
  lng_waiter w = {0};
  lng_msg_init(&held);
  w.cw = &cw;
  w.slot = send ? &held : m;
  if (send) lng_msg_move(&held, m);
  cwait_init(&cw);          /* before the waiter is queued: a completer signals it */
  int r = send ? lng_chan_send(c, &held, timeout == 0 ? NULL : &w, -1)
               : lng_chan_recv(c, m, timeout == 0 ? NULL : &w, -1);
  if (r != LNG_CHAN_PARKED) {
    cwait_destroy(&cw);
    if (send && r != LNG_CHAN_OK) lng_msg_move(m, &held);
    return r;
  }
  struct timespec ts;
  if (timeout > 0) deadline_after(&ts, timeout);
  int done = sleep_on(&cw, timeout > 0 ? &ts : NULL);
  if (!done && !lng_chan_cancel(c, &w, send)) done = sleep_on(&cw, NULL);  /* lost the race */
  cwait_destroy(&cw);
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
