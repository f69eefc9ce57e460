/*
 * Storage for big messages. A 1 MiB value sent to another worker is
 * written into a fresh buffer by the sender and freed by the receiver;
 * from malloc, that buffer is new memory nearly every time (the sender's
 * arena trims what comes back), and page faults cost more than the copy.
 * So buffers of LNG_BIGBUF_MIN bytes and up come from a pool per runtime,
 * the one bound to the allocating thread (its workers), and go back to it
 * from whichever thread frees them. A thread bound to no pool (a C thread
 * of the embedder) gets plain malloc'd buffers.
 */
#ifndef LNG_BIGBUF_H
#define LNG_BIGBUF_H

#include <stddef.h>

#define LNG_BIGBUF_MIN (64 * 1024)
#define LNG_BIGPOOL_KEEP 8                    /* buffers kept at most */
#define LNG_BIGPOOL_BYTES (64u * 1024 * 1024) /* and bytes */

typedef struct lng_bigpool lng_bigpool;

/* A new pool with its owner's reference; NULL when out of memory. */
lng_bigpool *lng_bigpool_new(void);
/* Drops the owner's reference: kept buffers are freed now, buffers still in
   messages when they are freed, and the pool with the last of them. */
void lng_bigpool_release(lng_bigpool *p);
/* Makes p (or NULL) the pool of the calling thread's big buffers. */
void lng_bigpool_bind(lng_bigpool *p);

/* A buffer of at least n (>= LNG_BIGBUF_MIN) bytes, its size in *cap;
   NULL when out of memory. */
void *lng_bigbuf_alloc(size_t n, size_t *cap);
void lng_bigbuf_free(void *buf);

#endif
