package io.llmstream.trainer;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.llmstream.ops.FileTrees;
import io.llmstream.schemas.model.ModelFiles;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.DigestInputStream;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Checkpoints on a local disk, one directory each ({@code step-000000001000/}: {@code tensors.bin} and
 * {@code checkpoint.json}, which names the tensor file's SHA-256).
 *
 * <p>A checkpoint is written in full into a hidden temporary directory, flushed to disk, and only then renamed into
 * place: a crash at any point leaves either the complete new checkpoint or none, and the older ones intact. Leftover
 * temporary directories are deleted when the store is opened. The last {@code keep} checkpoints are kept.
 * One writer per directory; methods are synchronized.
 */
public final class CheckpointStore {

    private static final Logger log = LoggerFactory.getLogger(CheckpointStore.class);
    private static final String PREFIX = "step-";
    private static final Pattern COMMITTED = Pattern.compile("step-\\d+");
    private static final String TEMP_PREFIX = ".tmp-";
    private static final String TENSORS = "tensors.bin";
    private static final String META = "checkpoint.json";
    private static final int FORMAT = 1;
    private static final long MAGIC = 0x4c4c4d53434b5031L; // "LLMSCKP1"
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** Called with the fully written temporary directory just before it is renamed into place (tests crash here). */
    interface CommitHook {
        void beforeCommit(Path temporary) throws IOException;
    }

    /** What checkpoint.json holds: the checkpoint minus its tensors, plus the tensor file's digest. */
    private record Meta(int format, long step, ModelConfig model, TrainingConfig training, long seed,
                        Map<String, Long> positions, List<Window> validation, Map<String, Double> metrics,
                        String tensorsSha256) {}

    private final Path root;
    private final int keep;
    private final CommitHook hook;

    public CheckpointStore(Path root, int keep) throws IOException {
        this(root, keep, temporary -> { });
    }

    CheckpointStore(Path root, int keep, CommitHook hook) throws IOException {
        if (keep < 1) {
            throw new IllegalArgumentException("keep at least one checkpoint");
        }
        this.root = root;
        this.keep = keep;
        this.hook = hook;
        Files.createDirectories(root);
        deleteLeftovers();
    }

    public Path root() {
        return root;
    }

    /** Steps of the committed checkpoints, oldest first. */
    public synchronized List<Long> steps() throws IOException {
        return committed().stream().map(CheckpointStore::stepOf).toList();
    }

    /** Writes the checkpoint atomically, then drops all but the newest {@code keep}; returns its directory. */
    public synchronized Path save(Checkpoint checkpoint) throws IOException {
        Path target = root.resolve(String.format("%s%012d", PREFIX, checkpoint.step()));
        Path temporary = root.resolve(TEMP_PREFIX + target.getFileName() + "-" + UUID.randomUUID());
        Files.createDirectory(temporary);
        try {
            String sha = writeTensors(temporary.resolve(TENSORS), checkpoint);
            Meta meta = new Meta(FORMAT, checkpoint.step(), checkpoint.model(), checkpoint.training(), checkpoint.seed(),
                    checkpoint.positions(), checkpoint.validation(), checkpoint.metrics(), sha);
            writeDurably(temporary.resolve(META), JSON.writeValueAsBytes(meta));
            syncDirectory(temporary);
            hook.beforeCommit(temporary);
            if (Files.exists(target)) {
                // Same step written again (a replay after a restore): move the old one aside first, atomically.
                Path old = root.resolve(TEMP_PREFIX + "replaced-" + UUID.randomUUID());
                Files.move(target, old, StandardCopyOption.ATOMIC_MOVE);
                Files.move(temporary, target, StandardCopyOption.ATOMIC_MOVE);
                FileTrees.delete(old);
            } else {
                Files.move(temporary, target, StandardCopyOption.ATOMIC_MOVE);
            }
            syncDirectory(root);
        } catch (IOException | RuntimeException e) {
            FileTrees.delete(temporary);
            throw e;
        }
        prune();
        return target;
    }

    /** The newest checkpoint that reads back intact (a damaged one is logged and skipped), or empty. */
    public synchronized Optional<Checkpoint> loadLatest() throws IOException {
        deleteLeftovers();
        return readLatest(root);
    }

    /**
     * The newest intact checkpoint under {@code root}, read without touching the directory (a trainer may be writing
     * there), for tools such as the exporter.
     */
    public static Optional<Checkpoint> readLatest(Path root) throws IOException {
        List<Path> dirs = committed(root);
        for (int i = dirs.size() - 1; i >= 0; i--) {
            try {
                return Optional.of(read(dirs.get(i)));
            } catch (IOException | RuntimeException e) {
                log.warn("checkpoint {} is unreadable, trying an older one: {}", dirs.get(i), e.toString());
            }
        }
        return Optional.empty();
    }

    /** Whether {@code dir} is one checkpoint (rather than a store of them). */
    public static boolean isCheckpoint(Path dir) {
        return Files.isRegularFile(dir.resolve(META));
    }

    /** One checkpoint directory ({@code step-…}), its tensor file checked against the recorded digest. */
    public static Checkpoint read(Path dir) throws IOException {
        Meta meta = JSON.readValue(dir.resolve(META).toFile(), Meta.class);
        if (meta.format() != FORMAT) {
            throw new IOException("unsupported checkpoint format " + meta.format());
        }
        Map<String, Map<String, Checkpoint.Tensor>> groups = readTensors(dir.resolve(TENSORS), meta.tensorsSha256());
        return new Checkpoint(meta.step(), meta.model(), meta.training(), meta.seed(), meta.positions(),
                meta.validation(), meta.metrics(), group(groups, "weights"), group(groups, "adam.m"),
                group(groups, "adam.v"));
    }

    private static Map<String, Checkpoint.Tensor> group(Map<String, Map<String, Checkpoint.Tensor>> groups, String name)
            throws IOException {
        Map<String, Checkpoint.Tensor> g = groups.get(name);
        if (g == null) {
            throw new IOException("tensor group " + name + " missing");
        }
        return g;
    }

    // tensors.bin: magic, count, then per tensor: group, name, rank, dims, little-endian float32 data.
    private static String writeTensors(Path file, Checkpoint c) throws IOException {
        MessageDigest sha = ModelFiles.newSha256();
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
             DataOutputStream out = new DataOutputStream(new BufferedOutputStream(
                     new DigestOutputStream(Channels.newOutputStream(channel), sha), 1 << 16))) {
            out.writeLong(MAGIC);
            out.writeInt(c.weights().size() + c.adamM().size() + c.adamV().size());
            writeGroup(out, "weights", c.weights());
            writeGroup(out, "adam.m", c.adamM());
            writeGroup(out, "adam.v", c.adamV());
            out.flush();
            channel.force(true);
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    private static void writeGroup(DataOutputStream out, String group, Map<String, Checkpoint.Tensor> tensors)
            throws IOException {
        for (Map.Entry<String, Checkpoint.Tensor> e : tensors.entrySet()) {
            Checkpoint.Tensor t = e.getValue();
            out.writeUTF(group);
            out.writeUTF(e.getKey());
            out.writeInt(t.shape().length);
            for (long d : t.shape()) {
                out.writeLong(d);
            }
            ByteBuffer bytes = ByteBuffer.allocate(4 * t.data().length).order(ByteOrder.LITTLE_ENDIAN);
            bytes.asFloatBuffer().put(t.data());
            out.write(bytes.array());
        }
    }

    private static Map<String, Map<String, Checkpoint.Tensor>> readTensors(Path file, String expectedSha)
            throws IOException {
        MessageDigest sha = ModelFiles.newSha256();
        Map<String, Map<String, Checkpoint.Tensor>> groups = new LinkedHashMap<>();
        try (InputStream raw = Files.newInputStream(file);
             DataInputStream in = new DataInputStream(new BufferedInputStream(new DigestInputStream(raw, sha), 1 << 16))) {
            if (in.readLong() != MAGIC) {
                throw new IOException(file + " is not a checkpoint tensor file");
            }
            int count = in.readInt();
            for (int i = 0; i < count; i++) {
                String group = in.readUTF();
                String name = in.readUTF();
                long[] shape = new long[in.readInt()];
                long size = 1;
                for (int d = 0; d < shape.length; d++) {
                    shape[d] = in.readLong();
                    size = Math.multiplyExact(size, shape[d]);
                }
                byte[] bytes = new byte[Math.toIntExact(4 * size)];
                in.readFully(bytes);
                float[] data = new float[(int) size];
                ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(data);
                groups.computeIfAbsent(group, g -> new LinkedHashMap<>()).put(name, new Checkpoint.Tensor(shape, data));
            }
            if (in.read() != -1) {
                throw new IOException(file + " has trailing bytes");
            }
        }
        String actual = HexFormat.of().formatHex(sha.digest());
        if (!actual.equals(expectedSha)) {
            throw new IOException(file + " is damaged: sha256 " + actual + ", expected " + expectedSha);
        }
        return groups;
    }

    private List<Path> committed() throws IOException {
        return committed(root);
    }

    private static List<Path> committed(Path root) throws IOException {
        try (Stream<Path> list = Files.list(root)) {
            return list.filter(p -> COMMITTED.matcher(p.getFileName().toString()).matches() && Files.isDirectory(p))
                    .sorted(Comparator.comparingLong(CheckpointStore::stepOf))
                    .toList();
        }
    }

    private void prune() throws IOException {
        List<Path> dirs = committed();
        for (Path old : dirs.subList(0, Math.max(0, dirs.size() - keep))) {
            FileTrees.delete(old);
        }
    }

    private void deleteLeftovers() throws IOException {
        List<Path> leftovers;
        try (Stream<Path> list = Files.list(root)) {
            leftovers = list.filter(p -> p.getFileName().toString().startsWith(TEMP_PREFIX)).toList();
        }
        for (Path p : leftovers) {
            log.info("deleting unfinished checkpoint {}", p);
            FileTrees.delete(p);
        }
    }

    private static long stepOf(Path dir) {
        return Long.parseLong(dir.getFileName().toString().substring(PREFIX.length()));
    }

    private static void writeDurably(Path file, byte[] bytes) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ByteBuffer buffer = ByteBuffer.wrap(bytes);
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
            channel.force(true);
        }
    }

    // Makes the directory entries (new files, the rename) durable; Linux allows fsync on a directory opened to read.
    private static void syncDirectory(Path dir) throws IOException {
        try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
            channel.force(true);
        }
    }
}
