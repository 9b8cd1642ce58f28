package dev.mor4j.core.adapter;

import dev.mor4j.core.MorException;
import dev.mor4j.core.nn.FrozenLinear;
import dev.mor4j.core.nn.StopGradient;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * MoRE, Mixture of Low-Rank Experts (arXiv 2505.22694): the experts are the ranks of one shared LoRA pair, and a
 * learned selector picks one per task. Expert k is the LoRA made of the first {@code r_k} rows of A and the first
 * {@code r_k} columns of B; for an example of task t:
 * <pre>
 *   p   = softmax(W_g · E[t] + b_g)                      [K]
 *   k*  = argmax p,  w = p[k*] − stop(p[k*]) + 1         (value exactly 1, gradient that of p[k*])
 *   y   = W x + s · w · B[:, :r_k*] (A[:r_k*] · dropout(x))
 * </pre>
 * computed for a batch that mixes tasks as one LoRA product with a per-rank mask,
 * {@code y = W x + ((dropout(x) Aᵀ) ⊙ s·m) Bᵀ}, {@code m [tokens, R]} holding w in the first {@code r_k*} columns of
 * each position's example and 0 after. An example whose task id is outside the task list (−1) gets m = 0: the
 * base model, which {@code task auto} uses to compare a prompt with the tasks before choosing one.
 *
 * <table>
 *   <caption>Weights, under {@code <prefix>.<key>}</caption>
 *   <tr><th>symbol</th><th>key</th><th>shape</th><th>initialisation</th></tr>
 *   <tr><td>A</td><td>{@code lora_A.weight}</td><td>{@code [R, d_in]}</td><td>kaiming-uniform, a = √5</td></tr>
 *   <tr><td>B</td><td>{@code lora_B.weight}</td><td>{@code [d_out, R]}</td><td>zero</td></tr>
 *   <tr><td>W_g</td><td>{@code more_gate.weight}</td><td>{@code [K, d_in]}</td><td>kaiming-uniform, a = √5</td></tr>
 *   <tr><td>b_g</td><td>{@code more_gate.bias}</td><td>{@code [K]}</td><td>zero</td></tr>
 *   <tr><td>E</td><td>{@code more_task_embedding}</td><td>{@code [tasks, d_in]}</td><td>{@code N(0, 0.01²)}</td></tr>
 * </table>
 * R = {@code r}, the largest rank; K rank experts {@code r_1 < … < r_K ≤ R} ({@code rank_experts}, default 1…R);
 * {@code s = α/R} ({@code α/√R} with rsLoRA).
 *
 * <p>Task alignment, so that a prompt's task can be recognised: with {@code x̄_e} the mean of example e's real
 * inputs x (before dropout), the similarities {@code S[e,t] = cos(x̄_e, E[t]) / τ} {@code [E, tasks]} and the
 * cross-entropy {@code CE = mean_e (logsumexp_t S[e,t] − S[e,t_e])}; training adds {@code λ·CE / M} to the loss
 * (λ = {@code task_loss_weight}, τ = {@code task_temperature}, M the model's number of adapted modules), so the
 * model's loss gains λ times the mean over modules. The original takes the first token's input instead of the
 * mean; in a LLaMA prompt that is always BOS, whose input is the same for every task, so the mean over the
 * example's tokens is used.
 */
public final class MixtureOfRankExperts extends BaseAdapterLayer {

    public static final String LORA_A = LoraLayer.LORA_A;
    public static final String LORA_B = LoraLayer.LORA_B;
    public static final String GATE_WEIGHT = "more_gate.weight";
    public static final String GATE_BIAS = "more_gate.bias";
    public static final String TASK_EMBEDDING = "more_task_embedding";
    /** Standard deviation of the task embeddings' initialisation. */
    public static final double EMBEDDING_STD = 0.01;
    /** The smallest norm a vector is divided by when normalised (as PyTorch's {@code F.normalize}). */
    static final double NORM_EPS = 1e-12;

    private final int[] ranks; // [K]: r_1 < … < r_K ≤ R
    private final List<String> tasks;
    private final double taskLossWeight;
    private final double temperature;

    public MixtureOfRankExperts(AdapterConfig config, String prefix, FrozenLinear base) {
        super(config, prefix, base);
        this.ranks = config.rankExpertsOrDefault().stream().mapToInt(Integer::intValue).toArray();
        this.tasks = config.taskNames();
        this.taskLossWeight = config.taskLossWeightOrDefault();
        this.temperature = config.taskTemperatureOrDefault();
        if (!(temperature > 0)) {
            throw new MorException(prefix + ": task_temperature must be > 0, got " + temperature);
        }
        if (taskLossWeight < 0) {
            throw new MorException(prefix + ": task_loss_weight must be ≥ 0, got " + taskLossWeight);
        }
    }

    /** The rank experts' ranks {@code r_1 < … < r_K}. */
    public int[] ranks() {
        return ranks.clone();
    }

    /** The task names; a task id indexes this list. */
    public List<String> tasks() {
        return tasks;
    }

    @Override
    public LinkedHashMap<String, long[]> weightShapes() {
        LinkedHashMap<String, long[]> shapes = loraPairShapes();
        shapes.put(key(GATE_WEIGHT), new long[] {ranks.length, dIn});
        shapes.put(key(GATE_BIAS), new long[] {ranks.length});
        shapes.put(key(TASK_EMBEDDING), new long[] {tasks.size(), dIn});
        return shapes;
    }

    @Override
    public Map<String, INDArray> initialWeights(Random rng) {
        Map<String, INDArray> w = loraPairInit(rng);
        w.put(key(GATE_WEIGHT), WeightInit.kaimingUniform(rng, dataType(), ranks.length, dIn));
        w.put(key(GATE_BIAS), WeightInit.zeros(dataType(), ranks.length));
        w.put(key(TASK_EMBEDDING), WeightInit.normal(rng, dataType(), 0.0, EMBEDDING_STD, tasks.size(), dIn));
        return w;
    }

    @Override
    public SDVariable forward(AdapterContext ctx, SDVariable x) {
        SameDiff sd = ctx.sd();
        DataType dt = dataType();
        int k = ranks.length;
        TaskInputs in = ctx.taskInputs(tasks.size(), dt);
        SDVariable a = ctx.weight(key(LORA_A), r, dIn); // [R, d_in]
        SDVariable b = ctx.weight(key(LORA_B), dOut, r); // [d_out, R]
        SDVariable wg = ctx.weight(key(GATE_WEIGHT), k, dIn); // [K, d_in]
        SDVariable bg = ctx.weight(key(GATE_BIAS), k); // [K]
        SDVariable emb = ctx.weight(key(TASK_EMBEDDING), tasks.size(), dIn); // [tasks, d_in]

        SDVariable e = sd.mmul(in.taskOneHot(), emb); // [E, d_in]: E[t_e], 0 for no task
        // Few ops on small arrays: in SameDiff each op costs about 0.25 ms whatever its size (forward and backward),
        // which is what MoRE adds to a LoRA product
        SDVariable logits = sd.mmul(e, wg, false, true, false).add(bg); // [E, K]: bg [K] broadcast over the rows
        SDVariable p = sd.nn.softmax(Router.freeName(sd, prefix + ".rank_probabilities"), logits, 1); // [E, K]
        SDVariable valid = in.valid(); // [E, 1]: 1 for a task, 0 for none
        // argmax yields integers, so the choice is a constant for gradients
        SDVariable chosen = sd.oneHot(sd.argmax(p, 1), k, 1, 1.0, 0.0, dt).mul(valid); // [E, K]
        SDVariable w = p.mul(chosen).sum(true, 1); // [E, 1]: p[k*]
        SDVariable straight = w.sub(StopGradient.of(sd, w)).add(valid); // [E, 1]: value 1 (0 without task)
        SDVariable rowMask = sd.mmul(chosen, sd.constant(rankMasks(dt, scaling))).mul(straight); // [E, R]: s·m
        SDVariable scaledMask = sd.mmul(in.tokenExample(), rowMask); // [tokens, R]

        SDVariable h = sd.mmul(dropout(ctx, x), a, false, true, false); // [tokens, R]
        SDVariable delta = sd.mmul(h.mul(scaledMask), b, false, true, false); // [tokens, d_out]

        SDVariable similarity = taskSimilarity(sd, in, x, emb); // [E, tasks]
        ctx.recordTaskSimilarity(prefix, similarity);
        if (ctx.training() && taskLossWeight > 0) {
            ctx.addAuxLoss(alignmentLoss(sd, in, similarity, taskLossWeight / ctx.adaptedModules(),
                    Router.freeName(sd, prefix + ".task_loss")));
        }
        return base.forward(sd, x).add(delta); // [tokens, d_out]
    }

    /** {@code [K, R]}: row k holds {@code value} in its first {@code r_k} columns, 0 after. */
    private INDArray rankMasks(DataType dt, double value) {
        INDArray m = Nd4j.zeros(dt, ranks.length, r); // [K, R]
        for (int i = 0; i < ranks.length; i++) {
            m.get(NDArrayIndex.point(i), NDArrayIndex.interval(0, ranks[i])).assign(value);
        }
        return m;
    }

    /** {@code S[e,t] = cos(x̄_e, E[t]) / τ}, {@code [E, tasks]}, from the examples' mean inputs. */
    private SDVariable taskSimilarity(SameDiff sd, TaskInputs in, SDVariable x, SDVariable emb) {
        SDVariable mean = in.mean(sd, x); // [E, d_in]
        SDVariable meanUnit = mean.div(norm(sd, mean)); // [E, d_in]
        SDVariable embUnit = emb.div(norm(sd, emb)); // [tasks, d_in]
        SDVariable cos = sd.mmul(meanUnit, embUnit, false, true, false); // [E, tasks]
        return cos.div(Router.freeName(sd, prefix + ".task_similarity"), temperature); // [E, tasks]
    }

    /** Row norms {@code max(‖v‖, eps)}, {@code [rows, 1]}. */
    private static SDVariable norm(SameDiff sd, SDVariable v /* [rows, d] */) {
        return sd.scalarMax(sd.norm2(v, true, 1), NORM_EPS); // [rows, 1]
    }

    /**
     * {@code factor · mean_e (logsumexp_t S[e,t] − S[e,t_e])} over the examples that have a task, as
     * {@code −Σ_{e,t} log_softmax(S)[e,t] · factor · onehot(t_e)[t] / #examples with a task}.
     */
    private static SDVariable alignmentLoss(SameDiff sd, TaskInputs in, SDVariable s /* [E, tasks] */, double factor,
            String name) {
        SDVariable logP = sd.nn.logSoftmax(s); // [E, tasks]: along the last axis (the explicit-axis form breaks M2.1's gradient)
        return logP.mul(in.alignmentWeights(-factor)).sum(name); // scalar
    }

    /**
     * The selector of one task: {@code p = softmax(W_g·E[t] + b_g)} {@code [K]}, computed here in float64.
     *
     * @throws MorException when {@code task} is not an index into the task list
     */
    public double[] rankProbabilities(Map<String, INDArray> weights, int task) {
        requireTask(task);
        INDArray wg = require(weights, key(GATE_WEIGHT), ranks.length, dIn).castTo(DataType.DOUBLE); // [K, d_in]
        INDArray bg = require(weights, key(GATE_BIAS), ranks.length).castTo(DataType.DOUBLE); // [K]
        INDArray emb = require(weights, key(TASK_EMBEDDING), tasks.size(), dIn).castTo(DataType.DOUBLE); // [tasks, d_in]
        INDArray logits = wg.mmul(emb.getRow(task).reshape(dIn, 1)).reshape(ranks.length).addi(bg); // [K]
        double max = logits.maxNumber().doubleValue();
        double[] p = new double[ranks.length];
        double sum = 0;
        for (int i = 0; i < p.length; i++) {
            p[i] = Math.exp(logits.getDouble(i) - max);
            sum += p[i];
        }
        for (int i = 0; i < p.length; i++) {
            p[i] /= sum;
        }
        return p;
    }

    /** The rank expert a task uses: the first index of the largest {@link #rankProbabilities}. */
    public int chosenExpert(Map<String, INDArray> weights, int task) {
        double[] p = rankProbabilities(weights, task);
        int best = 0;
        for (int i = 1; i < p.length; i++) {
            if (p[i] > p[best]) {
                best = i;
            }
        }
        return best;
    }

    /** The rank {@code r_k*} a task uses. */
    public int chosenRank(Map<String, INDArray> weights, int task) {
        return ranks[chosenExpert(weights, task)];
    }

    /**
     * The plain LoRA pair a task uses, {@code A[:r_k*]} {@code [r_k*, d_in]} and {@code s·B[:, :r_k*]}
     * {@code [d_out, r_k*]} (scaling folded into B, the straight-through weight being exactly 1), so that
     * {@code y = W x + B' A' x}.
     *
     * @return {@code {A', B'}}
     */
    public INDArray[] taskLora(Map<String, INDArray> weights, int task) {
        int rank = chosenRank(weights, task);
        INDArray a = require(weights, key(LORA_A), r, dIn); // [R, d_in]
        INDArray b = require(weights, key(LORA_B), dOut, r); // [d_out, R]
        INDArray aK = a.get(NDArrayIndex.interval(0, rank), NDArrayIndex.all()).dup(); // [r_k, d_in]
        INDArray bK = b.get(NDArrayIndex.all(), NDArrayIndex.interval(0, rank)).mul(scaling); // [d_out, r_k]
        return new INDArray[] {aK, bK};
    }

    /** {@code W + s·B[:, :r_k*] A[:r_k*]} {@code [d_out, d_in]}: the base weight with a task's LoRA folded in. */
    public INDArray mergedWeight(Map<String, INDArray> weights, int task) {
        INDArray[] ab = taskLora(weights, task);
        return base.weight().add(ab[1].mmul(ab[0])); // [d_out, d_in]
    }

    /** @throws MorException always: MoRE merges one task at a time ({@link #mergedWeight(Map, int)}) */
    @Override
    public INDArray mergedWeight(Map<String, INDArray> weights) {
        throw new MorException(prefix + ": a MoRE adapter holds one LoRA per task; merge it for one task (--task NAME)");
    }

    private void requireTask(int task) {
        if (task < 0 || task >= tasks.size()) {
            throw new MorException(prefix + ": task id " + task + " is outside [0, " + tasks.size() + ") of tasks "
                    + tasks);
        }
    }
}
