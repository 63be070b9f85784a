package io.llmstream.trainer;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValueUtils;
import ai.djl.pytorch.jni.JniUtils;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Causal scaled dot-product attention, softmax(q k^T / sqrt(headDim) + causal mask) v with dropout on the weights, as
 * libtorch's one fused operator forward and backward. DJL's API has no call for it, so it is reached through a
 * TorchScript module of one line, written here as the archive {@code torch.jit.load} reads (TorchScript source, a
 * pickled module object, a format version). Against the same attention as separate operators (two batched products, the
 * mask, the softmax) it saves about a fifth of the attention's time at the tiny trained shapes.
 */
final class CausalAttention {

    private static final String MODULE = "CausalAttention";

    // Indentation is syntax in TorchScript, as in Python.
    private static final String SOURCE = """
            class CausalAttention(Module):
              __parameters__ = []
              __buffers__ = []
              training : bool
              def forward(self: __torch__.CausalAttention, q: Tensor, k: Tensor, v: Tensor, dropout: Tensor) -> Tensor:
                return torch.scaled_dot_product_attention(q, k, v, None, float(dropout), True)
            """;

    private CausalAttention() {}

    /**
     * Attention of q over k and v, each (B, heads, T, headDim), giving (B, heads, T, headDim); {@code dropout} applies to
     * the attention weights while training. Differentiable in q, k and v.
     */
    static NDArray apply(NDArray q, NDArray k, NDArray v, float dropout, boolean training) {
        NDArray rate = Layers.scalar(q, training ? dropout : 0f);
        // "training" here only keeps autograd on; whether a graph is recorded is up to the caller's gradient collector
        return IValueUtils.forward(Compiled.MODULE, new NDList(q, k, v, rate), true).singletonOrThrow();
    }

    /** Loaded on first use and kept for the process: the module holds no weights, so threads and models share it. */
    private static final class Compiled {
        static final PtSymbolBlock MODULE = load();

        private static PtSymbolBlock load() {
            try {
                return JniUtils.loadModule((PtNDManager) NDManager.newBaseManager(), new ByteArrayInputStream(archive()),
                        true, false);
            } catch (IOException e) {
                throw new UncheckedIOException("the attention module did not load", e);
            }
        }
    }

    /** The TorchScript archive: code, the module object (a pickle), no constants, format version 3. */
    static byte[] archive() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(out)) {
            put(zip, "code/__torch__.py", SOURCE.getBytes(StandardCharsets.UTF_8));
            put(zip, "data.pkl", moduleObject());
            put(zip, "constants.pkl", new byte[] {PROTOCOL, 2, EMPTY_TUPLE, STOP});
            put(zip, "version", "3\n".getBytes(StandardCharsets.US_ASCII));
        } catch (IOException e) {
            throw new UncheckedIOException("writing to memory does not fail", e);
        }
        return out.toByteArray();
    }

    private static final byte PROTOCOL = (byte) 0x80;
    private static final byte GLOBAL = 'c';
    private static final byte EMPTY_TUPLE = ')';
    private static final byte NEW_OBJECT = (byte) 0x81;
    private static final byte EMPTY_DICT = '}';
    private static final byte UNICODE = 'X';
    private static final byte TRUE = (byte) 0x88;
    private static final byte SET_ITEM = 's';
    private static final byte BUILD = 'b';
    private static final byte STOP = '.';

    /** Pickle (protocol 2) of {@code __torch__.CausalAttention()} with its one attribute, {@code training = True}. */
    private static byte[] moduleObject() {
        ByteArrayOutputStream p = new ByteArrayOutputStream();
        p.write(PROTOCOL);
        p.write(2);
        p.write(GLOBAL);
        p.writeBytes(("__torch__\n" + MODULE + "\n").getBytes(StandardCharsets.US_ASCII));
        p.write(EMPTY_TUPLE);
        p.write(NEW_OBJECT);
        p.write(EMPTY_DICT);
        byte[] key = "training".getBytes(StandardCharsets.US_ASCII);
        p.write(UNICODE);
        p.writeBytes(new byte[] {(byte) key.length, 0, 0, 0}); // little-endian length
        p.writeBytes(key);
        p.write(TRUE);
        p.write(SET_ITEM);
        p.write(BUILD);
        p.write(STOP);
        return p.toByteArray();
    }

    /** One entry, stored uncompressed under the archive's top folder (the layout torch.jit.save writes). */
    private static void put(ZipOutputStream zip, String name, byte[] content) throws IOException {
        ZipEntry entry = new ZipEntry(MODULE + "/" + name);
        entry.setMethod(ZipEntry.STORED);
        entry.setSize(content.length);
        CRC32 crc = new CRC32();
        crc.update(content);
        entry.setCrc(crc.getValue());
        zip.putNextEntry(entry);
        zip.write(content);
        zip.closeEntry();
    }
}
