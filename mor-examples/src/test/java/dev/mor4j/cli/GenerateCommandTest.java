package dev.mor4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mor4j.core.TestData;
import dev.mor4j.llama.generate.GenerationConfig;
import dev.mor4j.llama.generate.Generator;
import dev.mor4j.llama.model.LlamaModel;
import dev.mor4j.llama.tokenizer.Tokenizer;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class GenerateCommandTest {

    private final String model = TestData.root().resolve("models/tiny-llama-f32").toString();
    private final String tokenizer = TestData.root().resolve("tokenizers/sp-bpe-32k").toString();
    private final String lora = TestData.root().resolve("adapters/peft-lora").toString();

    private CliTestSupport.Run generate(String... extra) {
        String[] args = new String[6 + extra.length];
        System.arraycopy(new String[] {"generate", "--model", model, "--tokenizer", tokenizer}, 0, args, 0, 5);
        args[5] = "--max-new-tokens=12";
        System.arraycopy(extra, 0, args, 6, extra.length);
        return CliTestSupport.run(null, args);
    }

    @Test
    void printsWhatTheGeneratorGeneratesGreedily() {
        CliTestSupport.Run r = generate("--prompt", "Name a colour.");
        assertEquals(0, r.exitCode(), r.err());
        Tokenizer tok = Tokenizer.load(Path.of(tokenizer));
        String expected = Generator.withKvCache(LlamaModel.load(Path.of(model)).weights(), null, tok)
                .chat("Name a colour.", GenerationConfig.greedy(12)).text();
        assertEquals(expected + System.lineSeparator(), r.out());
        assertTrue(r.err().contains("12 generated (stopped: max_new_tokens)"), r.err());
    }

    @Test
    void seededSamplingRepeatsAndTheAdapterAndTemplateMatter() {
        CliTestSupport.Run a = generate("--prompt", "Hello", "--temperature", "0.9", "--top-p", "0.95", "--seed", "3");
        CliTestSupport.Run b = generate("--prompt", "Hello", "--temperature", "0.9", "--top-p", "0.95", "--seed", "3");
        assertEquals(0, a.exitCode(), a.err());
        assertEquals(a.out(), b.out());
        CliTestSupport.Run greedy = generate("--prompt", "Hello");
        CliTestSupport.Run adapted = generate("--prompt", "Hello", "--adapter", lora);
        CliTestSupport.Run raw = generate("--prompt", "Hello", "--no-chat");
        assertEquals(0, adapted.exitCode(), adapted.err());
        assertNotEquals(greedy.out(), adapted.out(), "the LoRA adapter changes the answer");
        assertNotEquals(greedy.out(), raw.out(), "without the chat template the model continues other text");
        assertTrue(raw.err().startsWith("2 prompt tokens"), "BOS and 'Hello': " + raw.err());
    }

    @Test
    void aModelDirectoryWithoutTokenizerAsksForTheFlag() {
        CliTestSupport.Run r = CliTestSupport.run(null, "generate", "--model", model, "--prompt", "Hi");
        assertEquals(MorCli.EXIT_INPUT, r.exitCode());
        assertTrue(r.err().startsWith("error: ") && r.err().contains("--tokenizer"), r.err());
        assertFalse(r.err().contains("\tat "), r.err());
    }

    @Test
    void badSettingsAreInputErrors() {
        CliTestSupport.Run t = generate("--prompt", "Hi", "--temperature", "-1");
        assertEquals(MorCli.EXIT_INPUT, t.exitCode());
        assertTrue(t.err().contains("temperature"), t.err());
        CliTestSupport.Run p = generate("--prompt", "Hi", "--temperature", "1", "--top-p", "0");
        assertEquals(MorCli.EXIT_INPUT, p.exitCode());
        assertTrue(p.err().contains("top-p"), p.err());
        CliTestSupport.Run missing = CliTestSupport.run(null, "generate", "--model", model, "--tokenizer", tokenizer);
        assertEquals(2, missing.exitCode());
        assertTrue(missing.err().contains("--prompt"), missing.err());
    }
}
