package io.stepslm.datasets;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import io.stepslm.files.AtomicFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;

/**
 * {@code manifest.json} of a prepared dataset: what tokenized it, how many tokens and documents went to each side
 * of the split, which shards hold them (with checksums), and which source files they came from (with sizes and
 * checksums), so a dataset can be checked and reproduced.
 *
 * @param version manifest format version ({@link #VERSION})
 * @param tokenizerFingerprint {@link io.stepslm.tokenizer.Tokenizer#fingerprint()} of the tokenizer that wrote the
 *     shards
 * @param bytesPerToken 2 (uint16) or 4 (uint32)
 * @param format how the sources were cut into documents
 * @param split the split used, as text
 * @param parts token and document counts per side
 */
public record Manifest(
        int version,
        String tokenizerFingerprint,
        int vocabSize,
        int endOfTextId,
        int bytesPerToken,
        String format,
        String jsonField,
        String split,
        List<PartEntry> parts,
        List<ShardEntry> shards,
        List<SourceEntry> sources,
        String createdAt) {

    public static final int VERSION = 1;
    public static final String FILE_NAME = "manifest.json";
    private static final Gson GSON = new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create();

    /** Counts for one side of the split. */
    public record PartEntry(String part, long tokens, long documents, int shards) {}

    /** One shard file (name relative to the dataset folder). */
    public record ShardEntry(String file, String part, long tokens, long bytes, String sha256) {}

    /** One source file and what was read from it. */
    public record SourceEntry(String path, long bytes, String sha256, long documents, long tokens, long skipped,
            long empty, long repaired) {}

    public Manifest {
        parts = List.copyOf(parts);
        shards = List.copyOf(shards);
        sources = List.copyOf(sources);
    }

    public PartEntry part(Split.Part p) {
        for (PartEntry e : parts) {
            if (e.part().equals(p.shortName())) {
                return e;
            }
        }
        return new PartEntry(p.shortName(), 0, 0, 0);
    }

    public List<ShardEntry> shardsOf(Split.Part p) {
        return shards.stream().filter(s -> s.part().equals(p.shortName())).toList();
    }

    public String toJson() {
        return GSON.toJson(this);
    }

    /** Writes {@code dir/manifest.json} through a temporary file and an atomic rename. */
    public void write(Path dir) throws IOException {
        AtomicFiles.writeString(dir.resolve(FILE_NAME), toJson() + "\n");
    }

    public static Manifest read(Path dir) throws IOException {
        Path file = dir.resolve(FILE_NAME);
        if (!Files.isRegularFile(file)) {
            throw new NoSuchFileException(file.toString(), null,
                    "not a prepared dataset: run 'stepslm data prepare --out " + dir + " ...' first");
        }
        Manifest m;
        try {
            m = GSON.fromJson(Files.readString(file, StandardCharsets.UTF_8), Manifest.class);
        } catch (RuntimeException e) {
            throw new IOException(file + ": not a valid manifest (" + e.getMessage()
                    + "): re-run 'stepslm data prepare'", e);
        }
        if (m == null || m.tokenizerFingerprint() == null || m.shards() == null) {
            throw new IOException(file + ": the manifest is empty or lacks fields: re-run 'stepslm data prepare'");
        }
        if (m.version() != VERSION) {
            throw new IOException(file + ": manifest version " + m.version() + " is not supported (expected " + VERSION
                    + "): re-run 'stepslm data prepare' with this stepslm");
        }
        return m;
    }
}
