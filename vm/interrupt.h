/*
 * Stopping Lua code that runs on a worker, from another thread
 * (interrupt.c): lng_interrupt's statement of the main goroutine,
 * preemption, and every goroutine at lng_destroy.
 */
#ifndef LNG_INTERRUPT_H
#define LNG_INTERRUPT_H

#include "shard.h"
#include "gor.h"

void lng_interrupt_bind(lng_shard *sh);        /* on a worker, before running Lua */
int lng_interrupt_install(void);               /* the signal handler, once per process */
void lng_interrupt_worker(lng_runtime *rt, int worker);
void lng_interrupt_preempt(void *ud, int worker);          /* the scheduler's preempt hook */
void lng_interrupt_resume(lng_runtime *rt, lng_gvm *gv);   /* main, before a resume */

#endif
