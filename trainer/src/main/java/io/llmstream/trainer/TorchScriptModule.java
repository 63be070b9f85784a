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
 * A weightless TorchScript module of one {@code forward} method, compiled by libtorch from source written here: the way to
 * libtorch operators DJL's API does not offer (see {@link Fused}). The module is written as the archive
 * {@code torch.jit.load} reads (TorchScript source, a pickled module object, a format version) and loaded from memory.
 * Calls are differentiable in their tensor arguments; threads may share a module.
 */
final class TorchScriptModule {

    private final PtSymbolBlock block;

    /**
     * @param name      the module's class name
     * @param signature forward's parameters after {@code self}, e.g. {@code "x: Tensor"}
     * @param body      forward's body, one statement per line, returning a Tensor
     */
    TorchScriptModule(String name, String signature, String body) {
        // Indentation is syntax in TorchScript, as in Python.
        String source = "class " + name + "(Module):\n"
                + "  __parameters__ = []\n"
                + "  __buffers__ = []\n"
                + "  training : bool\n"
                + "  def forward(self: __torch__." + name + ", " + signature + ") -> Tensor:\n"
                + body.lines().map(line -> "    " + line + "\n").reduce("", String::concat);
        try {
            block = JniUtils.loadModule((PtNDManager) NDManager.newBaseManager(),
                    new ByteArrayInputStream(archive(name, source)), true, false);
        } catch (IOException e) {
            throw new UncheckedIOException("the TorchScript module " + name + " did not load", e);
        }
    }

    /** forward(arguments), its result in the first argument's manager. */
    NDArray apply(NDArray... arguments) {
        // "training" keeps autograd available; whether a graph is recorded is up to the caller's gradient collector
        return IValueUtils.forward(block, new NDList(arguments), true).singletonOrThrow();
    }

    /** The archive: code, the module object, no constants, format version 3, under one top folder. */
    static byte[] archive(String name, String source) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(out)) {
            put(zip, name + "/code/__torch__.py", source.getBytes(StandardCharsets.UTF_8));
            put(zip, name + "/data.pkl", moduleObject(name));
            put(zip, name + "/constants.pkl", new byte[] {PROTOCOL, 2, EMPTY_TUPLE, STOP});
            put(zip, name + "/version", "3\n".getBytes(StandardCharsets.US_ASCII));
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

    /** Pickle (protocol 2) of {@code __torch__.<name>()} with its one attribute, {@code training = True}. */
    private static byte[] moduleObject(String name) {
        ByteArrayOutputStream p = new ByteArrayOutputStream();
        p.write(PROTOCOL);
        p.write(2);
        p.write(GLOBAL);
        p.writeBytes(("__torch__\n" + name + "\n").getBytes(StandardCharsets.US_ASCII));
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

    /** One entry, stored uncompressed (as torch.jit.save stores its data). */
    private static void put(ZipOutputStream zip, String name, byte[] content) throws IOException {
        ZipEntry entry = new ZipEntry(name);
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
