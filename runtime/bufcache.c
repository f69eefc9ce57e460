/* Mid-size message buffers kept per worker, with a depot per runtime; see
   bufcache.h. */
#include <stdlib.h>
#include "bufcache.h"

#if defined(__SANITIZE_ADDRESS__)
#define LNG_BUF_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LNG_BUF_ASAN 1
#endif
#endif
#ifdef LNG_BUF_ASAN
#include <sanitizer/asan_interface.h>
/* A kept buffer is poisoned: a message still using one it freed is caught
   as it would be with malloc. */
#define KEEP(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define TAKE(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define KEEP(p, n) ((void)(p), (void)(n))
#define TAKE(p, n) ((void)(p), (void)(n))
#endif

/* The calling worker's cache (set while its loop runs). */
static _Thread_local lng_bufcache *bound;

/* Classes go up by 1.5 and 2 in turn: 256, 384, 512, 768, 1024, ... */
static size_t class_size(int c) {
  return (size_t)((c & 1) ? 384 : 256) << (c >> 1);
}

/* The smallest class that holds n bytes (n >= LNG_BUF_MIN), or -1. */
static int class_up(size_t n) {
  if (n <= LNG_BUF_MIN) return 0;
  int b = 63 - __builtin_clzll((unsigned long long)(n - 1));   /* 2^b < n <= 2^(b+1) */
  int c = 2 * (b - 8) + (n <= ((size_t)3 << (b - 1)) ? 1 : 2);
  return c < LNG_BUF_NCLASS ? c : -1;
}

/* The biggest class a block of cap bytes can serve, or -1. */
static int class_down(size_t cap) {
  if (cap < LNG_BUF_MIN) return -1;
  int b = 63 - __builtin_clzll((unsigned long long)cap);       /* 2^b <= cap < 2^(b+1) */
  int c = 2 * (b - 8) + (cap >= ((size_t)3 << (b - 1)) ? 1 : 0);
  return c < LNG_BUF_NCLASS ? c : -1;
}

/* How many a worker keeps of class c: 32 of the small ones, about 64 KiB
   of the big ones. It moves half of that to or from the depot at a time. */
static int local_max(int c) {
  size_t n = 65536 / class_size(c);
  return n < LNG_BUF_LOCAL ? (int)n : LNG_BUF_LOCAL;
}

void lng_bufdepot_init(lng_bufdepot *d) {
  pthread_mutex_init(&d->mu, NULL);
  for (int c = 0; c < LNG_BUF_NCLASS; c++) d->cls[c].n = 0;
}

void lng_bufdepot_free(lng_bufdepot *d) {
  for (int c = 0; c < LNG_BUF_NCLASS; c++)
    for (int i = 0; i < d->cls[c].n; i++) {
      TAKE(d->cls[c].buf[i], class_size(c));
      free(d->cls[c].buf[i]);
    }
  pthread_mutex_destroy(&d->mu);
}

void lng_bufcache_bind(lng_bufcache *c, lng_bufdepot *d) {
  if (c) {
    c->depot = d;
    for (int i = 0; i < LNG_BUF_NCLASS; i++) c->cls[i].n = 0;
  }
  bound = c;
}

/* Moves k buffers of class c from the cache to the depot, freeing those
   that do not fit there. */
static void spill(lng_bufcache *bc, int c, int k) {
  lng_bufdepot *d = bc->depot;
  int room = 2 * local_max(c);
  pthread_mutex_lock(&d->mu);
  while (k > 0 && d->cls[c].n < room) {
    d->cls[c].buf[d->cls[c].n++] = bc->cls[c].buf[--bc->cls[c].n];
    k--;
  }
  pthread_mutex_unlock(&d->mu);
  while (k-- > 0) {
    void *p = bc->cls[c].buf[--bc->cls[c].n];
    TAKE(p, class_size(c));
    free(p);
  }
}

void lng_bufcache_unbind(void) {
  lng_bufcache *bc = bound;
  if (!bc) return;
  bound = NULL;
  for (int c = 0; c < LNG_BUF_NCLASS; c++) spill(bc, c, bc->cls[c].n);
}

void *lng_buf_alloc(size_t n, size_t *cap) {
  lng_bufcache *bc = bound;
  int c;
  if (n < LNG_BUF_MIN || (c = class_up(n)) < 0) {
    *cap = n;
    return malloc(n);
  }
  *cap = class_size(c);
  if (bc) {
    if (bc->cls[c].n == 0) {          /* refill: half a cache from the depot */
      lng_bufdepot *d = bc->depot;
      int want = local_max(c) / 2;
      pthread_mutex_lock(&d->mu);
      while (want-- > 0 && d->cls[c].n > 0)
        bc->cls[c].buf[bc->cls[c].n++] = d->cls[c].buf[--d->cls[c].n];
      pthread_mutex_unlock(&d->mu);
    }
    if (bc->cls[c].n > 0) {
      void *p = bc->cls[c].buf[--bc->cls[c].n];
      TAKE(p, *cap);
      return p;
    }
  }
  return malloc(*cap);
}

void lng_buf_free(void *p, size_t cap) {
  lng_bufcache *bc = bound;
  int c;
  if (!p) return;
  if (!bc || (c = class_down(cap)) < 0) {
    free(p);
    return;
  }
  int max = local_max(c);
  if (bc->cls[c].n == max) spill(bc, c, max / 2);
  KEEP(p, class_size(c));
  bc->cls[c].buf[bc->cls[c].n++] = p;
}
