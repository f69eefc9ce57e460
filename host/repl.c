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
 *                  "T<seq>:<word>"  Tab: complete word (only at the prompt, while
 *                                   the loop waits for a line)
 *   Lua -> reader  "<n>:<prompt>"  n = 0 ready (after the script of -i), +seq done,
 *                  -seq more input needed; the prompt to show next (_PROMPT, _PROMPT2)
 *                  "<seq>:<names>"  the completions of a T request, one a line
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
 *
 * On a terminal, what the program writes to standard output and error
 * (goroutines print at any time) goes through pipes that a relay thread
 * copies to the terminal: output arriving while a line is being typed
 * clears that line first, and the reader then redraws the prompt and the
 * input after it, so the two never mix. libedit writes to the terminal
 * itself. Before each prompt the reader waits until the pipes are empty,
 * so a statement's output comes before the next prompt.
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
#include <sys/ioctl.h>
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
  /* the relay of standard output and error (a terminal only) */
  int relaying;
  int termfd;                 /* the terminal's output: the reader's own writes */
  int pipes[2];               /* read ends: stdout's, stderr's (-1: not relayed) */
  int term[2];                /* the terminal's fds 1 and 2, before the pipes took them */
  pthread_t relay;
  pthread_mutex_t relaymu;    /* one chunk copied, or one redraw, at a time */
  int cleared;                /* the typed line was cleared for output: redraw due */
  int lastnl;                 /* the last output ended a line */
  FILE *edit_out;             /* libedit's stream, to the terminal */
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

static void redraw(repl *r);

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
      redraw(r);
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

/* ---- the relay of the program's output (terminal only) ---- */

static void *relay_main(void *arg) {
  repl *r = arg;
  struct pollfd p[2] = { { r->pipes[0], POLLIN, 0 }, { r->pipes[1], POLLIN, 0 } };
  char buf[4096];
  while (p[0].fd >= 0 || p[1].fd >= 0) {
    if (poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; i++) {
      if (p[i].fd < 0 || !p[i].revents) continue;
      pthread_mutex_lock(&r->relaymu);
      ssize_t got = read(p[i].fd, buf, sizeof buf);
      if (got > 0) {
        int typing = atomic_load(&r->at_prompt);
        if (typing && !r->cleared) {
          put(r->term[0], "\r\033[K");       /* the prompt and input, redrawn after */
          r->cleared = 1;
        }
        for (ssize_t off = 0; off < got;) {
          ssize_t w = write(r->term[i], buf + off, (size_t)(got - off));
          if (w < 0 && errno == EINTR) continue;
          if (w <= 0) break;
          off += w;
        }
        r->lastnl = buf[got - 1] == '\n';
        if (typing) {                        /* wake the reader to redraw */
          char c = 1;
          ssize_t n = write(sig_pipe[1], &c, 1);
          (void)n;
        }
      } else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
        close(p[i].fd);                      /* its write end is closed: done */
        p[i].fd = -1;
      }
      pthread_mutex_unlock(&r->relaymu);
    }
  }
  return NULL;
}

/* The reader, in libedit's read: output cleared the line being typed;
   show the prompt and the input again below it. */
static void redraw(repl *r) {
  pthread_mutex_lock(&r->relaymu);
  if (r->relaying && r->cleared) {
    if (!r->lastnl) put(r->term[0], "\n");
    r->cleared = 0;
    rl_forced_update_display();
  }
  pthread_mutex_unlock(&r->relaymu);
}

/* Waits until what was written so far is on the terminal: both pipes
   empty, and no chunk being copied (the relay holds the lock meanwhile). */
static void relay_settle(repl *r) {
  for (int tries = 0; tries < 2000; tries++) {
    int pending = 0;
    pthread_mutex_lock(&r->relaymu);
    if (!r->relaying) {
      pthread_mutex_unlock(&r->relaymu);
      return;
    }
    for (int i = 0; i < 2; i++) {
      int n = 0;
      if (r->pipes[i] >= 0 && ioctl(r->pipes[i], FIONREAD, &n) == 0) pending += n;
    }
    r->cleared = 0;              /* a new prompt comes */
    pthread_mutex_unlock(&r->relaymu);
    if (!pending) return;
    struct timespec ts = { 0, 1000000 };
    nanosleep(&ts, NULL);
  }
}

/* Fds 1 and 2, where they are the terminal, become pipes to the relay. */
static int relay_begin(repl *r) {
  r->pipes[0] = r->pipes[1] = r->term[0] = r->term[1] = -1;
  r->termfd = STDOUT_FILENO;
  if (!isatty(STDOUT_FILENO)) return 0;
  fflush(stdout);
  fflush(stderr);
  for (int i = 0; i < 2; i++) {
    int fd = i + 1, pp[2];
    if (!isatty(fd)) continue;
    if (pipe(pp) != 0) return -1;
    r->term[i] = dup(fd);
    fcntl(r->term[i], F_SETFD, FD_CLOEXEC);
    fcntl(pp[0], F_SETFD, FD_CLOEXEC);
    dup2(pp[1], fd);
    close(pp[1]);
    r->pipes[i] = pp[0];
  }
  if (r->term[1] < 0) r->term[1] = r->term[0];
  setvbuf(stdout, NULL, _IOLBF, 0);      /* a pipe now: keep lines flowing */
  r->termfd = r->term[0];
  r->lastnl = 1;
  if (pthread_create(&r->relay, NULL, relay_main, r) != 0) return -1;
  r->relaying = 1;
  return 0;
}

/* The terminal back on fds 1 and 2; the relay copies what is left and
   ends. The reader may still run (the program ended under it): the fds it
   writes to (termfd) stay open until free_repl. */
static void relay_end(repl *r) {
  pthread_mutex_lock(&r->relaymu);
  int on = r->relaying;
  pthread_mutex_unlock(&r->relaymu);
  if (!on) return;
  fflush(stdout);
  fflush(stderr);
  dup2(r->term[0], STDOUT_FILENO);       /* the pipes' last write ends close */
  if (r->pipes[1] >= 0) dup2(r->term[1], STDERR_FILENO);
  pthread_join(r->relay, NULL);
  pthread_mutex_lock(&r->relaymu);      /* (the reader may be redrawing) */
  r->relaying = 0;
  pthread_mutex_unlock(&r->relaymu);
}

/* The next line, or NULL at the end of input; *cancelled when Ctrl-C
   dropped what was being typed. */
static char *next_line(repl *r, const char *prompt, int *cancelled) {
  char *line;
  take_sigint();             /* a Ctrl-C from before the prompt is not for this line */
  r->cancelled = 0;
  if (r->tty) {
    fflush(stdout);
    fflush(stderr);
    relay_settle(r);          /* what ran is shown before the prompt (not as
                                 output that interrupts it: at_prompt after) */
  }
  atomic_store(&r->at_prompt, 1);
  if (r->tty) {
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
      put(r->termfd, "^C\n");
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
      if (r->tty) put(r->termfd, "\n");
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

/* ---- Tab completion ----
   libedit asks for the completions of the word before the cursor; the
   REPL's globals live in the main goroutine, which is waiting for a line
   (Tab is only read at the prompt), so it is asked over the channels. */

static char **matches;        /* the last answer, NULL-terminated (reader thread only) */
static size_t nmatches, nextmatch;

static void free_matches(void) {
  for (size_t i = 0; i < nmatches; i++) free(matches[i]);
  free(matches);
  matches = NULL;
  nmatches = nextmatch = 0;
}

static int ask_completions(repl *r, const char *word) {
  free_matches();
  if (request(r, 'T', word) < 0) return -1;
  long seq = r->seq;
  for (;;) {
    lng_value v;
    int st = lng_recv(r->out, &v, SLICE);
    if (st == LNG_TIMEOUT) {
      if (atomic_load(&r->ended)) return -1;
      continue;
    }
    if (st != LNG_OK) return -1;
    char *end = NULL;
    long n = v.type == LNG_TSTRING ? strtol(v.string, &end, 10) : 0;
    if (n != seq || !end || *end != ':') {    /* a stale answer: not ours */
      lng_value_free(&v);
      continue;
    }
    for (const char *p = end + 1; *p;) {
      const char *nl = strchr(p, '\n');
      size_t len = nl ? (size_t)(nl - p) : strlen(p);
      char **grown = realloc(matches, (nmatches + 2) * sizeof *matches);
      if (!grown) break;
      matches = grown;
      if (!(matches[nmatches] = strndup(p, len))) break;
      matches[++nmatches] = NULL;
      p += len + (nl ? 1 : 0);
    }
    lng_value_free(&v);
    return 0;
  }
}

static char *next_match(const char *text, int state) {
  (void)text;
  if (state == 0) nextmatch = 0;
  return nextmatch < nmatches ? strdup(matches[nextmatch++]) : NULL;
}

static char **edit_complete(const char *text, int start, int end) {
  (void)start; (void)end;
  rl_attempted_completion_over = 1;        /* never file names */
  if (!the_repl || ask_completions(the_repl, text) < 0 || nmatches == 0) return NULL;
  return rl_completion_matches(text, next_match);
}

/* What ends the word Tab completes: "go.sp" and "s:up" are one word. */
static char word_breaks[] = " \t\n\"\\'`@$><=;|&{(,+-*/%^~#[]";

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
  free_matches();
  relay_end(r);
  if (r->term[1] >= 0 && r->term[1] != r->term[0]) close(r->term[1]);
  if (r->term[0] >= 0) close(r->term[0]);
  if (r->edit_out) fclose(r->edit_out);
  pthread_mutex_destroy(&r->relaymu);
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
  pthread_mutex_init(&r->relaymu, NULL);
  r->termfd = STDOUT_FILENO;
  r->pipes[0] = r->pipes[1] = r->term[0] = r->term[1] = -1;
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
    rl_attempted_completion_function = edit_complete;   /* names, never file names */
    rl_basic_word_break_characters = word_breaks;
    rl_completer_word_break_characters = word_breaks;
    rl_completion_append_character = '\0';
    if (relay_begin(r) != 0) goto fail;
    if (r->relaying) {                /* libedit writes to the terminal itself */
      int fd = dup(r->term[0]);
      r->edit_out = fd >= 0 ? fdopen(fd, "w") : NULL;
      if (r->edit_out) rl_outstream = r->edit_out;
    }
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
    if (atomic_load(&r->at_prompt)) put(r->termfd, "\n");
    save_history(r);
  }
  fflush(stdout);
  relay_end(r);               /* what the program wrote, then the host's report */
  return 0;
}
