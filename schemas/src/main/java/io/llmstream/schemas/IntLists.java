package io.llmstream.schemas;

import java.util.AbstractList;
import java.util.List;
import java.util.RandomAccess;

/**
 * Bridges int[] and the {@code List<Integer>} that Avro's generated classes use for {@code array<int>}, without copying:
 * a view over the array on the way out, the backing array itself on the way back when the list is such a view.
 */
public final class IntLists {
    private IntLists() {}

    public static List<Integer> of(int[] ids) {
        return new View(ids);
    }

    /** The int[] behind a list made by {@link #of}, or null for any other list. */
    public static int[] backingArray(Object list) {
        return list instanceof View view ? view.ids : null;
    }

    public static int[] toArray(List<Integer> list) {
        if (list instanceof View view) {
            return view.ids;
        }
        int[] out = new int[list.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = list.get(i);
        }
        return out;
    }

    private static final class View extends AbstractList<Integer> implements RandomAccess {
        private final int[] ids;

        View(int[] ids) {
            this.ids = ids;
        }

        @Override
        public Integer get(int index) {
            return ids[index];
        }

        @Override
        public int size() {
            return ids.length;
        }
    }
}
