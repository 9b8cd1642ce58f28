package dev.mor4j.bench;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mor4j.core.MorException;
import dev.mor4j.llama.data.EncodeStats;
import dev.mor4j.llama.data.EncodedExample;
import dev.mor4j.llama.data.TuluEncoder;
import dev.mor4j.llama.data.TuluReader;
import dev.mor4j.llama.tokenizer.Tokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Fine-tuning examples shaped like Tulu-v2 conversations, for throughput measurements: lengths and the
 * prompt/answer split are the bundled sample's, stretched to the run's max length; token ids are random.
 *
 * <p>The distribution, stated: the 16 conversations of {@code testdata/tulu/tulu_v2_sample.jsonl} encoded as
 * Tulu-v2 training encodes them ({@link TuluEncoder}, the bundled {@code sp-bpe-32k} tokenizer, no truncation)
 * give 16 shapes, each a length {@code ℓ} and which positions are labels (the assistants' tokens). On that sample:
 * lengths 32 to 98 tokens (mean 56.4), 316 of 903 positions labelled (35.0 %), 2 to 47 per example. The workload's
 * example {@code i} takes one shape uniformly at random (seeded) and stretches it by {@code s = maxLen / 98} (the
 * longest shape becomes exactly {@code maxLen}; at 1024, {@code s ≈ 10.45} and the mean length is about 589):
 * length {@code round(ℓ·s)}, and position {@code p} labelled when position {@code ⌊p/s⌋} of the shape is. So the
 * labelled share, the number and order of answer spans, and the spread of lengths (a factor of 3 between shortest
 * and longest) are the sample's. Not taken from published Tulu-v2 statistics: real Tulu-v2 data has a longer tail
 * (ShareGPT conversations of thousands of tokens, truncated at the max length), so it pads more than this workload.
 * Token ids are uniform in {@code [3, vocab)} after BOS (1); labels are the ids at labelled positions, −100 elsewhere.
 *
 * @param examples the examples
 * @param maxLen   the longest an example is
 * @param scale    the stretch {@code s}
 */
public record TuluWorkload(List<EncodedExample> examples, int maxLen, double scale) {

    /** The sample file under the test data directory. */
    public static final String SAMPLE = "tulu/tulu_v2_sample.jsonl";

    /** The sample's shapes: for each conversation, which positions are labels. */
    public static List<boolean[]> sampleShapes(Path testdata) {
        Tokenizer tokenizer = Tokenizer.load(testdata.resolve("tokenizers/sp-bpe-32k"));
        TuluEncoder encoder = new TuluEncoder(tokenizer, Integer.MAX_VALUE);
        List<EncodedExample> encoded;
        try (var s = TuluReader.openStrict(testdata.resolve(SAMPLE)).stream()) {
            encoded = encoder.encodeAll(s, new EncodeStats()).toList();
        }
        if (encoded.isEmpty()) {
            throw new MorException(testdata.resolve(SAMPLE) + ": no conversation to take a shape from");
        }
        List<boolean[]> shapes = new ArrayList<>();
        for (EncodedExample e : encoded) {
            boolean[] labelled = new boolean[e.length()];
            for (int p = 0; p < labelled.length; p++) {
                labelled[p] = e.labels()[p] != TuluEncoder.IGNORE_INDEX;
            }
            shapes.add(labelled);
        }
        return shapes;
    }

    /**
     * {@code count} examples drawn from {@code shapes} (see the class comment).
     *
     * @param vocab the model's vocabulary size (token ids are below it)
     */
    public static TuluWorkload of(List<boolean[]> shapes, int count, int maxLen, int vocab, long seed) {
        int longest = shapes.stream().mapToInt(s -> s.length).max().orElseThrow();
        double scale = (double) maxLen / longest;
        SplittableRandom rng = new SplittableRandom(seed);
        List<EncodedExample> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            int shape = rng.nextInt(shapes.size());
            boolean[] labelled = shapes.get(shape);
            int len = (int) Math.max(2, Math.min(maxLen, Math.round(labelled.length * scale)));
            int[] ids = new int[len];
            int[] labels = new int[len];
            for (int p = 0; p < len; p++) {
                ids[p] = p == 0 ? 1 : 3 + rng.nextInt(vocab - 3);
                boolean label = labelled[Math.min(labelled.length - 1, (int) (p / scale))];
                labels[p] = label ? ids[p] : TuluEncoder.IGNORE_INDEX;
            }
            out.add(new EncodedExample("tulu-shape-" + shape + "-" + i, "sample-shape-" + shape, ids, labels));
        }
        return new TuluWorkload(List.copyOf(out), maxLen, scale);
    }

    /** Tokens of all examples. */
    public long tokens() {
        return examples.stream().mapToLong(EncodedExample::length).sum();
    }

    /** Labelled positions of all examples. */
    public long labelled() {
        return examples.stream().mapToLong(EncodedExample::trainableTokens).sum();
    }

    /** The examples as JSON: {@code {max_len, scale, examples: [{id, input_ids, labels}]}}. */
    public ObjectNode json() {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("max_len", maxLen);
        o.put("scale", scale);
        o.put("source", SAMPLE + " shapes stretched by scale, random token ids");
        ArrayNode list = o.putArray("examples");
        for (EncodedExample e : examples) {
            ObjectNode x = list.addObject();
            x.put("id", e.id());
            ArrayNode ids = x.putArray("input_ids");
            ArrayNode labels = x.putArray("labels");
            for (int p = 0; p < e.length(); p++) {
                ids.add(e.inputIds()[p]);
                labels.add(e.labels()[p]);
            }
        }
        return o;
    }
}
