package dev.mor4j.core.train;

import java.util.Map;
import java.util.Objects;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.GradientUpdater;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.schedule.ISchedule;
import org.nd4j.shade.jackson.annotation.JsonProperty;

/**
 * Adam with PyTorch's arithmetic, as an updater for SameDiff's own training loop ({@code sd.fit}).
 *
 * <p>ND4J's {@code Adam} adds ε to {@code sqrt(v)} before the bias correction, which in PyTorch's terms is
 * an ε larger by {@code 1/sqrt(1-β₂ᵗ)} (about 32× at the first step): updates of small gradients then differ
 * from {@code torch.optim.Adam}. This updater computes exactly PyTorch's
 * {@code p -= lr/(1-β₁ᵗ) · m / (sqrt(v)/sqrt(1-β₂ᵗ) + ε)}. For AdamW's decoupled weight decay add SameDiff's
 * {@code WeightDecay(λ, true)} regularization, which subtracts {@code lr·λ·p} like {@code torch.optim.AdamW}.
 */
public final class TorchAdam implements IUpdater {

    // ND4J serialises updaters with its shaded Jackson (e.g. in SameDiff.dup()), hence the annotations.
    @JsonProperty("learningRate")
    private double learningRate;
    @JsonProperty("learningRateSchedule")
    private ISchedule learningRateSchedule;
    @JsonProperty("beta1")
    private final double beta1;
    @JsonProperty("beta2")
    private final double beta2;
    @JsonProperty("epsilon")
    private final double epsilon;

    public TorchAdam(@JsonProperty("learningRate") double learningRate, @JsonProperty("beta1") double beta1,
            @JsonProperty("beta2") double beta2, @JsonProperty("epsilon") double epsilon) {
        this.learningRate = learningRate;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.epsilon = epsilon;
    }

    public double beta1() {
        return beta1;
    }

    public double beta2() {
        return beta2;
    }

    public double epsilon() {
        return epsilon;
    }

    @Override
    public long stateSize(long numParams) {
        return 2 * numParams; // m and v
    }

    @Override
    public GradientUpdater instantiate(INDArray viewArray, boolean initializeViewArray) {
        TorchAdamUpdater u = new TorchAdamUpdater(this);
        u.setStateViewArray(viewArray, new long[] {viewArray.length() / 2}, 'c', initializeViewArray);
        return u;
    }

    @Override
    public GradientUpdater instantiate(Map<String, INDArray> updaterState, boolean initializeStateArrays) {
        TorchAdamUpdater u = new TorchAdamUpdater(this);
        u.setState(updaterState, initializeStateArrays);
        return u;
    }

    @Override
    public TorchAdam clone() {
        TorchAdam c = new TorchAdam(learningRate, beta1, beta2, epsilon);
        c.learningRateSchedule = learningRateSchedule == null ? null : learningRateSchedule.clone();
        return c;
    }

    @Override
    public double getLearningRate(int iteration, int epoch) {
        return learningRateSchedule != null ? learningRateSchedule.valueAt(iteration, epoch) : learningRate;
    }

    @Override
    public boolean hasLearningRate() {
        return true;
    }

    @Override
    public void setLrAndSchedule(double lr, ISchedule lrSchedule) {
        this.learningRate = lr;
        this.learningRateSchedule = lrSchedule;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TorchAdam t && t.learningRate == learningRate && t.beta1 == beta1 && t.beta2 == beta2
                && t.epsilon == epsilon && Objects.equals(t.learningRateSchedule, learningRateSchedule);
    }

    @Override
    public int hashCode() {
        return Objects.hash(learningRate, beta1, beta2, epsilon, learningRateSchedule);
    }
}
