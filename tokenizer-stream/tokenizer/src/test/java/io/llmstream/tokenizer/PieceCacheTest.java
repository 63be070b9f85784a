package io.llmstream.tokenizer;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class PieceCacheTest {
    /** Every piece below lands in the same set of two entries. */
    private static final int SET = 12345 & ~1;

    private final PieceCache cache = new PieceCache();

    private void put(long key, int... ids) {
        IntList out = new IntList(8);
        for (int id : ids) {
            out.add(id);
        }
        cache.put(key, 0, 8, SET, out, 0);
    }

    /** The cached ids of a piece, or null on a miss. */
    private int[] get(long key) {
        IntList out = new IntList(8);
        return cache.get(key, 0, 8, SET, out) ? out.toArray() : null;
    }

    @Test
    void keepsUpToFourTokensPerPieceAndTellsPiecesApartByEveryKeyPart() {
        IntList out = new IntList(8);
        out.add(7);
        out.add((1 << 21) - 1);
        out.add(0);
        out.add(99_999);
        cache.put(1, 2, 16, SET, out, 0);
        IntList read = new IntList(8);
        assertThat(cache.get(1, 2, 16, SET, read)).isTrue();
        assertThat(read.toArray()).containsExactly(7, (1 << 21) - 1, 0, 99_999);
        assertThat(cache.get(1, 3, 16, SET, read)).isFalse();
        assertThat(cache.get(1, 2, 15, SET, read)).isFalse();
        assertThat(cache.get(0, 2, 16, SET, read)).isFalse();

        out.add(5); // five tokens: not kept
        cache.put(4, 0, 16, SET, out, 0);
        assertThat(cache.get(4, 0, 16, SET, read)).isFalse();
    }

    @Test
    void aPieceThatRepeatsOutlivesAnyNumberOfPiecesSeenOnce() {
        put(1, 10);
        assertThat(get(1)).containsExactly(10); // hit: now the set's first entry
        for (long once = 100; once < 110; once++) {
            put(once, (int) once);
        }
        assertThat(get(1)).containsExactly(10);
        assertThat(get(109)).containsExactly(109); // the newest of them holds the second entry
        assertThat(get(108)).isNull();
    }

    @Test
    void aPieceThatStopsRepeatingMakesWayForOneThatRepeats() {
        put(1, 10);
        assertThat(get(1)).containsExactly(10);
        put(2, 20);
        assertThat(get(2)).containsExactly(20); // 2 moves first, 1 second
        put(3, 30); // displaces 1
        assertThat(get(1)).isNull();
        assertThat(get(2)).containsExactly(20);
        assertThat(get(3)).containsExactly(30);
    }
}
