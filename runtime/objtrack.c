/* Containers that may sit in cycles, and the sweep at a runtime's end;
   see objtrack.h. */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include "objtrack.h"

typedef struct lng_tnode {
  lng_obj *o;
  const lng_trackops *ops;
  struct lng_tnode *prev, *next;
} lng_tnode;

struct lng_objtrack {
  pthread_mutex_t mu;
  atomic_long refs;          /* the runtime's, and one per tracked object */
  lng_tnode *head;
  long n;
};

lng_objtrack *lng_objtrack_new(void) {
  lng_objtrack *t = calloc(1, sizeof *t);
  if (!t) return NULL;
  pthread_mutex_init(&t->mu, NULL);
  atomic_init(&t->refs, 1);
  return t;
}

static void unref(lng_objtrack *t) {
  if (atomic_fetch_sub(&t->refs, 1) != 1) return;
  pthread_mutex_destroy(&t->mu);
  free(t);
}

void lng_objtrack_note(lng_obj *o, const lng_trackops *ops) {
  lng_objtrack *t = o->home;
  if (!t) return;
  lng_tnode *n = malloc(sizeof *n);
  if (!n) return;                  /* untracked: a cycle through o would leak, as before */
  n->o = o;
  n->ops = ops;
  n->prev = NULL;
  pthread_mutex_lock(&t->mu);
  if (atomic_load_explicit(&o->tnode, memory_order_relaxed)) {   /* (a dict's other stripe) */
    pthread_mutex_unlock(&t->mu);
    free(n);
    return;
  }
  n->next = t->head;
  if (t->head) t->head->prev = n;
  t->head = n;
  t->n++;
  atomic_store_explicit(&o->tnode, n, memory_order_release);
  atomic_fetch_add(&t->refs, 1);
  pthread_mutex_unlock(&t->mu);
}

void lng_objtrack_forget(lng_obj *o) {
  lng_tnode *n = atomic_load(&o->tnode);
  lng_objtrack *t = o->home;
  if (!n || !t) return;
  pthread_mutex_lock(&t->mu);
  if (n->prev) n->prev->next = n->next;
  else t->head = n->next;
  if (n->next) n->next->prev = n->prev;
  t->n--;
  pthread_mutex_unlock(&t->mu);
  atomic_store(&o->tnode, NULL);
  free(n);
  unref(t);
}

/* ---- the sweep ---- */

/* The tracked set, by address: an open-addressing map to its index. */
typedef struct Sweep {
  long n;
  lng_obj **obj;
  const lng_trackops **ops;
  long *in;                  /* references from the set's own messages */
  char *live;                /* reachable from outside the set */
  long *stack, top;
  long *map;                 /* index + 1, or 0: empty */
  uint64_t mask;
} Sweep;

static uint64_t hashp(const void *p) {
  return ((uint64_t)(uintptr_t)p * 0x9e3779b97f4a7c15ull) >> 17;
}

static long find(Sweep *s, const lng_obj *o) {
  for (uint64_t i = hashp(o) & s->mask;; i = (i + 1) & s->mask) {
    if (!s->map[i]) return -1;
    if (s->obj[s->map[i] - 1] == o) return s->map[i] - 1;
  }
}

static void count_in(lng_obj *ref, void *ud) {
  Sweep *s = ud;
  long i = find(s, ref);
  if (i >= 0) s->in[i]++;
}

static void mark(lng_obj *ref, void *ud) {
  Sweep *s = ud;
  long i = find(s, ref);
  if (i >= 0 && !s->live[i]) {
    s->live[i] = 1;
    s->stack[s->top++] = i;
  }
}

int lng_objtrack_sweep_release(lng_objtrack *t) {
  if (!t) return 0;
  Sweep s = { 0 };
  int emptied = 0;
  /* The set, each with a reference of the sweep's: nothing in it is freed
     before the end, whatever emptying another does. */
  pthread_mutex_lock(&t->mu);
  s.n = t->n;
  uint64_t cap = 16;
  while (cap < 2 * (uint64_t)s.n) cap *= 2;
  s.obj = malloc((size_t)s.n * sizeof *s.obj + 1);
  s.ops = malloc((size_t)s.n * sizeof *s.ops + 1);
  s.in = calloc((size_t)s.n + 1, sizeof *s.in);
  s.live = calloc((size_t)s.n + 1, 1);
  s.stack = malloc((size_t)s.n * sizeof *s.stack + 1);
  s.map = calloc(cap, sizeof *s.map);
  s.mask = cap - 1;
  if (!s.obj || !s.ops || !s.in || !s.live || !s.stack || !s.map) {
    pthread_mutex_unlock(&t->mu);      /* no memory to look: the cycles stay, as before */
    goto out;
  }
  long i = 0;
  for (lng_tnode *n = t->head; n; n = n->next, i++) {
    s.obj[i] = lng_obj_ref(n->o);
    s.ops[i] = n->ops;
    uint64_t j = hashp(n->o) & s.mask;
    while (s.map[j]) j = (j + 1) & s.mask;
    s.map[j] = i + 1;
  }
  pthread_mutex_unlock(&t->mu);
  /* Trial deletion: what the set's messages account for of each count. */
  for (i = 0; i < s.n; i++) s.ops[i]->each(s.obj[i], count_in, &s);
  for (i = 0; i < s.n; i++) {
    long outside = atomic_load(&s.obj[i]->refs) - 1 - s.in[i];
    if (outside > 0 && !s.live[i]) {
      s.live[i] = 1;
      s.stack[s.top++] = i;
    }
  }
  while (s.top > 0) {
    i = s.stack[--s.top];
    s.ops[i]->each(s.obj[i], mark, &s);
  }
  for (i = 0; i < s.n; i++)
    if (!s.live[i]) {
      s.ops[i]->clear(s.obj[i]);
      emptied++;
    }
  for (i = 0; i < s.n; i++) lng_obj_unref(s.obj[i]);
out:
  free(s.obj);
  free(s.ops);
  free(s.in);
  free(s.live);
  free(s.stack);
  free(s.map);
  unref(t);
  return emptied;
}
