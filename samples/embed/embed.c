/*
 * Embedding lungo in a C program: a pool of Lua goroutines serves jobs
 * that two C threads feed through a channel, calling a C function
 * registered in every shard; the main thread collects the results.
 *
 *   C feeder 1 --\                       /--> goroutine 1 --\
 *                 +--> jobs (channel) --+---> goroutine 2 ---+--> results --> C main thread
 *   C feeder 2 --/                       \--> goroutine N --/
 *
 * Usage: embed-sample [workers [jobs]]   (defaults: 4 workers, 20000 jobs)
 * Prints one line and exits 0 when the total is the expected one.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <lua.h>
#include <lauxlib.h>
#include "lungo.h"

#define POOL 8        /* goroutines serving jobs */
#define FEEDERS 2     /* C threads sending jobs */

/* c_square(n) -> n * n, an integer: the C function every goroutine calls. */
static int c_square(lua_State *L) {
  lua_Integer n = luaL_checkinteger(L, 1);
  lua_pushinteger(L, n * n);
  return 1;
}

/* The on_shard hook: runs once per worker, on the thread calling lng_new,
   before any goroutine exists. Globals set here are seen by every
   goroutine of that shard. */
static void on_shard(lua_State *L, int worker, void *ud) {
  int *shards = ud;
  (void)worker;
  lua_register(L, "c_square", c_square);
  (*shards)++;
}

/* What a goroutine of the pool runs: its arguments are the two channels
   (handed over by lng_spawn_string) and its number. */
static const char POOL_CODE[] =
  "local jobs, results, id = ...\n"
  "local served = 0\n"
  "for n in jobs:range() do\n"          /* until C closes jobs */
  "  results:send(c_square(n))\n"
  "  served = served + 1\n"
  "end\n"
  "return served\n";

typedef struct feeder {
  pthread_t thread;
  lng_channel *jobs;
  long long first, count;     /* sends first .. first + count - 1 */
  int status;                 /* the first failing lng_send status, or LNG_OK */
} feeder;

static void *feed(void *arg) {
  feeder *f = arg;
  f->status = LNG_OK;
  for (long long i = 0; i < f->count; i++) {
    lng_value v = lng_integer(f->first + i);
    int st = lng_send(f->jobs, &v, -1);     /* blocks while the buffer is full */
    if (st != LNG_OK) { f->status = st; break; }
  }
  return NULL;
}

static int fail(lng_runtime *rt, const char *what, int st) {
  fprintf(stderr, "embed: %s: %s\n", what, lng_status_string(st));
  if (rt && lng_message(rt)[0]) fprintf(stderr, "%s\n", lng_message(rt));
  return 1;
}

int main(int argc, char **argv) {
  int workers = argc > 1 ? atoi(argv[1]) : 4;
  long long njobs = argc > 2 ? atoll(argv[2]) : 20000;
  if (workers < 1 || njobs < FEEDERS) {
    fprintf(stderr, "usage: %s [workers >= 1 [jobs >= %d]]\n", argv[0], FEEDERS);
    return 2;
  }

  /* 1. The runtime: workers, a hook for every shard, service mode (it keeps
        running with no goroutine until lng_stop). */
  int shards = 0;
  lng_config cfg;
  lng_config_init(&cfg);
  cfg.workers = workers;
  cfg.on_shard = on_shard;
  cfg.ud = &shards;
  cfg.service = 1;
  lng_runtime *rt = lng_new(&cfg);
  if (!rt) return fail(NULL, "lng_new", LNG_ERRMEM);
  if (shards != workers) {
    fprintf(stderr, "embed: on_shard ran %d times for %d workers\n", shards, workers);
    lng_destroy(rt);
    return 1;
  }

  /* 2. Channels held by C, buffered; a goroutine blocked on one of them is
        not a deadlock while C holds it. */
  lng_channel *jobs = lng_channel_new(rt, 64);
  lng_channel *results = lng_channel_new(rt, 64);
  if (!jobs || !results) return fail(rt, "lng_channel_new", LNG_ERRMEM);

  /* 3. Start, then spawn the pool with the channels as arguments. */
  int st = lng_start(rt);
  if (st != LNG_OK) return fail(rt, "lng_start", st);
  for (int i = 1; i <= POOL && st == LNG_OK; i++) {
    lng_value args[3] = { lng_chanvalue(jobs), lng_chanvalue(results), lng_integer(i) };
    long long id = lng_spawn_string(rt, POOL_CODE, sizeof POOL_CODE - 1, "=pool", args, 3);
    if (id < 0) st = (int)-id;
  }
  if (st != LNG_OK) return fail(rt, "lng_spawn_string", st);

  /* 4. Two C threads feed 1 .. njobs. */
  feeder f[FEEDERS];
  long long per = njobs / FEEDERS;
  for (int i = 0; i < FEEDERS; i++) {
    f[i].jobs = jobs;
    f[i].first = 1 + i * per;
    f[i].count = i == FEEDERS - 1 ? njobs - i * per : per;
    if (pthread_create(&f[i].thread, NULL, feed, &f[i]) != 0) {
      fprintf(stderr, "embed: pthread_create failed\n");
      return 1;
    }
  }

  /* 5. The main thread collects one result per job. A goroutine that fails
        ends the program: lng_status then tells, and the receive would wait
        forever, so wait in slices of a second. */
  unsigned long long total = 0;
  long long got = 0;
  int ok = 1;
  while (got < njobs) {
    lng_value v;
    st = lng_recv(results, &v, 1.0);
    if (st == LNG_TIMEOUT) {
      if (lng_status(rt) != LNG_OK) break;
      continue;
    }
    if (st != LNG_OK) break;
    if (v.type != LNG_TINTEGER) ok = 0;
    total += (unsigned long long)v.integer;
    got++;
    lng_value_free(&v);
  }
  for (int i = 0; i < FEEDERS; i++) {
    pthread_join(f[i].thread, NULL);
    if (f[i].status != LNG_OK) ok = 0;
  }

  /* 6. Close the channels (the pool's range loops end), stop the service,
        and free everything. */
  lng_close(jobs);
  lng_close(results);
  lng_stop(rt);
  int end = lng_wait(rt);

  /* 1^2 + 2^2 + ... + n^2 = n (n + 1) (2n + 1) / 6 */
  unsigned long long n = (unsigned long long)njobs;
  unsigned long long expected = n * (n + 1) * (2 * n + 1) / 6;
  ok = ok && got == njobs && total == expected && end == LNG_OK;
  printf("embed: %lld jobs from %d C threads, %d goroutines on %d workers: "
         "sum of squares %llu, expected %llu: %s\n",
         got, FEEDERS, POOL, workers, total, expected, ok ? "OK" : "FAILED");
  if (!ok && lng_message(rt)[0]) fprintf(stderr, "%s\n", lng_message(rt));

  lng_channel_release(jobs);
  lng_channel_release(results);
  lng_destroy(rt);
  return ok ? 0 : 1;
}
