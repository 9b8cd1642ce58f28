package dev.mor4j.paper;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.mor4j.llama.eval.RouterProbe;
import java.util.List;
import org.junit.jupiter.api.Test;

class SpecialisationTest {

    private static RouterProbe.TaskWeights weights(double[][][] w) {
        return new RouterProbe.TaskWeights(List.of("m0", "m1"), 2, List.of("t0", "t1", "t2"), new int[] {4, 4, 4}, w);
    }

    @Test
    void theSameMixtureForEveryTaskIsZeroAndDisjointExpertsAreOne() {
        double[][] uniform = {{0.5, 0.5}, {0.5, 0.5}};
        assertEquals(0, Specialisation.index(weights(new double[][][] {uniform, uniform, uniform})), 1e-12);
        double[][] first = {{1, 0}, {1, 0}};
        double[][] second = {{0, 1}, {0, 1}};
        // pairs: (first, second) 1, (first, first) 0, (second, first) 1 → mean 2/3 in both modules
        assertEquals(2.0 / 3, Specialisation.index(weights(new double[][][] {first, second, first})), 1e-12);
    }

    @Test
    void expertNumberingDoesNotMatterAndModulesAreAveraged() {
        double[][] a = {{0.9, 0.1}, {0.6, 0.4}};
        double[][] b = {{0.1, 0.9}, {0.4, 0.6}};
        double[][] aSwapped = {{0.1, 0.9}, {0.4, 0.6}};
        double[][] bSwapped = {{0.9, 0.1}, {0.6, 0.4}};
        double index = Specialisation.index(weights(new double[][][] {a, b, a}));
        assertEquals(index, Specialisation.index(weights(new double[][][] {aSwapped, bSwapped, aSwapped})), 1e-12);
        // module 0: TV 0.8, 0, 0.8 → 0.5333; module 1: 0.2, 0, 0.2 → 0.1333
        assertEquals((1.6 / 3 + 0.4 / 3) / 2, index, 1e-12);
        assertArrayEquals(new double[] {0.75, 0.25}, Specialisation.overModules(weights(new double[][][] {a, b, a}))[0],
                1e-12);
    }
}
