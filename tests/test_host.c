/*
 * The `lungo` command ($LUNGO_BIN, set by `make test`) as a subprocess:
 * its lua-compatible options (-e, -l, -v, -E, -W, -, --), LUA_INIT, the
 * `arg` table and `...`, how errors, os.exit and deadlocks end it, the
 * worker count options, and whole lines from print in many goroutines.
 *
 * Each run forks and execs the binary with pipes on stdin, stdout and
 * stderr, in a controlled environment (LUA_INIT*, LUA_PATH*, LUA_CPATH*
 * and LUNGO_WORKERS removed unless a test sets them), and waits for it
 * with a deadline: a child still running then is killed and the test fails.
 * The reference is lua5.4, whose messages say "lua5.4:" where lungo says
 * "lungo:".
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "util.h"
#include "watchdog.h"

#define T_TIMEOUT 60
#define RUN_MS 30000                 /* deadline of one run of lungo */

/* ---- growing byte buffers ---- */

typedef struct sbuf {
  char *p;
  size_t len, cap;
} sbuf;

static void sbuf_add(sbuf *b, const char *s, size_t n) {
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 1024;
    while (cap < b->len + n + 1) cap *= 2;
    char *p = realloc(b->p, cap);
    cr_assert_not_null(p);
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = 0;
}

/* ---- running lungo ---- */

typedef struct proc {
  int timed_out;
  int status;                        /* from waitpid */
  sbuf out, err;
} proc;

static const char *lungo_bin(void) {
  const char *bin = getenv("LUNGO_BIN");
  cr_assert(bin != NULL && bin[0] != 0,
            "LUNGO_BIN is not set: it must name the lungo binary (`make test` sets it), "
            "e.g. LUNGO_BIN=$PWD/build/lungo ./build/lungo-tests --filter 'host/*'");
  cr_assert(access(bin, X_OK) == 0, "LUNGO_BIN=%s is not an executable file: %s", bin, strerror(errno));
  return bin;
}

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *const scrubbed_env[] = {
  "LUA_INIT", "LUA_INIT_5_4", "LUA_PATH", "LUA_PATH_5_4", "LUA_CPATH", "LUA_CPATH_5_4",
  "LUNGO_WORKERS", NULL,
};

/*
 * Runs `$LUNGO_BIN args...` in directory cwd (NULL: the current one), with
 * env applied on top of the scrubbed environment ("NAME=value" sets, "NAME"
 * removes), input written to its standard input (NULL: none), and collects
 * its output and status.
 */
/* The signal part of run_full: sig is sent once "ready\n" shows on
   stdout; ignored: SIGINT is ignored when lungo starts (as in a background
   job of a shell without job control). */
typedef struct sigplan {
  int sig, ignored;
} sigplan;

static void run_full(proc *p, const char *argv0, const char *cwd, const char *const *env,
                     const char *input, const char *const *args, sigplan plan) {
  const char *bin = lungo_bin();
  int ip[2], op[2], ep[2];
  memset(p, 0, sizeof *p);
  sbuf_add(&p->out, "", 0);
  sbuf_add(&p->err, "", 0);
  signal(SIGPIPE, SIG_IGN);          /* lungo may leave without reading its input */
  cr_assert(pipe(ip) == 0 && pipe(op) == 0 && pipe(ep) == 0, "pipe: %s", strerror(errno));
  size_t nargs = 0;
  while (args[nargs]) nargs++;
  const char **argv = calloc(nargs + 2, sizeof *argv);
  cr_assert_not_null(argv);
  argv[0] = argv0;
  for (size_t i = 0; i < nargs; i++) argv[i + 1] = args[i];
  fflush(NULL);
  pid_t pid = fork();
  cr_assert(pid >= 0, "fork: %s", strerror(errno));
  if (pid == 0) {
    test_child_dies_with_parent();
    dup2(ip[0], 0);
    dup2(op[1], 1);
    dup2(ep[1], 2);
    close(ip[0]); close(ip[1]); close(op[0]); close(op[1]); close(ep[0]); close(ep[1]);
    signal(SIGPIPE, SIG_DFL);
    signal(SIGINT, plan.ignored ? SIG_IGN : SIG_DFL);
    for (int i = 0; scrubbed_env[i]; i++) unsetenv(scrubbed_env[i]);
    for (int i = 0; env && env[i]; i++) {
      const char *eq = strchr(env[i], '=');
      if (eq) {
        char name[128];
        size_t n = (size_t)(eq - env[i]);
        if (n >= sizeof name) _exit(126);
        memcpy(name, env[i], n);
        name[n] = 0;
        setenv(name, eq + 1, 1);
      } else {
        unsetenv(env[i]);
      }
    }
    if (cwd && chdir(cwd) != 0) {
      fprintf(stderr, "test: cannot chdir to %s: %s\n", cwd, strerror(errno));
      _exit(126);
    }
    execv(bin, (char *const *)argv);
    fprintf(stderr, "test: cannot run %s: %s\n", bin, strerror(errno));
    _exit(127);
  }
  free(argv);
  close(ip[0]);
  close(op[1]);
  close(ep[1]);
  fcntl(ip[1], F_SETFL, fcntl(ip[1], F_GETFL) | O_NONBLOCK);
  const char *in = input ? input : "";
  size_t inlen = strlen(in), inpos = 0;
  if (inlen == 0) {
    close(ip[1]);
    ip[1] = -1;
  }
  struct pollfd fds[3] = {{op[0], POLLIN, 0}, {ep[0], POLLIN, 0}, {ip[1], POLLOUT, 0}};
  sbuf *dest[2] = {&p->out, &p->err};
  long long deadline = now_ms() + RUN_MS;
  int sent = 0;
  while (fds[0].fd >= 0 || fds[1].fd >= 0) {
    if (plan.sig && !sent && strstr(p->out.p, "ready\n")) {
      kill(pid, plan.sig);
      sent = 1;
    }
    long long left = deadline - now_ms();
    if (left <= 0) {
      p->timed_out = 1;
      break;
    }
    int r = poll(fds, 3, (int)left);
    if (r < 0) {
      cr_assert(errno == EINTR, "poll: %s", strerror(errno));
      continue;
    }
    for (int i = 0; i < 2; i++) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      char chunk[8192];
      ssize_t n = read(fds[i].fd, chunk, sizeof chunk);
      if (n > 0) {
        sbuf_add(dest[i], chunk, (size_t)n);
      } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
        close(fds[i].fd);
        fds[i].fd = -1;
      }
    }
    if (fds[2].fd >= 0 && (fds[2].revents & (POLLOUT | POLLERR | POLLHUP))) {
      ssize_t n = write(fds[2].fd, in + inpos, inlen - inpos);
      if (n > 0) inpos += (size_t)n;
      if ((n < 0 && errno != EINTR && errno != EAGAIN) || inpos == inlen) {
        close(fds[2].fd);
        fds[2].fd = -1;
      }
    }
  }
  for (int i = 0; i < 3; i++) if (fds[i].fd >= 0) close(fds[i].fd);
  if (p->timed_out) kill(pid, SIGKILL);
  for (;;) {
    pid_t w = waitpid(pid, &p->status, WNOHANG);
    if (w == pid) break;
    if (w < 0) {
      cr_assert(errno == EINTR, "waitpid: %s", strerror(errno));
      continue;
    }
    if (!p->timed_out && now_ms() >= deadline) {   /* output closed, but still running */
      p->timed_out = 1;
      kill(pid, SIGKILL);
    }
    struct timespec ts = {0, 2 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
}

static void run_as(proc *p, const char *argv0, const char *cwd, const char *const *env,
                   const char *input, const char *const *args) {
  run_full(p, argv0, cwd, env, input, args, (sigplan){0, 0});
}

/* run_as with argv[0] "lungo", as when run from PATH: messages start "lungo: " */
static void run_in(proc *p, const char *cwd, const char *const *env, const char *input,
                   const char *const *args) {
  run_as(p, "lungo", cwd, env, input, args);
}

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})
#define ENV(...) ((const char *const[]){__VA_ARGS__, NULL})
#define run(p, ...) run_in((p), NULL, NULL, NULL, ARGS(__VA_ARGS__))

static const char *describe(const proc *p, char *buf, size_t size) {
  if (p->timed_out) snprintf(buf, size, "no end within %d ms (killed)", RUN_MS);
  else if (WIFEXITED(p->status)) snprintf(buf, size, "exit %d", WEXITSTATUS(p->status));
  else if (WIFSIGNALED(p->status)) snprintf(buf, size, "killed by signal %d", WTERMSIG(p->status));
  else snprintf(buf, size, "status 0x%x", (unsigned)p->status);
  return buf;
}

static void free_proc(proc *p) {
  free(p->out.p);
  free(p->err.p);
}

#define ASSERT_EXIT(P_, code)                                                               \
  do {                                                                                     \
    char d_[96];                                                                           \
    cr_assert(!(P_).timed_out && WIFEXITED((P_).status) && WEXITSTATUS((P_).status) == (code), \
              "expected exit %d, got %s\n--- stdout:\n%.3000s\n--- stderr:\n%.3000s", (code),  \
              describe(&(P_), d_, sizeof d_), (P_).out.p, (P_).err.p);                        \
  } while (0)

#define ASSERT_OUT(P_, want)                                                                \
  cr_assert(strcmp((P_).out.p, (want)) == 0,                                                \
            "stdout: expected\n\"%s\"\ngot\n\"%.3000s\"\n--- stderr:\n%.3000s", (want),      \
            (P_).out.p, (P_).err.p)

#define ASSERT_ERR(P_, want)                                                                \
  cr_assert(strcmp((P_).err.p, (want)) == 0,                                                \
            "stderr: expected\n\"%s\"\ngot\n\"%.3000s\"", (want), (P_).err.p)

#define ASSERT_HAS(text, what, needle)                                                     \
  cr_assert(strstr((text), (needle)) != NULL, "%s should contain \"%s\", got:\n%.3000s",   \
            (what), (needle), (text))

#define ASSERT_LACKS(text, what, needle)                                                   \
  cr_assert(strstr((text), (needle)) == NULL, "%s should not contain \"%s\", got:\n%.3000s", \
            (what), (needle), (text))

#define ASSERT_STARTS(text, what, prefix)                                                  \
  cr_assert(strncmp((text), (prefix), strlen(prefix)) == 0,                                \
            "%s should start with \"%s\", got:\n%.3000s", (what), (prefix), (text))

static int count_lines(const char *s) {
  int n = 0;
  for (; *s; s++) if (*s == '\n') n++;
  return n;
}

/* ---- temporary directories with a few files ---- */

typedef struct tmpdir {
  char path[64];
  char files[8][192];
  int nfiles;
} tmpdir;

static void tmp_make(tmpdir *t) {
  memset(t, 0, sizeof *t);
  snprintf(t->path, sizeof t->path, "/tmp/lungo-host-XXXXXX");
  cr_assert_not_null(mkdtemp(t->path));
}

/* Writes dir/name with text; returns its full path. */
static const char *tmp_file(tmpdir *t, const char *name, const char *text) {
  cr_assert(t->nfiles < 8);
  char *path = t->files[t->nfiles++], dir[sizeof t->path];
  memcpy(dir, t->path, sizeof dir);
  int n = snprintf(path, sizeof t->files[0], "%s/%s", dir, name);
  cr_assert(n > 0 && (size_t)n < sizeof t->files[0]);
  FILE *f = fopen(path, "w");
  cr_assert_not_null(f);
  cr_assert(fputs(text, f) >= 0);
  cr_assert(fclose(f) == 0);
  return path;
}

/* Removed right after the run, before any assertion can leave the test. */
static void tmp_remove(tmpdir *t) {
  for (int i = 0; i < t->nfiles; i++) unlink(t->files[i]);
  rmdir(t->path);
}

/* ---- -e ---- */

Test(host, exec_statements_run_in_order_and_share_globals_with_script, .timeout = T_TIMEOUT) {
  tmpdir t;
  tmp_make(&t);
  tmp_file(&t, "main.lua", "print('script', x, y)\n");
  proc p;
  run_in(&p, t.path, NULL, NULL,
         ARGS("-e", "x = 1", "-e", "x = x * 10", "-eprint('third', x) y = x + 1", "main.lua"));
  tmp_remove(&t);
  ASSERT_EXIT(p, 0);
  ASSERT_OUT(p, "third\t10\nscript\t10\t11\n");
  ASSERT_ERR(p, "");
  free_proc(&p);
}

Test(host, exec_without_script_does_not_read_stdin, .timeout = T_TIMEOUT) {
  proc p;
  run_in(&p, NULL, NULL, "print('stdin ran')\n", ARGS("-e", "print('a')", "-e", "print('b')"));
  ASSERT_EXIT(p, 0);
  ASSERT_OUT(p, "a\nb\n");
  ASSERT_ERR(p, "");
  free_proc(&p);
}

Test(host, exec_chunk_has_no_varargs, .timeout = T_TIMEOUT) {
  proc p;
  run(&p, "-e", "print(select('#', ...))");
  ASSERT_EXIT(p, 0);
  ASSERT_OUT(p, "0\n");
  free_proc(&p);
}

Test(host, exec_missing_argument_is_usage_error, .timeout = T_TIMEOUT) {
  proc p;
  run(&p, "-e");
  ASSERT_EXIT(p, 1);
  ASSERT_STARTS(p.err.p, "stderr", "lungo: '-e' needs argument\n");
  ASSERT_HAS(p.err.p, "stderr", "usage: lungo [options] [script [args]]");
  ASSERT_OUT(p, "");
  free_proc(&p);
}

/* ---- -l ---- */

static const char mymod_src[] =
    "print('loading', ...)\n"
    "count = (count or 0) + 1\n"
    "return { v = 42 }\n";

Test(host, require_module_into_global_of_its_name, .timeout = T_TIMEOUT) {
  tmpdir t;
  tmp_make(&t);
  const char *mod = tmp_file(&t, "mymod.lua", mymod_src);
  char lua_path[256], want[512];
  snprintf(lua_path, sizeof lua_path, "LUA_PATH=%s/?.lua;;", t.path);
  snprintf(want, sizeof want, "loading\tmymod\t%s\n42\t1\ttrue\n", mod);
  proc p, q;
  run_in(&p, NULL, ENV(lua_path), NULL,
         ARGS("-l", "mymod", "-e", "print(mymod.v, count, require('mymod') == mymod)"));
  run_in(&q, NULL, ENV(lua_path), NULL, ARGS("-lmymod", "-e", "print(mymod.v, count, require('mymod') == mymod)"));
  tmp_remove(&t);
  ASSERT_EXIT(p, 0);
  ASSERT_OUT(p, want);
  ASSERT_ERR(p, "");
  ASSERT_EXIT(q, 0);
  ASSERT_OUT(q, want);
  free_proc(&p);
  free_proc(&q);
}

Test(host, require_module_into_named_global, .timeout = T_TIMEOUT) {
  tmpdir t;
  tmp_make(&t);
  const char *mod = tmp_file(&t, "mymod.lua", mymod_src);
  char lua_path[256], want[512];
  snprintf(lua_path, sizeof lua_path, "LUA_PATH=%s/?.lua;;", t.path);
  snprintf(want, sizeof want, "loading\tmymod\t%s\n42\tnil\n", mod);
  proc p;
  run_in(&p, NULL, ENV(lua_path), NULL, ARGS("-l", "g=mymod", "-e", "print(g.v, mymod)"));
  tmp_remove(&t);
  ASSERT_EXIT(p, 0);
  ASSERT_OUT(p, want);
  ASSERT_ERR(p, "");
  free_proc(&p);
}

Test(host, require_and_exec_run_in_command_line_order, .timeout = T_TIMEOUT) {
  tmpdir t;
  tmp_make(&t);
  tmp_file(&t, "mymod.lua", "return { v = 42 }\n");
  char lua_path[256];
  snprintf(lua_path, sizeof lua_path, "LUA_PATH=%s/?.lua;;", t.path);
  proc p, q;
  run_in(&p, NULL, ENV(lua_path), NULL,
         ARGS("-e", "mymod = 1", "-l", "mymod", "-e", "print(type(mymod))"));
  run_in(&q, NULL, ENV(lua_path), NULL,
         ARGS("-l", "mymod", "-e", "mymod = 1", "-e", "print(type(mymod))"));
  tmp_remove(&t);
  ASSERT_EXIT(p, 0);
  ASSERT_OUT(p, "table\n");
  ASSERT_EXIT(q, 0);
  ASSERT_OUT(q, "number\n");
  free_proc(&p);
  free_proc(&q);
}

Test(host, require_missing_module_fails, .timeout = T_TIMEOUT) {
  proc p;
  run(&p, "-l", "lungo_no_such_module", "-e", "print('not reached')");
  ASSERT_EXIT(p, 1);
  ASSERT_STARTS(p.err.p, "stderr", "lungo: module 'lungo_no_such_module' not found");
  ASSERT_OUT(p, "");
  free_proc(&p);
}

/* ---- -v ---- */

Test(host, version_line_then_exec, .timeout = T_TIMEOUT) {
  proc p;
  run_in(&p, NULL, NULL, "print('stdin ran')\n", ARGS("-v", "-e", "print('after')"));
  ASSERT_EXIT(p, 0);
  const char *nl = strchr(p.out.p, '\n');
  cr_assert(nl != NULL, "no version line: \"%s\"", p.out.p);
  size_t len = (size_t)(nl - p.out.p);
  cr_assert(len >= 7 && strncmp(nl - 7, "PUC-Rio", 7) == 0,
            "the first line should end in PUC-Rio: \"%s\"", p.out.p);
  cr_assert(strcmp(nl + 1, "after\n") == 0, "after the version line: \"%s\"", nl + 1);
  ASSERT_ERR(p, "");
  free_proc(&p);
}

Test(host, version_alone_does_not_read_stdin, .timeout = T_TIMEOUT) {
  proc p;
  run_in(&p, NULL, NULL, "print('stdin ran')\n", ARGS("-v"));
  ASSERT_EXIT(p, 0);
  cr_assert(count_lines(p.out.p) == 1, "one line expected: \"%s\"", p.out.p);
  ASSERT_HAS(p.out.p, "stdout", "PUC-Rio\n");
  free_proc(&p);
}

/* ---- -E and LUA_INIT ---- */

Test(host, ignore_env_skips_lua_init_and_lua_path, .timeout = T_TIMEOUT) {
  const char *const env[] = {
    "LUA_PATH=/lungo-test-nowhere/?.lua", "LUA_PATH_5_4=/lungo-test-nowhere54/?.lua",
    "LUA_INIT=print('init ran')", "LUA_INIT_5_4=print('init54 ran')", NULL,
  };
  proc p, q;
  run_in(&p, NULL, env, NULL, ARGS("-E", "-e", "print(package.path)"));
  run_in(&q, NULL, env, NULL, ARGS("-e", "print(package.path)"));
  ASSERT_EXIT(p, 0);
  ASSERT_LACKS(p.out.p, "stdout with -E", "lungo-test-nowhere");
  ASSERT_LACKS(p.out.p, "stdout with -E", "init ran");
  ASSERT_LACKS(p.out.p, "stdout with -E", "init54 ran");
  ASSERT_HAS(p.out.p, "stdout with -E", "?.lua");
  ASSERT_ERR(p, "");
  /* without -E both are used: LUA_INIT_5_4 and LUA_PATH_5_4 first */
  ASSERT_EXIT(q, 0);
  ASSERT_OUT(q, "init54 ran\n/lungo-test-nowhere54/?.lua\n");
  free_proc(&p);
  free_proc(&q);
}

Test(host, lua_init_string_runs_first_with_shared_globals, .timeout = T_TIMEOUT) {
  tmpdir t;
  tmp_make(&t);
  tmp_file(&t, "main.lua", "print('script', x)\n");
  proc p;
  run_in(&p, t.path, ENV("LUA_INIT=x = 5 print('init')"), NULL,
         ARGS("-e", "x = x + 1 print('exec', x)", "main.lua"));
  tmp_remove(&t);
  ASSERT_EXIT(p, 0);
  ASSERT_OUT(p, "init\nexec\t6\nscript\t6\n");
  ASSERT_ERR(p, "");
  free_proc(&p);
}

Test(host, lua_init_at_file, .timeout = T_TIMEOUT) {
  tmpdir t;
  tmp_make(&t);
  const char *init = tmp_file(&t, "init.lua", "print('from init file') y = 7\n");
  char env[256];
  snprintf(env, sizeof env, "LUA_INIT=@%s", init);
  proc p;
  run_in(&p, NULL, ENV(env), NULL, ARGS("-e", "print(y)"));
  tmp_remove(&t);
  ASSERT_EXIT(p, 0);
  ASSERT_OUT(p, "from init file\n7\n");
  ASSERT_ERR(p, "");
  free_proc(&p);
}

Test(host, lua_init_5_4_preferred_over_lua_init, .timeout = T_TIMEOUT) {
  tmpdir t;
  tmp_make(&t);
  const char *init = tmp_file(&t, "init54.lua", "print('init54 file')\n");
  char env[256];
  snprintf(env, sizeof env, "LUA_INIT_5_4=@%s", init);
  proc p, q;
  run_in(&p, NULL, ENV("LUA_INIT_5_4=print('54')", "LUA_INIT=print('plain')"), NULL,
         ARGS("-e", "print('exec')"));
  run_in(&q, NULL, ENV(env, "LUA_INIT=print('plain')"), NULL, ARGS("-e", "print('exec')"));
  tmp_remove(&t);
  ASSERT_EXIT(p, 0);
  ASSERT_OUT(p, "54\nexec\n");
  ASSERT_EXIT(q, 0);
  ASSERT_OUT(q, "init54 file\nexec\n");
  free_proc(&p);
  free_proc(&q);
}

Test(host, lua_init_error_stops_before_exec, .timeout = T_TIMEOUT) {
  proc p, q;
  run_in(&p, NULL, ENV("LUA_INIT=error('ie')"), NULL, ARGS("-e", "print('not reached')"));
  run_in(&q, NULL, ENV("LUA_INIT=@/lungo-test-nowhere/init.lua"), NULL, ARGS("-e", "print('not reached')"));
  ASSERT_EXIT(p, 1);
  ASSERT_OUT(p, "");
  ASSERT_STARTS(p.err.p, "stderr", "lungo: LUA_INIT:1: ie\nstack traceback:\n");
  ASSERT_EXIT(q, 1);
  ASSERT_OUT(q, "");
  ASSERT_STARTS(q.err.p, "stderr", "lungo: cannot open /lungo-test-nowhere/init.lua");
  free_proc(&p);
  free_proc(&q);
}

/* ---- standard input, the script, arg and ... ---- */

Test(host, dash_runs_stdin_with_arguments, .timeout = T_TIMEOUT) {
  char want[512];
  snprintf(want, sizeof want, "nil\t%s\t-\ta\tb\n2\ta\tb\n", "lungo");
  proc p;
  run_in(&p, NULL, NULL, "print(arg[-2], arg[-1], arg[0], arg[1], arg[2])\nprint(select('#', ...), ...)\n",
         ARGS("-", "a", "b"));
  ASSERT_EXIT(p, 0);
  ASSERT_OUT(p, want);
  ASSERT_ERR(p, "");
  free_proc(&p);
}

Test(host, no_script_and_no_terminal_runs_stdin, .timeout = T_TIMEOUT) {
  proc p;
  run_in(&p, NULL, NULL, "print('from stdin', go.id())\n", ARGS("-W", "2"));
  ASSERT_EXIT(p, 0);
  ASSERT_OUT(p, "from stdin\t1\n");
  ASSERT_ERR(p, "");
  free_proc(&p);
}

static const char args_src[] =
    "local t = {}\n"
    "for i = -4, #arg do t[#t + 1] = i .. '=' .. tostring(arg[i]) end\n"
    "print(table.concat(t, ' '))\n"
    "print(select('#', ...), ...)\n";

Test(host, script_arg_table_and_varargs, .timeout = T_TIMEOUT) {
  tmpdir t;
  tmp_make(&t);
  tmp_file(&t, "args.lua", args_src);
  const char *bin = "lungo";         /* argv[0] (run_in) */
  char want[1024];
  /* as lua5.4 -e 'x=1' args.lua a '' 'b c' -e */
  snprintf(want, sizeof want, "-4=nil -3=%s -2=-e -1=x=1 0=args.lua 1=a 2= 3=b c 4=-e\n4\ta\t\tb c\t-e\n", bin);
  proc p;
  run_in(&p, t.path, NULL, NULL, ARGS("-e", "x=1", "args.lua", "a", "", "b c", "-e"));
  tmp_remove(&t);
  ASSERT_EXIT(p, 0);
  ASSERT_OUT(p, want);
  ASSERT_ERR(p, "");
  free_proc(&p);
}

Test(host, arg_table_counts_worker_and_lib_options, .timeout = T_TIMEOUT) {
  tmpdir t;
  tmp_make(&t);
  tmp_file(&t, "args.lua", args_src);
  tmp_file(&t, "mymod.lua", "return {}\n");
  const char *bin = "lungo";         /* argv[0] (run_in) */
  char lua_path[256], want1[512], want2[512];
  snprintf(lua_path, sizeof lua_path, "LUA_PATH=%s/?.lua;;", t.path);
  snprintf(want1, sizeof want1, "-4=%s -3=-W -2=2 -1=-lg=mymod 0=args.lua 1=z\n1\tz\n", bin);
  snprintf(want2, sizeof want2, "-4=nil -3=%s -2=--workers -1=3 0=args.lua\n0\n", bin);
  proc p, q;
  run_in(&p, t.path, ENV(lua_path), NULL, ARGS("-W", "2", "-lg=mymod", "args.lua", "z"));
  run_in(&q, t.path, NULL, NULL, ARGS("--workers", "3", "args.lua"));
  tmp_remove(&t);
  ASSERT_EXIT(p, 0);
  ASSERT_OUT(p, want1);
  ASSERT_EXIT(q, 0);
  ASSERT_OUT(q, want2);
  free_proc(&p);
  free_proc(&q);
}

/* --workers=N as well as --workers N; a bad count is refused either way */
Test(host, workers_option_with_equals, .timeout = T_TIMEOUT) {
  proc p, q, r;
  run_in(&p, NULL, NULL, NULL, ARGS("--workers=3", "-e", "print(go.workers())"));
  ASSERT_EXIT(p, 0);
  ASSERT_OUT(p, "3\n");
  run_in(&q, NULL, NULL, NULL, ARGS("--workers=x", "-e", "print(1)"));
  ASSERT_EXIT(q, 1);
  cr_assert(strstr(q.err.p, "bad worker count 'x'"), "%s", q.err.p);
  run_in(&r, NULL, NULL, NULL, ARGS("--workers", "2", "-e", "print(go.workers())"));
  ASSERT_OUT(r, "2\n");
  free_proc(&p);
  free_proc(&q);
  free_proc(&r);
}

Test(host, double_dash_ends_options, .timeout = T_TIMEOUT) {
  tmpdir t;
  tmp_make(&t);
  tmp_file(&t, "args.lua", args_src);
  const char *bin = "lungo";         /* argv[0] (run_in) */
  char want[512];
  snprintf(want, sizeof want, "-4=%s -3=-e -2=x=1 -1=-- 0=args.lua 1=-v 2=--\n2\t-v\t--\n", bin);
  proc p, q;
  run_in(&p, t.path, NULL, NULL, ARGS("-e", "x=1", "--", "args.lua", "-v", "--"));
  /* after --, "-e" is the script's name, as with lua */
  run_in(&q, t.path, NULL, NULL, ARGS("--", "-e", "print('not reached')"));
  tmp_remove(&t);
  ASSERT_EXIT(p, 0);
  ASSERT_OUT(p, want);
  ASSERT_ERR(p, "");
  ASSERT_EXIT(q, 1);
  ASSERT_OUT(q, "");
  ASSERT_STARTS(q.err.p, "stderr", "lungo: cannot open -e");
  free_proc(&p);
  free_proc(&q);
}

/* lua5.4 -e 'print(arg[-1], arg[0], arg[1], #arg)' prints "nil  lua5.4  -e  2":
   with no script, the interpreter is arg[0] and the options are arg[1..]. */
Test(host, arg_table_without_script_like_lua, .timeout = T_TIMEOUT) {
  const char *bin = "lungo";         /* argv[0] (run_in) */
  char want[512];
  snprintf(want, sizeof want, "nil\t%s\t-e\t2\n", bin);
  proc p;
  run(&p, "-e", "print(arg[-1], arg[0], arg[1], #arg)");
  ASSERT_EXIT(p, 0);
  ASSERT_OUT(p, want);
  free_proc(&p);
}

/* ---- errors ---- */

Test(host, syntax_error_is_one_line_naming_file_and_line, .timeout = T_TIMEOUT) {
  tmpdir t;
  tmp_make(&t);
  tmp_file(&t, "syn.lua", "local x = 1\nx = = 2\n");
  proc p, q;
  run_in(&p, t.path, NULL, NULL, ARGS("syn.lua"));
  run(&q, "-e", "x = =");
  tmp_remove(&t);
  ASSERT_EXIT(p, 1);
  ASSERT_OUT(p, "");
  ASSERT_ERR(p, "lungo: syn.lua:2: unexpected symbol near '='\n");
  ASSERT_EXIT(q, 1);
  ASSERT_ERR(q, "lungo: (command line):1: unexpected symbol near '='\n");
  free_proc(&p);
  free_proc(&q);
}

Test(host, syntax_error_on_stdin, .timeout = T_TIMEOUT) {
  proc p;
  run_in(&p, NULL, NULL, "print('no')\nx = =\n", ARGS("-"));
  ASSERT_EXIT(p, 1);
  ASSERT_OUT(p, "");
  ASSERT_ERR(p, "lungo: stdin:2: unexpected symbol near '='\n");
  free_proc(&p);
}

Test(host, missing_script_file, .timeout = T_TIMEOUT) {
  tmpdir t;
  tmp_make(&t);
  proc p;
  run_in(&p, t.path, NULL, NULL, ARGS("nofile.lua", "a"));
  tmp_remove(&t);
  ASSERT_EXIT(p, 1);
  ASSERT_OUT(p, "");
  ASSERT_STARTS(p.err.p, "stderr", "lungo: cannot open nofile.lua");
  cr_assert(count_lines(p.err.p) == 1 && p.err.p[p.err.len - 1] == '\n',
            "one line expected on stderr: \"%s\"", p.err.p);
  free_proc(&p);
}

Test(host, runtime_error_in_main_chunk, .timeout = T_TIMEOUT) {
  tmpdir t;
  tmp_make(&t);
  tmp_file(&t, "rt.lua", "local t\nprint('before')\nlocal y = t.x\nprint('after')\n");
  proc p;
  run_in(&p, t.path, NULL, NULL, ARGS("rt.lua"));
  tmp_remove(&t);
  ASSERT_EXIT(p, 1);
  ASSERT_OUT(p, "before\n");
  ASSERT_STARTS(p.err.p, "stderr",
                "lungo: rt.lua:3: attempt to index a nil value (local 't')\nstack traceback:\n");
  ASSERT_HAS(p.err.p, "stderr", "rt.lua:3: in main chunk");
  free_proc(&p);
}

Test(host, error_object_with_tostring_has_no_traceback, .timeout = T_TIMEOUT) {
  proc p;
  run(&p, "-e", "error(setmetatable({}, {__tostring = function() return 'custom' end}))");
  ASSERT_EXIT(p, 1);
  ASSERT_ERR(p, "lungo: custom\n");
  free_proc(&p);
}

/* lua5.4 -e 'error({})' prints "lua5.4: (error object is a table value)"
   followed by a stack traceback (lua.c's msghandler adds one). */
Test(host, error_object_table_has_traceback_like_lua, .timeout = T_TIMEOUT) {
  proc p;
  run(&p, "-e", "error({})");
  ASSERT_EXIT(p, 1);
  ASSERT_STARTS(p.err.p, "stderr", "lungo: (error object is a table value)\nstack traceback:\n");
  free_proc(&p);
}

/* lauxlib names a C function by finding it in package.loaded (the
   registry's loaded table, base functions under _G): "bad argument #1 to
   'setmetatable'" where the call site gives no name (pcall, gsub), and
   "in function 'string.rep'" in a traceback, as lua5.4 prints them; in the
   main goroutine and in spawned ones (which have globals tables of their
   own). Messages without the names read '?'. */
static const char names_src[] =
    "local function probe(where)\n"
    "  local _, a = pcall(setmetatable, 1)\n"
    "  local _, b = pcall(string.gsub, 's', 's', setmetatable)\n"
    "  local _, c = (function() return pcall end)()(debug.traceback)\n"
    "  print(where, a, b, c:find(\"'pcall'\", 1, true) ~= nil)\n"
    "end\n"
    "probe('main')\n"
    "local done = chan()\n"
    "go(function() probe('go') done:send(true) end)\n"
    "done:recv()\n"
    "go(function() string.rep() end)\n"
    "done:recv()\n";

Test(host, library_functions_named_in_errors_and_tracebacks, .timeout = T_TIMEOUT) {
  tmpdir t;
  tmp_make(&t);
  tmp_file(&t, "names.lua", names_src);
  const char *workers[] = {"1", "2", "4"};
  for (int i = 0; i < 3; i++) {
    proc p;
    run_in(&p, t.path, NULL, NULL, ARGS("-W", workers[i], "names.lua"));
    ASSERT_EXIT(p, 1);
    ASSERT_OUT(p,
               "main\tbad argument #1 to 'setmetatable' (table expected, got number)\t"
               "bad argument #1 to 'setmetatable' (table expected, got string)\ttrue\n"
               "go\tbad argument #1 to 'setmetatable' (table expected, got number)\t"
               "bad argument #1 to 'setmetatable' (table expected, got string)\ttrue\n");
    ASSERT_HAS(p.err.p, "stderr", "bad argument #1 to 'rep' (string expected, got no value)");
    ASSERT_HAS(p.err.p, "stderr", "[C]: in function 'string.rep'");
    free_proc(&p);
  }
  tmp_remove(&t);
}

static long goroutine_number(const char *err) {
  const char *g = strstr(err, "lungo: goroutine ");
  cr_assert(g != NULL, "stderr should contain \"lungo: goroutine N:\", got:\n%.3000s", err);
  char *end;
  long n = strtol(g + strlen("lungo: goroutine "), &end, 10);
  cr_assert(*end == ':', "stderr should contain \"lungo: goroutine N:\", got:\n%.3000s", err);
  return n;
}

/* lua.c names itself in messages as argv[0] says; Lua's main.lua checks
   for "<arg[-1]>: 6" after error(m) where m's __tostring (called by the
   message handler, as in lua.c) says which line raised: debug.getinfo(4)
   is the raising function there. */
Test(host, messages_start_with_argv0_and_tostring_sees_lua_stack, .timeout = T_TIMEOUT) {
  proc p;
  run_as(&p, "/some/where/mylungo", NULL, NULL, NULL,
         ARGS("-e", "m = setmetatable({}, {__tostring = function()\n"
                    "  return tostring(debug.getinfo(4).currentline) end})\n"
                    "\n"
                    "error(m)"));
  ASSERT_EXIT(p, 1);
  ASSERT_ERR(p, "/some/where/mylungo: 4\n");
  free_proc(&p);
}

/* An error object whose __tostring fails: lua reports the inner error,
   with a traceback from where it was raised; in the main chunk and in a
   goroutine (prefixed "goroutine N: "). A __tostring that returns no
   string: "(error object is a table value)", the type of the object. */
Test(host, error_object_whose_tostring_fails_reports_inner_error, .timeout = T_TIMEOUT) {
  const char *bad = "local e = setmetatable({}, {__tostring = function() error('inner') end})\n";
  char main_src[512], go_src[512];
  snprintf(main_src, sizeof main_src, "%serror(e)", bad);
  snprintf(go_src, sizeof go_src, "%sgo(function() error(e) end) chan():recv()", bad);
  proc p, q, r;
  run(&p, "-e", main_src);
  run(&q, "-W", "2", "-e", go_src);
  run(&r, "-e", "error(setmetatable({}, {__tostring = function() return 42 end}))");
  ASSERT_EXIT(p, 1);
  ASSERT_STARTS(p.err.p, "stderr", "lungo: (command line):1: inner\nstack traceback:\n");
  ASSERT_HAS(p.err.p, "stderr", "(command line):2: in main chunk");
  ASSERT_EXIT(q, 1);
  ASSERT_HAS(q.err.p, "stderr", ": (command line):1: inner\nstack traceback:\n");
  cr_assert(goroutine_number(q.err.p) > 1, "%s", q.err.p);
  ASSERT_LACKS(q.err.p, "stderr", "memory");
  ASSERT_EXIT(r, 1);
  ASSERT_STARTS(r.err.p, "stderr", "lungo: (error object is a table value)\nstack traceback:\n");
  free_proc(&p);
  free_proc(&q);
  free_proc(&r);
}


Test(host, uncaught_error_in_goroutine_ends_program, .timeout = T_TIMEOUT) {
  proc p, q, r;
  run(&p, "-W", "2", "-e", "go(function() error('boom') end) go.sleep(5) print('not reached')");
  run(&q, "-W", "2", "-e", "go(function() local t; return t.x end) chan():recv()");
  run(&r, "-W", "2", "-e", "go(function() go(function() go.sleep(0.01) error('deep') end) end)");
  ASSERT_EXIT(p, 1);
  ASSERT_OUT(p, "");
  cr_assert(goroutine_number(p.err.p) > 1, "%s", p.err.p);
  ASSERT_HAS(p.err.p, "stderr", "(command line):1: boom");
  ASSERT_HAS(p.err.p, "stderr", "stack traceback:");
  /* main blocked for ever: still the error, not a deadlock */
  ASSERT_EXIT(q, 1);
  cr_assert(goroutine_number(q.err.p) > 1, "%s", q.err.p);
  ASSERT_HAS(q.err.p, "stderr", "attempt to index a nil value (local 't')");
  ASSERT_LACKS(q.err.p, "stderr", "deadlock");
  /* after the main chunk returned, from a goroutine started by a goroutine */
  ASSERT_EXIT(r, 1);
  cr_assert(goroutine_number(r.err.p) == 3, "%s", r.err.p);
  ASSERT_HAS(r.err.p, "stderr", "(command line):1: deep");
  free_proc(&p);
  free_proc(&q);
  free_proc(&r);
}

/* ---- os.exit ---- */

/* ---- signals ---- */

/* SIGINT as lua takes it in a script: "interrupted!" raised in the main
   goroutine wherever it is (running Lua, or blocked while other goroutines
   spin or block), reported with a traceback, status 1; a pcall catches it.
   With the main chunk over and goroutines still running, nothing can take
   it: "lungo: interrupted!", status 1. A SIGINT the parent ignored is
   taken all the same (lua resets it too). */
/* Under ThreadSanitizer (LNG_TSAN, tests/util.h) a spinning worker never
   sees SIGURG, which lng_interrupt sends to main's worker and preemption to
   a goroutine that ran too long, so the cases that need either are skipped
   there (see test_capi.c). */
#ifdef LNG_TSAN
#define SIGURG_OK 0
#else
#define SIGURG_OK 1
#endif

static const struct {
  const char *name, *src, *err;
  int code, needs_sigurg;
} sigint_cases[] = {
  {"main in recv, goroutines blocked",
   "go(function() chan():recv() end) go(function() go.sleep(60) end)\n"
   "print('ready') io.stdout:flush() chan():recv()",
   "(command line):2: interrupted!\nstack traceback:\n", 1, 0},
  {"main spinning", "print('ready') io.stdout:flush() while true do end",
   "(command line):1: interrupted!\nstack traceback:\n", 1, 1},
  {"main in recv, goroutines spinning",
   "for i = 1, 3 do go(function() while true do end end) end\n"
   "print('ready') io.stdout:flush() chan():recv()",
   "(command line):2: interrupted!\nstack traceback:\n", 1, 1},
  {"main asleep, goroutines blocked and spinning",
   "go(function() chan():recv() end) go(function() go.select(chan(), go.after(60)) end)\n"
   "go(function() while true do end end)\n"
   "print('ready') io.stdout:flush() go.sleep(60)",
   "(command line):3: interrupted!\nstack traceback:\n", 1, 1},
  {"main in select", "go(function() while true do end end)\n"
   "print('ready') io.stdout:flush() go.select(chan(), {chan(), 1})",
   "(command line):2: interrupted!\nstack traceback:\n", 1, 1},
  /* the spinner is spawned once main is over, so that 'ready' comes
     whatever order goroutines start in (a worker starts the newest first)
     and without preemption (ThreadSanitizer builds) */
  {"main over, goroutines spinning and blocked",
   "go(function() while go.count() > 2 do go.sleep(0.01) end go(function() while true do end end)\n"
   "print('ready') io.stdout:flush() end) go(function() chan():recv() end)",
   "lungo: interrupted!\n", 1, 0},
  {"caught by pcall",
   "print(pcall(function() print('ready') io.stdout:flush() while true do end end)) print(42)", "", 0, 1},
};

Test(host, sigint_interrupts_like_lua, .timeout = 4 * T_TIMEOUT) {
  const char *workers[] = {"1", "2", "4"};
  for (size_t c = 0; c < sizeof sigint_cases / sizeof sigint_cases[0]; c++) {
    if (sigint_cases[c].needs_sigurg && !SIGURG_OK) continue;
    for (int w = 0; w < 3; w++) {
      proc p;
      run_full(&p, "lungo", NULL, NULL, NULL, ARGS("-W", workers[w], "-e", sigint_cases[c].src),
               (sigplan){SIGINT, c % 2});
      char what[512];
      cr_assert(!p.timed_out, "%s, -W %s: still running after SIGINT; stderr:\n%s",
                sigint_cases[c].name, workers[w], p.err.p);
      cr_assert(WIFEXITED(p.status) && WEXITSTATUS(p.status) == sigint_cases[c].code,
                "%s, -W %s: %s", sigint_cases[c].name, workers[w], describe(&p, what, sizeof what));
      if (sigint_cases[c].code) {
        cr_assert(strstr(p.err.p, sigint_cases[c].err) != NULL, "%s, -W %s: stderr:\n%s",
                  sigint_cases[c].name, workers[w], p.err.p);
      } else {
        cr_assert(strstr(p.out.p, "interrupted!\n42\n") != NULL, "%s, -W %s: stdout:\n%s",
                  sigint_cases[c].name, workers[w], p.out.p);
      }
      free_proc(&p);
    }
  }
}

/* SIGTERM keeps its default action: the process ends at once, whatever
   runs or waits. */
Test(host, sigterm_ends_at_once, .timeout = T_TIMEOUT) {
  const char *srcs[] = {
    "print('ready') io.stdout:flush() while true do end",
    "go(function() while true do end end) print('ready') io.stdout:flush() chan():recv()",
  };
  for (int i = 0; i < 2; i++) {
    proc p;
    run_full(&p, "lungo", NULL, NULL, NULL, ARGS("-W", "2", "-e", srcs[i]), (sigplan){SIGTERM, 0});
    cr_assert(!p.timed_out && WIFSIGNALED(p.status) && WTERMSIG(p.status) == SIGTERM,
              "case %d: timed out %d, status %d", i, p.timed_out, p.status);
    free_proc(&p);
  }
}

Test(host, os_exit_status, .timeout = T_TIMEOUT) {
  static const struct { const char *stat; int code; } cases[] = {
    {"os.exit(3)", 3},
    {"os.exit(true)", 0},
    {"os.exit(false)", 1},
    {"os.exit()", 0},
    {"os.exit(0, true)", 0},
    {"go(function() os.exit(5) end) chan():recv()", 5},
    {"go(function() go.sleep(0.01) os.exit(6) end)", 6},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    proc p;
    run(&p, "-W", "2", "-e", cases[i].stat);
    char d[96];
    cr_assert(!p.timed_out && WIFEXITED(p.status) && WEXITSTATUS(p.status) == cases[i].code,
              "lungo -e '%s': expected exit %d, got %s; stderr: %.2000s", cases[i].stat,
              cases[i].code, describe(&p, d, sizeof d), p.err.p);
    cr_assert(p.err.p[0] == 0, "lungo -e '%s': stderr should be empty: %.2000s", cases[i].stat, p.err.p);
    free_proc(&p);
  }
}

Test(host, os_exit_keeps_written_output, .timeout = T_TIMEOUT) {
  proc p;
  run(&p, "-W", "2", "-e", "io.write('partial') for i = 1, 20000 do print(i) end os.exit(3)");
  ASSERT_EXIT(p, 3);
  cr_assert(strncmp(p.out.p, "partial1\n2\n", 11) == 0, "stdout: %.100s", p.out.p);
  cr_assert(count_lines(p.out.p) == 20000, "20000 lines expected, got %d", count_lines(p.out.p));
  ASSERT_HAS(p.out.p, "stdout", "\n20000\n");
  free_proc(&p);
}

/* ---- deadlocks ---- */

Test(host, deadlock_exits_2, .timeout = T_TIMEOUT) {
  proc p;
  run(&p, "-W", "2", "-e", "print('start') local c = chan() c:recv()");
  ASSERT_EXIT(p, 2);
  ASSERT_OUT(p, "start\n");
  ASSERT_STARTS(p.err.p, "stderr", "fatal error: all goroutines are asleep - deadlock!\n");
  ASSERT_HAS(p.err.p, "stderr", "goroutine 1 [chan receive]:");
  free_proc(&p);
}

Test(host, goroutine_blocked_after_main_returns_is_deadlock, .timeout = T_TIMEOUT) {
  tmpdir t;
  tmp_make(&t);
  tmp_file(&t, "leak.lua", "local c = chan()\ngo(function() c:send(1) c:send(2) end)\nprint(c:recv())\n");
  proc p;
  run_in(&p, t.path, NULL, NULL, ARGS("-W", "2", "leak.lua"));
  tmp_remove(&t);
  ASSERT_EXIT(p, 2);
  ASSERT_OUT(p, "1\ttrue\n");
  /* main did its work: the report says so, not "all goroutines are asleep" */
  ASSERT_ERR(p, "fatal error: main returned, but 1 goroutine is blocked forever\n"
                "\n"
                "goroutine 2 [chan send]:\n"
                "\tleak.lua:2\n"
                "created by leak.lua:2\n");
  free_proc(&p);
}

Test(host, goroutines_blocked_after_main_returns_counted_with_creators, .timeout = T_TIMEOUT) {
  tmpdir t;
  tmp_make(&t);
  tmp_file(&t, "mod.lua", "return function(c)\n  go(function() c:recv() end)\nend\n");
  tmp_file(&t, "leaks.lua",
           "local start = require('mod')\n"
           "local c, d = chan(), chan()\n"
           "start(c)\n"
           "go(function()\n"
           "  go(function() d:send(1) end)\n"
           "  c:recv()\n"
           "end)\n"
           "print('answer')\n");
  proc p;
  run_in(&p, t.path, ENV("LUA_PATH=./?.lua"), NULL, ARGS("-W", "2", "leaks.lua"));
  tmp_remove(&t);
  ASSERT_EXIT(p, 2);
  ASSERT_OUT(p, "answer\n");
  ASSERT_ERR(p, "fatal error: main returned, but 3 goroutines are blocked forever\n"
                "\n"
                "goroutine 2 [chan receive]:\n"
                "\t./mod.lua:2\n"
                "created by ./mod.lua:2\n"
                "\n"
                "goroutine 3 [chan receive]:\n"
                "\tleaks.lua:6\n"
                "created by leaks.lua:4\n"
                "\n"
                "goroutine 4 [chan send]:\n"
                "\tleaks.lua:5\n"
                "created by leaks.lua:5\n");
  free_proc(&p);
}

Test(host, deadlock_while_main_runs_keeps_go_wording, .timeout = T_TIMEOUT) {
  tmpdir t;
  tmp_make(&t);
  tmp_file(&t, "dead.lua", "local c = chan()\ngo(function()\n  c:send(1)\nend)\nchan():recv()\n");
  proc p;
  run_in(&p, t.path, NULL, NULL, ARGS("-W", "2", "dead.lua"));
  tmp_remove(&t);
  ASSERT_EXIT(p, 2);
  /* main, goroutine 1, was created by nobody: no "created by" line */
  ASSERT_ERR(p, "fatal error: all goroutines are asleep - deadlock!\n"
                "\n"
                "goroutine 1 [chan receive]:\n"
                "\tdead.lua:5\n"
                "\n"
                "goroutine 2 [chan send]:\n"
                "\tdead.lua:3\n"
                "created by dead.lua:2\n");
  free_proc(&p);
}

/* ---- worker count ---- */

Test(host, worker_count_options, .timeout = T_TIMEOUT) {
  proc a, b, c, d;
  run(&a, "-W", "3", "-e", "print(go.workers())");
  run(&b, "-W3", "-e", "print(go.workers())");
  run(&c, "--workers", "3", "-e", "print(go.workers())");
  run_in(&d, NULL, ENV("LUNGO_WORKERS=3"), NULL, ARGS("-e", "print(go.workers())"));
  proc *all[] = {&a, &b, &c, &d};
  for (int i = 0; i < 4; i++) {
    ASSERT_EXIT(*all[i], 0);
    ASSERT_OUT(*all[i], "3\n");
    ASSERT_ERR(*all[i], "");
    free_proc(all[i]);
  }
}

Test(host, worker_option_beats_environment, .timeout = T_TIMEOUT) {
  proc a, b, c;
  run_in(&a, NULL, ENV("LUNGO_WORKERS=5"), NULL, ARGS("-W", "2", "-e", "print(go.workers())"));
  run_in(&b, NULL, ENV("LUNGO_WORKERS=5"), NULL, ARGS("-W2", "-e", "print(go.workers())"));
  run_in(&c, NULL, ENV("LUNGO_WORKERS=5"), NULL, ARGS("--workers", "2", "-e", "print(go.workers())"));
  proc *all[] = {&a, &b, &c};
  for (int i = 0; i < 3; i++) {
    ASSERT_EXIT(*all[i], 0);
    ASSERT_OUT(*all[i], "2\n");
    free_proc(all[i]);
  }
}

Test(host, bad_worker_count_is_an_error, .timeout = T_TIMEOUT) {
  proc a, b, c, d, e;
  run(&a, "-W", "0", "-e", "print('not reached')");
  run(&b, "--workers", "x", "-e", "print('not reached')");
  run_in(&c, NULL, ENV("LUNGO_WORKERS=abc"), NULL, ARGS("-e", "print('not reached')"));
  run(&d, "-W0", "-e", "print('not reached')");
  run(&e, "--workers");
  proc *all[] = {&a, &b, &c, &d, &e};
  for (int i = 0; i < 5; i++) {
    ASSERT_EXIT(*all[i], 1);
    ASSERT_OUT(*all[i], "");
    ASSERT_STARTS(all[i]->err.p, "stderr", "lungo: ");
  }
  ASSERT_STARTS(b.err.p, "stderr", "lungo: bad worker count 'x'");
  ASSERT_STARTS(c.err.p, "stderr", "lungo: bad LUNGO_WORKERS 'abc'");
  ASSERT_STARTS(d.err.p, "stderr", "lungo: bad worker count '0'");
  ASSERT_STARTS(e.err.p, "stderr", "lungo: '--workers' needs argument");
  for (int i = 0; i < 5; i++) free_proc(all[i]);
}

/* "-W 0" is a bad count like "-W0": the 0 must not be taken for the
   script (run with warnings on) when a file of that name exists. */
Test(host, worker_count_zero_is_not_a_script_name, .timeout = T_TIMEOUT) {
  tmpdir t;
  tmp_make(&t);
  tmp_file(&t, "0", "print('ran the script named 0')\n");
  proc p;
  run_in(&p, t.path, NULL, NULL, ARGS("-W", "0"));
  tmp_remove(&t);
  ASSERT_EXIT(p, 1);
  ASSERT_OUT(p, "");
  ASSERT_STARTS(p.err.p, "stderr", "lungo: bad worker count '0'");
  free_proc(&p);
}

/* ---- -W alone: warnings ---- */

Test(host, bare_W_turns_warnings_on, .timeout = T_TIMEOUT) {
  tmpdir t;
  tmp_make(&t);
  tmp_file(&t, "w.lua", "warn('from ', 'script')\n");
  proc a, b, c, d;
  run(&a, "-W", "-e", "warn('x')");
  run(&b, "-e", "warn('x')");
  run_in(&c, t.path, NULL, NULL, ARGS("-W", "w.lua"));
  run(&d, "-W", "2", "-e", "warn('x')");
  tmp_remove(&t);
  ASSERT_EXIT(a, 0);
  ASSERT_ERR(a, "Lua warning: x\n");
  ASSERT_EXIT(b, 0);
  ASSERT_ERR(b, "");
  ASSERT_EXIT(c, 0);
  ASSERT_ERR(c, "Lua warning: from script\n");
  ASSERT_EXIT(d, 0);
  ASSERT_ERR(d, "");
  free_proc(&a);
  free_proc(&b);
  free_proc(&c);
  free_proc(&d);
}

/* ---- unknown options ---- */

Test(host, unknown_option_prints_usage, .timeout = T_TIMEOUT) {
  proc p, q;
  run(&p, "-Q", "-e", "print('not reached')");
  run(&q, "--frobnicate");
  ASSERT_EXIT(p, 1);
  ASSERT_OUT(p, "");
  ASSERT_STARTS(p.err.p, "stderr", "lungo: unrecognized option '-Q'\n");
  ASSERT_HAS(p.err.p, "stderr", "usage: lungo [options] [script [args]]\n");
  ASSERT_EXIT(q, 1);
  ASSERT_STARTS(q.err.p, "stderr", "lungo: unrecognized option '--frobnicate'\n");
  free_proc(&p);
  free_proc(&q);
}

/* ---- print from many goroutines ---- */

#define PR_GOROUTINES 100
#define PR_TIMES 5
#define PR_WIDTH 200

Test(host, print_lines_never_interleave, .timeout = T_TIMEOUT) {
  static const char script[] =
      "for n = 1, 100 do\n"
      "  go(function(n)\n"
      "    local line = string.format('%03d:', n) .. string.rep(string.char(65 + n % 26), 196)\n"
      "    for _ = 1, 5 do print(line) go.yield() end\n"
      "  end, n)\n"
      "end\n";
  proc p;
  run(&p, "-W", "4", "-e", script);
  ASSERT_EXIT(p, 0);
  ASSERT_ERR(p, "");
  int seen[PR_GOROUTINES + 1] = {0}, lines = 0;
  const char *s = p.out.p;
  while (*s) {
    const char *nl = strchr(s, '\n');
    cr_assert(nl != NULL, "stdout does not end with a newline: \"%.300s\"", s);
    size_t len = (size_t)(nl - s);
    lines++;
    int n = 0;
    int ok = len == PR_WIDTH && s[3] == ':';
    for (int i = 0; ok && i < 3; i++) {
      ok = s[i] >= '0' && s[i] <= '9';
      n = n * 10 + (s[i] - '0');
    }
    ok = ok && n >= 1 && n <= PR_GOROUTINES;
    for (size_t i = 4; ok && i < len; i++) ok = s[i] == (char)('A' + n % 26);
    cr_assert(ok, "line %d is not one of the lines printed: \"%.*s\"", lines, (int)(len > 400 ? 400 : len), s);
    seen[n]++;
    s = nl + 1;
  }
  cr_assert(lines == PR_GOROUTINES * PR_TIMES, "%d lines, expected %d", lines, PR_GOROUTINES * PR_TIMES);
  for (int n = 1; n <= PR_GOROUTINES; n++)
    cr_assert(seen[n] == PR_TIMES, "goroutine %d's line seen %d times", n, seen[n]);
  free_proc(&p);
}
