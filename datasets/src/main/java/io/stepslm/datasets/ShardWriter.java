package io.stepslm.datasets;

import io.stepslm.files.AtomicFiles;
import io.stepslm.files.ProcessLock;
import io.stepslm.tokenizer.InputFiles;
import io.stepslm.tokenizer.Tokenizer;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * Writes token ids of one side of the split into numbered shards ({@code train_000000.bin}, ...), and
 * {@link #prepare} writes a whole corpus once: read, split by document, tokenize in order on worker threads
 * ({@link TokenizePipeline}, end-of-text after each document), shard, and describe it all in {@code manifest.json}.
 * Everything is written into a temporary folder beside the output, renamed into place only when complete.
 */
public final class ShardWriter implements Closeable {
    /** Progress is reported after about this many tokens (a report per piece would cost more than a lines corpus). */
    private static final long PROGRESS_TOKENS = 1 << 16;

    private final Path dir;
    private final Split.Part part;
    private final Tokenizer tokenizer;
    private final int bytesPerToken;
    private final long shardTokens;
    private final List<Manifest.ShardEntry> written = new ArrayList<>();
    private final ByteBuffer buffer = ByteBuffer.allocate(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
    private FileChannel channel;
    private Path current;
    private long inShard;
    private long total;
    private long documents;

    ShardWriter(Path dir, Split.Part part, Tokenizer tokenizer, long shardTokens) {
        this.dir = dir;
        this.part = part;
        this.tokenizer = tokenizer;
        this.bytesPerToken = ShardHeader.bytesPerToken(tokenizer.vocabSize());
        this.shardTokens = shardTokens;
    }

    /** Appends ids (a document piece, with its end-of-text id when it is the last piece). */
    void write(int[] ids) throws IOException {
        for (int id : ids) {
            if (id < 0 || id >= tokenizer.vocabSize()) {
                throw new IllegalStateException("the tokenizer produced id " + id + " outside its vocabulary of "
                        + tokenizer.vocabSize());
            }
            if (channel == null) {
                openShard();
            }
            if (buffer.remaining() < bytesPerToken) {
                flush();
            }
            if (bytesPerToken == 2) {
                buffer.putShort((short) id);
            } else {
                buffer.putInt(id);
            }
            inShard++;
            total++;
            if (inShard == shardTokens) {
                closeShard();
            }
        }
    }

    void addDocument() {
        documents++;
    }

    long tokens() {
        return total;
    }

    long documents() {
        return documents;
    }

    List<Manifest.ShardEntry> shards() {
        return List.copyOf(written);
    }

    private void openShard() throws IOException {
        current = dir.resolve(String.format("%s_%06d.bin", part.shortName(), written.size()));
        channel = FileChannel.open(current, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        channel.write(header(0), 0);
        channel.position(ShardHeader.BYTES);
        inShard = 0;
    }

    private ByteBuffer header(long count) {
        return new ShardHeader(ShardHeader.VERSION, bytesPerToken, count, tokenizer.vocabSize(),
                tokenizer.endOfTextId(), tokenizer.fingerprint()).encode();
    }

    private void flush() throws IOException {
        buffer.flip();
        while (buffer.hasRemaining()) {
            channel.write(buffer);
        }
        buffer.clear();
    }

    private void closeShard() throws IOException {
        flush();
        ByteBuffer h = header(inShard);
        while (h.hasRemaining()) {
            channel.write(h, h.position());
        }
        channel.force(true);
        channel.close();
        channel = null;
        written.add(new Manifest.ShardEntry(current.getFileName().toString(), part.shortName(), inShard,
                Files.size(current), sha256(current)));
    }

    static String sha256(Path file) throws IOException {
        MessageDigest md = Split.sha256();
        byte[] buf = new byte[1 << 16];
        try (InputStream in = Files.newInputStream(file)) {
            int n;
            while ((n = in.read(buf)) > 0) {
                md.update(buf, 0, n);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    @Override
    public void close() throws IOException {
        if (channel != null) {
            closeShard();
        }
    }

    /**
     * Tokenizes the corpus into shards under {@code outDir} and returns the manifest written there. A failure leaves
     * no {@code outDir} (and an existing one untouched). Per-source counts go to {@code report}. Refused at once while
     * another process prepares into the same {@code outDir} (a {@link ProcessLock} on {@code .<name>.lock} beside it;
     * taking it creates the parent folder).
     */
    public static Manifest prepare(SourceSpec spec, Tokenizer tokenizer, PrepareConfig config, Path outDir,
            Progress progress, DataReport report)
            throws IOException {
        Path out = outDir.toAbsolutePath().normalize();
        // held until the dataset is renamed into place: a second prepare into the same --out would otherwise spend
        // the whole tokenization and then swap its folder over the first one's, --force or not
        ProcessLock lock = ProcessLock.acquire(out.resolveSibling("." + out.getFileName() + ".lock"),
                "the output folder " + out, "wait for its data prepare to end or stop it, or choose another --out");
        try {
            return prepareLocked(spec, tokenizer, config, out, progress, report);
        } finally {
            lock.close();
        }
    }

    private static Manifest prepareLocked(SourceSpec spec, Tokenizer tokenizer, PrepareConfig config, Path out,
            Progress progress, DataReport report) throws IOException {
        if (Files.exists(out) && !config.overwrite()) {
            throw new IOException(out + " already exists: choose another --out, or pass --force to replace it once the "
                    + "new data is complete");
        }
        List<Path> files = InputFiles.resolve(spec.inputs());
        long totalBytes = 0;
        for (Path f : files) {
            totalBytes += Files.size(f);
        }
        Path parent = out.getParent();
        // createDirectory, not createTempDirectory: that one is 0700, and the renamed dataset folder kept it. The
        // pid in the name tells a later run whether the process that wrote it is still alive (see removeStale).
        Path tmp = Files.createDirectory(parent.resolve(tmpPrefix(out) + ProcessHandle.current().pid() + "-"
                + Long.toUnsignedString(java.util.concurrent.ThreadLocalRandom.current().nextLong(), 36)));
        boolean ok = false;
        Map<Split.Part, ShardWriter> writers = new EnumMap<>(Split.Part.class);
        for (Split.Part p : Split.Part.values()) {
            writers.put(p, new ShardWriter(tmp, p, tokenizer, config.shardTokens()));
        }
        try (Documents docs = Documents.open(spec, files, report);
             TokenizePipeline<Split.Part> pipeline = new TokenizePipeline<>(tokenizer, config.threads(),
                     "stepslm-prepare",
                     new PartReader(docs, config.split()))) {
            long tokens = 0;
            long reported = 0;
            for (TokenizePipeline.Done<Split.Part> d = pipeline.next(); d != null; d = pipeline.next()) {
                ShardWriter w = writers.get(d.tag());
                w.write(d.ids());
                tokens += d.ids().length;
                if (d.last()) {
                    w.addDocument();
                }
                if (tokens - reported >= PROGRESS_TOKENS) {
                    progress.update(docs.bytesRead(), totalBytes, tokens);
                    reported = tokens;
                }
            }
            for (ShardWriter w : writers.values()) {
                w.close();
            }
            progress.update(totalBytes, totalBytes, tokens);
            if (writers.get(Split.Part.TRAIN).tokens() + writers.get(Split.Part.VALIDATION).tokens() == 0) {
                throw new IllegalArgumentException("the inputs " + spec.inputs()
                        + " hold no document (all empty or skipped): check the paths, "
                        + "the --format and, for JSONL, the --field");
            }
            List<Manifest.PartEntry> parts = new ArrayList<>();
            List<Manifest.ShardEntry> shards = new ArrayList<>();
            for (Split.Part p : Split.Part.values()) {
                ShardWriter w = writers.get(p);
                parts.add(new Manifest.PartEntry(p.shortName(), w.tokens(), w.documents(), w.shards().size()));
                shards.addAll(w.shards());
            }
            List<Manifest.SourceEntry> sources = new ArrayList<>();
            for (SourceStats s : report.sources()) {
                sources.add(new Manifest.SourceEntry(s.source(), s.bytes(), s.sha256(), s.documents(), s.tokens(),
                        s.skipped(), s.empty(), s.repaired()));
            }
            Manifest m = new Manifest(Manifest.VERSION, tokenizer.fingerprint(), tokenizer.vocabSize(),
                    tokenizer.endOfTextId(),
                    ShardHeader.bytesPerToken(tokenizer.vocabSize()), spec.format().name(), spec.jsonField(),
                    config.split().toString(),
                    parts, shards, sources, Instant.now().toString());
            m.write(tmp);
            AtomicFiles.replaceDirectory(tmp, out); // an old folder is deleted only once the new one is in place
            ok = true;
            return m;
        } catch (UncheckedIOException e) {
            throw e.getCause();
        } finally {
            if (!ok) {
                for (ShardWriter w : writers.values()) {
                    try {
                        if (w.channel != null) {
                            w.channel.close();
                        }
                    } catch (IOException ignored) {
                        // the folder is deleted below
                    }
                }
                AtomicFiles.deleteRecursively(tmp);
            }
        }
    }

    private static String tmpPrefix(Path out) {
        return "." + out.getFileName() + ".tmp-";
    }

    /**
     * Cleans what a killed {@link #prepare} into {@code outDir} left beside it: its temporary folders (as large as
     * the dataset) are deleted unless the process named in them still runs, and a dataset set aside by a
     * {@code --force} replacement killed between its two renames is put back first. Returns one line per action.
     */
    public static List<String> removeStale(Path outDir) throws IOException {
        Path out = outDir.toAbsolutePath().normalize();
        List<String> done = new ArrayList<>();
        if (out.getParent() == null || !Files.isDirectory(out.getParent())) {
            return done;
        }
        List<Path> leftovers = new ArrayList<>();
        try (var s = Files.newDirectoryStream(out.getParent(), tmpPrefix(out) + "*")) {
            s.forEach(leftovers::add);
        }
        leftovers.removeIf(p -> writerIsAlive(p.getFileName().toString().substring(tmpPrefix(out).length())));
        leftovers.sort(null);
        for (Path p : leftovers) {
            String name = p.getFileName().toString();
            if (name.endsWith(".old") && AtomicFiles.restoreAside(p.resolveSibling(name.replaceFirst("\\.old$", "")),
                    out)) {
                done.add("restored " + out + " from " + p + " (an earlier --force replacement was killed between "
                        + "its two renames)");
            }
        }
        for (Path p : leftovers) {
            if (Files.exists(p)) {
                AtomicFiles.deleteRecursively(p);
                done.add("removed " + p + ", left by an earlier data prepare that did not finish");
            }
        }
        return done;
    }

    /** Whether the temporary folder named {@code <pid>-<random>} belongs to another process that still runs. */
    private static boolean writerIsAlive(String pidAndRandom) {
        String pid = pidAndRandom.contains("-") ? pidAndRandom.substring(0, pidAndRandom.indexOf('-')) : "";
        return pid.matches("\\d{1,18}") && Long.parseLong(pid) != ProcessHandle.current().pid()
                && ProcessHandle.of(Long.parseLong(pid)).map(ProcessHandle::isAlive).orElse(false);
    }

    /** Reads the pieces for the pipeline, each tagged with its document's part of the split. */
    private static final class PartReader implements TokenizePipeline.Reader<Split.Part> {
        private final Documents docs;
        private final Split split;
        private Split.Part part = Split.Part.TRAIN;

        PartReader(Documents docs, Split split) {
            this.docs = docs;
            this.split = split;
        }

        @Override
        public TokenizePipeline.Job<Split.Part> next() {
            if (!docs.hasNext()) {
                return null;
            }
            Document d = docs.next();
            if (d.piece() == 0) {
                part = split.partOf(d.source(), d.text()); // a document's later pieces go where its first went
            }
            return new TokenizePipeline.Job<>(part, d, docs.statsOfLast());
        }
    }
}
