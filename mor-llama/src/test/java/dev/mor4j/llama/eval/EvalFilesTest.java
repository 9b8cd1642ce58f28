package dev.mor4j.llama.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mor4j.core.MorException;
import dev.mor4j.core.TestData;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EvalFilesTest {

    @TempDir
    Path tmp;

    private static final String GOOD = "{\"task\": \"t\", \"context\": \"c\", \"choices\": [\" a\", \" b\"], \"label\": 1}";

    @Test
    void readsTheSampleFiles() {
        List<MultipleChoiceItem> items = EvalFiles.readTasks(TestData.root().resolve("eval/sample_tasks.jsonl"));
        assertEquals(12, items.size());
        assertEquals(List.of(" Paris", " Rome", " Madrid", " Berlin"), items.get(0).choices());
        assertEquals("capitals", items.get(0).task());
        assertTrue(items.get(0).source().endsWith("sample_tasks.jsonl:1"), items.get(0).source());
        assertEquals(4, EvalFiles.readTexts(TestData.root().resolve("eval/sample_texts.jsonl")).size());
    }

    private String problem(String badLine) throws Exception {
        Path f = tmp.resolve("tasks.jsonl");
        Files.writeString(f, GOOD + "\n\n" + badLine + "\n");
        MorException e = assertThrows(MorException.class, () -> EvalFiles.readTasks(f));
        assertTrue(e.getMessage().startsWith(f + ":3: "), e.getMessage());
        return e.getMessage();
    }

    @Test
    void badRowsNameFileLineAndProblem() throws Exception {
        assertTrue(problem("{\"task\": \"t\", \"context\": \"c\", \"choices\": [\" a\"").contains("not valid JSON"));
        assertTrue(problem("[1, 2]").contains("expected a JSON object"));
        assertTrue(problem("{\"context\": \"c\", \"choices\": [\"a\", \"b\"], \"label\": 0}").contains("\"task\" is missing"));
        assertTrue(problem("{\"task\": \"t\", \"context\": 3, \"choices\": [\"a\", \"b\"], \"label\": 0}")
                .contains("\"context\" is a number"));
        assertTrue(problem("{\"task\": \"t\", \"context\": \"c\", \"choices\": \"a\", \"label\": 0}")
                .contains("\"choices\" is a string"));
        assertTrue(problem("{\"task\": \"t\", \"context\": \"c\", \"choices\": [\"a\"], \"label\": 0}")
                .contains("at least 2"));
        assertTrue(problem("{\"task\": \"t\", \"context\": \"c\", \"choices\": [\"a\", 5], \"label\": 0}")
                .contains("choices[1] is a number"));
        assertTrue(problem("{\"task\": \"t\", \"context\": \"c\", \"choices\": [\"a\", \"\"], \"label\": 0}")
                .contains("choices[1] is empty"));
        assertTrue(problem("{\"task\": \"t\", \"context\": \"c\", \"choices\": [\"a\", \"b\"], \"label\": 2}")
                .contains("\"label\" 2 is not a choice index [0, 2)"));
        assertTrue(problem("{\"task\": \"t\", \"context\": \"c\", \"choices\": [\"a\", \"b\"], \"label\": \"0\"}")
                .contains("\"label\" is a string"));
    }

    @Test
    void textRowsNeedAString() throws Exception {
        Path f = tmp.resolve("texts.jsonl");
        Files.writeString(f, "{\"text\": \"fine\"}\n{\"txt\": \"oops\"}\n");
        MorException e = assertThrows(MorException.class, () -> EvalFiles.readTexts(f));
        assertEquals(f + ":2: \"text\" is missing, expected a string", e.getMessage());
        Path empty = tmp.resolve("empty.jsonl");
        Files.writeString(empty, "\n");
        assertThrows(MorException.class, () -> EvalFiles.readTexts(empty));
        assertThrows(MorException.class, () -> EvalFiles.readTasks(tmp.resolve("absent.jsonl")));
    }
}
