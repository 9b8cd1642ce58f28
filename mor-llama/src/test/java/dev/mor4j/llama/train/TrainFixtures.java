package dev.mor4j.llama.train;

import dev.mor4j.core.adapter.AdapterConfig;
import dev.mor4j.core.adapter.RouterType;
import dev.mor4j.core.TestData;
import dev.mor4j.llama.data.EncodeStats;
import dev.mor4j.llama.data.EncodedExample;
import dev.mor4j.llama.data.TuluEncoder;
import dev.mor4j.llama.data.TuluReader;
import dev.mor4j.llama.model.LlamaModel;
import dev.mor4j.llama.tokenizer.Tokenizer;
import java.util.List;
import java.util.stream.Stream;

/** The tiny model and the encoded Tulu sample, loaded once for the training tests. */
final class TrainFixtures {

    private static LlamaModel model;
    private static Tokenizer tokenizer;

    private TrainFixtures() {
    }

    static synchronized LlamaModel model() {
        if (model == null) {
            model = LlamaModel.load(TestData.model("tiny-llama-f32"));
        }
        return model;
    }

    static synchronized Tokenizer tokenizer() {
        if (tokenizer == null) {
            tokenizer = Tokenizer.load(TestData.root().resolve("tokenizers/sp-bpe-32k"));
        }
        return tokenizer;
    }

    /** The 16 sample conversations encoded at {@code maxLen}. */
    static List<EncodedExample> sample(int maxLen) {
        TuluEncoder encoder = new TuluEncoder(tokenizer(), maxLen);
        try (Stream<dev.mor4j.llama.data.Conversation> s =
                     TuluReader.openStrict(TestData.root().resolve("tulu/tulu_v2_sample.jsonl")).stream()) {
            return encoder.encodeAll(s, new EncodeStats()).toList();
        }
    }

    /** MoR on gate/up/down with the paper's shape (N 8, r 8, α 32) and the given dropout. */
    static AdapterConfig mor(double dropout) {
        return AdapterConfig.mor().rank(8).alpha(32).dropout(dropout).experts(8).router(RouterType.SOFTMAX).build();
    }
}
