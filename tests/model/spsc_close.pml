/* SPDX-License-Identifier: MIT */
/* SpscQueue's close protocol (include/ringkit/spsc_queue.hpp, "Close protocol"), explored exhaustively
 * by spin: one producer pushing in a loop, one consumer popping in a loop, a third process closing at
 * any point. Checked: once the consumer's pop() has returned false, no push succeeds any more and every
 * push that succeeded was popped (no stranded item); nobody hangs (invalid end states), and the
 * consumer's pop() loop always ends (ltl, weak fairness).
 *
 *   producer push:  if full: this try fails (before any announcement). Else P1 announced = write + 1;
 *                   P2 StoreLoad; P3 if closed: P3' announced = write (retract), Closed;
 *                   else publish (write += 1: the push succeeded, and the window ends)
 *   consumer pop:   if write > read: take it. Else C1 if closed: C2 StoreLoad; C3 read announced, then
 *                   write, until write >= announced; C4 if write > read: take it, else return false.
 *
 * Spin's interleavings are sequentially consistent, which is what the StoreLoad pair P2/C2 buys the
 * real code (membarrier on the consumer's side, a compiler barrier on the producer's). C3 reads the
 * two words in two steps, as the code does. Mutants that must be caught: MUTANT_NO_WINDOW_WAIT (the
 * consumer skips C3), MUTANT_NO_RECHECK (it skips C4 and returns false right after C3),
 * MUTANT_WINDOW_AFTER_CHECK (the producer announces only after its closed check), MUTANT_NO_RETRACT
 * (a push that finds the queue closed leaves its announcement standing: the consumer waits forever).
 */
#define CAP 2
#define PUSHES 4

byte write = 0;       /* items published */
byte read = 0;        /* items popped */
bit closed = 0;
byte announced = 0;   /* the producer may publish up to this */
byte pushed = 0;      /* pushes that returned Pushed */
bit done = 0;         /* the consumer's pop() returned false */

active proctype producer() {
  byte n = 0;
  do
  :: n == PUSHES -> break
  :: else ->
     if
     :: write - read < CAP ->
#ifndef MUTANT_WINDOW_AFTER_CHECK
        announced = write + 1;                     /* P1, then the P2 barrier */
        if
        :: closed ->                               /* P3: Closed; every later push sees it too */
#ifndef MUTANT_NO_RETRACT
           announced = write;                      /* P3' */
#endif
           break
        :: else -> skip
        fi;
#else
        if
        :: closed -> break
        :: else -> skip
        fi;
        announced = write + 1;                     /* the bug: announced after the check */
#endif
        atomic { assert(!done); write = write + 1; pushed = pushed + 1 };   /* publish: Pushed */
        n = n + 1
     :: else -> skip                               /* full: this try fails, try again */
     fi
  od
}

active proctype consumer() {
  byte a;
  do
  :: write > read -> read = read + 1                /* try_pop succeeds */
  :: write == read && closed ->                    /* C1: closed and empty */
#ifndef MUTANT_NO_WINDOW_WAIT
     do                                            /* C2 barrier, then C3 */
     :: a = announced;
        if
        :: write >= a -> break
        :: else -> skip
        fi
     od;
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
