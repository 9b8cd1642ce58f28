package dev.mor4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mor4j.core.TestData;
import dev.mor4j.core.adapter.AdapterConfig;
import dev.mor4j.core.safetensors.SafetensorsFile;
import dev.mor4j.core.safetensors.SafetensorsWriter;
import dev.mor4j.llama.adapter.LlamaAdapters;
import dev.mor4j.llama.model.Batch;
import dev.mor4j.llama.model.GraphKind;
import dev.mor4j.llama.model.LlamaForward;
import dev.mor4j.llama.model.LlamaModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** forward, merge, export-lora, generate and eval with a MoRE adapter and its --task option. */
class MoreCommandsTest {

    private static final List<String> TASKS = List.of("alpha", "beta", "gamma");
    private static final Path MODEL = TestData.root().resolve("models/tiny-llama-f32");
    private static final Path TOKENIZER = TestData.root().resolve("tokenizers/sp-bpe-32k");
    private static final Path GOLDENS = TestData.root().resolve("goldens/goldens-base-mor.safetensors");

    @TempDir
    static Path shared;
    private static Path more;
    private static Path mergedBeta;

    @TempDir
    Path tmp;

    /**
     * A MoRE adapter on gate/up/down (R 8, rank experts 1, 2, 4, 8) whose B and task embeddings are random and large,
     * so that the tasks choose different ranks and change the model's output.
     */
    @BeforeAll
    static void writeAdapter() {
        AdapterConfig d = AdapterConfig.moreDefaults(TASKS);
        AdapterConfig config = d.toBuilder().dropout(0.0).rankExperts(1, 2, 4, 8).build();
        LlamaAdapters a = LlamaAdapters.create(LlamaModel.load(MODEL).weights(), config, 5);
        a.weights().forEach((k, v) -> {
            if (k.endsWith("lora_B.weight") || k.endsWith("more_task_embedding")) {
                double scale = k.endsWith("lora_B.weight") ? 0.2 : 20;
                Random rng = new Random(k.hashCode());
                float[] values = new float[(int) v.length()];
                for (int i = 0; i < values.length; i++) {
                    values[i] = (float) ((rng.nextDouble() - 0.5) * scale);
                }
                v.assign(Nd4j.create(values, v.shape(), 'c'));
            }
        });
        more = shared.resolve("more");
        a.save(more, "tiny-llama-f32");
        mergedBeta = shared.resolve("merged-beta");
        CliTestSupport.Run r = CliTestSupport.run(null, "merge", "--model", MODEL.toString(), "--adapter",
                more.toString(), "--task", "beta", "--out", mergedBeta.toString());
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.err().contains("task beta (ranks ["), r.err());
    }

    /** The golden batch with {@code extra} tensors added, as a forward inputs file. */
    private Path inputs(String name, Map<String, INDArray> extra) {
        Map<String, INDArray> t = new LinkedHashMap<>();
        try (SafetensorsFile g = SafetensorsFile.open(GOLDENS)) {
            for (String k : List.of("input_ids", "attention_mask", "labels")) {
                t.put(k, g.getLong(k));
            }
        }
        t.putAll(extra);
        Path p = tmp.resolve(name);
        SafetensorsWriter.write(p, t, Map.of());
        return p;
    }

    private CliTestSupport.Run forward(Path in, Path out, String... adapter) {
        String[] args = {"forward", "--model", MODEL.toString(), "--inputs", in.toString(), "--out", out.toString()};
        String[] all = java.util.Arrays.copyOf(args, args.length + adapter.length);
        System.arraycopy(adapter, 0, all, args.length, adapter.length);
        return CliTestSupport.run(null, all);
    }

    private static INDArray logits(Path file) {
        try (SafetensorsFile o = SafetensorsFile.open(file)) {
            return o.getFloat("logits");
        }
    }

    private static double relativeDiff(INDArray a, INDArray b) {
        return Nd4j.getExecutioner().exec(new org.nd4j.linalg.api.ops.impl.reduce.same.AMax(a.sub(b))).getDouble(0)
                / b.amaxNumber().doubleValue();
    }

    @Test
    void forwardWithAMoreAdapterReadsEachRowsTask() {
        Path in = inputs("in.safetensors", Map.of("task_ids", Nd4j.createFromArray(new long[] {0, 2})));
        Path out = tmp.resolve("out.safetensors");
        CliTestSupport.Run r = forward(in, out, "--adapter", more.toString());
        assertEquals(0, r.exitCode(), r.err());
        LlamaModel m = LlamaModel.load(MODEL);
        LlamaAdapters a = LlamaAdapters.load(m.weights(), more);
        Batch batch;
        try (SafetensorsFile g = SafetensorsFile.open(GOLDENS)) {
            batch = new Batch(g.getLong("input_ids").toLongMatrix(), g.getLong("attention_mask").toLongMatrix(),
                    g.getLong("labels").toLongMatrix(), new long[] {0, 2});
        }
        LlamaForward.Result expected = LlamaForward.run(a.graph(m.weights(), GraphKind.LOSS), batch);
        assertTrue(relativeDiff(logits(out), expected.logits()) <= 1e-6);
        try (SafetensorsFile o = SafetensorsFile.open(out)) {
            assertEquals(expected.loss(), o.getFloat("loss").getFloat(0), 1e-6);
        }
        // another task for row 1 changes its logits: the file's ids are used
        Path in2 = inputs("in2.safetensors", Map.of("task_ids", Nd4j.createFromArray(new long[] {0, 1})));
        Path out2 = tmp.resolve("out2.safetensors");
        assertEquals(0, forward(in2, out2, "--adapter", more.toString()).exitCode());
        assertTrue(relativeDiff(logits(out2), logits(out)) > 1e-3);
    }

    @Test
    void forwardRefusesMissingOrBadTaskIdsNamingTheFileAndKey() {
        Object[][] cases = {
            {Map.of(), "missing tensor 'task_ids': the MoRE adapter " + more + " needs each row's task, I64 [2],"
                    + " indices into its tasks [alpha, beta, gamma]"},
            {Map.of("task_ids", Nd4j.createFromArray(new long[] {0, 3})),
                "task_ids[1] = 3 is outside [0, 3), the indices of the adapter's tasks [alpha, beta, gamma]"},
            {Map.of("task_ids", Nd4j.createFromArray(new long[] {-1, 0})), "task_ids[0] = -1 is outside [0, 3), the indices of the adapter's tasks [alpha, beta, gamma]"},
            {Map.of("task_ids", Nd4j.createFromArray(new long[][] {{0}, {1}})),
                "'task_ids' expected shape [2] (one task id per row of input_ids), got [2, 1]"},
            {Map.of("task_ids", Nd4j.createFromArray(new float[] {0, 1})), "'task_ids' expected dtype I64, got F32"}};
        for (Object[] c : cases) {
            @SuppressWarnings("unchecked")
            Path in = inputs("bad.safetensors", (Map<String, INDArray>) c[0]);
            Path out = tmp.resolve("o.safetensors");
            CliTestSupport.Run r = forward(in, out, "--adapter", more.toString());
            assertEquals(MorCli.EXIT_INPUT, r.exitCode(), r.err());
            assertEquals("error: " + in + ": " + c[1], r.err().strip());
            assertFalse(Files.exists(out));
        }
    }

    @Test
    void mergedAndExportedTaskForwardAsTheAdapterDoesForIt() throws Exception {
        Path in = inputs("in.safetensors", Map.of("task_ids", Nd4j.createFromArray(new long[] {1, 1})));
        Path adapterOut = tmp.resolve("adapter.safetensors");
        assertEquals(0, forward(in, adapterOut, "--adapter", more.toString()).exitCode());
        Path mergedOut = tmp.resolve("merged.safetensors");
        CliTestSupport.Run r = CliTestSupport.run(null, "forward", "--model", mergedBeta.toString(), "--inputs",
                in.toString(), "--out", mergedOut.toString());
        assertEquals(0, r.exitCode(), r.err());
        double merged = relativeDiff(logits(mergedOut), logits(adapterOut));

        Path lora = tmp.resolve("lora-beta");
        r = CliTestSupport.run(null, "export-lora", "--model", MODEL.toString(), "--adapter", more.toString(),
                "--task", "beta", "--out", lora.toString());
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.err().contains("the LoRA of task beta, r "), r.err());
        JsonNode config = new ObjectMapper().readTree(lora.resolve("adapter_config.json").toFile());
        assertEquals("LORA", config.get("peft_type").asText());
        assertEquals("tiny-llama-f32", config.get("base_model_name_or_path").asText());
        Path loraOut = tmp.resolve("lora.safetensors");
        assertEquals(0, forward(in, loraOut, "--adapter", lora.toString()).exitCode());
        double exported = relativeDiff(logits(loraOut), logits(adapterOut));
        double base = relativeDiff(logits(forwardBase(in)), logits(adapterOut));
        System.out.printf("CLI, task beta: merged %.3g, exported LoRA %.3g relative to the adapter (base: %.3g)%n",
                merged, exported, base);
        assertTrue(merged <= 1e-5, "merged " + merged);
        assertTrue(exported <= 1e-5, "exported " + exported);
        assertTrue(base > 1e-2, "the adapter should change the logits: " + base);
    }

    private Path forwardBase(Path in) {
        Path out = tmp.resolve("base.safetensors");
        assertEquals(0, forward(in, out).exitCode());
        return out;
    }

    @Test
    void taskMisuseIsOneClearErrorListingTheTasks() {
        String m = MODEL.toString();
        String a = more.toString();
        String lora = TestData.root().resolve("adapters/peft-lora").toString();
        String out = tmp.resolve("x").toString();
        String[][] cases = {
            {"error: " + a + " is a MoRE adapter: name the task to convert with --task NAME, one of [alpha, beta, gamma]",
                "merge", "--model", m, "--adapter", a, "--out", out},
            {"error: --task delta: " + a + " has no task 'delta'; its tasks are [alpha, beta, gamma]",
                "merge", "--model", m, "--adapter", a, "--out", out, "--task", "delta"},
            {"error: --task beta: " + lora + " is a LORA adapter, not MoRE: it has no tasks",
                "merge", "--model", m, "--adapter", lora, "--out", out, "--task", "beta"},
            {"(auto picks a task per prompt, which a single checkpoint or LoRA cannot do)",
                "export-lora", "--model", m, "--adapter", a, "--out", out, "--task", "auto"},
            {"error: " + lora + " is a LORA adapter, not MoRE: it has no tasks to choose from",
                "export-lora", "--model", m, "--adapter", lora, "--out", out, "--task", "beta"},
            {"error: " + a + " is a MoRE adapter: choose its task with --task NAME, one of [alpha, beta, gamma], or"
                    + " --task auto", "generate", "--model", m, "--tokenizer", TOKENIZER.toString(), "--adapter", a,
                "--prompt", "Hi"},
            {"error: --task delta: " + a + " has no task 'delta'; its tasks are [alpha, beta, gamma] (or auto)",
                "eval", "--model", m, "--tokenizer", TOKENIZER.toString(), "--adapter", a, "--task", "delta",
                "--texts", TestData.root().resolve("eval/sample_texts.jsonl").toString()},
            {"error: --task auto: --task chooses a task of a MoRE adapter, and no --adapter was given",
                "generate", "--model", m, "--tokenizer", TOKENIZER.toString(), "--task", "auto", "--prompt", "Hi"}};
        for (String[] c : cases) {
            CliTestSupport.Run r = CliTestSupport.run(null, java.util.Arrays.copyOfRange(c, 1, c.length));
            assertEquals(MorCli.EXIT_INPUT, r.exitCode(), c[1] + ": " + r.err());
            assertTrue(r.err().contains(c[0]), c[1] + ": " + r.err());
            assertFalse(Files.exists(Path.of(out)), c[1]);
        }
    }

    private static CliTestSupport.Run generate(String... extra) {
        String[] args = {"generate", "--model", MODEL.toString(), "--tokenizer", TOKENIZER.toString(),
            "--max-new-tokens=8", "--prompt", "Name three colours."};
        String[] all = java.util.Arrays.copyOf(args, args.length + extra.length);
        System.arraycopy(extra, 0, all, args.length, extra.length);
        return CliTestSupport.run(null, all);
    }

    @Test
    void generateWithATaskGeneratesWhatItsMergedCheckpointGenerates() {
        CliTestSupport.Run task = generate("--adapter", more.toString(), "--task", "beta");
        assertEquals(0, task.exitCode(), task.err());
        CliTestSupport.Run merged = CliTestSupport.run(null, "generate", "--model", mergedBeta.toString(),
                "--tokenizer", TOKENIZER.toString(), "--max-new-tokens=8", "--prompt", "Name three colours.");
        assertEquals(0, merged.exitCode(), merged.err());
        assertEquals(merged.out(), task.out());
        CliTestSupport.Run base = generate();
        assertFalse(base.out().equals(task.out()), "the task's adapter changes the answer: " + base.out());

        CliTestSupport.Run auto = generate("--adapter", more.toString(), "--task", "auto");
        assertEquals(0, auto.exitCode(), auto.err());
        Matcher picked = Pattern.compile("task auto: picked '(\\w+)' \\(mean cosine similarity (-?\\d\\.\\d{4}) over 6"
                + " modules; alpha -?\\d\\.\\d{4}, beta -?\\d\\.\\d{4}, gamma -?\\d\\.\\d{4}\\)").matcher(auto.err());
        assertTrue(picked.find(), auto.err());
        CliTestSupport.Run fixed = picked.group(1).equals("beta") ? task
                : generate("--adapter", more.toString(), "--task", picked.group(1));
        assertEquals(fixed.out(), auto.out());
    }

    @Test
    void evalWithATaskScoresWhatItsMergedCheckpointScores() throws Exception {
        String tasks = TestData.root().resolve("eval/sample_tasks.jsonl").toString();
        String texts = TestData.root().resolve("eval/sample_texts.jsonl").toString();
        Path withTask = tmp.resolve("task.json");
        CliTestSupport.Run r = CliTestSupport.run(null, "eval", "--model", MODEL.toString(), "--tokenizer",
                TOKENIZER.toString(), "--adapter", more.toString(), "--task", "beta", "--tasks", tasks, "--texts",
                texts, "--out", withTask.toString());
        assertEquals(0, r.exitCode(), r.err());
        Path merged = tmp.resolve("merged.json");
        r = CliTestSupport.run(null, "eval", "--model", mergedBeta.toString(), "--tokenizer", TOKENIZER.toString(),
                "--tasks", tasks, "--texts", texts, "--out", merged.toString());
        assertEquals(0, r.exitCode(), r.err());
        ObjectMapper json = new ObjectMapper();
        JsonNode a = json.readTree(withTask.toFile());
        JsonNode b = json.readTree(merged.toFile());
        assertEquals("beta", a.get("task").asText());
        assertEquals(b.get("tasks"), a.get("tasks"));
        assertEquals(b.get("all"), a.get("all"));
        double nll = a.get("perplexity").get("mean_nll").asDouble();
        assertEquals(b.get("perplexity").get("mean_nll").asDouble(), nll, 1e-6 * nll);

        Path auto = tmp.resolve("auto.json");
        r = CliTestSupport.run(null, "eval", "--model", MODEL.toString(), "--tokenizer", TOKENIZER.toString(),
                "--adapter", more.toString(), "--task", "auto", "--tasks", tasks, "--out", auto.toString());
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(Pattern.compile("task auto over 12 items:( (alpha|beta|gamma) \\d+)+\\R").matcher(r.err()).find(),
                r.err());
        JsonNode picks = json.readTree(auto.toFile()).get("auto_picks");
        int items = 0;
        for (JsonNode n : picks.get("items")) {
            items += n.asInt();
        }
        assertEquals(12, items, picks.toString());
    }
}
