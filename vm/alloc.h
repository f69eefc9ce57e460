/*
 * A shard's heap: the lua_Alloc behind each shard's lua_State (see alloc.c).
 * One thread at a time uses a heap, so it takes no lock; any thread may
 * read how many bytes it holds for Lua (lng_alloc_used).
 */
#ifndef LNG_ALLOC_H
#define LNG_ALLOC_H

#include <stdatomic.h>
#include <stddef.h>

/* Memory checkers see a block's bounds only if it comes from malloc: an
   overflow from one small block into the next stays inside a chunk, where
   neither AddressSanitizer nor valgrind's memcheck can tell. Built with
   -DLNG_ALLOC_SLAB=0 every block comes from malloc (the Makefile's asan
   and valgrind variants build so); under ASan that is also the default. */
#ifndef LNG_ALLOC_SLAB
#  if defined(__SANITIZE_ADDRESS__)
#    define LNG_ALLOC_SLAB 0
#  elif defined(__has_feature)
#    if __has_feature(address_sanitizer)
#      define LNG_ALLOC_SLAB 0
#    endif
#  endif
#endif
#ifndef LNG_ALLOC_SLAB
#  define LNG_ALLOC_SLAB 1
#endif

/* Blocks up to LNG_ALLOC_SMALL bytes come from the heap's chunks, in size
   classes: every 8 bytes up to 128, every 16 up to 1024, then every 64.
   Larger ones are malloc's. */
#define LNG_ALLOC_SMALL 4096
#define LNG_ALLOC_NCLASS (71 + (LNG_ALLOC_SMALL - 1024) / 64)
#define LNG_ALLOC_CHUNK (64 * 1024)

typedef struct lng_block lng_block;

typedef struct lng_alloc {
  lng_block *free[LNG_ALLOC_NCLASS];   /* blocks given back, per class */
  char *bump;                /* the part of the newest chunk never handed out */
  size_t left;
  void *chunks;              /* every chunk, linked through its first word */
  size_t held;               /* bytes taken from malloc: chunks and large blocks */
  atomic_size_t used;        /* bytes Lua asked for and did not give back */
} lng_alloc;

/* An all-zero lng_alloc is an empty heap too. */
void lng_alloc_init(lng_alloc *a);
/* Frees every chunk (after lua_close, which gives back the large blocks),
   leaving an empty heap; `held` then counts large blocks never given back. */
void lng_alloc_destroy(lng_alloc *a);
/* The lua_Alloc: ud is the lng_alloc. Keeps `used` up to date. */
void *lng_alloc_lua(void *ud, void *ptr, size_t osize, size_t nsize);

static inline size_t lng_alloc_used(lng_alloc *a) {
  return atomic_load_explicit(&a->used, memory_order_relaxed);
}

#endif
