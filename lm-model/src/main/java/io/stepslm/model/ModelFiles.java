package io.stepslm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;

import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import io.stepslm.files.AtomicFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeSet;
import java.util.zip.CRC32;

/**
 * The model part of a checkpoint directory: {@code config.json} (the {@link ModelConfig}, readable JSON) and
 * {@code model.safetensors} (HuggingFace's safetensors layout: an 8-byte little-endian header length, a JSON header
 * mapping each parameter name to dtype F32, shape and byte offsets, then the raw little-endian data; readable by
 * the {@code safetensors} libraries and llama.cpp converters). Names and order are those of
 * {@link LanguageModel#parameterShapes}; the header's {@code __metadata__} holds a CRC-32 of the data so a flipped
 * byte is caught. Each file is written under a temporary name and renamed, so a crash never leaves a half-written
 * file under the real name. Loading refuses a missing, truncated, corrupt or mismatched checkpoint with a message
 * that names the file and the problem.
 */
public final class ModelFiles {

    public static final String CONFIG_FILE = "config.json";
    public static final String WEIGHTS_FILE = "model.safetensors";
    private static final String CRC_KEY = "stepslm.crc32";
    private static final String CONFIG_KEY = "stepslm.config";
    private static final long MAX_HEADER = 100L << 20;

    private ModelFiles() {
    }

    /** Writes config.json and model.safetensors into dir (created if absent), replacing earlier ones atomically. */
    public static void save(Path dir, LanguageModel model) throws IOException {
        Files.createDirectories(dir);
        Map<String, NDArray> params = model.parameters();
        JsonObject header = new JsonObject();
        long offset = 0;
        for (Map.Entry<String, NDArray> e : params.entrySet()) {
            JsonObject t = new JsonObject();
            t.addProperty("dtype", "F32");
            JsonArray shape = new JsonArray();
            for (long d : e.getValue().getShape().getShape()) {
                shape.add(d);
            }
            t.add("shape", shape);
            long bytes = e.getValue().getShape().size() * Float.BYTES;
            JsonArray offsets = new JsonArray();
            offsets.add(offset);
            offsets.add(offset + bytes);
            t.add("data_offsets", offsets);
            header.add(e.getKey(), t);
            offset += bytes;
        }
        CRC32 crc = new CRC32();
        AtomicFiles.write(dir.resolve(WEIGHTS_FILE), weightsTmp -> {
            try (FileChannel ch = FileChannel.open(weightsTmp, StandardOpenOption.WRITE)) {
                // the CRC is only known after the data: write the header with a fixed-width placeholder, then again
                byte[] headerBytes = headerBytes(header, "00000000", model.config());
                ch.position(8L + headerBytes.length);
                for (NDArray p : params.values()) {
                    ByteBuffer buf = ByteBuffer.allocate(Math.toIntExact(p.getShape().size() * Float.BYTES))
                            .order(ByteOrder.LITTLE_ENDIAN);
                    buf.asFloatBuffer().put(p.toFloatArray());
                    crc.update(buf.duplicate());
                    writeFully(ch, buf);
                }
                byte[] finalHeader = headerBytes(header, String.format("%08x", crc.getValue()), model.config());
                ByteBuffer start = ByteBuffer.allocate(8 + finalHeader.length).order(ByteOrder.LITTLE_ENDIAN);
                start.putLong(finalHeader.length).put(finalHeader).flip();
                ch.position(0);
                writeFully(ch, start);
            }
        });
        AtomicFiles.writeString(dir.resolve(CONFIG_FILE), model.config().toJson() + "\n");
    }

    /** Reads only dir/config.json. */
    public static ModelConfig readConfig(Path dir) throws IOException {
        Path file = dir.resolve(CONFIG_FILE);
        try {
            return ModelConfig.fromJson(Files.readString(file, StandardCharsets.UTF_8), file.toString());
        } catch (NoSuchFileException e) {
            throw new IOException(file + " not found: " + dir + " is not a stepslm checkpoint directory (it needs "
                    + CONFIG_FILE + " and " + WEIGHTS_FILE + ")", e);
        }
    }

    /** The model saved in dir, on the given runtime. */
    public static LanguageModel load(Path dir, ModelRuntime runtime) throws IOException {
        ModelConfig config = readConfig(dir);
        Path file = dir.resolve(WEIGHTS_FILE);
        Map<String, Shape> expected = LanguageModel.parameterShapes(config);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) {
                throw corrupt(file, "it is " + size + " bytes long, too short for a safetensors header");
            }
            ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, lenBuf, 0);
            long headerLen = lenBuf.flip().getLong();
            if (headerLen <= 0 || headerLen > MAX_HEADER || headerLen > size - 8) {
                throw corrupt(file, "its header length " + headerLen + " does not fit a file of " + size + " bytes");
            }
            ByteBuffer hb = ByteBuffer.allocate((int) headerLen);
            readFully(ch, hb, 8);
            JsonObject header;
            try {
                JsonElement parsed = JsonParser.parseString(new String(hb.array(), StandardCharsets.UTF_8));
                header = parsed.getAsJsonObject();
            } catch (JsonParseException | IllegalStateException e) {
                throw corrupt(file, "its header is not valid JSON");
            }
            long dataStart = 8 + headerLen;
            long dataLen = size - dataStart;
            Map<String, long[]> ranges = new LinkedHashMap<>();
            long end = 0;
            for (Map.Entry<String, Shape> e : expected.entrySet()) {
                String name = e.getKey();
                JsonElement t = header.get(name);
                if (t == null || !t.isJsonObject()) {
                    throw mismatch(file, "it has no tensor '" + name + "' that config.json's architecture needs");
                }
                long[] range = tensorRange(file, name, t.getAsJsonObject(), e.getValue(), dataLen);
                ranges.put(name, range);
                end = Math.max(end, range[1]);
            }
            TreeSet<String> extra = new TreeSet<>(header.keySet());
            extra.remove("__metadata__");
            extra.removeAll(expected.keySet());
            if (!extra.isEmpty()) {
                throw mismatch(file, "it has tensors " + extra + " that config.json's architecture does not have");
            }
            if (end != dataLen) {
                throw corrupt(file, "its data section is " + dataLen + " bytes but the tensors cover " + end
                        + " (truncated or padded)");
            }
            MappedByteBuffer data = ch.map(FileChannel.MapMode.READ_ONLY, dataStart, dataLen);
            data.order(ByteOrder.LITTLE_ENDIAN);
            checkMetadata(file, header, data, config);
            return LanguageModel.withValues(config, runtime, (name, shape) -> {
                long[] r = ranges.get(name);
                FloatBuffer fb = data.duplicate().order(ByteOrder.LITTLE_ENDIAN)
                        .position(Math.toIntExact(r[0])).limit(Math.toIntExact(r[1])).slice()
                        .order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
                float[] v = new float[fb.remaining()];
                fb.get(v);
                return v;
            });
        } catch (NoSuchFileException e) {
            throw new IOException(file + " not found: the checkpoint in " + dir + " has no weights; save it again "
                    + "or point to a complete checkpoint directory", e);
        }
    }

    private static long[] tensorRange(Path file, String name, JsonObject t, Shape want, long dataLen)
            throws IOException {
        try {
            String dtype = t.get("dtype").getAsString();
            if (!dtype.equals("F32")) {
                throw mismatch(file, "tensor '" + name + "' has dtype " + dtype + ", stepslm stores F32");
            }
            JsonArray shape = t.getAsJsonArray("shape");
            long[] dims = new long[shape.size()];
            for (int i = 0; i < dims.length; i++) {
                dims[i] = shape.get(i).getAsLong();
            }
            if (!Arrays.equals(dims, want.getShape())) {
                throw mismatch(file, "tensor '" + name + "' has shape " + Arrays.toString(dims) + " but config.json "
                        + "needs " + Arrays.toString(want.getShape()));
            }
            JsonArray off = t.getAsJsonArray("data_offsets");
            long begin = off.get(0).getAsLong();
            long end = off.get(1).getAsLong();
            if (begin < 0 || end > dataLen || end - begin != want.size() * Float.BYTES) {
                throw corrupt(file, "tensor '" + name + "' has byte range [" + begin + ", " + end + ") outside the "
                        + dataLen + "-byte data section or of the wrong length");
            }
            return new long[] {begin, end};
        } catch (NullPointerException | IllegalStateException | ClassCastException | UnsupportedOperationException
                 | NumberFormatException e) {
            throw corrupt(file, "the header entry of tensor '" + name + "' is malformed");
        }
    }

    private static void checkMetadata(Path file, JsonObject header, ByteBuffer data, ModelConfig config)
            throws IOException {
        JsonObject meta = header.has("__metadata__") && header.get("__metadata__").isJsonObject()
                ? header.getAsJsonObject("__metadata__") : new JsonObject();
        if (meta.has(CONFIG_KEY)) {
            ModelConfig saved = ModelConfig.fromJson(meta.get(CONFIG_KEY).getAsString(), file + " metadata");
            if (!saved.equals(config)) {
                throw mismatch(file, "the weights were saved with the config " + meta.get(CONFIG_KEY).getAsString());
            }
        }
        if (!meta.has(CRC_KEY)) {
            return; // a safetensors file from elsewhere: shapes and lengths were checked, there is no checksum
        }
        CRC32 crc = new CRC32();
        crc.update(data.duplicate());
        String got = String.format("%08x", crc.getValue());
        String want = meta.get(CRC_KEY).getAsString();
        if (!got.equals(want)) {
            throw corrupt(file, "its data checksum is " + got + " but the header records " + want
                    + " (the file was modified or damaged)");
        }
    }

    private static byte[] headerBytes(JsonObject tensors, String crc, ModelConfig config) {
        JsonObject h = new JsonObject();
        JsonObject meta = new JsonObject();
        meta.addProperty("format", "pt");
        meta.addProperty(CRC_KEY, crc);
        // the config the weights were saved with: a config.json from another model of equal shapes is caught too
        meta.addProperty(CONFIG_KEY, new Gson().toJson(JsonParser.parseString(config.toJson())));
        h.add("__metadata__", meta);
        tensors.entrySet().forEach(e -> h.add(e.getKey(), e.getValue()));
        byte[] json = new Gson().toJson(h).getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8; // the safetensors spec pads the header with spaces to 8 bytes
        byte[] out = Arrays.copyOf(json, padded);
        Arrays.fill(out, json.length, padded, (byte) ' ');
        return out;
    }

    private static IOException corrupt(Path file, String what) {
        return new IOException(file + " is corrupt: " + what + "; restore it from another checkpoint or save again");
    }

    private static IOException mismatch(Path file, String what) {
        return new IOException(file + " does not match " + CONFIG_FILE + " next to it: " + what + "; keep the "
                + "weights and config.json of one checkpoint together");
    }

    private static void writeFully(FileChannel ch, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) {
            ch.write(buf);
        }
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long position) throws IOException {
        long p = position;
        while (buf.hasRemaining()) {
            int n = ch.read(buf, p);
            if (n < 0) {
                throw new IOException("unexpected end of " + ch);
            }
            p += n;
        }
    }
}
