package io.sluice.query;

import java.util.ArrayList;
import java.util.List;

/**
 * How a {@link QueryIndex} matched one document ({@link QueryIndex#explain}): the work the
 * index did for it and what came of it.
 *
 * @param lookups each indexed path, with how many values of the document were looked up under it
 *     (0 when the document does not have the path)
 * @param candidates every query the lookups or the residue offered, once each, in the order found
 * @param matches the names of the queries the document matches, as {@link QueryIndex#match} gives them
 */
public record Explanation(List<Lookup> lookups, List<Candidate> candidates, List<String> matches) {
    public Explanation {
        lookups = List.copyOf(lookups);
        candidates = List.copyOf(candidates);
        matches = List.copyOf(matches);
    }

    /**
     * An indexed path and how many of the document's values were looked up under it.
     *
     * @param path the dotted path
     * @param values values looked up: each scalar the path reaches, and each element of an array it reaches
     */
    public record Lookup(String path, int values) {}

    /**
     * A query the index offered for evaluation.
     *
     * @param name the query's name
     * @param via the indexed path whose lookup found it, or null for a query in the residue
     *     (nothing in it can be looked up, so every document is checked against it)
     * @param by how the lookup found it: {@code equality} (a value's hash entry, also for
     *     {@code $in}), {@code pair} (the values of two paths), {@code interval} (a lower and an
     *     upper bound containing the value), {@code bound} (a one-sided range bound),
     *     {@code exists}; null for a query in the residue
     * @param evaluated whether anything was left to evaluate: false when the lookup's hit alone
     *     proves the query (an equality on a string, say), so no evaluation ran
     * @param matched whether the document matches it
     */
    public record Candidate(String name, String via, String by, boolean evaluated, boolean matched) {}

    /** How many candidates had to be evaluated. */
    public int evaluated() {
        return (int) candidates.stream().filter(Candidate::evaluated).count();
    }

    /** Collects an explanation while the index matches. */
    static final class Recorder {
        private final List<String> paths = new ArrayList<>();
        private final List<int[]> values = new ArrayList<>();
        private final List<Candidate> candidates = new ArrayList<>();
        private final List<String> matches = new ArrayList<>();

        void lookUp(String path) {
            paths.add(path);
            values.add(new int[1]);
        }

        void value() {
            values.getLast()[0]++;
        }

        void candidate(String name, String via, String by, boolean evaluated) {
            candidates.add(new Candidate(name, via, by, evaluated, false));
        }

        void matched(String name) {
            matches.add(name);
        }

        Explanation explanation() {
            List<Lookup> lookups = new ArrayList<>(paths.size());
            for (int i = 0; i < paths.size(); i++) {
                lookups.add(new Lookup(paths.get(i), values.get(i)[0]));
            }
            List<Candidate> marked = new ArrayList<>(candidates.size());
            for (Candidate c : candidates) {
                marked.add(new Candidate(c.name(), c.via(), c.by(), c.evaluated(), matches.contains(c.name())));
            }
            return new Explanation(lookups, marked, matches);
        }
    }
}
