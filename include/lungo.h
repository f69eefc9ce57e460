/*
 * lungo — Lua 5.4 with Go-style goroutines, embedded from C.
 *
 * A runtime owns N worker threads, each with its own lua_State (a shard).
 * The program's main goroutine runs a list of steps (strings, files,
 * modules to require), like the standalone `lua` interpreter does with
 * LUA_INIT, -l, -e and the script; goroutines it spawns run on every worker.
 *
 * Every call returns a status (LNG_OK on success). The library never prints
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

/* A short text for a status code (static storage). */
const char *lng_status_string(int status);

struct lua_State;

typedef struct lng_config {
  int workers;          /* worker threads; 0 = one per CPU */
  size_t mem_limit;     /* bytes for all shards together; 0 = no limit */
  /* Called once for every shard as it is opened, on the thread calling
     lng_new: register C functions, modules, package.preload entries. What
     it sets in the globals is seen by every goroutine of that shard. */
  void (*on_shard)(struct lua_State *L, int worker, void *ud);
  void *ud;             /* passed to hooks */
  /* Keep running after every goroutine has finished, as a service that C
     code feeds (lng_spawn, channels), until lng_stop. */
  int service;
  int warnings;         /* warn() prints from the start (lua -W); else after warn("@on") */
  int ignore_env;       /* ignore LUA_PATH, LUA_CPATH and the like (lua -E) */
} lng_config;

/* Fills cfg with defaults (workers from LUNGO_WORKERS is the host's job, not this one's). */
void lng_config_init(lng_config *cfg);

/* Creates a runtime: opens one shard per worker; threads start at lng_start.
   Returns NULL when out of memory or on a bad config. */
lng_runtime *lng_new(const lng_config *cfg);

/* The main goroutine's steps, run in order in one goroutine with one set of
   globals; the first that fails ends the program with its status. */
int lng_main_string(lng_runtime *rt, const char *code, size_t len, const char *chunkname);
int lng_main_file(lng_runtime *rt, const char *path);        /* path NULL: standard input */
int lng_main_require(lng_runtime *rt, const char *modname, const char *global);
/* The `arg` table and the script's `...`, as lua.c builds them: argv[script]
   is arg[0], later entries are the script's arguments; script may be argc
   when there is no script. */
int lng_main_args(lng_runtime *rt, int argc, char **argv, int script);

/* Starts the workers and the main goroutine. */
int lng_start(lng_runtime *rt);

/* Waits until the program ends: every goroutine finished (LNG_OK), an
   uncaught error, a deadlock, or os.exit(). Returns the status. */
int lng_wait(lng_runtime *rt);

int lng_status(lng_runtime *rt);
int lng_exit_code(lng_runtime *rt);           /* for LNG_EXIT; 0 or 1 otherwise */
/* Whether os.exit asked to close the state (its second argument): a host
   then calls lng_destroy, which runs finalizers, before it exits. */
int lng_exit_close(lng_runtime *rt);
/* The error message with its traceback, or the deadlock report; "" if none.
   Valid until lng_destroy. */
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
   not send calls this a deadlock. */
int lng_blocked(lng_runtime *rt);

/* Ends the program now with LNG_OK (unless it already ended): lng_wait
   returns. Goroutines still running or blocked are dropped at lng_destroy. */
int lng_stop(lng_runtime *rt);

/* Stops the workers (goroutines still blocked are dropped) and frees
   everything, the shards included. Safe on NULL. */
void lng_destroy(lng_runtime *rt);

/* ---- Values and channels shared with C ---- */

typedef struct lng_channel lng_channel;

enum { LNG_TNIL, LNG_TBOOLEAN, LNG_TINTEGER, LNG_TNUMBER, LNG_TSTRING, LNG_TCHANNEL };

/* A value crossing between C and Lua. To send, fill it (a string is only
   borrowed for the call); a received value owns its string and channel
   handle: release them with lng_value_free. */
typedef struct lng_value {
  int type;               /* LNG_T* */
  int boolean;
  long long integer;
  double number;
  const char *string;     /* binary safe: len bytes (plus a terminating 0 when received) */
  size_t len;
  lng_channel *channel;
} lng_value;

lng_value lng_nil(void);
lng_value lng_boolean(int b);
lng_value lng_integer(long long i);
lng_value lng_number(double n);
lng_value lng_string(const char *s, size_t len);
lng_value lng_chanvalue(lng_channel *ch);
void lng_value_free(lng_value *v);

/* A channel held by C. While C holds it, a goroutine waiting on it is not
   reported as deadlocked. Release every handle (lng_channel_release). */
lng_channel *lng_channel_new(lng_runtime *rt, size_t capacity);
void lng_channel_release(lng_channel *ch);
int lng_close(lng_channel *ch);                 /* LNG_OK, or LNG_CLOSED if already closed */
/* From any thread that is not one of the runtime's workers (timeout 0 is
   allowed everywhere). timeout in seconds: < 0 waits forever, 0 never
   waits. LNG_OK, LNG_CLOSED (a receive then gets nil), LNG_TIMEOUT,
   LNG_ERRTYPE (the value Lua sent is dropped), LNG_ERRMISUSE. */
int lng_send(lng_channel *ch, const lng_value *v, double timeout);
int lng_recv(lng_channel *ch, lng_value *out, double timeout);

/* Sets a global seen by every goroutine (before lng_start only). */
int lng_set_global(lng_runtime *rt, const char *name, const lng_value *v);

/* Spawns a goroutine running a global function ("name") or a module's
   ("module.name", found with require), or a chunk of Lua source, with
   arguments. Errors in resolving or compiling are the goroutine's. */
int lng_spawn(lng_runtime *rt, const char *function, const lng_value *args, int nargs);
int lng_spawn_string(lng_runtime *rt, const char *code, size_t len, const char *chunkname,
                     const lng_value *args, int nargs);

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
