/*
 * Mid-size message buffers (256 bytes up to 24 KiB), kept for reuse. A
 * channel between two workers has one of them malloc a buffer for every
 * value and the other free it; malloc's per-thread caches fill on one side
 * and run dry on the other, and every miss takes the allocating thread's
 * arena lock, which the freeing thread contends for. Here each worker keeps
 * a few buffers of every size class for itself, and the runtime keeps a
 * depot between them: a worker that frees more than it allocates moves half
 * of its cache there in one locked step, and one that allocates more takes
 * a batch back the same way. Buffers are malloc's blocks throughout, so a
 * thread with no cache (an embedder's) just frees them.
 */
#ifndef LNG_BUFCACHE_H
#define LNG_BUFCACHE_H

#include <pthread.h>
#include <stddef.h>

#define LNG_BUF_MIN 256                    /* smaller requests get exactly what they ask */
#define LNG_BUF_NCLASS 13                  /* 256, 384, 512, 768, ... 16 KiB */
#define LNG_BUF_MAX 16384                  /* the biggest class */
#define LNG_BUF_LOCAL 32                   /* buffers a worker keeps of a small class */

/* The runtime's depot: one per runtime. */
typedef struct lng_bufdepot {
  pthread_mutex_t mu;
  struct { int n; void *buf[2 * LNG_BUF_LOCAL]; } cls[LNG_BUF_NCLASS];
} lng_bufdepot;

/* A worker's own cache: used by its thread only, without locks. */
typedef struct lng_bufcache {
  lng_bufdepot *depot;
  struct { int n; void *buf[LNG_BUF_LOCAL]; } cls[LNG_BUF_NCLASS];
} lng_bufcache;

void lng_bufdepot_init(lng_bufdepot *d);
void lng_bufdepot_free(lng_bufdepot *d);     /* frees what it holds */

/* Binds c (or NULL) as the calling thread's cache, over depot d. */
void lng_bufcache_bind(lng_bufcache *c, lng_bufdepot *d);
/* Unbinds the calling thread's cache and gives what it holds to its depot
   (or to free when the depot is full). */
void lng_bufcache_unbind(void);

/* A buffer of at least n bytes (n < LNG_BIGBUF_MIN), its size in *cap;
   NULL when memory is exhausted. */
void *lng_buf_alloc(size_t n, size_t *cap);
/* Frees a buffer of lng_buf_alloc's (or any malloc'd block of cap bytes). */
void lng_buf_free(void *p, size_t cap);

#endif
