/*
 * Helpers of the public C API tests (test_capi*.c): a runtime with C
 * functions registered in every shard (the on_shard hook), code and
 * channels set up from C, a C thread that waits for the outcome, and
 * bounded waits and receives. Defined in capi_util.c.
 */
#ifndef LNG_TEST_CAPI_UTIL_H
#define LNG_TEST_CAPI_UTIL_H

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <lua.h>
#include <lauxlib.h>
#include "lungo.h"
#include "util.h"

#define T_TIMEOUT 60
#define WAIT_SECS 20.0     /* how long a test waits for an outcome that must come */
static const int WORKER_COUNTS[] = {1, 2, 4};
#define NCOUNTS 3
/* What the hook and the C functions it registers share with the test. */
typedef struct ctx {
  lng_runtime *rt;
  lng_channel *held;          /* for the c_* functions called from Lua */
  pthread_t creator;          /* the thread that called lng_new */
  atomic_int calls;           /* on_shard calls */
  atomic_int seen[8];         /* on_shard calls per worker index */
  atomic_int wrong_thread;    /* on_shard ran elsewhere than in lng_new's thread */
  atomic_int bad_ud;
} ctx;

ctx *ctx_of(lua_State *L);
int l_square(lua_State *L);
int l_worker(lua_State *L);
void push_value(lua_State *L, const lng_value *v);
int l_recv(lua_State *L);
int l_send(lua_State *L);
int l_spawn(lua_State *L);
extern atomic_int loaded_g_checks;
int l_loaded_g(lua_State *L);
void reg(lua_State *L, ctx *c, const char *name, lua_CFunction f);
extern const char PRELOAD[];
void hook(lua_State *L, int worker, void *ud);
lng_runtime *new_rt(int workers, int service, ctx *c);
int add_code(lng_runtime *rt, const char *code, const char *name);
int set_chan(lng_runtime *rt, const char *name, lng_channel *ch);
/* lng_wait on a helper thread, so that a test can give up on it. */
typedef struct waiter {
  lng_runtime *rt;
  pthread_t thread;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int done, status;
} waiter;

void *waiter_main(void *p);
void waiter_start(waiter *w, lng_runtime *rt);
int waiter_done(waiter *w);
int waiter_finish(waiter *w, double secs);
int wait_for(lng_runtime *rt, double secs);
int poll_send(lng_channel *ch, const lng_value *v);
int poll_recv(lng_channel *ch, lng_value *v);
int wait_blocked(lng_runtime *rt, double secs);
extern char msgbuf[16384];
int run_code(int workers, const char *code, int *exit_code);
long long recv_int(lng_channel *ch);
void recv_str(lng_channel *ch, char *buf, size_t n);

#endif
