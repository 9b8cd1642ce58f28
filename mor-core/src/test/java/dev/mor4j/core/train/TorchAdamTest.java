package dev.mor4j.core.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.TrainingConfig;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.MultiDataSet;
import org.nd4j.linalg.factory.Nd4j;

/** SameDiff's own fit loop with TorchAdam takes exactly the steps of the PyTorch-semantics AdamW (λ = 0). */
class TorchAdamTest {

    @Test
    void fitWithTorchAdamMatchesAdamWStepForStep() {
        Nd4j.getRandom().setSeed(7);
        INDArray x = Nd4j.randn(DataType.DOUBLE, 16, 5); // [n, d]
        INDArray y = Nd4j.randn(DataType.DOUBLE, 16, 3); // [n, k]
        // tiny gradients on purpose: where ND4J's Adam and PyTorch's differ most
        INDArray w0 = Nd4j.randn(DataType.DOUBLE, 5, 3).muli(1e-3); // [d, k]

        SameDiff sd = SameDiff.create();
        SDVariable in = sd.placeHolder("x", DataType.DOUBLE, -1, 5);
        SDVariable target = sd.placeHolder("y", DataType.DOUBLE, -1, 3);
        SDVariable w = sd.var("w", w0.dup());
        SDVariable diff = in.mmul(w).sub(target).mul(1e-6);
        SDVariable loss = diff.mul(diff).mean();
        sd.setLossVariables(loss);
        sd.setTrainingConfig(TrainingConfig.builder().updater(new TorchAdam(0.01, 0.9, 0.999, 1e-8))
                .dataSetFeatureMapping(List.of("x", "y")).markLabelsUnused().minimize(loss.name()).build());

        SameDiff ref = sd.dup();
        INDArray wRef = w0.dup();
        AdamW adamW = new AdamW(Map.of("w", wRef), 0.9, 0.999, 1e-8, 0.0);
        for (int step = 0; step < 6; step++) {
            ref.getVariable("w").getArr().assign(wRef);
            INDArray g = ref.calculateGradients(Map.of("x", x, "y", y), "w").get("w");
            adamW.step(Map.of("w", g), 0.01);
            sd.fit(new MultiDataSet(new INDArray[] {x, y}, new INDArray[0]));
            double d = sd.getVariable("w").getArr().sub(wRef).amaxNumber().doubleValue();
            assertTrue(d < 1e-12, "step " + step + ": max |Δw| " + d);
        }
        assertEquals(6, adamW.stepCount());
    }

    @Test
    void differsFromNd4jAdamOnSmallGradients() {
        // the reason this updater exists: ND4J's epsilon placement changes the first step for |g| ~ ε
        INDArray g = Nd4j.createFromArray(1e-8, 1.0);
        INDArray ours = g.dup();
        new TorchAdam(1.0, 0.9, 0.999, 1e-8).instantiate(Nd4j.zeros(DataType.DOUBLE, 1, 4), true).applyUpdater(ours, 0, 0);
        INDArray nd4j = g.dup();
        new org.nd4j.linalg.learning.config.Adam(1.0, 0.9, 0.999, 1e-8).instantiate(Nd4j.zeros(DataType.DOUBLE, 1, 4), true)
                .applyUpdater(nd4j, 0, 0);
        assertEquals(0.5, ours.getDouble(0), 1e-9, "PyTorch: g/(|g| + ε) = 0.5 at |g| = ε");
        assertEquals(1.0, ours.getDouble(1), 1e-7);
        assertTrue(Math.abs(nd4j.getDouble(0) - 0.5) > 0.1, "ND4J's Adam gives " + nd4j.getDouble(0));
    }
}
