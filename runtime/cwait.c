/*
 * Waiting plain C threads (the embedding API's blocking calls): the
 * condition variable a completer signals, and a bounded sleep on it.
 */
#include <errno.h>
#include "waiter.h"
#include "cond.h"

void lng_cwait_init(lng_cwait *cw) {
  pthread_mutex_init(&cw->mu, NULL);
  lng_cond_init_mono(&cw->cv);
  cw->done = 0;
}

void lng_cwait_destroy(lng_cwait *cw) {
  pthread_mutex_destroy(&cw->mu);
  pthread_cond_destroy(&cw->cv);
}

void lng_cwait_wake(lng_cwait *cw) {
  pthread_mutex_lock(&cw->mu);
  cw->done = 1;
  pthread_cond_broadcast(&cw->cv);
  pthread_mutex_unlock(&cw->mu);
}

int lng_cwait_sleep(lng_cwait *cw, double timeout) {
  struct timespec ts;
  if (timeout >= 0) ts = lng_deadline(CLOCK_MONOTONIC, timeout);
  pthread_mutex_lock(&cw->mu);
  while (!cw->done) {
    if (timeout < 0) pthread_cond_wait(&cw->cv, &cw->mu);
    else if (pthread_cond_timedwait(&cw->cv, &cw->mu, &ts) == ETIMEDOUT) break;
  }
  int done = cw->done;
  pthread_mutex_unlock(&cw->mu);
  return done;
}
