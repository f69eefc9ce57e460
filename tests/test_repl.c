/*
 * The REPL of the lungo command ($LUNGO_BIN, set by `make test`), driven
 * through a pseudo-terminal as a user would: lines typed, Ctrl-C (\x03)
 * and Ctrl-D (\x04), the screen read back with a bounded poll loop. Each
 * step waits for the text it expects (the prompt, a result) with a
 * deadline; nothing relies on a fixed sleep. Also the REPL without a
 * terminal (`lungo -i` reading a pipe).
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include "watchdog.h"

/* Under ThreadSanitizer a signal reaches a thread only when it enters
   instrumented code, and Lua's loop (liblua) is not: lng_interrupt cannot
   stop `while true do end` in the TSan build of lungo, so that one test is
   skipped there (a blocked receive is interrupted without a signal). */
#if defined(__SANITIZE_THREAD__)
#define LNG_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define LNG_TSAN 1
#endif
#endif

#define T_TIMEOUT 30
#define WAIT_MS 10000           /* for one expected text */
#define SCREEN_MAX (1 << 16)

typedef struct term {
  pid_t pid;
  int fd;                       /* the master side of the pseudo-terminal */
  char screen[SCREEN_MAX];      /* everything the REPL wrote, without \r */
  size_t len;
  size_t mark;                  /* searches start here: after the last match */
  int eof;
  char home[64];
} term;

static const char *lungo_bin(void) {
  const char *bin = getenv("LUNGO_BIN");
  cr_assert(bin && *bin, "LUNGO_BIN is not set: run the tests with `make test`, "
                         "or set it to the lungo binary");
  return bin;
}

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void make_home(term *t) {
  snprintf(t->home, sizeof t->home, "/tmp/lungo-repl-XXXXXX");
  cr_assert_not_null(mkdtemp(t->home));
}

/* Starts `lungo args...` on a new pseudo-terminal, HOME set to t->home. */
static void term_start(term *t, const char *arg) {
  const char *bin = lungo_bin();
  memset(t, 0, sizeof *t);
  make_home(t);
  int m = posix_openpt(O_RDWR | O_NOCTTY);
  cr_assert(m >= 0, "posix_openpt: %s", strerror(errno));
  cr_assert_eq(grantpt(m), 0);
  cr_assert_eq(unlockpt(m), 0);
  char *sname = ptsname(m);
  cr_assert_not_null(sname);
  struct winsize ws = { .ws_row = 40, .ws_col = 200 };
  ioctl(m, TIOCSWINSZ, &ws);
  fflush(NULL);
  pid_t pid = fork();
  cr_assert(pid >= 0, "fork: %s", strerror(errno));
  if (pid == 0) {
    test_child_dies_with_parent();
    setsid();
    int s = open(sname, O_RDWR);   /* the session's controlling terminal */
    if (s < 0) _exit(126);
    ioctl(s, TIOCSCTTY, 0);
    dup2(s, 0);
    dup2(s, 1);
    dup2(s, 2);
    if (s > 2) close(s);
    close(m);
    setenv("HOME", t->home, 1);
    setenv("LUNGO_WORKERS", "2", 1);
    setenv("TERM", "dumb", 1);
    unsetenv("LUA_INIT");
    unsetenv("LUA_INIT_5_4");
    if (arg) execl(bin, bin, arg, (char *)NULL);
    else execl(bin, bin, (char *)NULL);
    _exit(127);
  }
  t->pid = pid;
  t->fd = m;
}

/* Reads what is there, waiting at most ms; 0 at the end of output. */
static int term_read(term *t, int ms) {
  if (t->eof) return 0;
  struct pollfd p = { t->fd, POLLIN, 0 };
  int r = poll(&p, 1, ms);
  if (r <= 0) return r == 0 ? 1 : (errno == EINTR ? 1 : 0);
  char buf[4096];
  ssize_t n = read(t->fd, buf, sizeof buf);
  if (n <= 0) {
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return 1;
    t->eof = 1;                   /* EIO: the child closed the terminal */
    return 0;
  }
  for (ssize_t i = 0; i < n; i++) {
    if (buf[i] == '\r') continue;
    if (t->len < SCREEN_MAX - 1) t->screen[t->len++] = buf[i];
  }
  t->screen[t->len] = 0;
  return 1;
}

/* Waits until `want` appears after the mark; moves the mark past it. */
static int term_wait(term *t, const char *want, int ms) {
  long long end = now_ms() + ms;
  for (;;) {
    char *hit = strstr(t->screen + t->mark, want);
    if (hit) {
      t->mark = (size_t)(hit - t->screen) + strlen(want);
      return 1;
    }
    long long left = end - now_ms();
    if (left <= 0) return 0;
    if (!term_read(t, (int)(left < 100 ? left : 100)) && t->eof &&
        !strstr(t->screen + t->mark, want))
      return 0;
  }
}

#define EXPECT(t, want)                                                              \
  cr_assert(term_wait((t), (want), WAIT_MS), "expected \"%s\" on the screen, got:\n%s", \
            (want), (t)->screen + ((t)->mark > 300 ? (t)->mark - 300 : 0))

static void term_type(term *t, const char *s) {
  size_t n = strlen(s);
  while (n > 0) {
    ssize_t w = write(t->fd, s, n);
    if (w < 0 && errno == EINTR) continue;
    cr_assert(w > 0, "writing to the terminal: %s", strerror(errno));
    s += w;
    n -= (size_t)w;
  }
}

/* Types a line at the prompt and waits for its echo; the newline that
   ends the echo stays to be matched (results start with "\n"). */
static void term_line(term *t, const char *line) {
  char echo[512];
  snprintf(echo, sizeof echo, "%s\n", line);
  term_type(t, line);
  term_type(t, "\r");
  EXPECT(t, echo);
  t->mark--;
}

/* Waits for the end of the process; its exit status, or -1. */
static int term_exit(term *t, int ms) {
  long long end = now_ms() + ms;
  int status;
  for (;;) {
    pid_t r = waitpid(t->pid, &status, WNOHANG);
    if (r == t->pid) {
      t->pid = 0;
      return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    if (now_ms() >= end) return -1;
    term_read(t, 50);             /* keep the terminal drained */
  }
}

static void term_stop(term *t) {
  if (t->pid > 0) {
    kill(t->pid, SIGKILL);
    waitpid(t->pid, NULL, 0);
    t->pid = 0;
  }
  if (t->fd > 0) close(t->fd);
  t->fd = -1;
  char path[128];
  snprintf(path, sizeof path, "%s/.lungo_history", t->home);
  unlink(path);
  rmdir(t->home);
}

/* A REPL at its first prompt. */
static void repl_open(term *t) {
  term_start(t, NULL);
  EXPECT(t, "lungo");
  EXPECT(t, "> ");
}

/* A line typed at the next prompt still works (the session went on). */
static void still_works(term *t) {
  term_line(t, "40 + 2");
  EXPECT(t, "\n42\n> ");
}

Test(repl, expressions_print_their_values, .timeout = T_TIMEOUT) {
  term t;
  repl_open(&t);
  term_line(&t, "1+1");
  EXPECT(&t, "\n2\n> ");
  term_line(&t, "1, \"a\"");
  EXPECT(&t, "\n1\ta\n> ");
  term_line(&t, "x = 3");            /* a statement prints nothing */
  term_line(&t, "x");
  EXPECT(&t, "\n3\n> ");
  term_stop(&t);
}

Test(repl, multi_line_input, .timeout = T_TIMEOUT) {
  term t;
  repl_open(&t);
  term_line(&t, "function triple(a)");
  EXPECT(&t, ">> ");
  term_line(&t, "  return a * 3");
  EXPECT(&t, ">> ");
  term_line(&t, "end");
  EXPECT(&t, "> ");
  term_line(&t, "triple(4)");
  EXPECT(&t, "\n12\n");
  still_works(&t);
  term_stop(&t);
}

Test(repl, error_then_working_line, .timeout = T_TIMEOUT) {
  term t;
  repl_open(&t);
  term_line(&t, "error(\"boom\")");
  EXPECT(&t, "stdin:1: boom");
  still_works(&t);
  term_line(&t, "x = = 1");
  EXPECT(&t, "stdin:1: unexpected symbol near '='");
  still_works(&t);
  term_stop(&t);
}

Test(repl, goroutine_prints_while_prompt_waits, .timeout = T_TIMEOUT) {
  term t;
  repl_open(&t);
  term_line(&t, "go(function() go.sleep(0.3) print(\"from goroutine\") end)");
  EXPECT(&t, "> ");
  EXPECT(&t, "from goroutine\n");    /* nothing typed meanwhile */
  term_stop(&t);
}

Test(repl, ctrl_c_stops_endless_loop, .timeout = T_TIMEOUT) {
#ifndef LNG_TSAN
  term t;
  repl_open(&t);
  term_line(&t, "print('spinning'); while true do end");
  EXPECT(&t, "spinning\n");
  term_type(&t, "\x03");
  EXPECT(&t, "interrupted!");
  still_works(&t);
  term_stop(&t);
#endif
}

Test(repl, ctrl_c_stops_blocked_receive, .timeout = T_TIMEOUT) {
  term t;
  repl_open(&t);
  /* A ticking goroutine: the receive below is not a deadlock. */
  term_line(&t, "go(function() while true do go.sleep(0.01) end end)");
  EXPECT(&t, "> ");
  term_line(&t, "print('waiting'); chan():recv()");
  EXPECT(&t, "waiting\n");
  term_type(&t, "\x03");
  EXPECT(&t, "interrupted!");
  still_works(&t);
  term_line(&t, "go.count()");
  EXPECT(&t, "\n2\n");               /* the ticker still runs */
  term_stop(&t);
}

Test(repl, ctrl_c_cancels_line_at_prompt, .timeout = T_TIMEOUT) {
  term t;
  repl_open(&t);
  term_type(&t, "error('typed but cancelled')");
  EXPECT(&t, "cancelled')");         /* echoed */
  term_type(&t, "\x03");
  EXPECT(&t, "^C\n> ");
  still_works(&t);
  cr_assert(strstr(t.screen, "stdin:1: typed") == NULL, "the cancelled line ran:\n%s", t.screen);
  term_stop(&t);
}

Test(repl, deadlocked_statement_is_reported, .timeout = T_TIMEOUT) {
  term t;
  repl_open(&t);
  term_line(&t, "chan():recv()");
  EXPECT(&t, "fatal error: all goroutines are asleep - deadlock!");
  still_works(&t);
  term_line(&t, "local c = chan(); go(function() c:send(1) end); c:recv(); c:recv()");
  EXPECT(&t, "fatal error: all goroutines are asleep - deadlock!");
  still_works(&t);
  term_stop(&t);
}

Test(repl, locals_persist, .timeout = T_TIMEOUT) {
  term t;
  repl_open(&t);
  term_line(&t, "local x = 5");
  EXPECT(&t, "> ");
  term_line(&t, "x * 2");
  EXPECT(&t, "\n10\n> ");
  /* A goroutine's function copies the local like any upvalue. */
  term_line(&t, "local ch = chan()");
  EXPECT(&t, "> ");
  term_line(&t, "go(function() ch:send(x + 1) end)");
  EXPECT(&t, "> ");
  term_line(&t, "ch:recv()");
  EXPECT(&t, "\n6\ttrue\n> ");
  term_stop(&t);
}

Test(repl, ctrl_d_exits_with_status_0, .timeout = T_TIMEOUT) {
  term t;
  repl_open(&t);
  term_line(&t, "go(function() chan():recv() end)");   /* blocked forever: dropped */
  EXPECT(&t, "> ");
  term_type(&t, "\x04");
  int st = term_exit(&t, WAIT_MS);
  cr_assert_eq(st, 0, "exit status %d, screen:\n%s", st, t.screen);
  cr_assert(strstr(t.screen, "deadlock") == NULL, "a deadlock was reported:\n%s", t.screen);
  term_stop(&t);
}

Test(repl, history_file_written, .timeout = T_TIMEOUT) {
  term t;
  repl_open(&t);
  term_line(&t, "1+1");
  EXPECT(&t, "\n2\n> ");
  term_line(&t, "history_marker_123 = 1");
  EXPECT(&t, "> ");
  term_type(&t, "\x04");
  cr_assert_eq(term_exit(&t, WAIT_MS), 0);
  char path[128], buf[4096];
  snprintf(path, sizeof path, "%s/.lungo_history", t.home);
  FILE *f = fopen(path, "r");
  cr_assert_not_null(f, "no history file %s", path);
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  cr_assert(strstr(buf, "1+1") != NULL, "history: %s", buf);
  cr_assert(strstr(buf, "history_marker_123") != NULL, "history: %s", buf);
  term_stop(&t);
}

/* Runs `lungo args...` (args ends with NULL) with input on a pipe as its
   standard input and stdout+stderr on another; returns the output and
   checks exit status 0. */
static void run_piped(const char *const *args, const char *input, char *got, size_t size) {
  const char *bin = lungo_bin();
  int in[2], out[2];
  cr_assert_eq(pipe(in), 0);
  cr_assert_eq(pipe(out), 0);
  fflush(NULL);
  pid_t pid = fork();
  cr_assert(pid >= 0);
  if (pid == 0) {
    test_child_dies_with_parent();
    dup2(in[0], 0);
    dup2(out[1], 1);
    dup2(out[1], 2);
    close(in[0]); close(in[1]); close(out[0]); close(out[1]);
    unsetenv("LUA_INIT");
    unsetenv("LUA_INIT_5_4");
    execv(bin, (char *const *)args);
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  cr_assert_eq(write(in[1], input, strlen(input)), (ssize_t)strlen(input));
  close(in[1]);
  size_t len = 0;
  long long end = now_ms() + WAIT_MS;
  for (;;) {
    struct pollfd p = { out[0], POLLIN, 0 };
    long long left = end - now_ms();
    cr_assert(left > 0, "no end of output; so far: %.*s", (int)len, got);
    if (poll(&p, 1, (int)left) <= 0) continue;
    ssize_t n = read(out[0], got + len, size - 1 - len);
    if (n <= 0) break;
    len += (size_t)n;
  }
  got[len] = 0;
  close(out[0]);
  int status;
  cr_assert_eq(waitpid(pid, &status, 0), pid);
  cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d, output: %s", status, got);
}

/* The banner line (lua -i prints it with or without a terminal), skipped. */
static const char *after_banner(const char *got) {
  cr_assert(strncmp(got, "lungo ", 6) == 0, "banner expected first: %s", got);
  const char *nl = strchr(got, '\n');
  cr_assert(nl != NULL, "%s", got);
  return nl + 1;
}

/* Without a terminal, `lungo -i` does what lua5.4 (built with readline, as
   Lua's own test suite expects) does: the banner, each prompt followed by
   the line read, values and errors printed as at the prompt, a newline at
   the end of input, exit 0. */
Test(repl, without_terminal, .timeout = T_TIMEOUT) {
  char got[4096];
  run_piped((const char *const[]){"lungo", "-i", NULL}, "1+1\nlocal y = 4\ny * 2\n", got, sizeof got);
  cr_assert_str_eq(after_banner(got), "> 1+1\n2\n> local y = 4\n> y * 2\n8\n> \n");
}

/* A statement continued on the next lines (the continuation prompt ">> "),
   "=expr" on a first line, and a last line without its newline. */
Test(repl, without_terminal_continues_statements, .timeout = T_TIMEOUT) {
  char got[4096];
  run_piped((const char *const[]){"lungo", "-i", NULL},
            "(6*2-6) -- ===\na =\n10\nprint(a)\n=a + 1\nt = {\n1,\n2}\n#t", got, sizeof got);
  cr_assert_str_eq(after_banner(got),
                   "> (6*2-6) -- ===\n6\n> a =\n>> 10\n> print(a)\n10\n> =a + 1\n11\n"
                   "> t = {\n>> 1,\n>> 2}\n> #t\n2\n> \n");
}

/* _PROMPT and _PROMPT2, read at every line as lua does (set by -e before
   the REPL, or at the prompt; any value, converted as tostring does). */
Test(repl, without_terminal_prompt_globals, .timeout = T_TIMEOUT) {
  char got[4096];
  run_piped((const char *const[]){"lungo", "-e", "_PROMPT='' _PROMPT2=''", "-i", NULL},
            "a =\n10\na\n", got, sizeof got);
  cr_assert_str_eq(after_banner(got), "a =\n10\na\n10\n\n");
  run_piped((const char *const[]){"lungo", "-e", "_PROMPT='P$ ' _PROMPT2='P2$ '", "-i", NULL},
            "x = (\n1)\n_PROMPT = setmetatable({}, {__tostring = function() return 'T> ' end})\n"
            "x\n", got, sizeof got);
  cr_assert_str_eq(after_banner(got),
                   "P$ x = (\nP2$ 1)\nP$ _PROMPT = setmetatable({}, {__tostring = function() "
                   "return 'T> ' end})\nT> x\n1\nT> \n");
}

/* ---- what the REPL shows ---- */

/* A table prints its contents: keys sorted, nesting, cycles marked; a
   long one over several lines; go.stats() shows its fields. */
Test(repl, tables_print_their_contents, .timeout = T_TIMEOUT) {
  char got[4096];
  run_piped((const char *const[]){"lungo", "-i", NULL},
            "t = {'x', b = 2, a = {1, 2}, [10] = true, ['a b'] = 's'}\nt\nt.self = t\nt\n"
            "setmetatable({}, {__tostring = function() return 'T!' end})\n"
            "{{{{{{1}}}}}}\n{}\n",
            got, sizeof got);
  cr_assert_str_eq(after_banner(got),
                   "> t = {'x', b = 2, a = {1, 2}, [10] = true, ['a b'] = 's'}\n"
                   "> t\n{\"x\", [10] = true, a = {1, 2}, [\"a b\"] = \"s\", b = 2}\n"
                   "> t.self = t\n"
                   "> t\n{\"x\", [10] = true, a = {1, 2}, [\"a b\"] = \"s\", b = 2, self = <cycle>}\n"
                   "> setmetatable({}, {__tostring = function() return 'T!' end})\nT!\n"
                   "> {{{{{{1}}}}}}\n{{{{{...}}}}}\n"
                   "> {}\n{}\n> \n");
  run_piped((const char *const[]){"lungo", "-W", "2", "-i", NULL},
            "go.stats()\nt = {} for i = 1, 100 do t[i] = i end\nt\n", got, sizeof got);
  const char *s = after_banner(got);
  cr_assert(strstr(s, "> go.stats()\n{\n  goroutines = 1, memory = "), "%s", s);
  cr_assert(strstr(s, "per_worker = {"), "%s", s);
  cr_assert(strstr(s, "workers = 2\n}\n"), "%s", s);
  cr_assert(strstr(s, "{\n  1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21,\n"
                      "  22, 23,"), "%s", s);
  cr_assert(strstr(s, "  ...(60 more)\n}\n"), "%s", s);
}

/* A traceback shows the user's frames: the function called and the line
   ("in main chunk"), no tail call, none of the REPL's own (xpcall). */
Test(repl, traceback_shows_user_frames, .timeout = T_TIMEOUT) {
  char got[4096];
  run_piped((const char *const[]){"lungo", "-i", NULL},
            "function f() error('boom') end\nf()\nfunction g() local x = f() end\ng()\ngo(42)\n",
            got, sizeof got);
  cr_assert_str_eq(after_banner(got),
                   "> function f() error('boom') end\n"
                   "> f()\nstdin:1: boom\nstack traceback:\n\t[C]: in function 'error'\n"
                   "\tstdin:1: in global 'f'\n\tstdin:1: in main chunk\n"
                   "> function g() local x = f() end\n"
                   "> g()\nstdin:1: boom\nstack traceback:\n\t[C]: in function 'error'\n"
                   "\tstdin:1: in global 'f'\n\tstdin:1: in global 'g'\n\tstdin:1: in main chunk\n"
                   /* go() at the prompt is the REPL's wrapper: its errors
                      come from the line, as in a script */
                   "> go(42)\nstdin:1: bad argument #1 to 'go' (function expected, got number)\n"
                   "stack traceback:\n\tstdin:1: in main chunk\n"
                   "> \n");
}

/* Tab completes globals, library fields, a table's keys and the REPL's
   locals; several candidates complete their common part. */
Test(repl, tab_completes_names, .timeout = T_TIMEOUT) {
  term t;
  repl_open(&t);
  term_type(&t, "string.form\t");
  EXPECT(&t, "string.format");
  term_type(&t, "('<%d>', 7)\r");
  EXPECT(&t, "\n<7>\n> ");
  term_type(&t, "go.wor\t");
  EXPECT(&t, "go.worker");
  term_type(&t, "s()\r");
  EXPECT(&t, "s()\n2\n> ");
  term_line(&t, "tbl = {alpha = 1, beta = 2}");
  EXPECT(&t, "> ");
  term_type(&t, "tbl.al\t");
  EXPECT(&t, "tbl.alpha");
  term_type(&t, "\r");
  EXPECT(&t, "\n1\n> ");
  term_line(&t, "local zeta_val = 5");
  EXPECT(&t, "> ");
  term_type(&t, "zeta_v\t");
  EXPECT(&t, "zeta_val");
  term_type(&t, "\r");
  EXPECT(&t, "\n5\n> ");
  term_stop(&t);
}

/* Output from a goroutine while a line is being typed comes above it: the
   prompt and what was typed are drawn again after it, and the line still
   runs as typed. */
Test(repl, background_output_redraws_the_line, .timeout = T_TIMEOUT) {
  term t;
  repl_open(&t);
  term_line(&t, "go(function() go.sleep(0.3) print('from goroutine') end)");
  EXPECT(&t, "> ");
  term_type(&t, "1+2");
  EXPECT(&t, "from goroutine\n> 1+2");
  term_type(&t, "\r");
  EXPECT(&t, "\n3\n> ");
  term_stop(&t);
}
