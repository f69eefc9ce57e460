/*
 * The interactive REPL of the `lungo` command (see README, "The REPL").
 * The loop itself is the main goroutine (stdlib/lungo.repl.lua); this side
 * reads the terminal on a thread of its own, hands lines over C channels,
 * and turns Ctrl-C and deadlocks of a statement into lng_interrupt.
 * Written only against include/lungo.h (and libedit).
 *
 *   repl *r = repl_new(rt);      // before lng_start: channels, the loop step
 *   lng_start(rt);
 *   repl_start(r);               // the reader thread
 *   int st = lng_wait(rt);
 *   if (repl_end(r)) ...         // the user left: lng_destroy is safe
 *   else ...                     // the program ended under the REPL: exit at once
 */
#ifndef LUNGO_HOST_REPL_H
#define LUNGO_HOST_REPL_H

#include "lungo.h"

typedef struct repl repl;

/* Creates the REPL's channels, hands them to Lua as globals and adds the
   loop as the last step of the main goroutine. Blocks the terminal's
   signals in the calling thread, so that the runtime's workers (started
   next, by lng_start) inherit the mask and only the reader thread takes
   them. On a terminal, lines are read with libedit; otherwise plain lines,
   without prompts. NULL on failure. */
repl *repl_new(lng_runtime *rt);

/* Starts the reader thread, after lng_start. 0 on success. */
int repl_start(repl *r);

/* After lng_wait returned. When the user left, joins the reader, releases
   the channels and frees r: returns 1 (end of input, Ctrl-D) or 2 (Ctrl-C
   pressed three times on a statement that does not answer: exit 130), and
   the caller may lng_destroy. Otherwise the program ended by itself
   (os.exit, an uncaught error): restores the terminal, saves the history
   and returns 0; the reader may still use the channels, so the caller
   exits at once. */
int repl_end(repl *r);

#endif
