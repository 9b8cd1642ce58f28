package dev.mor4j.llama.data;

import dev.mor4j.core.MorException;
import dev.mor4j.core.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TuluReaderTest {

    static final Path TULU = TestData.root().resolve("tulu");
    private static final Path SAMPLE = TULU.resolve("tulu_v2_sample.jsonl");
    private static final Path BAD = TULU.resolve("tulu_v2_bad.jsonl");

    @TempDir
    Path tmp;

    @Test
    void readsTheSample() {
        List<BadLine> bad = new ArrayList<>();
        List<Conversation> all = TuluReader.readAll(SAMPLE, bad);
        assertEquals(16, all.size());
        assertTrue(bad.isEmpty(), bad.toString());
        Conversation first = all.get(0);
        assertEquals("flan_v2_0", first.id());
        assertEquals("flan_v2", first.dataset());
        assertEquals(List.of(new Message(Role.USER, "Translate to French: The weather is nice today."),
                new Message(Role.ASSISTANT, "Il fait beau aujourd'hui.")), first.messages());
        Conversation multiTurn = all.stream().filter(c -> c.id().equals("oasst1_7")).findFirst().orElseThrow();
        assertEquals(List.of(Role.USER, Role.ASSISTANT, Role.USER, Role.ASSISTANT),
                multiTurn.messages().stream().map(Message::role).toList());
        Conversation withSystem = all.stream().filter(c -> c.id().equals("oasst1_8")).findFirst().orElseThrow();
        assertEquals(Role.SYSTEM, withSystem.messages().get(0).role());
    }

    @Test
    void badLinesAreReportedOnceAndSkipped() {
        List<BadLine> bad = new ArrayList<>();
        List<Conversation> good;
        ReadSummary summary;
        try (TuluReader reader = TuluReader.open(BAD, bad::add)) {
            good = reader.stream().toList();
            summary = reader.summary();
        }
        assertEquals(List.of("ok_0", "ok_9"), good.stream().map(Conversation::id).toList());
        assertEquals(List.of(2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L), bad.stream().map(BadLine::lineNumber).toList());
        assertEquals(new ReadSummary(10, 2, 8), summary);
        List<String> expected = List.of(
                "truncated JSON",                  // line 2: {"dataset":"x","id":"trunc_1","messages":[{...}
                "missing \"messages\"",            // line 3
                "\"messages\" is empty",           // line 4
                "role \"robot\" is unknown",       // line 5
                "no assistant message",            // line 6
                "messages[0].content is a number", // line 7
                "not valid JSON",                  // line 8: not json at all
                "blank line");                     // line 9
        for (int i = 0; i < expected.size(); i++) {
            BadLine b = bad.get(i);
            assertEquals(BAD, b.path());
            assertTrue(b.reason().contains(expected.get(i)), "line " + b.lineNumber() + ": " + b.reason());
            assertTrue(b.toString().startsWith(BAD + ":" + b.lineNumber() + ": "), b.toString());
        }
        assertEquals("café ☕ 😀", good.get(1).messages().get(0).content());
    }

    @Test
    void eachConversationKnowsItsLine() {
        try (TuluReader reader = TuluReader.open(BAD, b -> { })) {
            assertEquals(0, reader.line(), "nothing returned yet");
            assertEquals("ok_0", reader.next().id());
            assertEquals(1, reader.line());
            assertTrue(reader.hasNext(), "reading ahead over the bad lines 2-9");
            assertEquals(1, reader.line(), "reading ahead does not move the returned conversation's line");
            assertEquals("ok_9", reader.next().id());
            assertEquals(10, reader.line());
        }
        List<String> seen = new ArrayList<>();
        try (TuluReader reader = TuluReader.open(BAD, b -> { })) {
            reader.stream().forEach(c -> seen.add(c.id() + "@" + reader.line()));
        }
        assertEquals(List.of("ok_0@1", "ok_9@10"), seen, "also while streaming");
    }

    @Test
    void strictModeStopsAtTheFirstBadLine() {
        try (TuluReader reader = TuluReader.openStrict(BAD)) {
            assertEquals("ok_0", reader.next().id());
            MorException e = assertThrows(MorException.class, reader::hasNext);
            assertTrue(e.getMessage().startsWith(BAD + ":2: truncated JSON"), e.getMessage());
            assertThrows(MorException.class, reader::hasNext, "stays failed");
        }
    }

    @Test
    void readsLazilyLineByLine() throws IOException {
        Path file = tmp.resolve("lazy.jsonl");
        String good = "{\"id\":\"a\",\"messages\":[{\"role\":\"user\",\"content\":\"q\"},"
                + "{\"role\":\"assistant\",\"content\":\"r\"}]}";
        Files.writeString(file, good + "\n" + good.replace("\"a\"", "\"b\"") + "\n{broken\n");
        try (TuluReader reader = TuluReader.openStrict(file)) {
            assertEquals("a", reader.next().id());
            assertEquals(new ReadSummary(1, 1, 0), reader.summary(), "only the first line has been read");
            assertEquals("b", reader.next().id());
            MorException e = assertThrows(MorException.class, reader::next);
            assertTrue(e.getMessage().startsWith(file + ":3: "), e.getMessage());
        }
    }

    @Test
    void otherDefects() throws IOException {
        Path file = tmp.resolve("more.jsonl");
        Files.writeString(file, String.join("\n",
                "[1, 2]",
                "{\"messages\": [{\"role\": \"assistant\", \"content\": \"x\"}]}",
                "{\"id\": 5, \"messages\": [{\"role\": \"assistant\", \"content\": \"x\"}]}",
                "{\"id\": \"m\", \"messages\": \"hello\"}",
                "{\"id\": \"m\", \"messages\": [\"hello\"]}",
                "{\"id\": \"m\", \"messages\": [{\"content\": \"x\"}]}",
                "{\"id\": \"m\", \"messages\": [{\"role\": \"assistant\"}]}",
                "{\"id\": \"m\", \"messages\": [{\"role\": \"assistant\", \"content\": \"x\"}]} trailing",
                "   ",
                "{\"id\": \"fine\", \"messages\": [{\"role\": \"assistant\", \"content\": \"x\"}]}"));
        List<BadLine> bad = new ArrayList<>();
        List<Conversation> good = TuluReader.readAll(file, bad);
        assertEquals(List.of("fine"), good.stream().map(Conversation::id).toList());
        assertEquals("", good.get(0).dataset(), "dataset is optional");
        String reasons = bad.stream().map(BadLine::reason).collect(Collectors.joining("\n"));
        for (String part : List.of("expected a JSON object", "missing \"id\"", "\"id\" is a number",
                "\"messages\" is a string", "messages[0] is a string", "messages[0].role is missing",
                "messages[0].content is missing", "not valid JSON", "blank line")) {
            assertTrue(reasons.contains(part), part + " not in:\n" + reasons);
        }
        assertEquals(9, bad.size());
    }

    @Test
    void fileErrorsAreFatal() throws IOException {
        MorException missing = assertThrows(MorException.class, () -> TuluReader.open(tmp.resolve("none.jsonl")));
        assertTrue(missing.getMessage().contains("none.jsonl"), missing.getMessage());
        Path latin1 = tmp.resolve("latin1.jsonl");
        Files.write(latin1, "{\"id\": \"caf\u00e9\"}\n".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        try (TuluReader reader = TuluReader.open(latin1, b -> { })) {
            MorException e = assertThrows(MorException.class, reader::hasNext);
            assertTrue(e.getMessage().contains("not valid UTF-8"), e.getMessage());
        }
    }

    @Test
    void emptyFile() throws IOException {
        Path file = Files.writeString(tmp.resolve("empty.jsonl"), "");
        try (TuluReader reader = TuluReader.open(file)) {
            assertFalse(reader.hasNext());
            assertEquals(new ReadSummary(0, 0, 0), reader.summary());
        }
    }
}
