/* Pools of big message buffers; see bigbuf.h. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include "bigbuf.h"

struct lng_bigpool {
  pthread_mutex_t mu;
  atomic_long refs;          /* the owner's, and one per buffer made for the pool */
  int closed;                /* the owner is gone: keep nothing more */
  int n;
  size_t bytes;
  struct { void *buf; size_t cap; } keep[LNG_BIGPOOL_KEEP];
};

/* Each buffer starts with this: where it goes back to, and its size.
   16 bytes, so the buffer stays aligned as malloc's blocks are. */
typedef struct head {
  lng_bigpool *pool;
  size_t cap;
} head;

/* The pool of this thread's runtime: workers bind theirs when they start. */
static _Thread_local lng_bigpool *bound;

lng_bigpool *lng_bigpool_new(void) {
  lng_bigpool *p = calloc(1, sizeof *p);
  if (!p) return NULL;
  pthread_mutex_init(&p->mu, NULL);
  atomic_init(&p->refs, 1);
  return p;
}

static void unref(lng_bigpool *p) {
  if (atomic_fetch_sub(&p->refs, 1) != 1) return;
  pthread_mutex_destroy(&p->mu);
  free(p);
}

void lng_bigpool_release(lng_bigpool *p) {
  if (!p) return;
  pthread_mutex_lock(&p->mu);
  p->closed = 1;
  int n = p->n;
  void *bufs[LNG_BIGPOOL_KEEP];
  for (int i = 0; i < n; i++) bufs[i] = p->keep[i].buf;
  p->n = 0;
  p->bytes = 0;
  pthread_mutex_unlock(&p->mu);
  for (int i = 0; i < n; i++) {
    free((head *)bufs[i] - 1);
    unref(p);
  }
  unref(p);
}

void lng_bigpool_bind(lng_bigpool *p) { bound = p; }

void *lng_bigbuf_alloc(size_t n, size_t *cap) {
  lng_bigpool *p = bound;
  if (p) {
    /* the smallest kept buffer that fits, if it is not twice too big */
    pthread_mutex_lock(&p->mu);
    int best = -1;
    for (int i = 0; i < p->n; i++)
      if (p->keep[i].cap >= n && p->keep[i].cap / 2 <= n &&
          (best < 0 || p->keep[i].cap < p->keep[best].cap))
        best = i;
    if (best >= 0) {
      void *buf = p->keep[best].buf;
      *cap = p->keep[best].cap;
      p->bytes -= *cap;
      p->keep[best] = p->keep[--p->n];
      pthread_mutex_unlock(&p->mu);
      return buf;
    }
    pthread_mutex_unlock(&p->mu);
  }
  if (n > (size_t)-1 - sizeof(head)) return NULL;
  head *h = malloc(sizeof *h + n);
  if (!h) return NULL;
  h->pool = p;
  h->cap = *cap = n;
  if (p) atomic_fetch_add(&p->refs, 1);
  return h + 1;
}

void lng_bigbuf_free(void *buf) {
  if (!buf) return;
  head *h = (head *)buf - 1;
  lng_bigpool *p = h->pool;
  if (p) {
    pthread_mutex_lock(&p->mu);
    if (!p->closed && p->n < LNG_BIGPOOL_KEEP && h->cap <= LNG_BIGPOOL_BYTES - p->bytes) {
      p->keep[p->n].buf = buf;
      p->keep[p->n++].cap = h->cap;
      p->bytes += h->cap;
      pthread_mutex_unlock(&p->mu);
      return;
    }
    pthread_mutex_unlock(&p->mu);
  }
  free(h);
  if (p) unref(p);
}
