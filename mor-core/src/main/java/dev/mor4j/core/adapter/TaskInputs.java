package dev.mor4j.core.adapter;

import java.util.HashMap;
import java.util.Map;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * What adapters that adapt per example (MoRE) read about a batch's examples, shared by all of them in one graph.
 * Two placeholders carry it:
 * <ul>
 *   <li>{@value #TASK_IDS} {@code [E]} INT: each example's task id, an index into the adapter's task list</li>
 *   <li>{@value #TOKEN_EXAMPLE} {@code [tokens, E]} in the graph's float type: 1 at (t, e) when position t
 *       belongs to example e, else 0 (one 1 per row)</li>
 * </ul>
 * From them the graph derives, once for all the adapters that read them, the tasks as one-hot rows
 * {@code [E, tasks]}, which examples have a task, and the averaging matrix {@code P [E, tokens]} with
 * {@code P[e,t] = m_t / Σ_t' m_t'} over the real tokens of example e (m the context's token mask, 1 everywhere
 * without one), so that {@code P x} is each example's mean input. None of them depends on a weight: no gradient
 * is computed through them.
 */
public final class TaskInputs {

    /** Placeholder of each example's task id, {@code [E]} INT. */
    public static final String TASK_IDS = "task_ids";
    /** Placeholder mapping positions to examples, {@code [tokens, E]}. */
    public static final String TOKEN_EXAMPLE = "token_example";

    private final int tasks;
    private final SDVariable taskOneHot; // [E, tasks]
    private final SDVariable tokenExample; // [tokens, E]
    private final SDVariable poolT; // [tokens, E]: Pᵀ
    private final SDVariable valid; // [E, 1]: 1 for an example with a task, 0 for none
    private final SDVariable withTask; // scalar: max(Σ_e valid_e, 1)
    private final Map<Double, SDVariable> alignmentWeights = new HashMap<>(); // factor → [E, tasks]

    TaskInputs(SameDiff sd, int tasks, DataType dt, SDVariable tokenMask /* [tokens, 1] or null */) {
        this.tasks = tasks;
        SDVariable ids = sd.placeHolder(TASK_IDS, DataType.INT, -1); // [E]
        this.taskOneHot = sd.oneHot(ids, tasks, 1, 1.0, 0.0, dt); // [E, tasks]; an id outside [0, tasks) gives 0s
        this.tokenExample = sd.placeHolder(TOKEN_EXAMPLE, dt, -1, -1); // [tokens, E]
        SDVariable real = tokenMask == null ? tokenExample
                : tokenExample.mul(tokenMask.dataType() == dt ? tokenMask : tokenMask.castTo(dt)); // [tokens, E]
        SDVariable counts = sd.scalarMax(real.sum(true, 0), 1.0); // [1, E], ≥ 1
        this.poolT = real.div(counts); // [tokens, E]
        this.valid = taskOneHot.sum(true, 1); // [E, 1]
        this.withTask = sd.scalarMax(taskOneHot.sum(), 1.0); // scalar
    }

    /** The number of tasks the one-hot rows span. */
    public int tasks() {
        return tasks;
    }

    /** Each example's task as a one-hot row, {@code [E, tasks]}. */
    public SDVariable taskOneHot() {
        return taskOneHot;
    }

    /** {@code [tokens, E]}: which example each position belongs to. */
    public SDVariable tokenExample() {
        return tokenExample;
    }

    /** {@code [E, 1]}: 1 for an example with a task, 0 for one without (a task id outside the list). */
    public SDVariable valid() {
        return valid;
    }

    /**
     * Each example's mean input over its real tokens, {@code P x}.
     *
     * @param x {@code [tokens, d]}
     * @return {@code [E, d]}
     */
    public SDVariable mean(SameDiff sd, SDVariable x) {
        return sd.mmul(poolT, x, true, false, false); // [E, d]
    }

    /**
     * {@code factor · onehot(t_e) / max(#examples with a task, 1)}, {@code [E, tasks]}: the weights that turn each
     * example's log-probability of its task into a mean over the examples that have one; made once per factor.
     */
    public SDVariable alignmentWeights(double factor) {
        return alignmentWeights.computeIfAbsent(factor, f -> taskOneHot.div(withTask).mul(f));
    }
}
