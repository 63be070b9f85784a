package io.llmstream.inference.engine;

/**
 * Orders token ids by weight, heaviest first, ties by smaller id, in place on an int array (no boxing, no
 * allocation): a full sort, and a selection of the k heaviest.
 */
final class IndexSort {

    private static final int INSERTION = 16;

    private IndexSort() {}

    /** Sorts {@code ids[from, to)} heaviest first. */
    static void sort(int[] ids, int from, int to, float[] weight) {
        while (to - from > INSERTION) {
            int p = partition(ids, from, to, weight);
            // recurse into the smaller side, loop over the larger: stack depth stays logarithmic
            if (p - from < to - p - 1) {
                sort(ids, from, p, weight);
                from = p + 1;
            } else {
                sort(ids, p + 1, to, weight);
                to = p;
            }
        }
        for (int i = from + 1; i < to; i++) {
            int id = ids[i];
            int j = i - 1;
            while (j >= from && before(id, ids[j], weight)) {
                ids[j + 1] = ids[j];
                j--;
            }
            ids[j + 1] = id;
        }
    }

    /** Moves the {@code k} heaviest of {@code ids[0, n)} to {@code ids[0, k)}, in no particular order. */
    static void selectTop(int[] ids, int n, int k, float[] weight) {
        int from = 0;
        int to = n;
        while (to - from > 1) {
            int p = partition(ids, from, to, weight);
            if (p == k || p == k - 1) {
                return;
            }
            if (p < k) {
                from = p + 1;
            } else {
                to = p;
            }
        }
    }

    /** Lomuto partition around the median of three; returns the pivot's final index. */
    private static int partition(int[] ids, int from, int to, float[] weight) {
        int mid = (from + to) >>> 1;
        int last = to - 1;
        if (before(ids[mid], ids[from], weight)) {
            swap(ids, mid, from);
        }
        if (before(ids[last], ids[from], weight)) {
            swap(ids, last, from);
        }
        if (before(ids[mid], ids[last], weight)) {
            swap(ids, mid, last);
        }
        int pivot = ids[last];
        int store = from;
        for (int i = from; i < last; i++) {
            if (before(ids[i], pivot, weight)) {
                swap(ids, i, store++);
            }
        }
        swap(ids, store, last);
        return store;
    }

    private static boolean before(int a, int b, float[] weight) {
        return weight[a] > weight[b] || (weight[a] == weight[b] && a < b);
    }

    private static void swap(int[] ids, int i, int j) {
        int t = ids[i];
        ids[i] = ids[j];
        ids[j] = t;
    }
}
