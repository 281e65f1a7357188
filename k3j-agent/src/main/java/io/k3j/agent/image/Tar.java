package io.k3j.agent.image;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * A minimal ustar writer: directories, regular files and symlinks, owned by root, at a fixed mtime so that the same
 * content always gives the same bytes (and the same layer digest).
 */
final class Tar implements AutoCloseable {

    static final long MTIME = 0;
    private static final byte[] ZEROS = new byte[1024];
    private final OutputStream out;

    Tar(OutputStream out) {
        this.out = out;
    }

    void directory(String path, int mode) throws IOException {
        header(path.endsWith("/") ? path : path + "/", mode, 0, '5', "");
    }

    void symlink(String path, String target) throws IOException {
        header(path, 0777, 0, '2', target);
    }

    void file(String path, int mode, byte[] content) throws IOException {
        header(path, mode, content.length, '0', "");
        out.write(content);
        pad(content.length);
    }

    void file(String path, int mode, long size, InputStream content) throws IOException {
        header(path, mode, size, '0', "");
        long copied = content.transferTo(out);
        if (copied != size) throw new IOException(path + " changed while archived: " + copied + " bytes, expected " + size);
        pad(size);
    }

    private void pad(long size) throws IOException {
        int rest = (int) (size % 512);
        if (rest != 0) out.write(ZEROS, 0, 512 - rest);
    }

    private void header(String path, int mode, long size, char type, String link) throws IOException {
        byte[] h = new byte[512];
        byte[] name = path.getBytes(StandardCharsets.UTF_8);
        String prefix = "";
        if (name.length > 100) {
            // ustar splits long names at a '/' into prefix (155) and name (100)
            int cut = path.lastIndexOf('/', Math.min(path.length() - 2, 155));
            while (cut > 0 && path.substring(cut + 1).getBytes(StandardCharsets.UTF_8).length > 100) cut = -1;
            if (cut <= 0) throw new IOException("path too long for ustar: " + path);
            prefix = path.substring(0, cut);
            name = path.substring(cut + 1).getBytes(StandardCharsets.UTF_8);
        }
        byte[] linkBytes = link.getBytes(StandardCharsets.UTF_8);
        if (linkBytes.length > 100) throw new IOException("symlink target too long for ustar: " + link);
        put(h, 0, 100, name);
        octal(h, 100, 8, mode & 07777);
        octal(h, 108, 8, 0);
        octal(h, 116, 8, 0);
        octal(h, 124, 12, size);
        octal(h, 136, 12, MTIME);
        h[156] = (byte) type;
        put(h, 157, 100, linkBytes);
        put(h, 257, 6, "ustar\0".getBytes(StandardCharsets.US_ASCII));
        put(h, 263, 2, "00".getBytes(StandardCharsets.US_ASCII));
        put(h, 265, 32, "root".getBytes(StandardCharsets.US_ASCII));
        put(h, 297, 32, "root".getBytes(StandardCharsets.US_ASCII));
        put(h, 345, 155, prefix.getBytes(StandardCharsets.UTF_8));
        // the checksum is computed with its own field as spaces
        for (int i = 148; i < 156; i++) h[i] = ' ';
        long sum = 0;
        for (byte b : h) sum += b & 0xff;
        byte[] chk = String.format("%06o\0 ", sum).getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(chk, 0, h, 148, 8);
        out.write(h);
    }

    private static void put(byte[] h, int off, int len, byte[] value) {
        System.arraycopy(value, 0, h, off, Math.min(len, value.length));
    }

    private static void octal(byte[] h, int off, int len, long value) {
        String s = Long.toOctalString(value);
        if (s.length() > len - 1) throw new IllegalArgumentException("value too large for a tar field: " + value);
        s = "0".repeat(len - 1 - s.length()) + s;
        put(h, off, len - 1, s.getBytes(StandardCharsets.US_ASCII));
        h[off + len - 1] = 0;
    }

    /** Writes the two zero blocks that end an archive (does not close the stream). */
    @Override
    public void close() throws IOException {
        out.write(ZEROS);
        out.flush();
    }
}
