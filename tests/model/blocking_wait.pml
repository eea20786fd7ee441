/* The Blocking wait strategy's park/notify protocol (include/ringkit/wait/blocking.hpp), explored
 * exhaustively by spin: one consumer that parks when the queue is empty, one producer that publishes
 * N items, one at a time, each followed by notify(), then close()s (a publish + notify_all). A lost wake-up shows as an invalid end state
 * (the consumer parked forever) or a violation of the liveness claim.
 *
 * The two store_load_fence()s make the waiter's "waiters_ += 1 ... read the index" and the notifier's
 * "publish the index ... read waiters_" sequentially consistent with each other, which is exactly
 * spin's semantics; the futex is modelled as "block until epoch != e" (the kernel's atomic compare).
 */
#define N 3

byte published = 0;   /* the queue index the producer publishes (N1) */
byte consumed = 0;
byte waiters = 0;
byte epoch = 0;
bool closed = false;

/* N2-N4 of notify(): after the fence, wake only if someone announced itself. */
inline notify() {
  if
  :: waiters != 0 -> epoch = epoch + 1                    /* N4: bump + futex_wake (wakes all) */
  :: else -> skip
  fi
}

active proctype producer() {
  do
  :: published == N -> break
  :: else ->
     published = published + 1;                          /* N1: publish */
     notify()
  od;
  closed = true;                                         /* close(): publish the flag ... */
  notify()                                               /* ... and notify_all() */
}

active proctype consumer() {
  byte e;
  do
  :: published > consumed -> consumed = consumed + 1      /* try_pop succeeds */
  :: published == consumed && closed -> break             /* pop(): closed and drained */
  :: published == consumed && !closed ->                  /* spin phase ran out: park protocol */
     waiters = waiters + 1;                               /* W1, then W2 fence */
#ifndef MUTANT
     e = epoch;                                           /* W3 */
#endif
     if
     :: published > consumed || closed -> waiters = waiters - 1   /* W4: ready, no park */
     :: else ->
#ifdef MUTANT
        e = epoch;   /* the bug the test must catch: reading the epoch after the re-check */
#endif
        (epoch != e);   /* W5 futex_wait: blocks until the epoch moved; a lost wake-up blocks forever */
        waiters = waiters - 1
     fi
  od;
done:
  assert(consumed == N)
}

/* The consumer's loop has ended with every item consumed. */
ltl all_consumed { <> (consumed == N && consumer@done) }
