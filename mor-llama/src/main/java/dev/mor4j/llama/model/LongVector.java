package dev.mor4j.llama.model;

import java.util.ArrayList;
import java.util.List;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.factory.Nd4j;

/** Dynamic shape and index vectors: LONG vectors joined from {@code [1]} graph variables and numbers. */
final class LongVector {

    private LongVector() {
    }

    /**
     * @param parts each a {@code [1]} LONG variable (e.g. a batch's T) or a {@link Number}
     * @return {@code [parts.length]} LONG
     */
    static SDVariable of(SameDiff sd, Object... parts) {
        List<SDVariable> vars = new ArrayList<>();
        for (Object p : parts) {
            vars.add(p instanceof SDVariable ? (SDVariable) p
                    : sd.constant(Nd4j.createFromArray(((Number) p).longValue())));
        }
        return sd.concat(0, vars.toArray(new SDVariable[0]));
    }
}
