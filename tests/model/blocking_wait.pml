/* SPDX-License-Identifier: MIT */
/* The Blocking wait strategy's park/notify protocol (include/ringkit/wait/blocking.hpp), explored
 * exhaustively by spin with TWO waiters arming and parking at once (competing consumers, as in
 * MpmcQueue) and one producer that publishes N items, each followed by notify() = wake ONE.
 *
 *   waiter: W0 e = epoch; W1 waiters += 1 (RMW); W2 StoreLoad; W4 if ready: waiters -= 1, done;
 *           W5 futex_wait(epoch, e): woken by a wake (the waker un-counted us) or not (EAGAIN:
 *           the epoch moved before we slept) -> W6 waiters -= 1 ourselves; retry.
 *   notify: N1 publish; N2 StoreLoad; N3 if waiters != 0: N4 epoch += 1; N5 k = futex_wake(1);
 *           waiters -= k (the notifier un-counts exactly the threads the kernel woke).
 *
 * Spin's interleavings are sequentially consistent, which is what the StoreLoad pair (W2/N2) buys the
 * real code. The futex is the kernel's: a compare-and-queue under its lock, and a wake that dequeues
 * any one queued thread and says how many it woke. Checked: a lost wake-up (an item stranded while
 * every consumer sleeps) violates the liveness claim; the ghost bits armed[] must always add up to
 * the waiters counter (no registration leaked by a waiter that returned early, none un-counted twice).
 * Mutants that must be caught: MUTANT_NO_FENCE (N3's load passes N1's store, x86's store buffer),
 * MUTANT_NO_DISARM (W4 returns without un-counting: the cost the old flag design paid on every later
 * notify), MUTANT_DOUBLE_UNCOUNT (a woken waiter un-counts itself too), MUTANT_WAKE_UNCOUNTED (the
 * notifier wakes without un-counting, so it keeps paying for a waiter that is gone).
 * Reading the epoch after arming (the old flag design's MUTANT_LATE_EPOCH) is no longer a bug: no
 * notifier consumes another waiter's registration, and W4 re-checks after the barrier either way.
 */
#define N 3
#define W 2

byte published = 0;   /* the queue's published index (N1) */
byte consumed = 0;    /* items taken; a take is an atomic claim, as the queue's CAS */
byte waiters = 0;     /* BlockingWait::waiters_ */
byte epoch = 0;       /* BlockingWait::epoch_ (the futex word) */
bit queued[W];        /* in the kernel's futex queue */
bit armed[W];         /* ghost: this waiter's registration is counted in `waiters` */

active proctype producer() {
  byte seen;
  byte k;
  do
  :: published == N -> break
  :: else ->
#ifdef MUTANT_NO_FENCE
     seen = waiters;                       /* N3's load overtakes N1's store (no StoreLoad barrier) */
     published = published + 1;            /* N1 */
#else
     published = published + 1;            /* N1 */
     seen = waiters;                       /* N2 barrier, then N3 */
#endif
     if
     :: seen != 0 ->
        epoch = epoch + 1;                 /* N4 */
        atomic {                           /* N5: futex_wake(1) dequeues any one queued thread, */
          k = 0;                           /*     and the notifier un-counts exactly that one */
          if
          :: queued[0] -> queued[0] = 0; k = 1; armed[0] = 0
          :: queued[1] -> queued[1] = 0; k = 1; armed[1] = 0
          :: else -> skip
          fi;
#ifndef MUTANT_WAKE_UNCOUNTED
          waiters = waiters - k
#endif
        }
     :: else -> skip
     fi
  od
}

active [W] proctype consumer() {
  byte e;
  bit slept;
  byte me = _pid - 1;
end_idle:
  do
  :: atomic { published > consumed -> consumed = consumed + 1 }   /* try_pop succeeds */
  :: published == consumed ->                                     /* spin phase found nothing */
     e = epoch;                                                   /* W0 */
     atomic { waiters = waiters + 1; armed[me] = 1 };             /* W1 (RMW), then the W2 barrier */
     if
     :: published > consumed ->                                   /* W4: ready after all */
#ifdef MUTANT_NO_DISARM
        armed[me] = 0
#else
        atomic { waiters = waiters - 1; armed[me] = 0 }
#endif
     :: else ->
        atomic {                                                  /* W5: the kernel's compare-and-queue */
          if
          :: epoch != e -> slept = 0
          :: else -> queued[me] = 1; slept = 1
          fi
        }
        if
        :: slept ->
end_parked:
           (queued[me] == 0);                                     /* until a futex_wake dequeues us */
#ifdef MUTANT_DOUBLE_UNCOUNT
           waiters = waiters - 1
#else
           skip                                                   /* the waker un-counted us */
#endif
        :: else ->
           atomic { waiters = waiters - 1; armed[me] = 0 }        /* W6: not woken: un-count ourselves */
        fi
     fi
  od
}

/* The counter is exactly the sum of the live registrations (byte arithmetic: an underflow shows too). */
active proctype registrations_add_up() {
end_watch:
  atomic { waiters != armed[0] + armed[1] -> assert(false) }
}

/* Every published item is eventually consumed: no wake-up is lost for good. */
ltl all_consumed { <> (consumed == N) }
