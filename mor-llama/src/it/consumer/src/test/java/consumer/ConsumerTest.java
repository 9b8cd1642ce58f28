package consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mor4j.core.adapter.AdapterConfig;
import dev.mor4j.core.train.TrainConfig;
import dev.mor4j.llama.adapter.LlamaAdapters;
import dev.mor4j.llama.data.Conversation;
import dev.mor4j.llama.data.EncodedExample;
import dev.mor4j.llama.data.Message;
import dev.mor4j.llama.data.Role;
import dev.mor4j.llama.data.TuluEncoder;
import dev.mor4j.llama.model.LlamaModel;
import dev.mor4j.llama.tokenizer.Tokenizer;
import dev.mor4j.llama.train.LlamaFineTune;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a user's project gets from a dependency on {@code dev.mor4j:mor-llama} alone: a CPU backend whose JavaCPP
 * matches its OpenBLAS, and a library that trains (README's Java example) without writing to standard output.
 */
class ConsumerTest {

    private static final Path TESTDATA = Path.of(System.getProperty("mor.testdata"));

    /** The version directory of the jar a class was loaded from (Maven's repository layout). */
    private static String jarVersion(Class<?> c) throws Exception {
        Path jar = Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI());
        return jar.getParent().getFileName().toString();
    }

    @Test
    void javaCppIsTheVersionOpenBlasWasBuiltWith() throws Exception {
        // class literals: neither class is initialised, so nothing native is loaded here
        String javacpp = jarVersion(org.bytedeco.javacpp.Loader.class);
        String openblas = jarVersion(org.bytedeco.openblas.global.openblas.class);
        assertTrue(openblas.endsWith("-" + javacpp), "JavaCPP " + javacpp + " beside OpenBLAS " + openblas);
    }

    @Test
    void theReadmeExampleTrainsAndPrintsNothingOnStandardOutput(@TempDir Path out) throws Exception {
        PrintStream stdout = System.out;
        PrintStream stderr = System.err;
        ByteArrayOutputStream outBytes = new ByteArrayOutputStream();
        ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
        System.setOut(new PrintStream(outBytes, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(errBytes, true, StandardCharsets.UTF_8));
        try {
            readmeExample(TESTDATA.resolve("models/tiny-llama-f32"), TESTDATA.resolve("tokenizers/sp-bpe-32k"), out);
        } finally {
            System.setOut(stdout);
            System.setErr(stderr);
        }
        String err = errBytes.toString(StandardCharsets.UTF_8);
        stderr.print(err);
        assertEquals("", outBytes.toString(StandardCharsets.UTF_8), "standard output");
        assertFalse(err.contains("do not match"), "JavaCPP's version warning on standard error: " + err);
        assertTrue(err.contains("trainable params: "), "the fine-tuning's own messages go to standard error: " + err);
        assertTrue(Files.size(out.resolve("adapter_model.safetensors")) > 0);
        assertTrue(Files.readString(out.resolve("adapter_config.json")).contains("\"MOR\""));
    }

    /** README's "Use it from Java" example, with 2 steps. */
    private static void readmeExample(Path modelDir, Path tokenizerDir, Path outDir) {
        LlamaModel model = LlamaModel.load(modelDir);
        Tokenizer tokenizer = Tokenizer.load(tokenizerDir);
        List<Conversation> chats = List.of(
                new Conversation("1", "mine", List.of(
                        new Message(Role.USER, "What does MoR stand for?"),
                        new Message(Role.ASSISTANT, "Mixture of Ranks: experts that share one LoRA pair."))),
                new Conversation("2", "mine", List.of(
                        new Message(Role.USER, "Name a prime number."),
                        new Message(Role.ASSISTANT, "Seven."))));
        TuluEncoder encoder = new TuluEncoder(tokenizer, 512);
        List<EncodedExample> examples = chats.stream().map(encoder::encode).toList();
        AdapterConfig config = AdapterConfig.mor().experts(8).rank(8).alpha(32).dropout(0.05)
                .targetModules("gate_proj", "up_proj", "down_proj").build();
        LlamaAdapters mor = LlamaAdapters.create(model.weights(), config, 42);
        LlamaFineTune.builder(model, mor, examples)
                .trainConfig(TrainConfig.builder().learningRate(2e-4).maxSteps(2).build())
                .build()
                .train();
        mor.save(outDir, modelDir.toString());
    }
}
