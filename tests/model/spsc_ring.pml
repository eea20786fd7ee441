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
 * the line ends is a free choice here; the line is the ring, r + CAP - 1 its last start). Any other
 * value is an older lap's (or the initial START) and means nothing is published at r. A batch pop refreshes the cache from write_seq but never lowers it
 * (write_seq may trail the marks). Mutants that must be caught: MUTANT_MARK_BEFORE_VALUE (a batch's mark
 * is stored before its last item: a pop reads a dead slot), MUTANT_NO_CACHE_ADVANCE (a pop by mark
 * leaves the cache behind r: a batch then counts a wrapped difference and reads unpublished slots),
 * MUTANT_CACHE_LOWERED (a refresh takes a write_seq that trails the marks), MUTANT_MARK_ANY_CHANGE (a
 * pop takes any mark other than r for a published call's: an older lap's mark passes), and
 * MUTANT_PUBLISH_BEFORE_WRITE (write_seq and the mark before the constructions).
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
#ifndef MUTANT_MARK_BEFORE_VALUE
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
#ifndef MUTANT_NO_CACHE_ADVANCE
           write_cache = m;
           if                                                /* later calls on the line, never a lap: */
           :: DIFF(write_cache, r) < CAP - 1 ->              /* the last start first (the line ends at */
              p = r + CAP - 1;                               /* r + CAP - 1 here) */
              m = mark[p & MASK];                            /* acquire: published_end(last) */
              if
              :: DIFF(m, p) >= 1 && DIFF(m, p) <= CAP -> write_cache = m
              :: else -> skip
              fi
           :: DIFF(write_cache, r) < CAP ->                  /* then the calls in order (one step here) */
              m = mark[write_cache & MASK];                  /* acquire: published_end(write_cache) */
              if
              :: DIFF(m, write_cache) >= 1 && DIFF(m, write_cache) <= CAP -> write_cache = m
              :: else -> skip
              fi
           :: skip                                           /* (or the line ends here) */
           fi
#else
           skip
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
