package dev.mor4j.core.train;

import java.util.HashMap;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.GradientUpdater;
import org.nd4j.linalg.ops.transforms.Transforms;

/** The state and update rule of {@link TorchAdam}: turns a gradient into PyTorch's Adam step in place. */
final class TorchAdamUpdater implements GradientUpdater<TorchAdam> {

    static final String M_STATE = "M";
    static final String V_STATE = "V";

    private final TorchAdam config;
    private INDArray m; // shaped like the gradient
    private INDArray v; // shaped like the gradient

    TorchAdamUpdater(TorchAdam config) {
        this.config = config;
    }

    @Override
    public TorchAdam getConfig() {
        return config;
    }

    @Override
    public void setState(Map<String, INDArray> stateMap, boolean initialize) {
        if (!stateMap.containsKey(M_STATE) || !stateMap.containsKey(V_STATE)) {
            throw new IllegalStateException("TorchAdam state needs " + M_STATE + " and " + V_STATE + ", got " + stateMap.keySet());
        }
        m = stateMap.get(M_STATE);
        v = stateMap.get(V_STATE);
        if (initialize) {
            m.assign(0);
            v.assign(0);
        }
    }

    @Override
    public Map<String, INDArray> getState() {
        Map<String, INDArray> s = new HashMap<>();
        s.put(M_STATE, m);
        s.put(V_STATE, v);
        return s;
    }

    @Override
    public void setStateViewArray(INDArray viewArray, long[] gradientShape, char gradientOrder, boolean initialize) {
        if (initialize) {
            viewArray.assign(0);
        }
        INDArray flat = viewArray.reshape(viewArray.length()); // [2·n]
        long n = flat.length() / 2;
        m = flat.get(NDArrayIndex.interval(0, n)).reshape(gradientOrder, gradientShape);
        v = flat.get(NDArrayIndex.interval(n, 2 * n)).reshape(gradientOrder, gradientShape);
    }

    /** {@code iteration} is SameDiff's 0-based count of updates so far: PyTorch's step is {@code iteration + 1}. */
    @Override
    public void applyUpdater(INDArray gradient, int iteration, int epoch) {
        double b1 = config.beta1();
        double b2 = config.beta2();
        long t = iteration + 1L;
        double lr = config.getLearningRate(iteration, epoch);
        double stepSize = lr / (1 - Math.pow(b1, t));
        double correction2Sqrt = Math.sqrt(1 - Math.pow(b2, t));
        INDArray g = gradient.reshape(m.shape()); // shaped like the state; read only
        m.muli(b1).addi(g.mul(1 - b1));
        v.muli(b2).addi(g.mul(g).muli(1 - b2));
        INDArray denom = Transforms.sqrt(v, true).divi(correction2Sqrt).addi(config.epsilon());
        gradient.assign(m.mul(stepSize).divi(denom).reshape(gradient.shape()));
    }
}
