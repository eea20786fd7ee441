/* SPDX-License-Identifier: MIT */
/* SpscQueue's slot protocol at capacity 4 (7 items, batches of 1 or 2), explored exhaustively by spin.
 *
 * Models include/ringkit/spsc_queue.hpp: wrapping sequences (8-bit here, started 3 below the wrap, with
 * modular differences exactly as the 64-bit code computes them), index = seq & mask, each side's cached
 * copy of the other's index refreshed only when the cache says full/empty, single and batch (2-item,
 * one publish) pushes and pops, and the slot writes/reads ordered before/after the index publish (the
 * release/acquire pairs; spin's interleavings are sequentially consistent, which those pairs give this
 * message-passing shape). Slots hold a value or EMPTY (destroyed): the producer asserts it never
 * constructs into a live slot, the consumer that it reads 1..N exactly once, in order, never a dead slot.
 *
 * One-way marks: after constructing its k items at w, a call stores the end of its range (w + k) in the
 * mark of its first slot only, then write_seq; the other slots keep older laps' marks. A single pop
 * whose cached write index is used up asks the mark at r instead of write_seq; a mark m with
 * 1 <= m - r <= CAP (modular) says a call published [r, m): the cache advances to m, then may take the
 * mark of the last start within the lap the same way (the code asks the last start on the line first:
 * a call published there implies every earlier one), or follow the mark at m, never past a lap (where
 * the line ends is a free choice here; the line is the ring, r + CAP - 1 its last start; the model lets
 * both the last-start check and the call-by-call walk run, a superset of the code's either/or). Any
 * other value is an older lap's (or the initial START) and means nothing is published at r. A batch pop
 * refreshes the cache from write_seq but never lowers it (write_seq may trail the marks). Mutants that
 * must be caught: MUTANT_MARK_BEFORE_VALUE (a batch's mark is stored before its last item: a pop reads a
 * dead slot), MUTANT_NO_CACHE_ADVANCE (a pop by mark leaves the cache behind r: a batch then counts a
 * wrapped difference and reads unpublished slots), MUTANT_CACHE_LOWERED (a refresh takes a write_seq
 * that trails the marks), MUTANT_MARK_ANY_CHANGE (a pop takes any mark other than r for a published
 * call's: an older lap's mark passes), MUTANT_FOLLOW_ANY_CHANGE (the same in the walk past r),
 * MUTANT_PUBLISH_BEFORE_WRITE (write_seq and the mark before the constructions), and three that break
 * "the cache is always a call's end" (a pop then waits for a mark nobody stores: the liveness claim
 * fails): MUTANT_MARK_ONE (a batch's mark says one item), MUTANT_CACHE_R_PLUS_1 (a pop by mark advances
 * the cache to r + 1, not the call's end), MUTANT_MARK_LAST_SLOT (the mark on the call's last slot);
 * and two in the last-start check, whose position p may be any later start within the lap (the line may
 * end anywhere): MUTANT_LAST_TAKES_LINE (the cache jumps to p + 1, inside p's call) and
 * MUTANT_LAST_ANY_CHANGE (that check without the range test).
 * (Sequences are 8-bit here, so a run of 256 items would show a mark accepted a whole wrap later; in
 * the code that takes 2^64 - capacity sequences, see published_end().)
 */
#define CAP 4
#define MASK 3
#define N 7
#define START 253
#define EMPTY 0
#define DIFF(a, b) (((a) - (b) + 256) % 256)
#define FREE(w, rc) (CAP - DIFF(w, rc))

byte slot[CAP];
byte mark[CAP] = START;   /* the end of the last call that started at this slot (initially START) */
byte write_seq = START;   /* published by the producer */
byte read_seq = START;    /* published by the consumer */
byte received = 0;

active proctype producer() {
  byte w = START;         /* own index */
  byte read_cache = START;
  byte v = 1;
  byte k;
  do
  :: v > N -> break
  :: else ->
     if
     :: FREE(w, read_cache) == 0 -> read_cache = read_seq    /* acquire: refresh_read_cache() */
     :: else -> skip
     fi;
     if
     :: FREE(w, read_cache) == 0 -> skip                     /* still full: try_push fails; retry */
     :: FREE(w, read_cache) > 0 ->
        /* push one, or push_batch of two when two are free and two remain */
        if
        :: k = 1
        :: FREE(w, read_cache) >= 2 && v + 1 <= N -> k = 2
        fi;
#ifndef MUTANT_PUBLISH_BEFORE_WRITE
        assert(slot[w & MASK] == EMPTY);                     /* never construct over a live item */
        slot[w & MASK] = v;
#ifdef MUTANT_MARK_BEFORE_VALUE
        mark[w & MASK] = w + k;                              /* the bug: the mark before the batch's last item */
#endif
        if
        :: k == 2 -> assert(slot[(w + 1) & MASK] == EMPTY); slot[(w + 1) & MASK] = v + 1
        :: else -> skip
        fi;
#if defined(MUTANT_MARK_BEFORE_VALUE)
        skip
#elif defined(MUTANT_MARK_ONE)
        mark[w & MASK] = w + 1;                              /* the bug: a batch's mark says one item */
#elif defined(MUTANT_MARK_LAST_SLOT)
        mark[(w + k - 1) & MASK] = w + k;                    /* the bug: the mark on the call's last slot */
#else
        mark[w & MASK] = w + k;                              /* release: the call's items, then its one mark */
#endif
        w = w + k;
        write_seq = w;                                       /* release: one publish per call, after the mark */
#else
        mark[w & MASK] = w + k;                              /* the bug: publish before constructing */
        w = w + k;
        write_seq = w;
        slot[(w - k) & MASK] = v;
        if
        :: k == 2 -> slot[(w - 1) & MASK] = v + 1
        :: else -> skip
        fi;
#endif
        v = v + k
     fi
  od
}

active proctype consumer() {
  byte r = START;
  byte write_cache = START;
  byte expect = 1;
  byte k;
  byte ws;
  byte m;
  byte p;
  do
  :: expect > N -> break
  :: else ->
     if
     :: DIFF(write_cache, r) == 0 ->                         /* readable() (a single pop) */
        m = mark[r & MASK];                                  /* acquire: published_end(r) */
        if
#ifndef MUTANT_MARK_ANY_CHANGE
        :: DIFF(m, r) >= 1 && DIFF(m, r) <= CAP ->
#else
        :: DIFF(m, r) != 0 ->
#endif
#if defined(MUTANT_NO_CACHE_ADVANCE)
           skip
#elif defined(MUTANT_CACHE_R_PLUS_1)
           write_cache = r + 1                               /* the bug: the cache stops inside the call */
#else
           write_cache = m;
           if                                                /* later calls on the line, never a lap: */
           :: DIFF(write_cache, r) < CAP - 1 ->              /* the last start first (the line ends at */
              if                                             /* any line end within the lap */
              :: p = r + CAP - 1
              :: DIFF(write_cache, r) <= 2 -> p = r + 2
              :: DIFF(write_cache, r) <= 1 -> p = r + 1
              fi;
              m = mark[p & MASK];                            /* acquire: published_end(last) */
              if
#if defined(MUTANT_LAST_TAKES_LINE)
              :: DIFF(m, p) >= 1 && DIFF(m, p) <= CAP -> write_cache = p + 1
#elif !defined(MUTANT_LAST_ANY_CHANGE)
              :: DIFF(m, p) >= 1 && DIFF(m, p) <= CAP -> write_cache = m
#else
              :: DIFF(m, p) != 0 -> write_cache = m
#endif
#ifdef MUTANT_FOLLOW_ANY_CHANGE
              :: DIFF(m, p) != 0 -> write_cache = m          /* the bug: an older lap's mark passes */
#endif
              :: else -> skip
              fi
           :: skip
           fi;
           do                                                /* then the calls in order, while published */
           :: DIFF(write_cache, r) < CAP ->                  /* (or the line ends: stop at any step) */
              m = mark[write_cache & MASK];                  /* acquire: published_end(write_cache) */
              if
              :: DIFF(m, write_cache) >= 1 && DIFF(m, write_cache) <= CAP -> write_cache = m
#ifdef MUTANT_FOLLOW_ANY_CHANGE
              :: DIFF(m, write_cache) != 0 -> write_cache = m   /* the bug, as above */
#endif
              :: else -> break
              fi
           :: break
           od
#endif
        :: else -> skip                                      /* an older lap's mark: nothing at r yet */
        fi
     :: true ->                                              /* acquire: refresh_write_cache() (a batch call */
        ws = write_seq;                                      /* may reload whenever it wants more) */
#ifndef MUTANT_CACHE_LOWERED
        if
        :: DIFF(ws, write_cache) > 0 && DIFF(ws, write_cache) <= CAP -> write_cache = ws   /* keep the larger */
        :: else -> skip
        fi
#else
        write_cache = ws
#endif
     :: DIFF(write_cache, r) > 0 -> skip                     /* use what the cache holds */
     fi;
     if
     :: DIFF(write_cache, r) == 0 -> skip                    /* still empty: try_pop fails; retry */
#ifdef MUTANT_NO_CACHE_ADVANCE
     :: DIFF(write_cache, r) == 0 && DIFF(mark[r & MASK], r) >= 1 && DIFF(mark[r & MASK], r) <= CAP -> k = 1;   /* popped by mark, cache left behind */
        assert(slot[r & MASK] == expect);
        slot[r & MASK] = EMPTY;
        r = r + 1;
        read_seq = r;
        expect = expect + 1;
        received = received + 1
#endif
     :: DIFF(write_cache, r) > 0 ->
        assert(DIFF(write_cache, r) <= CAP);                 /* the cache never claims more than a lap */
        if
        :: k = 1
        :: DIFF(write_cache, r) >= 2 && DIFF(write_cache, r) <= CAP -> k = 2   /* pop_batch / peek+pop_n of two */
        fi;
        assert(slot[r & MASK] == expect);                    /* FIFO, no loss, no duplicate, no dead read */
        slot[r & MASK] = EMPTY;
        if
        :: k == 2 -> assert(slot[(r + 1) & MASK] == expect + 1); slot[(r + 1) & MASK] = EMPTY
        :: else -> skip
        fi;
        r = r + k;
        read_seq = r;                                        /* release: hand the slots back */
        expect = expect + k;
        received = received + k
     fi
  od
}

/* Every run ends with all N items received (no deadlock, nothing lost). */
ltl all_delivered { <> (received == N) }
