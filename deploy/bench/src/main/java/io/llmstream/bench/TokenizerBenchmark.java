package io.llmstream.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingType;
import io.llmstream.tokenizer.SpecialTokens;
import io.llmstream.tokenizer.Tokenizer;
import io.llmstream.tokenizer.Tokenizers;

import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Function;

/**
 * Single-threaded tokenizer throughput, side by side on the same text: ours, jtokkit, and HuggingFace tokenizers
 * (through DJL, when on the classpath, reading the tokenizer.json we export). Also cold load time, retained heap, and
 * the cost of inputs with no split point relative to ordinary text. {@link #run} returns the figures; {@link #main}
 * is a thin command line:
 *
 * <pre>TokenizerBenchmark --corpus english.txt [--encodings cl100k_base,o200k_base] [--megabytes 8] [--rounds 5]
 *                    [--no-huggingface] [--worst-case] [--json]</pre>
 */
public final class TokenizerBenchmark {
    /** The corpus bytes timed next to each worst-case input. */
    private static final long WORST_CASE_SLICE = 2 << 20;
    /** What to measure. */
    public record Options(Path corpus, List<String> encodings, int megabytes, int rounds, boolean huggingFace,
                          boolean worstCase) {
        public static Options defaults(Path corpus) {
            return new Options(corpus, List.of("cl100k_base", "o200k_base"), 8, 5, true, false);
        }
    }

    /**
     * One contender on one encoding: median and best throughput over the timed rounds, agreement with ours, and how
     * many times faster ours was: the median over rounds of the two throughputs' ratio within a round.
     */
    public record Throughput(String encoding, String contender, double medianMegabytesPerSecond,
                             double bestMegabytesPerSecond, long tokens, boolean sameIdsAsOurs, double oursTimesFaster) {
    }

    /** Loading one encoding from cold, and the heap it keeps. */
    public record Load(String encoding, String contender, double millis, double retainedMegabytes) {
    }

    /**
     * One megabyte-sized input without split points, as nanoseconds per byte and as a multiple of the corpus's (timed
     * against a slice of the corpus in alternating rounds; medians).
     */
    public record WorstCase(String encoding, String input, double nanosPerByte, double timesCorpus) {
    }

    public record Result(String corpus, long bytes, int documents, String machine, List<Load> loads,
                         List<Throughput> throughput, List<WorstCase> worstCases) {
    }

    private interface Contender {
        String name();

        int[] encode(String text);
    }

    private TokenizerBenchmark() {
    }

    public static Result run(Options options) throws IOException {
        List<String> documents = documents(options.corpus(), options.megabytes() << 20);
        long bytes = utf8Bytes(documents);
        List<Load> loads = new ArrayList<>();
        List<Throughput> throughput = new ArrayList<>();
        List<WorstCase> worst = new ArrayList<>();
        for (String encoding : options.encodings()) {
            List<Contender> contenders = new ArrayList<>();
            Tokenizer ours = timedLoad(encoding, "llmstream", loads, () -> Tokenizers.load(encoding));
            // a tokenizer.json cuts out the special tokens its text spells, as HuggingFace does; tiktoken's encodings
            // are measured as encode_ordinary, as jtokkit's encodeOrdinary is
            boolean file = Files.isRegularFile(Path.of(encoding));
            contenders.add(contender("llmstream", file ? text -> ours.encode(text, SpecialTokens.all()) : ours::encode));
            EncodingType type = EncodingType.fromName(encoding).orElse(null);
            if (type != null) {
                Encoding jtokkit = timedLoad(encoding, "jtokkit", loads,
                        () -> Encodings.newDefaultEncodingRegistry().getEncoding(type));
                contenders.add(contender("jtokkit", text -> jtokkit.encodeOrdinary(text).toArray()));
            }
            if (options.huggingFace()) {
                Contender hf = huggingFace(ours, encoding, loads);
                if (hf != null) {
                    contenders.add(hf);
                }
            }
            List<Throughput> measured = measure(encoding, contenders, documents, bytes, options.rounds());
            throughput.addAll(measured);
            if (options.worstCase()) {
                List<String> slice = slice(documents, WORST_CASE_SLICE);
                for (Map.Entry<String, String> input : worstCaseInputs().entrySet()) {
                    worst.add(worstCase(encoding, input.getKey(), contenders.get(0), input.getValue(), slice,
                            Math.max(3, options.rounds())));
                }
            }
        }
        String machine = Runtime.getRuntime().availableProcessors() + " cpus, " + System.getProperty("os.arch") + ", "
                + System.getProperty("java.vm.name") + " " + System.getProperty("java.version");
        return new Result(options.corpus().toString(), bytes, documents.size(), machine, loads, throughput, worst);
    }

    public static void main(String[] args) throws IOException {
        Path corpus = null;
        List<String> encodings = List.of("cl100k_base", "o200k_base");
        int megabytes = 8;
        int rounds = 5;
        boolean huggingFace = true;
        boolean worstCase = false;
        boolean json = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--corpus" -> corpus = Path.of(args[++i]);
                case "--encodings" -> encodings = List.of(args[++i].split(","));
                case "--megabytes" -> megabytes = Integer.parseInt(args[++i]);
                case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                case "--no-huggingface" -> huggingFace = false;
                case "--worst-case" -> worstCase = true;
                case "--json" -> json = true;
                default -> throw new IllegalArgumentException("unknown option " + args[i]
                        + "; usage: --corpus FILE [--encodings a,b] [--megabytes N] [--rounds N] [--no-huggingface]"
                        + " [--worst-case] [--json]");
            }
        }
        if (corpus == null) {
            throw new IllegalArgumentException("--corpus FILE is required");
        }
        Result result = run(new Options(corpus, encodings, megabytes, rounds, huggingFace, worstCase));
        print(result);
        if (json) {
            System.out.println(new ObjectMapper().writeValueAsString(result));
        }
    }

    /** A readable table of the figures. */
    public static void print(Result r) {
        System.out.printf("corpus %s: %.1f MB in %d documents; %s%n", r.corpus(), r.bytes() / 1048576.0,
                r.documents(), r.machine());
        for (Load l : r.loads()) {
            System.out.printf("  load %-12s %-10s %8.0f ms  retained %6.1f MB%n", l.encoding(), l.contender(),
                    l.millis(), l.retainedMegabytes());
        }
        for (Throughput t : r.throughput()) {
            System.out.printf("  %-12s %-10s %8.1f MB/s median, %8.1f best  (%d tokens%s)%s%n", t.encoding(),
                    t.contender(), t.medianMegabytesPerSecond(), t.bestMegabytesPerSecond(), t.tokens(),
                    t.sameIdsAsOurs() ? ", same ids" : ", DIFFERENT ids",
                    t.contender().equals("llmstream") ? "" : String.format("; llmstream %.2fx faster", t.oursTimesFaster()));
        }
        for (WorstCase w : r.worstCases()) {
            System.out.printf("  worst case %-12s %-16s %8.1f ns/byte = %5.1fx the corpus%n", w.encoding(), w.input(),
                    w.nanosPerByte(), w.timesCorpus());
        }
    }

    /**
     * Times the contenders (ours first) in interleaved rounds, each round timing every contender once, so that a
     * drift of this machine's speed, which can reach a third within a minute on a shared VM, falls on all of them
     * alike instead of on whichever ran during a slow spell.
     */
    private static List<Throughput> measure(String encoding, List<Contender> contenders, List<String> documents,
                                            long bytes, int rounds) {
        int n = contenders.size();
        long[] tokens = new long[n];
        boolean[] same = new boolean[n];
        double[][] rates = new double[n][Math.max(1, rounds)];
        for (int c = 0; c < n; c++) {
            same[c] = true;
            for (String d : documents) {
                int[] ids = contenders.get(c).encode(d);
                tokens[c] += ids.length;
                same[c] &= Arrays.equals(ids, contenders.get(0).encode(d)); // the first is ours
            }
            for (int w = 0; w < 2; w++) { // warm-up
                encodeAll(contenders.get(c), documents);
            }
        }
        for (int i = 0; i < rates[0].length; i++) {
            for (int c = 0; c < n; c++) {
                long start = System.nanoTime();
                encodeAll(contenders.get(c), documents);
                rates[c][i] = bytes / 1048576.0 / ((System.nanoTime() - start) / 1e9);
            }
        }
        List<Throughput> out = new ArrayList<>();
        for (int c = 0; c < n; c++) {
            double[] ratios = new double[rates[c].length];
            for (int i = 0; i < ratios.length; i++) {
                ratios[i] = rates[0][i] / rates[c][i];
            }
            out.add(new Throughput(encoding, contenders.get(c).name(), median(rates[c]),
                    Arrays.stream(rates[c]).max().orElseThrow(), tokens[c], same[c], median(ratios)));
        }
        return out;
    }

    private static long encodeAll(Contender contender, List<String> documents) {
        long n = 0;
        for (String d : documents) {
            n += contender.encode(d).length;
        }
        return n;
    }

    private static Contender contender(String name, Function<String, int[]> encode) {
        return new Contender() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public int[] encode(String text) {
                return encode.apply(text);
            }
        };
    }

    /** HuggingFace tokenizers through DJL, by reflection so that it stays an optional, test-scope dependency. */
    private static Contender huggingFace(Tokenizer ours, String encoding, List<Load> loads) throws IOException {
        Class<?> type;
        try {
            type = Class.forName("ai.djl.huggingface.tokenizers.HuggingFaceTokenizer");
        } catch (ClassNotFoundException e) {
            return null;
        }
        // a tokenizer.json is measured as it is; a built-in encoding as the tokenizer.json ours writes of it
        Path file = Path.of(encoding);
        if (!Files.isRegularFile(file)) {
            file = Files.createTempFile(encoding, ".tokenizer.json");
            file.toFile().deleteOnExit();
            Files.writeString(file, ours.toTokenizerJson());
        }
        Path json = file;
        try {
            Method newInstance = type.getMethod("newInstance", Path.class, Map.class);
            Object tokenizer = timedLoad(encoding, "hf-tokenizers", loads, () -> {
                try {
                    return newInstance.invoke(null, json,
                            Map.of("truncation", "false", "padding", "false", "addSpecialTokens", "false"));
                } catch (ReflectiveOperationException e) {
                    throw new IllegalStateException(e);
                }
            });
            Method encode = type.getMethod("encode", String.class, boolean.class, boolean.class);
            Method getIds = encode.getReturnType().getMethod("getIds");
            return contender("hf-tokenizers", text -> {
                try {
                    long[] ids = (long[]) getIds.invoke(encode.invoke(tokenizer, text, false, false));
                    return Arrays.stream(ids).mapToInt(x -> (int) x).toArray();
                } catch (ReflectiveOperationException e) {
                    throw new IllegalStateException(e);
                }
            });
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            System.err.println("HuggingFace tokenizers unavailable: " + e);
            return null;
        }
    }

    private interface Loader<T> {
        T load() throws IOException;
    }

    /** Runs a cold load, recording its time and the heap it retains (used heap after full GCs, before and after). */
    private static <T> T timedLoad(String encoding, String contender, List<Load> loads, Loader<T> loader)
            throws IOException {
        long before = usedHeapAfterGc();
        long start = System.nanoTime();
        T loaded = loader.load();
        double millis = (System.nanoTime() - start) / 1e6;
        long after = usedHeapAfterGc();
        loads.add(new Load(encoding, contender, millis, Math.max(0, after - before) / 1048576.0));
        return loaded;
    }

    private static long usedHeapAfterGc() {
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    /**
     * Times a worst-case input and a slice of the corpus in alternating rounds, for the same reason as
     * {@link #measure}: the multiple of the corpus's per-byte time is the median over rounds of the ratio within a
     * round, the nanoseconds per byte the median over rounds.
     */
    private static WorstCase worstCase(String encoding, String name, Contender ours, String input, List<String> slice,
                                       int rounds) {
        double inputBytes = input.getBytes(StandardCharsets.UTF_8).length;
        double sliceBytes = utf8Bytes(slice);
        ours.encode(input); // warm-up
        double[] nanos = new double[rounds];
        double[] ratios = new double[rounds];
        for (int i = 0; i < rounds; i++) {
            long start = System.nanoTime();
            ours.encode(input);
            nanos[i] = (System.nanoTime() - start) / inputBytes;
            start = System.nanoTime();
            encodeAll(ours, slice);
            ratios[i] = nanos[i] / ((System.nanoTime() - start) / sliceBytes);
        }
        return new WorstCase(encoding, name, median(nanos), median(ratios));
    }

    /** The middle value (the upper of the two middle ones for an even count). */
    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }

    private static long utf8Bytes(List<String> texts) {
        return texts.stream().mapToLong(d -> d.getBytes(StandardCharsets.UTF_8).length).sum();
    }

    /** The first documents of the corpus that together reach {@code bytes} (all of it when it is smaller). */
    private static List<String> slice(List<String> documents, long bytes) {
        List<String> slice = new ArrayList<>();
        long taken = 0;
        for (String d : documents) {
            if (taken >= bytes) {
                break;
            }
            slice.add(d);
            taken += d.getBytes(StandardCharsets.UTF_8).length;
        }
        return slice;
    }

    private static Map<String, String> worstCaseInputs() {
        int n = 1 << 20;
        SplittableRandom random = new SplittableRandom(1);
        StringBuilder letters = new StringBuilder(n);
        StringBuilder digits = new StringBuilder(n);
        for (int i = 0; i < n; i++) {
            letters.append((char) ('a' + random.nextInt(26)));
            digits.append((char) ('0' + random.nextInt(10)));
        }
        Map<String, String> inputs = new LinkedHashMap<>();
        inputs.put("1MB 'a'", "a".repeat(n));
        inputs.put("1MB letters", letters.toString());
        inputs.put("1MB digits", digits.toString());
        inputs.put("1MB spaces", " ".repeat(n));
        inputs.put("1MB newlines", "\n".repeat(n));
        return inputs;
    }

    /** The first {@code bytes} of the corpus as documents, cut at blank lines (paragraphs). */
    static List<String> documents(Path corpus, int bytes) throws IOException {
        byte[] data;
        try (InputStream in = Files.newInputStream(corpus)) {
            data = in.readNBytes(bytes);
        }
        String text = new String(data, StandardCharsets.UTF_8);
        int end = text.lastIndexOf("\n\n");
        List<String> documents = new ArrayList<>();
        for (String d : (end > 0 ? text.substring(0, end) : text).split("\n\n")) {
            if (!d.isEmpty()) {
                documents.add(d);
            }
        }
        return documents;
    }
}
