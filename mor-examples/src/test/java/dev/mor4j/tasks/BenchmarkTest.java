package dev.mor4j.tasks;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mor4j.core.MorException;
import dev.mor4j.llama.data.Conversation;
import dev.mor4j.llama.data.Role;
import dev.mor4j.llama.data.TuluReader;
import dev.mor4j.llama.eval.EvalFiles;
import dev.mor4j.llama.eval.MultipleChoiceItem;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BenchmarkTest {

    @TempDir
    Path tmp;

    private static Benchmark.Splits small(long seed) {
        return Benchmark.builder().seed(seed).trainPerTask(40).testPerTask(12).pretrainPerOperation(15).build()
                .generate();
    }

    @Test
    void theSameSeedWritesByteIdenticalFilesAndAnotherSeedOthers() throws Exception {
        Path a = tmp.resolve("a");
        Path b = tmp.resolve("b");
        Path c = tmp.resolve("c");
        BenchmarkFiles.write(small(7), a);
        BenchmarkFiles.write(small(7), b);
        BenchmarkFiles.write(small(8), c);
        for (String f : BenchmarkFiles.FILES) {
            assertArrayEquals(Files.readAllBytes(a.resolve(f)), Files.readAllBytes(b.resolve(f)), f);
            assertFalse(Arrays.equals(Files.readAllBytes(a.resolve(f)), Files.readAllBytes(c.resolve(f))), f);
        }
    }

    @Test
    void noTestPromptIsInTheTrainSplitEvenWhereDrawsCollide() {
        // dates: 36,525 possible prompts, so 3000 train draws hit some of the 300 test prompts
        long seed = 11;
        Benchmark.Splits s = Benchmark.builder().seed(seed).trainPerTask(3000).testPerTask(300)
                .pretrainPerOperation(0).build().generate();
        Set<String> testDates = s.test().stream().filter(i -> i.task().equals("dates")).map(BenchmarkItem::prompt)
                .collect(Collectors.toSet());
        Random rnd = SeedStreams.stream(seed, "dates/train");
        int collisions = 0;
        for (int i = 0; i < 3000; i++) {
            collisions += testDates.contains(BenchmarkTask.DATES.draw(rnd).prompt()) ? 1 : 0;
        }
        assertTrue(collisions > 0, "the raw train draws should hit test prompts, so that excluding them is tested");

        Set<String> testPrompts = new HashSet<>();
        s.test().forEach(i -> assertTrue(testPrompts.add(i.task() + "\u0000" + i.prompt()), "duplicate " + i));
        Set<String> trainPrompts = new HashSet<>();
        for (BenchmarkItem i : s.train()) {
            assertFalse(testPrompts.contains(i.task() + "\u0000" + i.prompt()), "test prompt in train: " + i);
            assertTrue(trainPrompts.add(i.task() + "\u0000" + i.prompt()), "duplicate " + i);
        }
        assertEquals(6 * 3000, s.train().size());
        assertEquals(6 * 300, s.test().size());
        assertTrue(s.pretrain().isEmpty());
    }

    @Test
    void everyAnswerIsRightAndEveryChoiceListHasFourDistinctWithTheAnswerAtTheLabel() {
        Benchmark.Splits s = Benchmark.builder().seed(3).trainPerTask(300).testPerTask(100).pretrainPerOperation(100)
                .build().generate();
        int[] labels = new int[4];
        Map<String, Integer> perTask = new HashMap<>();
        List<BenchmarkItem> all = new ArrayList<>(s.train());
        all.addAll(s.test());
        for (BenchmarkItem i : all) {
            assertEquals(expectedAnswer(i.task(), i.prompt()), i.answer(), i.id());
            assertEquals(4, i.choices().size(), i.id());
            assertEquals(4, new HashSet<>(i.choices()).size(), i.id() + " " + i.choices());
            assertEquals(i.answer(), i.choices().get(i.label()), i.id());
            labels[i.label()]++;
            perTask.merge(i.task(), 1, Integer::sum);
        }
        for (int count : labels) {
            assertTrue(count > all.size() / 8, "labels should be spread over the positions: " + Arrays.toString(labels));
        }
        assertEquals(Set.of("addition", "reversal", "sorting", "counting", "recall", "dates"), perTask.keySet());
        perTask.values().forEach(n -> assertEquals(400, n));
        for (PretrainItem p : s.pretrain()) {
            assertEquals(expectedPretrainAnswer(p.operation(), p.prompt()), p.answer(), p.id());
        }
    }

    @Test
    void distractorsAreTheDocumentedNearMisses() {
        Benchmark.Splits s = small(5);
        for (BenchmarkItem i : s.test()) {
            List<String> wrong = new ArrayList<>(i.choices());
            wrong.remove(i.label());
            switch (i.task()) {
                case "addition", "counting" -> wrong.forEach(w -> assertTrue(w.matches("\\d+"), i.id() + " " + w));
                case "reversal" -> wrong.forEach(w -> assertTrue(sortedLetters(w).equals(sortedLetters(i.answer()))
                        || w.length() == i.answer().length() + 1, i.id() + ": " + w + " is not a near miss"));
                case "sorting" -> wrong.forEach(w -> assertEquals(i.answer().split(", ").length, w.split(", ").length));
                case "recall" -> wrong.forEach(w -> assertTrue(w.matches("\\d+"), i.id() + " " + w));
                case "dates" -> wrong.forEach(w -> assertTrue(w.matches("\\d{2,4}-\\d{2}-\\d{2,4}"), i.id() + " " + w));
                default -> throw new AssertionError(i.task());
            }
        }
        // the first distractor of a recall item is another value of its context
        BenchmarkItem recall = s.test().stream().filter(i -> i.task().equals("recall")).findFirst().orElseThrow();
        TaskExample again = BenchmarkTask.RECALL.draw(SeedStreams.stream(5, "recall/test"));
        assertEquals(recall.prompt(), again.prompt());
        assertTrue(again.prompt().contains("=" + again.distractors().get(0) + "\n"), again.toString());
    }

    @Test
    void theFilesLoadThroughTheTuluAndEvalReaders() throws Exception {
        Benchmark.Splits s = small(1);
        BenchmarkFiles.write(s, tmp);
        List<Conversation> train = readStrict(tmp.resolve(BenchmarkFiles.TRAIN));
        assertEquals(6 * 40, train.size());
        for (int k = 0; k < train.size(); k++) {
            Conversation c = train.get(k);
            BenchmarkItem i = s.train().get(k);
            assertEquals(i.task(), c.dataset());
            assertEquals(i.id(), c.id());
            assertEquals(Role.USER, c.messages().get(0).role());
            assertEquals(i.prompt(), c.messages().get(0).content());
            assertEquals(Role.ASSISTANT, c.messages().get(1).role());
            assertEquals(i.answer(), c.messages().get(1).content());
        }
        assertEquals(6 * 12, readStrict(tmp.resolve(BenchmarkFiles.TEST)).size());
        List<Conversation> pretrain = readStrict(tmp.resolve(BenchmarkFiles.PRETRAIN));
        assertEquals(6 * 15, pretrain.size());
        assertEquals(Arrays.stream(PretrainOperation.values()).map(PretrainOperation::datasetName)
                .collect(Collectors.toSet()), pretrain.stream().map(Conversation::dataset).collect(Collectors.toSet()));

        List<MultipleChoiceItem> mc = EvalFiles.readTasks(tmp.resolve(BenchmarkFiles.TEST_MC));
        List<GenerationItem> gen = GenerationItems.read(tmp.resolve(BenchmarkFiles.TEST_GEN));
        assertEquals(s.test().size(), mc.size());
        assertEquals(s.test().size(), gen.size());
        for (int k = 0; k < mc.size(); k++) {
            BenchmarkItem i = s.test().get(k);
            assertEquals(i.task(), mc.get(k).task());
            assertEquals("<|user|>\n" + i.prompt() + "\n<|assistant|>\n", mc.get(k).context());
            assertEquals(i.answer() + "</s>", mc.get(k).choices().get(mc.get(k).label()));
            assertEquals(new GenerationItem(i.task(), i.id(), i.prompt(), i.answer(), gen.get(k).source()), gen.get(k));
        }
        assertTrue(Files.readString(tmp.resolve(BenchmarkFiles.TEST_MC)).startsWith("{\"task\":\"addition\","));
    }

    @Test
    void refusesSettingsThatCannotBeMet() {
        assertThrows(MorException.class, () -> Benchmark.builder().trainPerTask(0));
        assertThrows(MorException.class, () -> Benchmark.builder().pretrainPerOperation(-1));
        // five possible prompts, one of them excluded: four can be found, not five
        TaskGenerator five = rnd -> new TaskExample("p" + rnd.nextInt(5), "a", List.of());
        List<String> found = new ArrayList<>();
        MorException e = assertThrows(MorException.class, () -> Benchmark.distinct("tiny: ", "train prompts", 5,
                new Random(1), five, new HashSet<>(), Set.of("p3"), x -> found.add(x.prompt())));
        assertEquals("tiny: found only 4 distinct train prompts in 1250 draws (wanted 5); ask for fewer items",
                e.getMessage());
        assertEquals(Set.of("p0", "p1", "p2", "p4"), new HashSet<>(found));
        assertEquals(4, found.size());
    }

    @Test
    void pretrainingPromptsAreNeverBenchmarkPrompts() {
        Benchmark.Splits s = Benchmark.builder().seed(2).trainPerTask(200).testPerTask(100).pretrainPerOperation(200)
                .build().generate();
        Set<String> prompts = new HashSet<>();
        s.train().forEach(i -> prompts.add(i.prompt()));
        s.test().forEach(i -> prompts.add(i.prompt()));
        s.pretrain().forEach(p -> assertFalse(prompts.contains(p.prompt()), p.id()));
    }

    private static List<Conversation> readStrict(Path file) {
        try (TuluReader r = TuluReader.openStrict(file)) {
            List<Conversation> out = new ArrayList<>();
            r.forEachRemaining(out::add);
            return out;
        }
    }

    private static String sortedLetters(String s) {
        char[] c = s.toCharArray();
        Arrays.sort(c);
        return new String(c);
    }

    private static Matcher match(String regex, String prompt) {
        Matcher m = Pattern.compile(regex, Pattern.DOTALL).matcher(prompt);
        assertTrue(m.matches(), prompt + " !~ " + regex);
        return m;
    }

    /** The answer computed from the prompt text alone. */
    static String expectedAnswer(String task, String prompt) {
        switch (task) {
            case "addition": {
                Matcher m = match("What is (\\d{2,4}) \\+ (\\d{2,4})\\?", prompt);
                return String.valueOf(Long.parseLong(m.group(1)) + Long.parseLong(m.group(2)));
            }
            case "reversal":
                return new StringBuilder(match("Reverse: ([a-z]{4,7})", prompt).group(1)).reverse().toString();
            case "sorting": {
                String[] parts = match("Sort ascending: ([\\d, ]+)", prompt).group(1).split(", ");
                return Arrays.stream(parts).mapToInt(Integer::parseInt).sorted().mapToObj(String::valueOf)
                        .collect(Collectors.joining(", "));
            }
            case "counting": {
                Matcher m = match("Count the letter ([a-f]) in: ([a-f]{6,12})", prompt);
                return String.valueOf(m.group(2).chars().filter(ch -> ch == m.group(1).charAt(0)).count());
            }
            case "recall": {
                Matcher m = match("((?:[a-z]+=\\d\\d\\n){3,5})What is ([a-z]+)\\?", prompt);
                for (String line : m.group(1).split("\n")) {
                    String[] kv = line.split("=");
                    if (kv[0].equals(m.group(2))) {
                        return kv[1];
                    }
                }
                throw new AssertionError("key not in context: " + prompt);
            }
            case "dates": {
                Matcher m = match("Convert (\\d\\d)/(\\d\\d)/(\\d{4}) to YYYY-MM-DD\\.", prompt);
                LocalDate d = LocalDate.of(Integer.parseInt(m.group(3)), Integer.parseInt(m.group(2)),
                        Integer.parseInt(m.group(1)));
                return d.getYear() + "-" + m.group(2) + "-" + m.group(1);
            }
            default:
                throw new AssertionError("unknown task " + task);
        }
    }

    private static String expectedPretrainAnswer(String operation, String prompt) {
        switch (operation) {
            case "pretrain-successor":
                return String.valueOf(Integer.parseInt(match("What comes after (\\d+)\\?", prompt).group(1)) + 1);
            case "pretrain-uppercase":
                return match("Uppercase: ([a-z]+)", prompt).group(1).toUpperCase(java.util.Locale.ROOT);
            case "pretrain-maximum":
                return String.valueOf(Arrays.stream(match("Largest of: ([\\d, ]+)", prompt).group(1).split(", "))
                        .mapToInt(Integer::parseInt).max().orElseThrow());
            case "pretrain-length":
                return String.valueOf(match("How many letters in: ([a-z]+)", prompt).group(1).length());
            case "pretrain-keys":
                return Arrays.stream(match("((?:[a-z]+=\\d\\d\\n){3,5})List the keys\\.", prompt).group(1).split("\n"))
                        .map(l -> l.split("=")[0]).collect(Collectors.joining(", "));
            case "pretrain-date-dots": {
                Matcher m = match("Write (\\d\\d)/(\\d\\d)/(\\d{4}) with dots\\.", prompt);
                return m.group(1) + "." + m.group(2) + "." + m.group(3);
            }
            default:
                throw new AssertionError("unknown operation " + operation);
        }
    }
}
