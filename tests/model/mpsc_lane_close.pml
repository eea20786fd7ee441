/* SPDX-License-Identifier: MIT */
/* MpscLaneQueue's lane and close protocol (include/ringkit/mpsc_lane_queue.hpp, "Lane protocol"),
 * explored exhaustively by spin: two producers, each on its own lane, pushing in a loop; one consumer
 * popping in a loop (round-robin scan over the lanes); a third process closing at any point. Checked: once
 * the consumer's pop() has returned false no push succeeds any more, and every push that succeeded was
 * popped (no stranded item); a slot is never overwritten before it was popped; nobody hangs (invalid end
 * states); the consumer's pop loop always ends.
 *
 *   producer call:  k = 1 (push) or 2 (push_batch). P1 w = tail[l]; if the closed bit is set: Closed.
 *                   P2 fewer than k slots from w on are free (items one lap earlier not yet popped): full,
 *                   retry. P3 CAS(tail[l]: w -> w+k, bit clear); failure (close() set the bit) = Closed,
 *                   nothing constructed. P4/P5 for each of the k positions in order: construct, publish
 *                   the slot (turn = full). Pushed (k items).
 *   consumer pop:   scan the lanes; take from the first whose slot at head is published (free the slot,
 *                   head + 1). Nothing found and closed_ set: drain: until head == tail on every lane
 *                   (the tails are final), take what gets published; then return false (done).
 *   close():        set the bit on lane 0, then lane 1 (one RMW each), then closed_ = 1.
 *
 * Limits: nobody waits here (every process polls), so lost wake-ups are not covered (the wait predicates
 * and notify order follow wait/blocking.hpp's protocol, checked by hand); lane reuse by a new Producer is
 * not modelled; fullness is checked through head, not the slot turns.
 * Spin's interleavings are sequentially consistent; the real code gets the orders it needs from
 * release/acquire on the slot turns, the RMWs on tail, and release/acquire on closed_.
 * Mutants that must be caught: MUTANT_CHECK_THEN_STORE (claim with a plain store after the closed check:
 * the check-then-act race the CAS closes), MUTANT_FLAG_FIRST (close() raises closed_ before the lane
 * bits), MUTANT_NO_DRAIN_WAIT (pop returns false on closed_ after an empty scan, without waiting for
 * claimed, unpublished slots), MUTANT_BATCH_CLAIMS_ONE (push_batch's CAS claims only its first position,
 * so the drain can end before the rest is published), MUTANT_ROOM_FIRST_ONLY (a batch checks room for its
 * first slot only and overwrites an item not yet popped).
 */
#define L 2
#define CAP 2
#define CALLS 2

byte tail[L];      /* positions claimed per lane */
bit cbit[L];       /* the closed bit in each lane's tail word */
byte pub[L];       /* positions published per lane (a slot's turn: full for position pub-1) */
byte head[L];      /* positions popped per lane */
bit closed = 0;    /* closed_ */
byte pushed = 0;   /* items published by calls that will return Pushed */
byte popped = 0;
bit done = 0;      /* the consumer's pop() returned false */

proctype producer(byte l) {
  byte n = 0;
  byte w;
  byte k;
  byte j;
  do
  :: n == CALLS -> break
  :: else ->
     if
     :: k = 1
     :: k = 2
     fi;
     w = tail[l];                                  /* P1 */
     if
     :: cbit[l] -> break                           /* Closed */
     :: else -> skip
     fi;
     if
#ifndef MUTANT_ROOM_FIRST_ONLY
     :: w + k - head[l] > CAP -> skip              /* P2: a slot of the run still holds last lap's item */
     :: else ->
#else
     :: w + 1 - head[l] > CAP -> skip              /* the bug: room checked for the run's first slot only */
     :: else ->
#endif
#ifndef MUTANT_CHECK_THEN_STORE
        if                                         /* P3: the claiming CAS */
#ifndef MUTANT_BATCH_CLAIMS_ONE
        :: atomic { !cbit[l] && tail[l] == w -> tail[l] = w + k }
#else
        :: atomic { !cbit[l] && tail[l] == w -> tail[l] = w + 1 }   /* the bug: a batch claims one */
#endif
        :: atomic { cbit[l] -> skip }; break       /* the CAS failed: Closed */
        fi;
#else
        tail[l] = w + k;
#endif
        /* P4: construct (private: nobody reads the slot before P5, the consumer's drain waits for it) */
        j = 0;
        do
        :: j == k -> break
        :: else ->
           /* P5; the slot of w + j held position w + j - CAP, which must have been popped */
           atomic { assert(!done); assert(pub[l] == w + j); assert(w + j < head[l] + CAP);
                    pub[l] = w + j + 1; pushed = pushed + 1 };
           j = j + 1
        od;
        n = n + 1
     fi
  od
}

active proctype consumer() {
  byte i;
  bit found;
  bit draining = 0;
  do
  :: found = 0; i = 0;
     do                                            /* try_pop: one scan over the lanes */
     :: i == L || found -> break
     :: else ->
        if
        :: head[i] < pub[i] -> atomic { head[i] = head[i] + 1; popped = popped + 1 }; found = 1
        :: else -> skip
        fi;
        i = i + 1
     od;
     if
     :: found -> skip
     :: !found && draining ->
#ifndef MUTANT_NO_DRAIN_WAIT
        if
        :: head[0] == tail[0] && head[1] == tail[1] ->
           atomic { assert(popped == pushed); done = 1 }; break
        :: else -> skip                            /* a claimed slot is being published */
        fi
#else
        atomic { assert(popped == pushed); done = 1 }; break
#endif
     :: !found && !draining ->
        if
        :: closed -> draining = 1
        :: else -> skip                            /* open and empty: wait (poll) */
        fi
     fi
  od
}

active proctype closer() {
#ifndef MUTANT_FLAG_FIRST
  atomic { cbit[0] = 1 };
  atomic { cbit[1] = 1 };
  closed = 1
#else
  closed = 1;
  atomic { cbit[0] = 1 };
  atomic { cbit[1] = 1 }
#endif
}

init {
  atomic { run producer(0); run producer(1) }
}

/* The consumer's pop() loop always ends (close() happens, the producers stop, the lanes drain). */
ltl consumer_finishes { <> done }
