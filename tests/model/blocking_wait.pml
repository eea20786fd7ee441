/* The Blocking wait strategy's park/notify protocol (include/ringkit/wait/blocking.hpp), explored
 * exhaustively by spin with TWO competing consumers (as in MpmcQueue) and one producer that publishes
 * N items, each followed by notify(). A consumer parks when it finds nothing; a lost wake-up leaves
 * an item stranded while every consumer sleeps, which violates the liveness claim (weak fairness).
 *
 * Spin's interleavings are sequentially consistent, which is what the StoreLoad pair (W2/N2) buys
 * the real code; the mutant MUTANT_NO_FENCE removes it by letting the notifier's load of the flag pass
 * its own publish (x86's store buffer). The futex is "block until epoch != e" (the kernel's compare).
 */
#define N 3

byte published = 0;   /* the queue's published index (N1) */
byte consumed = 0;    /* items taken; a take is an atomic claim, as the queue's CAS */
bit parked = 0;       /* Blocking::parked_ */
byte epoch = 0;       /* Blocking::epoch_ (the futex word) */

active proctype producer() {
  bit seen;
  bit old;
  do
  :: published == N -> break
  :: else ->
#ifdef MUTANT_NO_FENCE
     seen = parked;                        /* N3's load overtakes N1's store (no StoreLoad barrier) */
     published = published + 1;            /* N1 */
#else
     published = published + 1;            /* N1 */
     seen = parked;                        /* N2 barrier, then N3's filtering load */
#endif
     if
     :: seen ->
        atomic { old = parked; parked = 0 };   /* N3: exchange(parked_, 0) */
        if
        :: old -> epoch = epoch + 1            /* N4: bump, then futex_wake_all */
        :: else -> skip
        fi
     :: else -> skip
     fi
  od
}

active [2] proctype consumer() {
  byte e;
end_idle:
  do
  :: atomic { published > consumed -> consumed = consumed + 1 }   /* try_pop succeeds */
  :: published == consumed ->                                     /* spin phase found nothing */
#ifndef MUTANT_LATE_EPOCH
     e = epoch;                            /* W0 */
     parked = 1;                           /* W1, then the W2 barrier */
#else
     parked = 1;                           /* the bug: arm first ... */
     e = epoch;                            /* ... then read the epoch */
#endif
     if
     :: published > consumed -> skip       /* W4: ready after all; go take it (or lose it to the other) */
     :: else ->
end_parked:
        (epoch != e)                       /* W5: futex_wait until the epoch moves */
     fi
  od
}

/* Every published item is eventually consumed: no wake-up is lost for good. */
ltl all_consumed { <> (consumed == N) }
