/*
 * The `lungo` command: runs a Lua script as the main goroutine of a
 * runtime, with the standard `lua` interpreter's options and conventions.
 * Written only against the public header.
 *
 *   lungo [options] [script [args]]
 *
 * With no script on a terminal, or with -i, it opens the REPL (repl.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "lungo.h"
#include "repl.h"

static const char *progname = "lungo";

/* ---- SIGINT while a script runs, as lua.c handles it ----
 *
 * The first SIGINT interrupts the main goroutine ("interrupted!" raised
 * where it runs or waits, which a pcall may catch); the handler puts the
 * default action back first, so a second SIGINT before that (Lua stuck in
 * a long C call) kills the process, as in lua. The handler only writes to
 * a pipe (lng_interrupt is not for signal handlers): a thread of the host
 * (the watcher) reads it and calls lng_interrupt. SIGINT is blocked in
 * every other thread (the workers inherit the mask), so the handler and
 * the default action both happen on the watcher, which waits in read():
 * a worker spinning in Lua never has to take it (and ThreadSanitizer,
 * which delays signals until a thread calls into libc, would never
 * deliver it there). When the main goroutine
 * has already ended, nothing can take the interrupt: the program stops
 * with "interrupted!" and status 1. SIGTERM keeps its default action. */
static int sigint_pipe[2] = { -1, -1 };
static volatile sig_atomic_t sigint_stopped;   /* the watcher ended the program */

static void on_sigint(int sig) {
  int saved = errno;
  signal(sig, SIG_DFL);
  char c = 1;
  ssize_t n = write(sigint_pipe[1], &c, 1);
  (void)n;
  errno = saved;
}

static void *sigint_watcher(void *arg) {
  lng_runtime *rt = arg;
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_UNBLOCK, &set, NULL);
  for (;;) {
    char c;
    ssize_t n = read(sigint_pipe[0], &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0 || c == 0) return NULL;        /* 0: the program ended, leave */
    if (lng_interrupt(rt) == LNG_CLOSED) {
      sigint_stopped = 1;
      lng_stop(rt);
    }
  }
}

/* Taken before the runtime starts, when a script (no REPL, which has its
   own Ctrl-C) runs: a SIGINT from then on is kept in the pipe until the
   watcher (sigint_start) serves it. A SIGINT ignored by the parent (a
   background job of a shell) is taken too, as lua.c does. 0 on success. */
static int sigint_take(void) {
  if (pipe(sigint_pipe) != 0) return -1;
  for (int i = 0; i < 2; i++) fcntl(sigint_pipe[i], F_SETFD, FD_CLOEXEC);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sigint;
  sa.sa_flags = 0;          /* the watcher's read() returns (EINTR): under TSan the handler runs then */
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, NULL);
  return 0;
}

/* SIGINT back to its default action, taken by this thread again. */
static void sigint_default(void) {
  signal(SIGINT, SIG_DFL);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_UNBLOCK, &set, NULL);
}

/* After lng_start (lng_interrupt needs a started runtime). */
static int sigint_start(lng_runtime *rt, pthread_t *t) {
  if (pthread_create(t, NULL, sigint_watcher, rt) == 0) return 0;
  sigint_default();
  return -1;
}

static void sigint_end(pthread_t t) {
  char c = 0;
  ssize_t n;
  do n = write(sigint_pipe[1], &c, 1); while (n < 0 && errno == EINTR);
  pthread_join(t, NULL);
  sigint_default();
}

static void usage(const char *badopt) {
  if (badopt[1] == 'e' || badopt[1] == 'l' || badopt[1] == 'W' || strcmp(badopt, "--workers") == 0)
    fprintf(stderr, "%s: '%s' needs argument\n", progname, badopt);
  else
    fprintf(stderr, "%s: unrecognized option '%s'\n", progname, badopt);
  fprintf(stderr,
          "usage: %s [options] [script [args]]\n"
          "Available options are:\n"
          "  -e stat       execute string 'stat'\n"
          "  -i            enter interactive mode after executing 'script'\n"
          "  -l mod        require library 'mod' into global 'mod'\n"
          "  -l g=mod      require library 'mod' into global 'g'\n"
          "  -v            show version information\n"
          "  -E            ignore environment variables\n"
          "  -W            turn warnings on (when no count follows)\n"
          "  -W N, --workers N, --workers=N\n"
          "                run N worker threads (default: $LUNGO_WORKERS, else one per CPU)\n"
          "  --            stop handling options\n"
          "  -             stop handling options and execute stdin\n",
          progname);
}

static int parse_workers(const char *s, int *out) {
  char *end;
  long n = strtol(s, &end, 10);
  if (*s == 0 || *end != 0 || n < 1 || n > 1024) return -1;
  *out = (int)n;
  return 0;
}

/* After -W: a count (even a bad one, reported as such) or, as in lua, the
   next argument (warnings on). */
static int looks_like_count(const char *s) {
  if (!s) return 0;
  if (*s == '-') s++;
  return *s >= '0' && *s <= '9';
}

static void print_version(void) {
  printf("%s\n", lng_version());
  fflush(stdout);
}

/* Exit status of a finished program: as lua for errors, 2 for a deadlock. */
static int report(lng_runtime *rt, int st) {
  switch (st) {
    case LNG_OK: return 0;
    case LNG_EXIT: return lng_exit_code(rt);
    case LNG_DEADLOCK:
      fprintf(stderr, "%s", lng_message(rt));
      return 2;
    default:
      fprintf(stderr, "%s: %s\n", progname, lng_message(rt));
      return 1;
  }
}

int main(int argc, char **argv) {
  if (argv[0] && argv[0][0]) progname = argv[0];   /* as lua.c names itself */
  int workers = 0, warnings = 0, noenv = 0, showversion = 0, interactive = 0, hasexec = 0, script = argc, i;
  /* First pass: options that shape the runtime, and where the script is. */
  for (i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (a[0] != '-') { script = i; break; }
    if (strcmp(a, "-") == 0) { script = i; break; }
    if (strcmp(a, "--") == 0) { script = i + 1 < argc ? i + 1 : argc; break; }
    if (strcmp(a, "-e") == 0 || strcmp(a, "-l") == 0) {
      if (a[1] == 'e') hasexec = 1;
      if (++i >= argc) { usage(a); return 1; }
    } else if (strncmp(a, "-e", 2) == 0 || strncmp(a, "-l", 2) == 0) {
      /* -estat, -lmod */
      if (a[1] == 'e') hasexec = 1;
    } else if (strcmp(a, "-i") == 0) {
      interactive = 1;
    } else if (strcmp(a, "-W") == 0 && !looks_like_count(i + 1 < argc ? argv[i + 1] : NULL)) {
      warnings = 1;               /* lua's -W: no count follows, so warnings on */
    } else if (strcmp(a, "-W") == 0 || strcmp(a, "--workers") == 0) {
      if (++i >= argc || parse_workers(argv[i], &workers) != 0) {
        if (i >= argc) usage(a);
        else fprintf(stderr, "%s: bad worker count '%s'\n", progname, argv[i]);
        return 1;
      }
    } else if (strncmp(a, "-W", 2) == 0 || strncmp(a, "--workers=", 10) == 0) {
      const char *n = a[1] == 'W' ? a + 2 : a + 10;     /* -WN, --workers=N */
      if (parse_workers(n, &workers) != 0) {
        fprintf(stderr, "%s: bad worker count '%s'\n", progname, n);
        return 1;
      }
    } else if (strcmp(a, "-v") == 0) {
      showversion = 1;
    } else if (strcmp(a, "-E") == 0) {
      noenv = 1;
    } else {
      usage(a);
      return 1;
    }
  }
  if (workers == 0 && !noenv) {
    const char *w = getenv("LUNGO_WORKERS");
    if (w && *w && parse_workers(w, &workers) != 0) {
      fprintf(stderr, "%s: bad LUNGO_WORKERS '%s'\n", progname, w);
      return 1;
    }
  }
  /* Like lua: the REPL with -i, or with no script, no -e and no -v on a terminal. */
  if (!interactive && script >= argc && !hasexec && !showversion && isatty(STDIN_FILENO))
    interactive = 1;
  if (showversion || interactive) print_version();    /* lua: -i implies -v */

  lng_config cfg;
  lng_config_init(&cfg);
  cfg.workers = workers;
  cfg.warnings = warnings;
  cfg.ignore_env = noenv;
  lng_runtime *rt = lng_new(&cfg);
  if (!rt) {
    fprintf(stderr, "%s: cannot create the runtime\n", progname);
    return 1;
  }
  lng_main_args(rt, argc, argv, script);

  if (!noenv) {
    const char *init = getenv("LUA_INIT_5_4");
    const char *name = "=LUA_INIT_5_4";
    if (!init) { init = getenv("LUA_INIT"); name = "=LUA_INIT"; }
    if (init) {
      if (init[0] == '@') lng_main_file(rt, init + 1);
      else lng_main_string(rt, init, strlen(init), name);
    }
  }
  /* Second pass: -e and -l in order, then the script. */
  for (i = 1; i < script && i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--") == 0) break;
    if (a[0] == '-' && (a[1] == 'e' || a[1] == 'l')) {
      const char *v = a[2] ? a + 2 : argv[++i];
      if (a[1] == 'e') {
        lng_main_string(rt, v, strlen(v), "=(command line)");
      } else {
        const char *eq = strchr(v, '=');
        if (eq) {
          char global[256];
          size_t n = (size_t)(eq - v) < sizeof global - 1 ? (size_t)(eq - v) : sizeof global - 1;
          memcpy(global, v, n);
          global[n] = 0;
          lng_main_require(rt, eq + 1, global);
        } else {
          lng_main_require(rt, v, v);
        }
      }
    } else if (strcmp(a, "--workers") == 0 ||
               (strcmp(a, "-W") == 0 && looks_like_count(i + 1 < argc ? argv[i + 1] : NULL))) {
      i++;
    }
  }
  repl *r = NULL;
  if (script < argc) {
    lng_main_file(rt, strcmp(argv[script], "-") == 0 ? NULL : argv[script]);
  } else if (!interactive && !hasexec && !showversion) {
    /* no script and not a terminal: like lua, read the program from stdin */
    lng_main_file(rt, NULL);
  }
  if (interactive && !(r = repl_new(rt))) {
    fprintf(stderr, "%s: cannot start the REPL\n", progname);
    return 1;
  }
  int watching = !r && sigint_take() == 0;
  int started = lng_start(rt);
  if (started != LNG_OK || (r && repl_start(r) != 0)) {
    /* LNG_ERRMEM: no memory or no thread for a worker (ulimit -v, -u) */
    fprintf(stderr, "%s: cannot start the runtime: %s\n", progname,
            started != LNG_OK ? lng_status_string(started) : "cannot start the REPL's reader");
    return 1;
  }
  pthread_t watcher;
  watching = watching && sigint_start(rt, &watcher) == 0;
  int st = lng_wait(rt);
  if (watching) sigint_end(watcher);
  if (sigint_stopped) {
    fflush(stdout);
    fprintf(stderr, "%s: interrupted!\n", progname);
    exit(1);                      /* goroutines may still compute: leave at once */
  }
  /* The program ended under the REPL (os.exit, an uncaught error): the
     reader thread may still hold the REPL's channels, so leave at once. */
  int left = r ? repl_end(r) : 1, leave = left == 0;
  int code = left == 2 ? 130 : report(rt, st);
  fflush(stdout);
  if (st == LNG_EXIT && lng_exit_close(rt) && !r) {
    lng_destroy(rt);              /* os.exit(code, true): finalizers run first */
    exit(code);
  }
  if (st == LNG_EXIT || st == LNG_ERRRUN || leave) {
    /* Like os.exit in lua: leave at once, even if goroutines still compute. */
    exit(code);
  }
  lng_destroy(rt);
  return code;
}
