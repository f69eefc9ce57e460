/*
 * The interactive REPL of the `lungo` command: the terminal side.
 *
 * The loop that compiles and runs what is typed is the main goroutine
 * (stdlib/lungo.repl.lua). Reading the terminal must never block a worker,
 * so it happens here, on a thread of the host (the reader), which hands
 * each line to the main goroutine over a channel held by C and waits for
 * the answer on another:
 *
 *   reader -> Lua  "L<seq>:<line>"  a line     "C<seq>:"  cancel the pending statement
 *                  "E<seq>:"        end of input inside a statement
 *   Lua -> reader  "<n>:<prompt>"  n = 0 ready (after the script of -i), +seq done,
 *                  -seq more input needed; the prompt to show next (_PROMPT, _PROMPT2)
 *   reader -> Lua  "deadlock" on the note channel, before interrupting a
 *                  deadlocked statement
 *
 * While a statement runs, the reader waits for its answer in short slices
 * and in between turns a Ctrl-C (a flag set by the SIGINT handler) into
 * lng_interrupt, and a runtime where nothing can run any more (lng_blocked,
 * twice in a row) into a deadlock report plus lng_interrupt: the runtime's
 * own deadlock detector stays quiet while C holds channels.
 *
 * Terminal signals are blocked in every thread but the reader, so their
 * handlers (and libedit) only ever run there.
 */
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <editline/readline.h>
#include "repl.h"

#define HISTORY_FILE ".lungo_history"
#define HISTORY_MAX 1000
#define SLICE 0.05          /* seconds between checks while a statement runs */
#define RETRY 0.1           /* re-send an interrupt not yet answered after this */
#define GIVE_UP 3           /* Ctrl-C presses without an answer that end lungo */

/* The Lua side: the last step of the main goroutine. */
static const char LOOP_STEP[] =
  "local i, o, n = __lungo_repl_in, __lungo_repl_out, __lungo_repl_note\n"
  "__lungo_repl_in, __lungo_repl_out, __lungo_repl_note = nil, nil, nil\n"
  "return require('lungo.repl').run(i, o, n)\n";

struct repl {
  lng_runtime *rt;
  lng_channel *in, *out, *note;
  int tty;                    /* stdin is a terminal: libedit, prompts, history */
  pthread_t thread;
  int started;
  atomic_int quit;            /* the user left: the reader called lng_stop */
  atomic_int ended;           /* the program ended under the REPL */
  atomic_int at_prompt;       /* the reader waits for a line */
  long seq;
  char *histfile;
  char *lastline;             /* the newest history entry */
  pthread_mutex_t histmu;
  struct termios saved;
  int have_saved;
  sigset_t sigs;              /* the signals only the reader takes */
  int cancelled;              /* the read in progress ended with Ctrl-C */
  int gaveup;                 /* left with Ctrl-C pressed GIVE_UP times */
  char *buf;                  /* plain input (not a terminal) */
  size_t blen, bcap;
  int eof;
  char *prompt;               /* the next prompt, as the Lua side last said */
};

/* ---- signals ---- */

static int sig_pipe[2] = { -1, -1 };
static volatile sig_atomic_t sig_int, sig_winch;
static repl *the_repl;        /* for libedit's getc hook */

static void on_signal(int sig) {
  int saved = errno;
  if (sig == SIGINT) sig_int = 1;
  else sig_winch = 1;
  if (sig_pipe[1] >= 0) {
    char c = 1;
    ssize_t n = write(sig_pipe[1], &c, 1);
    (void)n;
  }
  errno = saved;
}

static void drain_pipe(void) {
  char b[64];
  while (read(sig_pipe[0], b, sizeof b) > 0) {}
}

static int take_sigint(void) {
  if (!sig_int) return 0;
  sig_int = 0;
  drain_pipe();
  return 1;
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void put(int fd, const char *s) {
  size_t n = strlen(s);
  while (n > 0) {
    ssize_t w = write(fd, s, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;
    s += w;
    n -= (size_t)w;
  }
}

/* ---- reading ---- */

/* One byte of the terminal; -1 at end of input or when Ctrl-C cancels the
   line (r->cancelled). A window resize is passed on to libedit. */
static int tty_byte(repl *r) {
  for (;;) {
    struct pollfd p[2] = { { STDIN_FILENO, POLLIN, 0 }, { sig_pipe[0], POLLIN, 0 } };
    int n = poll(p, 2, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (p[1].revents) {
      drain_pipe();
      if (sig_winch) {
        sig_winch = 0;
        rl_resize_terminal();
      }
      if (sig_int) {
        sig_int = 0;
        r->cancelled = 1;
        return -1;
      }
      continue;
    }
    if (p[0].revents) {
      unsigned char c;
      ssize_t got = read(STDIN_FILENO, &c, 1);
      if (got == 1) return c;
      if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      return -1;
    }
  }
}

/* libedit's getc hook: hands it whole characters (it stores what this
   returns as one wchar_t), decoding UTF-8 when the locale has it. */
static int edit_getc(FILE *f) {
  (void)f;
  repl *r = the_repl;
  int c = tty_byte(r);
  if (c < 0) return EOF;
  if (c < 0xC0 || MB_CUR_MAX == 1) return c;
  int need = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : 1;
  int cp = c & (0x3F >> need);
  for (int i = 0; i < need; i++) {
    int d = tty_byte(r);
    if (d < 0) return EOF;
    cp = (cp << 6) | (d & 0x3F);
  }
  return cp;
}

/* A line of plain input (stdin not a terminal): no prompt, no editing.
   NULL at the end (a last line without newline is still a line). */
static char *plain_line(repl *r) {
  for (;;) {
    char *nl = r->blen ? memchr(r->buf, '\n', r->blen) : NULL;
    if (nl || (r->eof && r->blen)) {
      size_t n = nl ? (size_t)(nl - r->buf) : r->blen;
      char *line = malloc(n + 1);
      if (!line) return NULL;
      memcpy(line, r->buf, n);
      line[n] = 0;
      size_t used = nl ? n + 1 : n;
      memmove(r->buf, r->buf + used, r->blen - used);
      r->blen -= used;
      return line;
    }
    if (r->eof) return NULL;
    if (r->bcap - r->blen < 4096) {
      size_t cap = r->bcap ? r->bcap * 2 : 8192;
      char *nb = realloc(r->buf, cap);
      if (!nb) return NULL;
      r->buf = nb;
      r->bcap = cap;
    }
    struct pollfd p[2] = { { STDIN_FILENO, POLLIN, 0 }, { sig_pipe[0], POLLIN, 0 } };
    if (poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      r->eof = 1;
      continue;
    }
    if (p[1].revents) {
      drain_pipe();
      if (sig_int) {          /* Ctrl-C while waiting for input: drop the partial line */
        sig_int = 0;
        r->cancelled = 1;
        r->blen = 0;
        return NULL;
      }
      continue;
    }
    if (p[0].revents) {
      ssize_t got = read(STDIN_FILENO, r->buf + r->blen, r->bcap - r->blen);
      if (got > 0) r->blen += (size_t)got;
      else if (got == 0 || (errno != EINTR && errno != EAGAIN)) r->eof = 1;
    }
  }
}

static void remember(repl *r, const char *line) {
  if (!r->histfile || !*line) return;
  pthread_mutex_lock(&r->histmu);
  if (!r->lastline || strcmp(r->lastline, line) != 0) {
    add_history(line);
    free(r->lastline);
    r->lastline = strdup(line);
  }
  pthread_mutex_unlock(&r->histmu);
}

static void save_history(repl *r) {
  if (!r->histfile) return;
  pthread_mutex_lock(&r->histmu);
  write_history(r->histfile);
  pthread_mutex_unlock(&r->histmu);
}

/* The next line, or NULL at the end of input; *cancelled when Ctrl-C
   dropped what was being typed. */
static char *next_line(repl *r, const char *prompt, int *cancelled) {
  char *line;
  take_sigint();             /* a Ctrl-C from before the prompt is not for this line */
  r->cancelled = 0;
  atomic_store(&r->at_prompt, 1);
  if (r->tty) {
    fflush(stdout);
    /* libedit prints the prompt first and makes the terminal raw only when
       it reads: a key typed in between would be taken by the terminal's own
       line discipline (Ctrl-D lost, text echoed twice). No line buffering
       and no echo from here on; libedit restores the cooked mode after. */
    struct termios raw;
    if (tcgetattr(STDIN_FILENO, &raw) == 0) {
      raw.c_lflag &= (tcflag_t)~(ICANON | ECHO);
      raw.c_cc[VMIN] = 1;
      raw.c_cc[VTIME] = 0;
      tcsetattr(STDIN_FILENO, TCSANOW, &raw);
    }
    line = readline(prompt);
    if (r->cancelled) {
      free(line);
      line = NULL;
      put(STDOUT_FILENO, "^C\n");
    } else if (line) {
      remember(r, line);
    }
  } else {
    /* as lua (built with readline) does without a terminal: the prompt,
       then the line read echoed, so the output reads like a session */
    fputs(prompt, stdout);
    fflush(stdout);
    line = plain_line(r);
    if (line) {
      fputs(line, stdout);
      fputs("\n", stdout);
      fflush(stdout);
    }
  }
  atomic_store(&r->at_prompt, 0);
  *cancelled = r->cancelled;
  return line;
}

/* ---- talking to the main goroutine ---- */

/* Waits for the answer to request seq (0: the loop is ready). 1 done,
   2 more input needed, -1 the program ended, -2 the user gave up on a
   statement that does not answer. Meanwhile: Ctrl-C and deadlocks. */
static int wait_answer(repl *r, long seq) {
  int blocked = 0, noted = 0, presses = 0;
  double interrupted = -1;
  for (;;) {
    lng_value v;
    int st = lng_recv(r->out, &v, SLICE);
    if (st == LNG_OK) {
      long n = 0;
      const char *colon = NULL;
      if (v.type == LNG_TSTRING) {
        char *end;
        n = strtol(v.string, &end, 10);       /* received strings end with a 0 */
        if (end < v.string + v.len && *end == ':') colon = end;
      }
      int match = colon && (n == seq || n == -seq);
      if (match) {
        size_t plen = v.len - (size_t)(colon + 1 - v.string);
        char *p = malloc(plen + 1);
        if (p) {
          memcpy(p, colon + 1, plen);
          p[plen] = 0;
          free(r->prompt);
          r->prompt = p;
        }
      }
      lng_value_free(&v);
      if (match) return n != seq ? 2 : 1;
      continue;              /* an answer repeated after a late interrupt */
    }
    if (st != LNG_TIMEOUT || atomic_load(&r->ended)) return -1;
    if (take_sigint()) {
      if (++presses >= GIVE_UP && seq > 0) {
        put(STDERR_FILENO, "\nlungo: the statement does not answer (a goroutine that never "
                           "yields may hold its worker); leaving\n");
        return -2;
      }
      if (r->tty) put(STDOUT_FILENO, "\n");
      lng_interrupt(r->rt);
      interrupted = now();
    } else if (interrupted >= 0 && now() - interrupted > RETRY) {
      /* An interrupt stays pending until main takes it (when it runs
         Lua, parks or is resumed), so this is only a safety net: say it
         again, in case the signal reached the worker where Lua could not
         stop (inside a long C call). */
      lng_interrupt(r->rt);
      interrupted = now();
    }
    /* Nothing can run, no timer is pending, and the host (the only other
       possible waker) is not sending: the statement can never finish. */
    if (lng_blocked(r->rt)) {
      if (++blocked >= 2 && !noted) {
        noted = 1;
        if (seq == 0) {
          put(STDERR_FILENO, "fatal error: all goroutines are asleep - deadlock!\n");
        } else {
          lng_value d = lng_string("deadlock", 8);
          lng_send(r->note, &d, 0);
        }
        lng_interrupt(r->rt);
      }
    } else {
      blocked = 0;
    }
  }
}

/* Hands a request to the main goroutine; 0, or -1 if the program ended. */
static int request(repl *r, char kind, const char *text) {
  size_t n = text ? strlen(text) : 0;
  char *msg = malloc(n + 32);
  if (!msg) return -1;
  int head = snprintf(msg, 32, "%c%ld:", kind, ++r->seq);
  if (n) memcpy(msg + head, text, n);
  lng_value v = lng_string(msg, (size_t)head + n);
  int st;
  while ((st = lng_send(r->in, &v, SLICE)) == LNG_TIMEOUT)
    if (atomic_load(&r->ended)) break;
  free(msg);
  return st == LNG_OK ? 0 : -1;
}

static void *reader(void *arg) {
  repl *r = arg;
  pthread_sigmask(SIG_UNBLOCK, &r->sigs, NULL);
  if (wait_answer(r, 0) < 0) return NULL;        /* -i: the script runs first */
  int more = 0;
  for (;;) {
    int cancelled;
    char *line = next_line(r, r->prompt ? r->prompt : more ? ">> " : "> ", &cancelled);
    char kind = 'L';
    if (cancelled) {
      if (!more) continue;
      kind = 'C';
    } else if (!line) {
      if (!more) break;
      kind = 'E';                                  /* report the unfinished statement */
    }
    int st = request(r, kind, line);
    free(line);
    if (st < 0) return NULL;
    int a = wait_answer(r, r->seq);
    if (a == -2) {
      r->gaveup = 1;
      break;
    }
    if (a < 0) return NULL;
    more = a == 2;
    if (kind == 'E' && !r->tty) break;
  }
  if (!r->gaveup) {              /* lua ends its last line too, with or without a terminal */
    fputs("\n", stdout);
    fflush(stdout);
  }
  save_history(r);
  atomic_store(&r->quit, 1);
  lng_stop(r->rt);
  return NULL;
}

/* ---- life cycle ---- */

static void free_repl(repl *r) {
  lng_channel_release(r->in);
  lng_channel_release(r->out);
  lng_channel_release(r->note);
  pthread_mutex_destroy(&r->histmu);
  free(r->histfile);
  free(r->lastline);
  free(r->buf);
  free(r->prompt);
  if (the_repl == r) the_repl = NULL;
  free(r);
}

repl *repl_new(lng_runtime *rt) {
  repl *r = calloc(1, sizeof *r);
  if (!r) return NULL;
  r->rt = rt;
  pthread_mutex_init(&r->histmu, NULL);
  r->tty = isatty(STDIN_FILENO);
  r->in = lng_channel_new(rt, 0);
  r->out = lng_channel_new(rt, 16);   /* answers never block the loop */
  r->note = lng_channel_new(rt, 1);
  if (!r->in || !r->out || !r->note) goto fail;
  lng_value v = lng_chanvalue(r->in);
  if (lng_set_global(rt, "__lungo_repl_in", &v) != LNG_OK) goto fail;
  v = lng_chanvalue(r->out);
  if (lng_set_global(rt, "__lungo_repl_out", &v) != LNG_OK) goto fail;
  v = lng_chanvalue(r->note);
  if (lng_set_global(rt, "__lungo_repl_note", &v) != LNG_OK) goto fail;
  if (lng_main_string(rt, LOOP_STEP, sizeof LOOP_STEP - 1, "=(repl)") != LNG_OK) goto fail;

  if (sig_pipe[0] < 0 && pipe(sig_pipe) != 0) goto fail;
  for (int i = 0; i < 2; i++) {
    fcntl(sig_pipe[i], F_SETFL, fcntl(sig_pipe[i], F_GETFL) | O_NONBLOCK);
    fcntl(sig_pipe[i], F_SETFD, FD_CLOEXEC);
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  if (r->tty) sigaction(SIGWINCH, &sa, NULL);
  sigemptyset(&r->sigs);
  sigaddset(&r->sigs, SIGINT);
  sigaddset(&r->sigs, SIGWINCH);
  pthread_sigmask(SIG_BLOCK, &r->sigs, NULL);

  if (r->tty) {
    r->have_saved = tcgetattr(STDIN_FILENO, &r->saved) == 0;
    const char *home = getenv("HOME");
    if (home && *home) {
      size_t n = strlen(home) + sizeof HISTORY_FILE + 2;
      r->histfile = malloc(n);
      if (r->histfile) snprintf(r->histfile, n, "%s/%s", home, HISTORY_FILE);
    }
    setlocale(LC_CTYPE, "");          /* libedit's wide characters */
    the_repl = r;
    rl_readline_name = "lungo";
    rl_catch_signals = 0;             /* ours: Ctrl-C cancels the line */
    rl_getc_function = edit_getc;
    rl_inhibit_completion = 1;        /* Tab indents instead of completing file names */
    rl_initialize();                  /* takes the terminal's cooked mode, before we change it */
    using_history();
    stifle_history(HISTORY_MAX);
    if (r->histfile) read_history(r->histfile);
  }
  return r;
fail:
  free_repl(r);
  return NULL;
}

int repl_start(repl *r) {
  if (pthread_create(&r->thread, NULL, reader, r) != 0) return -1;
  r->started = 1;
  return 0;
}

int repl_end(repl *r) {
  if (atomic_load(&r->quit)) {
    pthread_join(r->thread, NULL);
    int left = r->gaveup ? 2 : 1;
    free_repl(r);
    return left;
  }
  atomic_store(&r->ended, 1);
  if (r->tty) {
    if (r->have_saved) tcsetattr(STDIN_FILENO, TCSADRAIN, &r->saved);
    if (atomic_load(&r->at_prompt)) put(STDOUT_FILENO, "\n");
    save_history(r);
  }
  fflush(stdout);
  return 0;
}
