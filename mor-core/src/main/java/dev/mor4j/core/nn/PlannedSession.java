package dev.mor4j.core.nn;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.internal.InferenceSession;

/**
 * SameDiff's execution session with the subgraph of each set of requested variables worked out once.
 *
 * <p>On every call, SameDiff M2.1's session walks the graph back from the requested variables to find the
 * ops it must run ({@code initSubgraph}); for each variable it looks up the op producing it through a name
 * check that compiles a regular expression. For a 2-layer LLaMA training graph that is about 50 ms of every
 * forward or backward pass. The walk depends only on the requested variables and on the graph, so this
 * session keeps its result per set of variables and reuses it while the graph has the same ops and variables
 * by name (a graph that grows, e.g. by its gradient function being created, or has something renamed, is walked
 * afresh).
 */
final class PlannedSession extends InferenceSession {

    /**
     * The walk's result: the variables and ops to execute, and the ops without inputs among them, in order;
     * {@code graph} identifies the graph it was made for ({@link #graphKey}).
     */
    private record Plan(List<Integer> graph, List<String> subgraph, List<String> subgraphOps,
            List<String> zeroInputOps) {
    }

    private final Map<Set<String>, Plan> plans = new HashMap<>();
    private int walks;

    PlannedSession(SameDiff sd) {
        super(sd);
    }

    @Override
    protected void initSubgraph(Set<String> variables) {
        List<Integer> graph = graphKey();
        Plan plan = plans.get(variables);
        if (plan != null && plan.graph().equals(graph)) {
            // output() clears subgraph and subgraphOps before this call (and keeps zeroInputOpsInSubgraph,
            // which the walk only adds to): adding in the recorded order reproduces the walk's sets exactly.
            subgraph.addAll(plan.subgraph());
            subgraphOps.addAll(plan.subgraphOps());
            zeroInputOpsInSubgraph.addAll(plan.zeroInputOps());
            return;
        }
        super.initSubgraph(variables);
        walks++;
        plans.put(Set.copyOf(variables), new Plan(graph, List.copyOf(subgraph), List.copyOf(subgraphOps),
                List.copyOf(zeroInputOpsInSubgraph)));
    }

    /**
     * The numbers of ops and variables and the hashes of their name sets: a graph that grew or had something
     * renamed gets another key (computing it reads ~2 000 cached string hashes, microseconds).
     */
    private List<Integer> graphKey() {
        return List.of(sameDiff.getOps().size(), sameDiff.getVariables().size(), sameDiff.getOps().keySet().hashCode(),
                sameDiff.getVariables().keySet().hashCode());
    }

    /** How many times the graph was walked (once per set of requested variables and size of the graph). */
    int walks() {
        return walks;
    }
}
