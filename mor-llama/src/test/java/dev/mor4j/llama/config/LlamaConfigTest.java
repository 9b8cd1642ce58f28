package dev.mor4j.llama.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mor4j.core.MorException;
import dev.mor4j.core.TestData;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LlamaConfigTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    private ObjectNode fixture() throws Exception {
        return (ObjectNode) JSON.readTree(TestData.model("tiny-llama-f32").resolve("config.json").toFile());
    }

    private LlamaConfig load(ObjectNode n) throws Exception {
        Path f = tmp.resolve("config.json");
        JSON.writeValue(f.toFile(), n);
        return LlamaConfig.load(tmp);
    }

    @Test
    void readsTheTransformers5Layout() {
        LlamaConfig c = LlamaConfig.load(TestData.model("tiny-llama-f32"));
        assertEquals(32, c.hiddenSize());
        assertEquals(88, c.intermediateSize());
        assertEquals(2, c.numHiddenLayers());
        assertEquals(4, c.numAttentionHeads());
        assertEquals(2, c.numKeyValueHeads());
        assertEquals(8, c.headDim());
        assertEquals(1e-5, c.rmsNormEps());
        assertEquals(10000.0, c.ropeTheta());
        assertEquals(32000, c.vocabSize());
        assertEquals(1, c.bosTokenId());
        assertEquals(java.util.List.of(2), c.eosTokenIds());
    }

    @Test
    void readsTheTransformers4LayoutAndDefaults() throws Exception {
        ObjectNode n = fixture();
        n.remove("rope_parameters");
        n.put("rope_theta", 500000.0);
        n.remove("head_dim");
        n.remove("num_key_value_heads");
        n.put("tie_word_embeddings", true);
        LlamaConfig c = load(n);
        assertEquals(500000.0, c.ropeTheta());
        assertEquals(8, c.headDim(), "head_dim defaults to hidden / heads");
        assertEquals(4, c.numKeyValueHeads(), "num_key_value_heads defaults to heads");
        assertTrue(c.tieWordEmbeddings());
        n.remove("rope_theta");
        assertEquals(10000.0, load(n).ropeTheta(), "no rope theta at all means 10000");
    }

    @Test
    void missingFieldIsNamed() throws Exception {
        ObjectNode n = fixture();
        n.remove("intermediate_size");
        MorException e = assertThrows(MorException.class, () -> load(n));
        assertTrue(e.getMessage().contains("config.json") && e.getMessage().contains("'intermediate_size'"), e.getMessage());
    }

    @Test
    void unsupportedFeaturesAreRefusedByName() throws Exception {
        ObjectNode bias = fixture();
        bias.put("attention_bias", true);
        assertTrue(assertThrows(MorException.class, () -> load(bias)).getMessage().contains("attention_bias"));
        ObjectNode rope = fixture();
        ((ObjectNode) rope.get("rope_parameters")).put("rope_type", "yarn");
        assertTrue(assertThrows(MorException.class, () -> load(rope)).getMessage().contains("yarn"));
        ObjectNode type = fixture();
        type.put("model_type", "gpt2");
        assertTrue(assertThrows(MorException.class, () -> load(type)).getMessage().contains("gpt2"));
    }

    /** LLaMA 3.1's config.json as transformers 4 writes it: top-level rope_theta and rope_scaling. */
    @Test
    void readsLlama31RopeScalingInTheTransformers4Layout() throws Exception {
        ObjectNode n = fixture();
        n.remove("rope_parameters");
        n.put("rope_theta", 500000.0);
        ObjectNode scaling = n.putObject("rope_scaling");
        scaling.put("factor", 8.0);
        scaling.put("low_freq_factor", 1.0);
        scaling.put("high_freq_factor", 4.0);
        scaling.put("original_max_position_embeddings", 8192);
        scaling.put("rope_type", "llama3");
        LlamaConfig c = load(n);
        assertEquals(500000.0, c.ropeTheta());
        assertEquals(new RopeScaling(RopeScaling.Type.LLAMA3, 8.0, 1.0, 4.0, 8192), c.ropeScaling());
    }

    /** The same in transformers 5's layout: everything under rope_parameters. */
    @Test
    void readsLlama31RopeScalingInTheTransformers5Layout() throws Exception {
        ObjectNode n = fixture();
        ObjectNode params = (ObjectNode) n.get("rope_parameters");
        params.put("rope_theta", 500000.0);
        params.put("rope_type", "llama3");
        params.put("factor", 32.0);
        params.put("low_freq_factor", 1.0);
        params.put("high_freq_factor", 4.0);
        params.put("original_max_position_embeddings", 8192);
        LlamaConfig c = load(n);
        assertEquals(500000.0, c.ropeTheta());
        assertEquals(new RopeScaling(RopeScaling.Type.LLAMA3, 32.0, 1.0, 4.0, 8192), c.ropeScaling());
        assertEquals(RopeScaling.NONE, LlamaConfig.load(TestData.model("tiny-llama-f32")).ropeScaling(),
                "rope_type default means no scaling");
    }

    @Test
    void llama3ScalingWithoutItsFactorsIsRefusedByField() throws Exception {
        ObjectNode n = fixture();
        ObjectNode params = (ObjectNode) n.get("rope_parameters");
        params.put("rope_type", "llama3");
        params.put("factor", 8.0);
        params.put("low_freq_factor", 1.0);
        params.put("original_max_position_embeddings", 8192);
        MorException e = assertThrows(MorException.class, () -> load(n));
        assertTrue(e.getMessage().contains("rope_parameters") && e.getMessage().contains("'high_freq_factor'"),
                e.getMessage());
    }

    @Test
    void brokenJsonIsReported() throws Exception {
        Files.writeString(tmp.resolve("config.json"), "{\"hidden_size\": 32,");
        MorException e = assertThrows(MorException.class, () -> LlamaConfig.load(tmp));
        assertTrue(e.getMessage().contains("config.json") && e.getMessage().contains("not valid JSON"), e.getMessage());
    }
}
