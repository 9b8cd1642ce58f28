package dev.mor4j.tasks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.mor4j.core.MorException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GenerationItemsTest {

    @TempDir
    Path tmp;

    @Test
    void readsRowsInOrderWithTheLineAsIdWhenThereIsNone() throws Exception {
        Path f = tmp.resolve("gen.jsonl");
        Files.writeString(f, "{\"task\": \"addition\", \"id\": \"a-1\", \"prompt\": \"What is 1 + 2?\", \"answer\": \"3\"}\n"
                + "\n"
                + "{\"task\": \"dates\", \"prompt\": \"Convert 01/02/2003 to YYYY-MM-DD.\", \"answer\": \"2003-02-01\", \"x\": 1}\n");
        List<GenerationItem> items = GenerationItems.read(f);
        assertEquals(List.of(new GenerationItem("addition", "a-1", "What is 1 + 2?", "3", f + ":1"),
                new GenerationItem("dates", f + ":3", "Convert 01/02/2003 to YYYY-MM-DD.", "2003-02-01", f + ":3")), items);
    }

    @Test
    void aDefectNamesFileLineAndProblem() throws Exception {
        String good = "{\"task\": \"t\", \"prompt\": \"p\", \"answer\": \"a\"}\n";
        assertError(good + "{\"task\": \"t\", \"prompt\": \"p\"}\n", ":2: \"answer\" is missing, expected a string");
        assertError(good + "{\"task\": \"t\", \"prompt\": \"p\", \"answer\": 3}\n", ":2: \"answer\" is number, expected a string");
        assertError("{\"task\": \"\", \"prompt\": \"p\", \"answer\": \"a\"}\n", ":1: \"task\" is empty");
        assertError("{\"task\": \"t\", \"prompt\": \"p\", \"answer\": \" \"}\n", ":1: \"answer\" is empty");
        assertError("{\"task\": \"t\", \"prompt\": \"p\", \"answer\": \"a\", \"id\": 7}\n", ":1: \"id\" is number, expected a string");
        assertError("[1]\n", ":1: expected a JSON object");
        assertError("{\"task\": \n", ":1: not valid JSON");
    }

    @Test
    void anEmptyOrMissingFileIsAnError() throws Exception {
        Path empty = tmp.resolve("empty.jsonl");
        Files.writeString(empty, "\n\n");
        assertEquals(empty + ": no generation rows",
                assertThrows(MorException.class, () -> GenerationItems.read(empty)).getMessage());
        Path missing = tmp.resolve("missing.jsonl");
        assertEquals(missing + ": no such file",
                assertThrows(MorException.class, () -> GenerationItems.read(missing)).getMessage());
    }

    private void assertError(String content, String expected) throws Exception {
        Path f = tmp.resolve("bad.jsonl");
        Files.writeString(f, content);
        String message = assertThrows(MorException.class, () -> GenerationItems.read(f)).getMessage();
        assertEquals(true, message.startsWith(f + expected), message);
    }
}
