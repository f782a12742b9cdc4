package io.sluice.query;

import java.util.Arrays;
import java.util.Comparator;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Intervals over an ordered key type, each holding values, answering "which intervals overlap
 * {@code [from, to]}" in O(log n + k log n) for k intervals found, for readers that never lock.
 *
 * <h2>Implementation notes</h2>
 *
 * <p>A treap (a binary search tree ordered by the intervals' lower ends, balanced by random
 * priorities) whose every node also knows the highest upper end in its subtree. A search walks
 * down from the root, skips a subtree whose highest upper end is below {@code from}, and stops
 * going right at the first node whose lower end is above {@code to}: every node it visits either
 * overlaps or is on the path to one that does.
 *
 * <p>The tree is <em>persistent</em>: nodes never change once made. Adding or removing an
 * interval copies the O(log n) nodes on its path and publishes the new root with one volatile
 * write, so a reader holding the old root sees the old tree whole, and a change costs in
 * proportion to the depth, never a rebuild. Writers are serialised by the caller.
 *
 * <p>Why this structure: the index's intervals are over numbers and over strings (ISO-8601
 * times compare as strings). Esper's approach (ranges ordered by lower end, scanned from
 * {@code value - widest range}) needs a subtraction, which strings lack, and degrades to a
 * scan of every interval once one wide range is present; a segment tree over the ends needs
 * rebuilding as ends come and go. The treap answers both key types with the same code, stays
 * O(log n) per update, and its searches stay proportional to what they find when wide and
 * narrow ranges are mixed.
 *
 * <p>Intervals whose lower end is above their upper end are kept too: on an array field the
 * two bounds may be met by different elements ({@code {$gt: 5, $lt: 5}} matches {@code [4, 6]}),
 * and an overlap search with the array's lowest and highest values finds them.
 *
 * @param <K> the key type
 */
final class IntervalTree<K> {
    /**
     * One interval: {@code low} to {@code high}, each end inclusive or not.
     *
     * @param <K> the key type
     */
    record Interval<K>(K low, boolean lowInclusive, K high, boolean highInclusive) {}

    /** Receives the values of the intervals a search finds. */
    @FunctionalInterface
    interface Visitor {
        void visit(Object value);
    }

    private final Comparator<? super K> order;
    private volatile Node<K> root;
    private int size; // distinct intervals; written under the caller's lock

    IntervalTree(Comparator<? super K> order) {
        this.order = order;
    }

    /** Whether no interval is held. */
    boolean isEmpty() {
        return root == null;
    }

    /** The number of distinct intervals held. */
    int size() {
        return size;
    }

    /** Adds {@code value} under {@code interval} (writers only, one at a time). */
    void add(Interval<K> interval, Object value) {
        root = insert(root, interval, value);
    }

    /** Removes {@code value} from under {@code interval}, if it is there (writers only). */
    void remove(Interval<K> interval, Object value) {
        root = delete(root, interval, value);
    }

    /**
     * Hands {@code visitor} the values of every interval that overlaps {@code [from, to]}: whose
     * lower end is at most {@code to} and whose upper end at least {@code from}, each end's
     * inclusiveness respected. A key that is not exact (rounded from its value) compares as
     * equal to every key equal to it, so rounding can add intervals but never lose one.
     */
    void overlapping(K from, boolean fromExact, K to, boolean toExact, Visitor visitor) {
        search(root, from, fromExact, to, toExact, visitor);
    }

    private void search(Node<K> n, K from, boolean fromExact, K to, boolean toExact, Visitor visitor) {
        while (n != null) {
            if (order.compare(n.maxHigh, from) < 0) {
                return; // nothing below here reaches from
            }
            if (n.left != null) {
                search(n.left, from, fromExact, to, toExact, visitor);
            }
            int low = order.compare(n.low, to);
            if (low > 0) {
                return; // this node and all to its right start after to
            }
            if ((low < 0 || n.lowInclusive || !toExact) && reaches(n, from, fromExact)) {
                for (Object v : n.values) {
                    visitor.visit(v);
                }
            }
            n = n.right; // loop rather than recurse on the right
        }
    }

    private boolean reaches(Node<K> n, K from, boolean fromExact) {
        int high = order.compare(n.high, from);
        return high > 0 || (high == 0 && (n.highInclusive || !fromExact));
    }

    // ------------------------------------------------------------------ writing

    private static final class Node<K> {
        final K low;
        final boolean lowInclusive;
        final K high;
        final boolean highInclusive;
        final Object[] values;
        final int priority;
        final Node<K> left;
        final Node<K> right;
        final K maxHigh; // the highest upper end in this subtree

        Node(
                K low,
                boolean lowInclusive,
                K high,
                boolean highInclusive,
                Object[] values,
                int priority,
                Node<K> left,
                Node<K> right,
                Comparator<? super K> order) {
            this.low = low;
            this.lowInclusive = lowInclusive;
            this.high = high;
            this.highInclusive = highInclusive;
            this.values = values;
            this.priority = priority;
            this.left = left;
            this.right = right;
            K max = high;
            if (left != null && order.compare(left.maxHigh, max) > 0) {
                max = left.maxHigh;
            }
            if (right != null && order.compare(right.maxHigh, max) > 0) {
                max = right.maxHigh;
            }
            this.maxHigh = max;
        }
    }

    private Node<K> node(Node<K> like, Object[] values, Node<K> left, Node<K> right) {
        return new Node<>(
                like.low, like.lowInclusive, like.high, like.highInclusive, values, like.priority, left, right, order);
    }

    /** Orders intervals by lower end, then the rest, so that equal intervals share a node. */
    private int compare(Interval<K> i, Node<K> n) {
        int c = order.compare(i.low(), n.low);
        if (c != 0) {
            return c;
        }
        c = Boolean.compare(n.lowInclusive, i.lowInclusive()); // inclusive first
        if (c != 0) {
            return c;
        }
        c = order.compare(i.high(), n.high);
        if (c != 0) {
            return c;
        }
        return Boolean.compare(i.highInclusive(), n.highInclusive);
    }

    private Node<K> insert(Node<K> n, Interval<K> i, Object value) {
        if (n == null) {
            size++;
            return new Node<>(
                    i.low(),
                    i.lowInclusive(),
                    i.high(),
                    i.highInclusive(),
                    new Object[] {value},
                    ThreadLocalRandom.current().nextInt(),
                    null,
                    null,
                    order);
        }
        int c = compare(i, n);
        if (c == 0) {
            Object[] grown = Arrays.copyOf(n.values, n.values.length + 1);
            grown[n.values.length] = value;
            return node(n, grown, n.left, n.right);
        }
        if (c < 0) {
            Node<K> left = insert(n.left, i, value);
            if (left.priority > n.priority) { // rotate right: the new left child goes up
                return node(left, left.values, left.left, node(n, n.values, left.right, n.right));
            }
            return node(n, n.values, left, n.right);
        }
        Node<K> right = insert(n.right, i, value);
        if (right.priority > n.priority) { // rotate left
            return node(right, right.values, node(n, n.values, n.left, right.left), right.right);
        }
        return node(n, n.values, n.left, right);
    }

    private Node<K> delete(Node<K> n, Interval<K> i, Object value) {
        if (n == null) {
            return null;
        }
        int c = compare(i, n);
        if (c < 0) {
            Node<K> left = delete(n.left, i, value);
            return left == n.left ? n : node(n, n.values, left, n.right);
        }
        if (c > 0) {
            Node<K> right = delete(n.right, i, value);
            return right == n.right ? n : node(n, n.values, n.left, right);
        }
        int at = Arrays.asList(n.values).indexOf(value);
        if (at < 0) {
            return n;
        }
        if (n.values.length > 1) {
            Object[] shrunk = new Object[n.values.length - 1];
            System.arraycopy(n.values, 0, shrunk, 0, at);
            System.arraycopy(n.values, at + 1, shrunk, at, n.values.length - at - 1);
            return node(n, shrunk, n.left, n.right);
        }
        size--;
        return merge(n.left, n.right);
    }

    /** Joins two subtrees, every interval of {@code a} ordered before every one of {@code b}. */
    private Node<K> merge(Node<K> a, Node<K> b) {
        if (a == null) {
            return b;
        }
        if (b == null) {
            return a;
        }
        if (a.priority > b.priority) {
            return node(a, a.values, a.left, merge(a.right, b));
        }
        return node(b, b.values, merge(a, b.left), b.right);
    }
}
