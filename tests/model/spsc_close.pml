/* SPDX-License-Identifier: MIT */
/* SpscQueue's close protocol (include/ringkit/spsc_queue.hpp, "Close protocol"), explored exhaustively
 * by spin: one producer calling push/push_batch/commit in a loop, one consumer popping in a loop, a third
 * process closing at any point. Checked: once the consumer's pop() has returned false, no push succeeds
 * any more and every item a call reported as pushed was popped (no stranded item); nobody hangs (invalid
 * end states), and the consumer's pop() loop always ends (ltl, weak fairness).
 *
 *   producer call:  k = 1 or 2 items (push, or a batch). If fewer than k slots are free: this try fails
 *                   (before any announcement). Else P1 announced = write + k; P2 StoreLoad; P3 if
 *                   closed: P3' announced = write (retract), Closed; else either publish in two steps
 *                   (marked += k: the call's one mark, on its first slot, which single pops go by;
 *                   then write += k: the call succeeded, and the window ends) or a construction throws: P3' retract, nothing
 *                   published. A caller keeps calling after Closed or a throw (bounded by CALLS).
 *   consumer pop:   if marked > read (its slot's mark; pop_batch: write > read): take one. Else C1 if
 *                   closed: C2 StoreLoad; C3 read announced, then write, until write >= announced; C4 if
 *                   marked > read (pop_batch_wait: write > read): take it, else return false.
 *
 * Spin's interleavings are sequentially consistent, which is what the StoreLoad pair P2/C2 buys the
 * real code (membarrier on the consumer's side, a compiler barrier on the producer's). C3 reads the
 * two words in two steps, as the code does. Mutants that must be caught: MUTANT_NO_WINDOW_WAIT (the
 * consumer skips C3), MUTANT_NO_RECHECK (it skips C4 and returns false right after C3),
 * MUTANT_WINDOW_AFTER_CHECK (the producer announces only after its closed check), MUTANT_NO_RETRACT
 * (a call that finds the queue closed leaves its announcement standing: the consumer waits forever),
 * MUTANT_NO_RETRACT_ON_THROW (the same, for a call whose construction threw), MUTANT_INDEX_BEFORE_MARK
 * (write is stored before the marks: C3 ends, C4 sees no mark, and a pushed item is stranded).
 * (A batch's one publication moves write past every announced position at once, so what C3 needs of a
 * batch's announcement is only that it exceeds write; the code announces w + k.)
 */
#define CAP 2
#define CALLS 5

byte write = 0;       /* items published (write_) */
byte marked = 0;      /* items whose slot mark is stored (a single pop takes sequence read if marked > read) */
byte read = 0;        /* items popped */
bit closed = 0;
byte announced = 0;   /* the producer may publish up to this */
byte pushed = 0;      /* items of calls that reported success */
bit done = 0;         /* the consumer's pop() returned false */

active proctype producer() {
  byte calls = 0;
  byte k;
  do
  :: calls == CALLS -> break
  :: else ->
     calls = calls + 1;
     if
     :: k = 1
     :: k = 2                                      /* push_batch / commit of two */
     fi;
     if
     :: write - read + k <= CAP ->
#ifndef MUTANT_WINDOW_AFTER_CHECK
        announced = write + k;                     /* P1, then the P2 barrier */
        if
        :: closed ->                               /* P3: Closed */
#ifndef MUTANT_NO_RETRACT
           announced = write                       /* P3' */
#else
           skip
#endif
        :: else ->
           if
#ifndef MUTANT_INDEX_BEFORE_MARK
           :: marked = marked + k;                 /* the marks, then write_: success */
              atomic { assert(!done); write = write + k; pushed = pushed + k }
#else
           :: atomic { assert(!done); write = write + k; pushed = pushed + k };   /* the bug: write_ first */
              marked = marked + k
#endif
#ifndef MUTANT_NO_RETRACT_ON_THROW
           :: announced = write                    /* a construction threw: retract, nothing published */
#else
           :: skip                                 /* the bug: a throwing call leaves its announcement */
#endif
           fi
        fi
#else
        if
        :: closed -> skip                          /* Closed */
        :: else ->
           announced = write + k;                  /* the bug: announced after the check */
           marked = marked + k;
           atomic { assert(!done); write = write + k; pushed = pushed + k }
        fi
#endif
     :: else -> skip                               /* not enough room: this try fails */
     fi
  od
}

active proctype consumer() {
  byte a;
  do
  :: marked > read -> read = read + 1               /* try_pop succeeds (the slot's mark) */
  :: write > read -> read = read + 1                /* pop_batch succeeds (write_) */
  :: marked == read && closed ->                   /* C1: closed and empty */
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
     :: true ->                                    /* pop(): C4 asks the slot's mark */
        if
        :: marked > read -> read = read + 1        /* an item after all */
        :: else -> atomic { assert(pushed == read); done = 1 }; break
        fi
     :: true ->                                    /* pop_batch_wait(): C4 reloads write_ */
        if
        :: write > read -> read = read + 1
        :: else -> atomic { assert(pushed == read); done = 1 }; break
        fi
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
