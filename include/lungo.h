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

#define LUNGO_VERSION "lungo 0.1"

#ifdef __cplusplus
extern "C" {
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
  LNG_ERRMISUSE    /* the call itself is wrong (NULL, wrong order, closed runtime) */
};

typedef struct lng_config {
  int workers;          /* worker threads; 0 = one per CPU */
  void *ud;             /* passed to hooks */
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
/* The error message with its traceback, or the deadlock report; "" if none.
   Valid until lng_destroy. */
const char *lng_message(lng_runtime *rt);

/* Stops the workers (goroutines still blocked are dropped) and frees
   everything, the shards included. Safe on NULL. */
void lng_destroy(lng_runtime *rt);

/* Number of CPUs the process may use (the default worker count). */
int lng_cpu_count(void);

#ifdef __cplusplus
}
#endif
#endif
