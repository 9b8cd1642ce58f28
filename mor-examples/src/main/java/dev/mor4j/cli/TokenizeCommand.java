package dev.mor4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mor4j.core.MorException;
import dev.mor4j.llama.tokenizer.Tokenizer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code mor tokenize}: one JSON string per input line in, one JSON array of ids per line out. */
@Command(name = "tokenize", mixinStandardHelpOptions = true,
        description = {"Tokenize text with a tokenizer.json.",
            "Reads one JSON string per line on standard input; writes one JSON array of token ids per line."})
final class TokenizeCommand implements Callable<Integer> {

    @Option(names = "--tokenizer", required = true, description = "Directory holding tokenizer.json, or the file.")
    Path tokenizer;

    @Option(names = "--no-special", description = "Do not add special tokens (BOS).")
    boolean noSpecial;

    @Override
    public Integer call() throws IOException {
        Tokenizer tok = Tokenizer.load(tokenizer);
        ObjectMapper json = new ObjectMapper();
        PrintStream out = System.out;
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        int lineNo = 0;
        while ((line = in.readLine()) != null) {
            lineNo++;
            JsonNode node;
            try {
                node = json.readTree(line);
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new MorException("stdin:" + lineNo + ": not a JSON string: " + e.getOriginalMessage());
            }
            if (node == null || !node.isTextual()) {
                throw new MorException("stdin:" + lineNo + ": expected a JSON string, got "
                        + (node == null ? "an empty line" : node.getNodeType().toString().toLowerCase()));
            }
            int[] ids = tok.encode(node.asText(), !noSpecial);
            StringBuilder sb = new StringBuilder(ids.length * 6 + 2).append('[');
            for (int i = 0; i < ids.length; i++) {
                sb.append(i == 0 ? "" : ", ").append(ids[i]);
            }
            out.println(sb.append(']'));
        }
        out.flush();
        return 0;
    }
}
