/*
 * The public C API of include/lungo.h: a runtime is a scheduler plus one
 * shard per worker, and the main goroutine's steps. (lng_new itself is
 * lua-bindings/init.c's: it hands lng_vm_new the list of libraries.)
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "vm.h"
#include "../runtime/blockpool.h"
#include "../runtime/objtrack.h"

const char *lng_version(void) {
  return LUNGO_VERSION ", " LUA_COPYRIGHT;
}

int lng_version_num(void) {
  return LUNGO_VERSION_NUM;
}

int lng_cpu_count(void) {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? (int)n : 1;
}

void lng_config_init(lng_config *cfg) {
  memset(cfg, 0, sizeof *cfg);
}

/* A worker that does not stop at lng_destroy runs a goroutine that never
   yields: interrupt it. */
static void nudge(void *ud, int worker) {
  lng_runtime *rt = ud;
  atomic_store(&rt->halting, 1);
  lng_interrupt_worker(rt, worker);
}

lng_runtime *lng_vm_new(const lng_config *cfg, void (*openlibs)(lua_State *L)) {
  lng_config def;
  if (!cfg) { lng_config_init(&def); cfg = &def; }
  if (cfg->workers < 0) return NULL;
  lng_runtime *rt = calloc(1, sizeof *rt);
  if (!rt) return NULL;
  rt->cfg = *cfg;
  rt->openlibs = openlibs;
  rt->nworkers = cfg->workers > 0 ? cfg->workers : lng_cpu_count();
  rt->steptail = &rt->steps;
  rt->shards = calloc((size_t)rt->nworkers, sizeof *rt->shards);
  rt->sched = lng_sched_new(rt->nworkers, &lng_gor_ops, rt);
  rt->bpool = rt->sched ? lng_bpool_new(rt->sched) : NULL;
  rt->objtrack = lng_objtrack_new();
  if (!rt->shards || !rt->sched || !rt->bpool || !rt->objtrack) goto fail;
  lng_sched_set_service(rt->sched, cfg->service);
  lng_sched_set_nudge(rt->sched, nudge);
  lng_sched_set_preempt(rt->sched, lng_interrupt_preempt);
  atomic_init(&rt->mainworker, -1);
  pthread_mutex_init(&rt->mainmu, NULL);
  pthread_mutex_init(&rt->sitemu, NULL);
  for (int i = 0; i < rt->nworkers; i++) {
    if (lng_shard_open(rt, &rt->shards[i], i) != 0) goto fail;
    /* numbered as go.worker() numbers them */
    if (cfg->on_shard) cfg->on_shard(rt->shards[i].L, i + 1, cfg->ud);
  }
  return rt;
fail:
  lng_destroy(rt);
  return NULL;
}

static int add_step(lng_runtime *rt, int kind, const char *text, size_t len, const char *name) {
  if (!rt || rt->started) return LNG_ERRMISUSE;
  lng_step *st = calloc(1, sizeof *st);
  if (!st) return LNG_ERRMEM;
  st->kind = kind;
  st->len = len;
  if (text) {
    st->text = malloc(len + 1);
    if (st->text) { memcpy(st->text, text, len); st->text[len] = 0; }
  }
  st->name = name ? strdup(name) : NULL;
  if ((text && !st->text) || (name && !st->name)) {
    free(st->text); free(st->name); free(st);
    return LNG_ERRMEM;
  }
  *rt->steptail = st;
  rt->steptail = &st->next;
  return LNG_OK;
}

int lng_main_string(lng_runtime *rt, const char *code, size_t len, const char *chunkname) {
  if (!code) return LNG_ERRMISUSE;
  return add_step(rt, LNG_STEP_STRING, code, len, chunkname ? chunkname : "=(string)");
}

int lng_main_file(lng_runtime *rt, const char *path) {
  return add_step(rt, LNG_STEP_FILE, path, path ? strlen(path) : 0, NULL);
}

int lng_main_require(lng_runtime *rt, const char *modname, const char *global) {
  if (!modname) return LNG_ERRMISUSE;
  return add_step(rt, LNG_STEP_REQUIRE, modname, strlen(modname), global ? global : modname);
}

int lng_main_args(lng_runtime *rt, int argc, char **argv, int script) {
  if (!rt || rt->started || argc < 0 || script < 0 || script > argc || (argc && !argv))
    return LNG_ERRMISUSE;
  rt->argc = argc;
  rt->argv = argv;
  rt->script = script;
  return LNG_OK;
}

int lng_start(lng_runtime *rt) {
  if (!rt || rt->started) return LNG_ERRMISUSE;
  lng_g *g = lng_sched_newg(rt->sched);
  if (!g) return LNG_ERRMEM;
  g->flags |= LNG_G_MAIN;
  rt->maing = g;
  rt->started = 1;
  lng_interrupt_install();
  lng_sched_spawn(rt->sched, g, -1);
  if (lng_sched_start(rt->sched) != 0) return LNG_ERRMEM;
  return LNG_OK;
}

int lng_wait(lng_runtime *rt) {
  if (!rt || !rt->started) return LNG_ERRMISUSE;
  return lng_sched_wait(rt->sched);
}

int lng_blocked(lng_runtime *rt) {
  return rt && rt->started && lng_sched_quiet(rt->sched);
}

int lng_stop(lng_runtime *rt) {
  if (!rt || !rt->started) return LNG_ERRMISUSE;
  lng_sched_fail(rt->sched, LNG_OK, 0, NULL);
  return LNG_OK;
}

const char *lng_status_string(int status) {
  switch (status) {
    case LNG_OK: return "ok";
    case LNG_ERRRUN: return "runtime error";
    case LNG_ERRSYNTAX: return "syntax error";
    case LNG_ERRFILE: return "cannot read file";
    case LNG_ERRMEM: return "not enough memory";
    case LNG_DEADLOCK: return "all goroutines are asleep - deadlock";
    case LNG_EXIT: return "os.exit called";
    case LNG_ERRMISUSE: return "misuse of the API (NULL argument, wrong order, wrong thread or stopped runtime)";
    case LNG_CLOSED: return "channel closed";
    case LNG_TIMEOUT: return "timed out";
    case LNG_ERRTYPE: return "value cannot be represented in C (a table or a function)";
    default: return "unknown status";
  }
}

int lng_exit_close(lng_runtime *rt) {
  return rt && atomic_load(&rt->exitclose);
}

int lng_status(lng_runtime *rt) { return rt ? lng_sched_status(rt->sched) : LNG_ERRMISUSE; }

int lng_exit_code(lng_runtime *rt) {
  if (!rt) return 1;
  int st = lng_sched_status(rt->sched);
  return st == LNG_EXIT ? lng_sched_exitcode(rt->sched) : st == LNG_OK ? 0 : 1;
}

const char *lng_message(lng_runtime *rt) { return rt ? lng_sched_message(rt->sched) : ""; }

void lng_destroy(lng_runtime *rt) {
  if (!rt) return;
  /* The pool first: its jobs end (waits on descriptors return at once)
     and wake their goroutines while the records still exist. */
  lng_bpool_free(rt->bpool);
  if (rt->sched) lng_sched_free(rt->sched);     /* joins workers, drops goroutines */
  if (rt->shards)
    for (int i = 0; i < rt->nworkers; i++) lng_shard_close(&rt->shards[i]);
  /* Nothing of Lua's holds an object now: what is still alive is held by
     the embedder, or only by a cycle of containers, which this breaks. */
  lng_objtrack_sweep_release(rt->objtrack);
  free(rt->shards);
  pthread_mutex_destroy(&rt->mainmu);
  pthread_mutex_destroy(&rt->sitemu);
  for (uint32_t i = 0; i < rt->nsites; i++) free(rt->sites[i]);
  free(rt->sites);
  lng_step *st, *next;
  for (st = rt->steps; st; st = next) {
    next = st->next;
    free(st->text);
    free(st->name);
    free(st);
  }
  free(rt);
}
