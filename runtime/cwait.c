/*
 * Waiting plain C threads (the embedding API's blocking calls): the
 * condition variable a completer signals, and a bounded sleep on it.
 */
#include <errno.h>
#include <time.h>
#include "waiter.h"

void lng_cwait_init(lng_cwait *cw) {
  pthread_condattr_t a;
  pthread_condattr_init(&a);
  pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
  pthread_mutex_init(&cw->mu, NULL);
  pthread_cond_init(&cw->cv, &a);
  pthread_condattr_destroy(&a);
  cw->done = 0;
}

void lng_cwait_destroy(lng_cwait *cw) {
  pthread_mutex_destroy(&cw->mu);
  pthread_cond_destroy(&cw->cv);
}

int lng_cwait_sleep(lng_cwait *cw, double timeout) {
  struct timespec ts;
  if (timeout >= 0) {
    clock_gettime(CLOCK_MONOTONIC, &ts);
    time_t whole = (time_t)timeout;
    ts.tv_sec += whole;
    ts.tv_nsec += (long)((timeout - (double)whole) * 1e9);
    if (ts.tv_nsec >= 1000000000L) { ts.tv_sec++; ts.tv_nsec -= 1000000000L; }
  }
  pthread_mutex_lock(&cw->mu);
  while (!cw->done) {
    if (timeout < 0) pthread_cond_wait(&cw->cv, &cw->mu);
    else if (pthread_cond_timedwait(&cw->cv, &cw->mu, &ts) == ETIMEDOUT) break;
  }
  int done = cw->done;
  pthread_mutex_unlock(&cw->mu);
  return done;
}
