/* SpscQueue's slot protocol at capacity 2, explored exhaustively by spin.
 *
 * Models include/ringkit/spsc_queue.hpp: 64-bit sequences (here unbounded small ints), index = seq & mask,
 * each side's cached copy of the other's index, refreshed only when the cache says full/empty, and the
 * slot write/read ordered before/after the index publish (the release/acquire pairs; spin's interleaving
 * semantics are sequentially consistent, which those pairs guarantee for this message-passing shape).
 * Slots hold a value or EMPTY (the "destroyed" state); the producer asserts it never constructs into a
 * live slot, the consumer that it never reads a dead one, and that it receives 1..N exactly once, in order.
 */
#define CAP 2
#define MASK 1
#define N 5
#define EMPTY 0

byte slot[CAP];
byte write_seq = 0;   /* published by the producer */
byte read_seq = 0;    /* published by the consumer */
byte received = 0;

active proctype producer() {
  byte w = 0;           /* own index (relaxed load of write_) */
  byte read_cache = 0;
  byte v = 1;
  do
  :: v > N -> break
  :: else ->
     if
     :: w - read_cache == CAP ->
        read_cache = read_seq;                    /* acquire: refresh_read_cache() */
        if
        :: w - read_cache == CAP -> skip          /* still full: try_push fails; retry */
        :: else -> goto push
        fi
     :: else ->
push:   assert(slot[w & MASK] == EMPTY);          /* never construct over a live item */
#ifndef MUTANT
        slot[w & MASK] = v;                       /* construct */
        w = w + 1;
        write_seq = w;                            /* release: publish */
#else
        w = w + 1;
        write_seq = w;                            /* the bug the test must catch: publish first */
        slot[(w - 1) & MASK] = v;
#endif
        v = v + 1
     fi
  od
}

active proctype consumer() {
  byte r = 0;
  byte write_cache = 0;
  byte expect = 1;
  do
  :: expect > N -> break
  :: else ->
     if
     :: r == write_cache ->
        write_cache = write_seq;                  /* acquire: refresh_write_cache() */
        if
        :: r == write_cache -> skip               /* still empty: try_pop fails; retry */
        :: else -> goto pop
        fi
     :: else ->
pop:    assert(slot[r & MASK] == expect);         /* FIFO, no loss, no duplicate, no torn/dead read */
        slot[r & MASK] = EMPTY;                   /* move out + destroy */
        r = r + 1;
        read_seq = r;                             /* release: hand the slot back */
        expect = expect + 1;
        received = received + 1
     fi
  od
}

/* Every run ends with all N items received (no deadlock, nothing lost). */
ltl all_delivered { <> (received == N) }
