package dev.mor4j.llama.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mor4j.core.MorException;
import dev.mor4j.core.adapter.AdapterConfig;
import dev.mor4j.core.adapter.MixtureOfRanks;
import dev.mor4j.core.adapter.MorForm;
import dev.mor4j.core.train.StepMetrics;
import dev.mor4j.core.train.TrainConfig;
import dev.mor4j.llama.adapter.LlamaAdapters;
import dev.mor4j.llama.data.EncodedExample;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/** MoR's three forms change the cost of training, not what it learns. */
class MorFormsTrainingTest {

    private static final List<EncodedExample> SAMPLE = TrainFixtures.sample(256);

    /**
     * Three steps of AdamW in each form from the same start. Adam's ε is 1e-4 instead of 1e-8: Adam divides by the
     * gradient's own root mean square, so with ε = 1e-8 an entry whose gradient is zero up to float rounding (the
     * router's, while B is still near zero, where the forms round differently) takes a step of about the learning rate
     * in whichever direction its rounding points. With ε = 1e-4 such an entry moves by about
     * {@code lr · g / ε}, and the comparison measures the forms' gradients rather than the sign of their rounding.
     */
    @Test
    void everyFormTrainsTheSameWeights() {
        TrainConfig cfg = TrainConfig.builder().learningRate(1e-2).adamEpsilon(1e-4).maxSteps(3).seed(42).build();
        Map<MorForm, Map<String, INDArray>> trained = new EnumMap<>(MorForm.class);
        Map<MorForm, double[]> losses = new EnumMap<>(MorForm.class);
        for (MorForm form : MorForm.values()) {
            LlamaAdapters mor = LlamaAdapters.create(TrainFixtures.model().weights(), TrainFixtures.mor(0.05), 42);
            LlamaFineTune ft = LlamaFineTune.builder(TrainFixtures.model(), mor, SAMPLE).trainConfig(cfg).morForm(form)
                    .messages(m -> { }).build();
            assertEquals(form, ft.adapters().morForm());
            assertSame(mor.weights(), ft.adapters().weights(), "the form's adapters train the caller's arrays");
            ft.adapters().layers().values().forEach(l -> assertEquals(form, ((MixtureOfRanks) l).form()));
            FineTuneResult r = ft.train();
            losses.put(form, r.steps().stream().mapToDouble(StepMetrics::loss).toArray());
            trained.put(form, mor.weights());
        }
        Map<String, INDArray> reference = trained.get(MorForm.EXPANDED);
        double worstWeight = 0;
        double worstLoss = 0;
        for (MorForm form : List.of(MorForm.STACKED, MorForm.LOOP)) {
            for (int step = 0; step < 3; step++) {
                double a = losses.get(MorForm.EXPANDED)[step];
                double b = losses.get(form)[step];
                worstLoss = Math.max(worstLoss, Math.abs(a - b));
                assertTrue(Math.abs(a - b) <= 1e-5, form + ", step " + (step + 1) + ": loss " + b + ", EXPANDED " + a);
            }
            for (Map.Entry<String, INDArray> e : reference.entrySet()) {
                INDArray moved = trained.get(form).get(e.getKey());
                double d = moved.castTo(DataType.DOUBLE).sub(e.getValue().castTo(DataType.DOUBLE)).amaxNumber()
                        .doubleValue();
                worstWeight = Math.max(worstWeight, d);
                assertTrue(d <= 1e-5, form + ": " + e.getKey() + " differs from EXPANDED's by " + d);
            }
        }
        INDArray b = reference.get(reference.keySet().stream().filter(k -> k.endsWith("lora_B.weight")).findFirst()
                .orElseThrow());
        assertTrue(b.amaxNumber().doubleValue() > 1e-3, "training must have moved B away from zero");
        System.out.printf("3 MoR steps in each form: trained weights within %.2g, losses within %.2g of EXPANDED's%n",
                worstWeight, worstLoss);
    }

    @Test
    void onlyMorAdaptersHaveForms() {
        LlamaAdapters lora = LlamaAdapters.create(TrainFixtures.model().weights(),
                AdapterConfig.lora().rank(4).alpha(8).targetModules("up_proj").build(), 1);
        assertSame(lora, lora.withMorForm(MorForm.STACKED), "a LoRA adapter has nothing to compute differently");
        TrainConfig cfg = TrainConfig.builder().maxSteps(1).build();
        MorException e = assertThrows(MorException.class, () -> LlamaFineTune.builder(TrainFixtures.model(), lora,
                SAMPLE).trainConfig(cfg).morForm(MorForm.LOOP).messages(m -> { }).build());
        assertEquals("MoR form LOOP asked of LORA adapters; only MoR adapters have forms", e.getMessage());
    }
}
