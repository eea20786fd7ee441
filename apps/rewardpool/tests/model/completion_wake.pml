/* SPDX-License-Identifier: MIT */
/* The reward pool's completion wake-up (apps/rewardpool/src/rewardpool/service.hpp, C1-C2 / P1-P2):
 * a client waits until the I/O thread's published LSN reaches the gate of its next completion; the I/O
 * thread publishes LSNs 1..N and notifies the clients whose want_lsn it reached. The wait itself is
 * ringkit::Blocking (W0-W5 / N1-N4 as in ringkit's tests/model/blocking_wait.pml). A lost wake-up leaves
 * the client parked with a completion that is due, which violates the liveness claim.
 *
 * Spin's interleavings are sequentially consistent: what the seq_cst stores/loads at C1/P1/P2 and
 * Blocking's StoreLoad pair buy the real code. MUTANT_CHECK_BEFORE_PUBLISH reads want_lsn before
 * publishing (P2 before P1); MUTANT_NO_GATE_CHECK notifies without reading published at W4.
 */
#define N 3
#define NONE 255

byte published = 0;   /* Service::published_[L] */
byte want = NONE;     /* ClientSlot::want_lsn */
bit parked = 0;       /* Blocking::parked_ */
byte epoch = 0;       /* Blocking::epoch_ (the futex word) */
byte delivered = 0;   /* completions delivered; the next one's gate is delivered + 1 */

active proctype io_thread() {
  byte w;
  bit old;
  do
  :: published == N -> break
  :: else ->
#ifdef MUTANT_CHECK_BEFORE_PUBLISH
     w = want;                             /* P2's load overtakes ... */
     published = published + 1;            /* ... P1 */
#else
     published = published + 1;            /* P1 */
     w = want;                             /* P2 */
#endif
     if
     :: w != NONE && w <= published ->     /* notify(): N2 barrier, N3, N4 */
        if
        :: parked -> atomic { old = parked; parked = 0 };
           if
           :: old -> epoch = epoch + 1
           :: else -> skip
           fi
        :: else -> skip
        fi
     :: else -> skip
     fi
  od
}

active proctype client() {
  byte e;
end_idle:
  do
  :: delivered == N -> break
  :: published > delivered -> delivered = delivered + 1      /* poll() delivers a due completion */
  :: published <= delivered ->
     want = delivered + 1;                 /* C1 */
     if
     :: published >= want -> skip          /* C2: Blocking's spin phase sees it */
     :: else ->
        e = epoch;                         /* W0 */
        parked = 1;                        /* W1, W2 */
#ifndef MUTANT_NO_GATE_CHECK
        if
        :: published >= want -> skip       /* W4 */
        :: else ->
end_parked:
           (epoch != e)                    /* W5 */
        fi
#else
end_parked2:
        (epoch != e)
#endif
     fi;
     want = NONE
  od
}

ltl all_delivered { <> (delivered == N) }
