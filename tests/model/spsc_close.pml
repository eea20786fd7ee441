/* SPDX-License-Identifier: MIT */
/* SpscQueue's close protocol (include/ringkit/spsc_queue.hpp, "Close protocol"), explored exhaustively
 * by spin: one producer pushing in a loop, one consumer popping in a loop, a third process closing at
 * any point. Checked: once the consumer's pop() has returned false, no push succeeds any more and every
 * push that succeeded was popped (no stranded item); nobody hangs (invalid end states).
 *
 *   producer push:  P1 publishing = 1; P2 StoreLoad; P3 if closed: publishing = 0, Closed;
 *                   publish (write += 1, the push succeeded); P4 publishing = 0
 *   consumer pop:   if write > read: take it. Else C1 if closed: C2 StoreLoad; C3 wait until
 *                   publishing == 0; C4 if write > read: take it, else return false (done).
 *
 * Spin's interleavings are sequentially consistent, which is what the StoreLoad pair P2/C2 buys the
 * real code (membarrier on the consumer's side, a compiler barrier on the producer's). Mutants that
 * must be caught: MUTANT_NO_WINDOW_WAIT (the consumer skips C3), MUTANT_NO_RECHECK (it skips C4 and
 * returns false right after C3), MUTANT_WINDOW_AFTER_CHECK (the producer raises publishing only after
 * its closed check).
 */
#define CAP 2
#define PUSHES 4

byte write = 0;       /* items published */
byte read = 0;        /* items popped */
bit closed = 0;
bit publishing = 0;
byte pushed = 0;      /* pushes that returned Pushed */
bit done = 0;         /* the consumer's pop() returned false */

active proctype producer() {
  byte n = 0;
  do
  :: n == PUSHES -> break
  :: else ->
#ifndef MUTANT_WINDOW_AFTER_CHECK
     publishing = 1;                               /* P1, then the P2 barrier */
     if
     :: closed -> publishing = 0; break            /* P3: Closed; every later push sees it too */
     :: else -> skip
     fi;
#else
     if
     :: closed -> break
     :: else -> skip
     fi;
     publishing = 1;                               /* the bug: the window opens after the check */
#endif
     if
     :: write - read < CAP ->
        atomic { assert(!done); write = write + 1; pushed = pushed + 1 };   /* publish: Pushed */
        n = n + 1
     :: else -> skip                               /* full: this try fails, try again */
     fi;
     publishing = 0                                /* P4 */
  od
}

active proctype consumer() {
  do
  :: write > read -> read = read + 1                /* try_pop succeeds */
  :: write == read && closed ->                    /* C1: closed and empty */
#ifndef MUTANT_NO_WINDOW_WAIT
     (publishing == 0);                            /* C2 barrier, then C3 */
#endif
#ifndef MUTANT_NO_RECHECK
     if
     :: write > read -> read = read + 1            /* C4: an item after all */
     :: else -> atomic { assert(pushed == read); done = 1 }; break
     fi
#else
     atomic { assert(pushed == read); done = 1 }; break
#endif
  od
}

active proctype closer() {
  closed = 1
}

/* The consumer's pop() loop always ends (close() happens, the producer stops, the ring drains). */
ltl consumer_finishes { <> done }
