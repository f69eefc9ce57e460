/*
 * lungo — Lua 5.4 with Go-style goroutines, embedded from C.
 *
 * A runtime owns N worker threads, each with its own lua_State (a shard).
 * The program's main goroutine runs a list of steps (strings, files,
 * modules to require), like the standalone `lua` interpreter does with
 * LUA_INIT, -l, -e and the script; goroutines it spawns run on every worker.
 *
 * Calls return a status (LNG_OK on success; lng_spawn* the new goroutine's
 * id, or a status negated). The library never prints
 * and never calls exit(); the outcome of a program is read back with
 * lng_status(), lng_exit_code() and lng_message(). There is no global state:
 * several runtimes may live in one process.
 *
 *   lng_config cfg;
 *   lng_config_init(&cfg);
 *   cfg.workers = 4;
 *   lng_runtime *rt = lng_new(&cfg);
 *   lng_main_file(rt, "script.lua");
 *   lng_start(rt);
 *   int st = lng_wait(rt);        // LNG_OK, LNG_ERRRUN, LNG_DEADLOCK, LNG_EXIT ...
 *   if (st != LNG_OK) fprintf(stderr, "%s\n", lng_message(rt));
 *   lng_destroy(rt);
 *
 * Build: cc app.c $(pkg-config --cflags --libs lungo)
 *
 * Threads. Each function's comment says where it may be called:
 *   any thread     any thread, a worker included (a C function that a
 *                  goroutine calls runs on a worker), at any time between
 *                  lng_new and lng_destroy;
 *   setup          before lng_start, from one thread at a time;
 *   C thread       a thread that is not one of the runtime's workers: it
 *                  may block (the main thread, threads of its own);
 *   goroutine      a C function called from Lua, running in a goroutine on
 *                  a worker: it must not block the worker, so channel
 *                  calls there take timeout 0;
 *   hook           inside cfg.on_shard or cfg.on_error.
 * A runtime's workers are numbered 1..workers, as go.worker() says.
 */
#ifndef LUNGO_H
#define LUNGO_H

#include <stddef.h>

/* ---- Version ----
   The version of this header; lng_version_num() says which library the
   program runs with (they differ when liblungo.so was upgraded after the
   program was built). Compare numbers: LUNGO_VERSION_NUM >= 100 is 0.1.0
   or later. */
#define LUNGO_VERSION_MAJOR 0
#define LUNGO_VERSION_MINOR 1
#define LUNGO_VERSION_PATCH 0
#define LUNGO_VERSION_NUM (LUNGO_VERSION_MAJOR * 10000 + LUNGO_VERSION_MINOR * 100 + \
                           LUNGO_VERSION_PATCH)
#define LUNGO_VERSION "lungo 0.1"

#ifdef __cplusplus
extern "C" {
#endif

/* The library is built with -fvisibility=hidden: what this header declares
   is all that liblungo exports. */
#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility push(default)
#endif

typedef struct lng_runtime lng_runtime;

/* Status codes. */
enum {
  LNG_OK = 0,
  LNG_ERRRUN,      /* an uncaught error in a goroutine (message has the traceback) */
  LNG_ERRSYNTAX,   /* a step of the main goroutine does not compile */
  LNG_ERRFILE,     /* a file cannot be opened or read */
  LNG_ERRMEM,      /* out of memory */
  LNG_DEADLOCK,    /* every live goroutine is blocked and nothing can wake them */
  LNG_EXIT,        /* os.exit() was called; see lng_exit_code() */
  LNG_ERRMISUSE,   /* the call itself is wrong (NULL, wrong order, closed runtime) */
  LNG_CLOSED,      /* a channel operation on a closed channel */
  LNG_TIMEOUT,     /* a channel operation that could not complete in time */
  LNG_ERRTYPE      /* Lua sent a value C cannot represent (a table, a function) */
};

/* A short text for a status code (static storage). Any thread. */
const char *lng_status_string(int status);

struct lua_State;

typedef struct lng_config {
  int workers;          /* worker threads; 0 = one per CPU */
  size_t mem_limit;     /* bytes for all shards together; 0 = no limit */
  /* Called once for every shard as it is opened, on the thread calling
     lng_new (a hook: no goroutine runs yet): register C functions,
     modules, package.preload entries. What it sets in the globals is seen
     by every goroutine of that shard. worker is 1..workers, the number
     go.worker() gives the goroutines running there. */
  void (*on_shard)(struct lua_State *L, int worker, void *ud);
  void *ud;             /* passed to hooks */
  /* Keep running after every goroutine has finished, as a service that C
     code feeds (lng_spawn, channels), until lng_stop. */
  int service;
  int warnings;         /* warn() prints from the start (lua -W); else after warn("@on") */
  int ignore_env;       /* ignore LUA_PATH, LUA_CPATH and the like (lua -E) */
  /* ---- Failing goroutines (a service's error handler) ----
     Called when a goroutine other than the main one ends with an uncaught
     error (or runs out of memory, or cannot start: a function lng_spawn
     names does not exist): id is the goroutine's, status LNG_ERRRUN or
     LNG_ERRMEM, message the error with its traceback ("goroutine 7:
     job.lua:3: ..."), valid during the call. Return 0 to go on (only that
     goroutine ended: what it held is released, its channels stay as they
     are), nonzero to end the program with that error, as happens without
     this hook. Runs on the worker of that goroutine (a hook): it may call
     any-thread functions (lng_spawn, lng_send with timeout 0, lng_stop),
     never block. */
  int (*on_error)(lng_runtime *rt, long long id, int status, const char *message, void *ud);
} lng_config;

/* Fills cfg with defaults (workers from LUNGO_WORKERS is the host's job,
   not this one's). Any thread. */
void lng_config_init(lng_config *cfg);

/* Creates a runtime: opens one shard per worker, calling cfg->on_shard for
   each on this thread; threads start at lng_start. Returns NULL when out
   of memory or on a bad config. From a C thread; cfg is copied. */
lng_runtime *lng_new(const lng_config *cfg);

/* The main goroutine's steps, run in order in one goroutine with one set of
   globals; the first that fails ends the program with its status. Setup
   (LNG_ERRMISUSE after lng_start); the strings are copied. */
int lng_main_string(lng_runtime *rt, const char *code, size_t len, const char *chunkname);
int lng_main_file(lng_runtime *rt, const char *path);        /* path NULL: standard input */
int lng_main_require(lng_runtime *rt, const char *modname, const char *global);
/* The `arg` table and the script's `...`, as lua.c builds them: argv[script]
   is arg[0], later entries are the script's arguments; script may be argc
   when there is no script. */
int lng_main_args(lng_runtime *rt, int argc, char **argv, int script);

/* Starts the workers and the main goroutine (with no step, it ends at
   once; in service mode the runtime then waits for lng_spawn). Once, from
   a C thread. */
int lng_start(lng_runtime *rt);

/* Waits until the program ends: every goroutine finished (LNG_OK), an
   uncaught error, a deadlock, os.exit() or lng_stop. Returns the status.
   From a C thread, after lng_start; several threads may wait. */
int lng_wait(lng_runtime *rt);

/* The outcome so far, without waiting: LNG_OK while the program runs (or
   when it ended well), else how it ended. Any thread. */
int lng_status(lng_runtime *rt);
int lng_exit_code(lng_runtime *rt);           /* for LNG_EXIT; 0 or 1 otherwise. Any thread. */
/* Whether os.exit asked to close the state (its second argument): a host
   then calls lng_destroy, which runs finalizers, before it exits. Any thread. */
int lng_exit_close(lng_runtime *rt);
/* The error message with its traceback, or the deadlock report; "" if none.
   Valid until lng_destroy. Any thread; the text is set once, when the
   program ends (read it after lng_wait or a non-OK lng_status). */
const char *lng_message(lng_runtime *rt);

/* Interrupts what the main goroutine is doing: running Lua code or blocked
   in a channel, select, sleep or sync operation, it raises "interrupted!"
   there, like Ctrl-C in lua. Call it from any thread, but not from a
   signal handler. lungo reaches a running worker with SIGURG, as Go's
   runtime does, and installs a handler for that signal. LNG_CLOSED when
   the main goroutine has ended (other goroutines may still run): there is
   nothing to interrupt. */
int lng_interrupt(lng_runtime *rt);

/* 1 when no goroutine is running or runnable and no timer is pending: only
   C (a channel it holds) can wake anyone now. A host that knows it will
   not send calls this a deadlock. Any thread; 0 before lng_start. */
int lng_blocked(lng_runtime *rt);

/* Ends the program now with LNG_OK (unless it already ended): lng_wait
   returns. Goroutines still running or blocked are dropped at lng_destroy.
   Any thread (a goroutine's C function or a hook included), after lng_start. */
int lng_stop(lng_runtime *rt);

/* Stops the workers (goroutines still blocked are dropped) and frees
   everything, the shards included. Safe on NULL. From a C thread, once no
   other thread uses the runtime (join them first); every channel handle
   must have been released. */
void lng_destroy(lng_runtime *rt);

/* ---- Values and channels shared with C ---- */

typedef struct lng_channel lng_channel;

typedef struct lng_encoded lng_encoded;

enum { LNG_TNIL, LNG_TBOOLEAN, LNG_TINTEGER, LNG_TNUMBER, LNG_TSTRING, LNG_TCHANNEL,
       /* received only: a Lua value C has no struct for, kept encoded (see
          lng_value_decode); lng_send can pass it on as it is */
       LNG_TTABLE, LNG_TFUNCTION, LNG_TOBJECT /* a mutex, wait group, semaphore */ };

/* A value crossing between C and Lua. To send, fill it (a string is only
   borrowed for the call); a received value owns its string, channel
   handle or encoded value: release them with lng_value_free. */
typedef struct lng_value {
  int type;               /* LNG_T* */
  int boolean;
  long long integer;
  double number;
  const char *string;     /* binary safe: len bytes (plus a terminating 0 when received) */
  size_t len;
  lng_channel *channel;
  lng_encoded *encoded;   /* LNG_TTABLE, LNG_TFUNCTION, LNG_TOBJECT */
} lng_value;

lng_value lng_nil(void);
lng_value lng_boolean(int b);
lng_value lng_integer(long long i);
lng_value lng_number(double n);
lng_value lng_string(const char *s, size_t len);
lng_value lng_chanvalue(lng_channel *ch);
/* Constructors and lng_value_free: any thread. */
void lng_value_free(lng_value *v);

/* Pushes a received value onto L's stack, rebuilt as Lua had it (a table
   with its nesting, sharing and cycles). L may be a state C owns (made with
   luaL_newstate) for plain data: tables of nil, booleans, numbers and
   strings; a value holding a function or a runtime object (a channel
   inside a table) needs a state of the runtime that sent it, in a
   goroutine's C function or in on_shard (else LNG_ERRTYPE). Returns LNG_OK
   with one value pushed, or a status with nothing pushed (LNG_ERRMEM,
   LNG_ERRTYPE, LNG_ERRMISUSE); v is left as it was. From the thread that
   owns L (for a runtime's state: its worker). Scalars push themselves too. */
int lng_value_decode(struct lua_State *L, const lng_value *v);

/* A channel held by C. While C holds it, a goroutine waiting on it is not
   reported as deadlocked. Release every handle (lng_channel_release).
   These three: any thread. */
lng_channel *lng_channel_new(lng_runtime *rt, size_t capacity);
void lng_channel_release(lng_channel *ch);
int lng_close(lng_channel *ch);                 /* LNG_OK, or LNG_CLOSED if already closed */
/* From a C thread; from a goroutine (or a hook) only with timeout 0.
   timeout in seconds: < 0 waits forever, 0 never waits. LNG_OK,
   LNG_CLOSED (a receive then gets nil), LNG_TIMEOUT, LNG_ERRMISUSE,
   LNG_ERRMEM. Whatever Lua sends arrives: a table or a function as an
   encoded value (LNG_TTABLE, LNG_TFUNCTION), never dropped. */
int lng_send(lng_channel *ch, const lng_value *v, double timeout);
int lng_recv(lng_channel *ch, lng_value *out, double timeout);

/* Sets a global seen by every goroutine: any value, an encoded one (a
   table another runtime sent) too. Setup (before lng_start). */
int lng_set_global(lng_runtime *rt, const char *name, const lng_value *v);

/* Spawns a goroutine running a global function ("name") or a module's
   ("module.name", found with require), or a chunk of Lua source, with
   arguments (scalars and channels; an encoded value gives LNG_ERRTYPE).
   Returns the new goroutine's id (> 1, what go.id() says inside it; main
   is 1), or a status negated: -LNG_ERRMISUSE (a NULL, before lng_start,
   or the program has ended), -LNG_ERRMEM, -LNG_ERRTYPE. Errors in
   resolving or compiling are the goroutine's (cfg.on_error). Any thread,
   after lng_start. */
long long lng_spawn(lng_runtime *rt, const char *function, const lng_value *args, int nargs);
long long lng_spawn_string(lng_runtime *rt, const char *code, size_t len, const char *chunkname,
                           const lng_value *args, int nargs);

/* ---- Userdata that crosses between goroutines ----

   A userdata cannot be copied between goroutines unless its type opts in:
   its metatable's LNG_UDTYPE_FIELD ("__lungo") field is a light userdata
   pointing at an lng_udtype (static storage: messages name the type by
   its address). Then the userdata crosses
   - by value, when encode and decode are set: encode describes the
     userdata at idx as bytes (pushes one string, returns 1; or returns 0
     to refuse), and decode makes the receiver's userdata from them
     (pushes it, returns 1; 0 is an error);
   - by reference, when share and push are set: share returns the shared
     object the userdata stands for with a new reference, which the
     message owns (NULL refuses), and push makes the receiving state's
     userdata for that object and pushes it, taking a reference of its own
     (lng_shared_ref) if the userdata keeps it (its __gc then calls
     lng_shared_unref).
   The callbacks are hooks: they run on the sending or the receiving worker, in a
   protected call: an error they raise becomes the copy's error. encode
   and share must check the userdata themselves (luaL_testudata): they are
   called for any userdata whose metatable carries the field.
   A C module needs only this header for by-value types (the fields are
   read by lungo, nothing is called); shared objects are liblungo's.
   samples/embed/udata.c has one type of each kind. */

#define LNG_UDTYPE_FIELD "__lungo"

typedef struct lng_shared lng_shared;

typedef struct lng_udtype {
  const char *name;                                             /* for messages */
  int (*encode)(struct lua_State *L, int idx);
  int (*decode)(struct lua_State *L, const char *bytes, size_t len);
  lng_shared *(*share)(struct lua_State *L, int idx);
  void (*push)(struct lua_State *L, lng_shared *obj);
} lng_udtype;

/* A reference-counted C object shared by every userdata that stands for
   it, on any worker: release(ptr) runs once, on whichever thread drops
   the last reference. NULL when out of memory. The creator holds one.
   Any thread, any time (before lng_start, after lng_destroy too). */
lng_shared *lng_shared_new(void *ptr, void (*release)(void *ptr));
void *lng_shared_ptr(const lng_shared *obj);
lng_shared *lng_shared_ref(lng_shared *obj);
void lng_shared_unref(lng_shared *obj);

/* ---- Select from C ----
   Waits until one of several channel operations can complete, like
   go.select, and completes that one only. A case with ch NULL is never
   ready. For a send, value is the value (borrowed for the call); for a
   receive, value is where the value goes (owned: lng_value_free). When
   several are ready, one is chosen at random.
   Returns LNG_OK or LNG_CLOSED (a receive from a closed channel, value nil;
   a send on one) with *chosen the case's index; LNG_TIMEOUT with *chosen
   -1 when none could complete within timeout seconds (< 0 forever, 0 a
   poll); LNG_ERRMISUSE, LNG_ERRMEM. From a C thread (a goroutine: timeout
   0 only), as lng_send. n is at most 64. */
typedef struct lng_case {
  lng_channel *ch;
  int send;               /* 1: send value; 0: receive into value */
  lng_value value;
} lng_case;
int lng_select(lng_case *cases, int n, double timeout, int *chosen);

/* ---- From a C function called by Lua ----
   What a C function (registered in on_shard) learns from the lua_State it
   is given. Each returns 0 or NULL for a state that is not one of a
   runtime's shards (a state C made itself). From the thread running L. */
lng_runtime *lng_runtime_of(struct lua_State *L);   /* the runtime L belongs to */
long long lng_goroutine_id(struct lua_State *L);    /* the running goroutine's id; 0 in on_shard */
int lng_worker_of(struct lua_State *L);             /* 1..workers, as go.worker() */

/* The linked library's banner, "lungo 0.1, Lua 5.4.x  Copyright (C)
   1994-20xx Lua.org, PUC-Rio", and its LUNGO_VERSION_NUM. Any thread, any time. */
const char *lng_version(void);
int lng_version_num(void);

/* Number of CPUs the process may use (the default worker count). */
int lng_cpu_count(void);

#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility pop
#endif

#ifdef __cplusplus
}
#endif
#endif
