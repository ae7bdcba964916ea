"""Writes the image fixtures of MIMSImageTests with encoders independent of mims.

Run from the repository root: python3 Tests/Fixtures/make_image_fixtures.py
Needs Pillow, numpy and tifffile (pip) and tiffcp (Debian's libtiff-tools).

For every file, the expected pixels come from an independent source:
- lossless files: the numpy array that was encoded (ground truth, no decoder involved);
- JPEG files: Pillow's decode of the same bytes.
Each fixture is written as NAME.EXT plus NAME.raw (the expected interleaved samples, uint8 or
little-endian uint16), and index.json lists width, height, channels and bit depth.
The generated files are committed; rerun this only to add cases.
"""
import io
import json
import os
import struct
import subprocess
import zlib

import numpy as np
import tifffile
from PIL import Image

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "images")
os.makedirs(OUT, exist_ok=True)
rng = np.random.default_rng(2026)
index = []


def pattern(h, w, c, bits=8):
    """A smooth gradient with some noise: compresses like a real image, exercises every value."""
    top = (1 << bits) - 1
    y, x = np.mgrid[0:h, 0:w]
    planes = []
    for k in range(c):
        base = (x * (k + 1) * 3 + y * 5 + k * 40) % (top + 1)
        noise = rng.integers(0, max(2, (top + 1) // 16), size=(h, w))
        planes.append(np.clip(base + noise, 0, top))
    arr = np.stack(planes, axis=-1)
    return arr.astype(np.uint16 if bits > 8 else np.uint8)


def emit(name, data, expected, kind):
    """Writes the encoded file and its expected samples; records them in the index."""
    path = os.path.join(OUT, name)
    with open(path, "wb") as f:
        f.write(data)
    expected = np.ascontiguousarray(expected)
    if expected.ndim == 2:
        expected = expected[:, :, None]
    h, w, c = expected.shape
    raw = expected.astype("<u2").tobytes() if expected.dtype == np.uint16 else expected.astype(np.uint8).tobytes()
    with open(path + ".raw", "wb") as f:
        f.write(raw)
    index.append({"file": name, "kind": kind, "width": w, "height": h, "channels": c,
                  "bit_depth": 16 if expected.dtype == np.uint16 else 8})


# ---------------------------------------------------------------- PNG
def png_chunk(tag, body):
    return struct.pack(">I", len(body)) + tag + body + struct.pack(">I", zlib.crc32(tag + body) & 0xFFFFFFFF)


def pack_row(samples, bits):
    """Packs one row of samples (already flattened per pixel) into PNG bytes."""
    if bits == 16:
        return samples.astype(">u2").tobytes()
    if bits == 8:
        return samples.astype(np.uint8).tobytes()
    per_byte = 8 // bits
    padded = np.zeros(((len(samples) + per_byte - 1) // per_byte) * per_byte, dtype=np.uint8)
    padded[:len(samples)] = samples
    out = np.zeros(len(padded) // per_byte, dtype=np.uint8)
    for i in range(per_byte):
        out |= (padded[i::per_byte] << (8 - bits * (i + 1))).astype(np.uint8)
    return out.tobytes()


ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def filter_row(row, prev, kind, bpp):
    """PNG filter `kind` (0 none, 1 Sub, 2 Up, 3 Average, 4 Paeth) of one row of bytes."""
    row = row.astype(np.int32)
    prev = np.zeros_like(row) if prev is None else prev.astype(np.int32)
    left = np.concatenate([np.zeros(bpp, np.int32), row[:-bpp]])
    upleft = np.concatenate([np.zeros(bpp, np.int32), prev[:-bpp]])
    if kind == 0:
        predictor = np.zeros_like(row)
    elif kind == 1:
        predictor = left
    elif kind == 2:
        predictor = prev
    elif kind == 3:
        predictor = (left + prev) // 2
    else:
        p = left + prev - upleft
        pa, pb, pc = np.abs(p - left), np.abs(p - prev), np.abs(p - upleft)
        predictor = np.where((pa <= pb) & (pa <= pc), left, np.where(pb <= pc, prev, upleft))
    return ((row - predictor) % 256).astype(np.uint8).tobytes()


def write_png_filtered(samples, color_type, kinds):
    """8-bit PNG whose row y uses filter kinds[y % len(kinds)]."""
    h, w, c = samples.shape
    raw, prev = b"", None
    for y in range(h):
        row = samples[y].reshape(-1).astype(np.uint8)
        kind = kinds[y % len(kinds)]
        raw += bytes([kind]) + filter_row(row, prev, kind, c)
        prev = row
    ihdr = struct.pack(">IIBBBBB", w, h, 8, color_type, 0, 0, 0)
    # Split the stream over several IDAT chunks, as encoders do.
    stream = zlib.compress(raw, 6)
    idats = b"".join(png_chunk(b"IDAT", stream[i:i + 1000]) for i in range(0, len(stream), 1000))
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + idats + png_chunk(b"IEND", b"")


def write_png(samples, color_type, bits, interlace=False, palette=None, trns=None):
    """A minimal PNG encoder (filter 0 on every row), written here so tests do not depend on the
    decoder's own library to make their inputs. samples: [h, w, c] array of sample values."""
    h, w = samples.shape[:2]
    flat = samples.reshape(h, w, -1)
    raw = b""
    passes = ADAM7 if interlace else [(0, 0, 1, 1)]
    for x0, y0, dx, dy in passes:
        sub = flat[y0::dy, x0::dx]
        if sub.shape[0] == 0 or sub.shape[1] == 0:
            continue
        for row in sub:
            raw += b"\x00" + pack_row(row.reshape(-1), bits)
    ihdr = struct.pack(">IIBBBBB", w, h, bits, color_type, 0, 0, 1 if interlace else 0)
    body = b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr)
    if palette is not None:
        body += png_chunk(b"PLTE", bytes(np.asarray(palette, dtype=np.uint8).reshape(-1)))
    if trns is not None:
        body += png_chunk(b"tRNS", trns)
    body += png_chunk(b"IDAT", zlib.compress(raw, 9)) + png_chunk(b"IEND", b"")
    return body


def pil_bytes(image, fmt, **options):
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


H, W = 23, 37  # odd sizes catch row-stride and interlace edge cases

g8 = pattern(H, W, 1)[:, :, 0]
emit("png_gray8.png", pil_bytes(Image.fromarray(g8, "L"), "PNG"), g8, "png")
rgb8 = pattern(H, W, 3)
emit("png_rgb8.png", pil_bytes(Image.fromarray(rgb8, "RGB"), "PNG"), rgb8, "png")
rgba8 = pattern(H, W, 4)
emit("png_rgba8.png", pil_bytes(Image.fromarray(rgba8, "RGBA"), "PNG"), rgba8, "png")
la8 = pattern(H, W, 2)
emit("png_gray_alpha8.png", pil_bytes(Image.fromarray(la8, "LA"), "PNG"), la8, "png")
for bits in (1, 2, 4):
    g = pattern(H, W, 1, bits)[:, :, 0]
    emit(f"png_gray{bits}.png", write_png(g[:, :, None], 0, bits), g.astype(np.int32) * (255 // ((1 << bits) - 1)), "png")
g16 = pattern(H, W, 1, 16)
emit("png_gray16.png", write_png(g16, 0, 16), g16, "png")
rgb16 = pattern(H, W, 3, 16)
emit("png_rgb16.png", write_png(rgb16, 2, 16), rgb16, "png")
rgba16 = pattern(H, W, 4, 16)
emit("png_rgba16.png", write_png(rgba16, 6, 16), rgba16, "png")
emit("png_rgb8_interlaced.png", write_png(rgb8, 2, 8, interlace=True), rgb8, "png")
emit("png_gray16_interlaced.png", write_png(g16, 0, 16, interlace=True), g16, "png")
g2 = pattern(H, W, 1, 2)[:, :, 0]
emit("png_gray2_interlaced.png", write_png(g2[:, :, None], 0, 2, interlace=True), g2.astype(np.int32) * 85, "png")
for kind in range(5):
    emit(f"png_rgb8_filter{kind}.png", write_png_filtered(rgb8, 2, [kind]), rgb8, "png")
emit("png_rgba8_filters_mixed.png", write_png_filtered(rgba8, 6, [4, 3, 1, 2, 0]), rgba8, "png")
emit("png_gray8_filters_mixed.png", write_png_filtered(g8[:, :, None], 0, [3, 4, 2, 1]), g8, "png")
emit("png_gray_alpha8_paeth.png", write_png_filtered(la8, 4, [4]), la8, "png")
pal = rng.integers(0, 256, size=(16, 3)).astype(np.uint8)
for bits in (1, 2, 4, 8):
    n = 1 << bits
    idx = pattern(H, W, 1, bits)[:, :, 0] % min(n, 16)
    emit(f"png_palette{bits}.png", write_png(idx[:, :, None], 3, bits, palette=pal[:min(n, 16)]), pal[idx], "png")
idx = pattern(H, W, 1, 4)[:, :, 0] % 16
alpha = rng.integers(0, 256, size=16).astype(np.uint8)
emit("png_palette4_trns.png", write_png(idx[:, :, None], 3, 4, palette=pal, trns=bytes(alpha)),
     np.concatenate([pal[idx], alpha[idx][:, :, None]], axis=-1), "png")
emit("png_palette8_interlaced.png", write_png(idx[:, :, None], 3, 8, interlace=True, palette=pal), pal[idx], "png")

# ---------------------------------------------------------------- JPEG (expected: Pillow's decode)
def emit_jpeg(name, image, **options):
    data = pil_bytes(image, "JPEG", **options)
    decoded = Image.open(io.BytesIO(data))
    decoded = decoded.convert("RGB") if decoded.mode == "CMYK" else decoded
    emit(name, data, np.asarray(decoded), "jpeg")


emit_jpeg("jpeg_gray.jpg", Image.fromarray(pattern(64, 48, 1)[:, :, 0], "L"), quality=90)
emit_jpeg("jpeg_rgb420.jpg", Image.fromarray(pattern(61, 83, 3), "RGB"), quality=85, subsampling=2)
emit_jpeg("jpeg_rgb444.jpg", Image.fromarray(pattern(61, 83, 3), "RGB"), quality=95, subsampling=0)
emit_jpeg("jpeg_rgb_progressive.jpg", Image.fromarray(pattern(50, 70, 3), "RGB"), quality=80, progressive=True)
emit_jpeg("jpeg_cmyk.jpg", Image.fromarray(pattern(40, 56, 4), "CMYK"), quality=92)

# ---------------------------------------------------------------- TIFF
def tiff_bytes(array, **options):
    buffer = io.BytesIO()
    tifffile.imwrite(buffer, array, **options)
    return buffer.getvalue()


def tiffcp(data, *args):
    """Re-encodes a TIFF with Debian's tiffcp (LZW, packbits, JPEG, tiles)."""
    src, dst = os.path.join(OUT, "_in.tif"), os.path.join(OUT, "_out.tif")
    with open(src, "wb") as f:
        f.write(data)
    subprocess.run(["tiffcp", *args, src, dst], check=True)
    with open(dst, "rb") as f:
        out = f.read()
    os.remove(src)
    os.remove(dst)
    return out


TH, TW = 45, 51
t8 = pattern(TH, TW, 1)[:, :, 0]
trgb = pattern(TH, TW, 3)
t16 = pattern(TH, TW, 1, 16)[:, :, 0]
trgb16 = pattern(TH, TW, 3, 16)
base_gray = tiff_bytes(t8, photometric="minisblack", rowsperstrip=8)
base_rgb = tiff_bytes(trgb, photometric="rgb", rowsperstrip=8)
emit("tiff_gray8_none.tif", base_gray, t8, "tiff")
emit("tiff_rgb8_none.tif", base_rgb, trgb, "tiff")
emit("tiff_gray16_none.tif", tiff_bytes(t16, photometric="minisblack", rowsperstrip=7), t16, "tiff")
emit("tiff_rgb16_deflate.tif", tiff_bytes(trgb16, photometric="rgb", compression="zlib", rowsperstrip=9), trgb16, "tiff")
emit("tiff_rgb8_lzw.tif", tiffcp(base_rgb, "-c", "lzw:2"), trgb, "tiff")
emit("tiff_gray16_lzw.tif", tiffcp(tiff_bytes(t16, photometric="minisblack"), "-c", "lzw"), t16, "tiff")
emit("tiff_gray8_packbits.tif", tiffcp(base_gray, "-c", "packbits"), t8, "tiff")
emit("tiff_rgb8_deflate_tiled.tif", tiffcp(base_rgb, "-c", "zip", "-t", "-w", "16", "-l", "16"), trgb, "tiff")
emit("tiff_gray16_tiled.tif", tiff_bytes(t16, photometric="minisblack", tile=(16, 32)), t16, "tiff")
emit("tiff_rgb8_planar.tif", tiff_bytes(np.ascontiguousarray(trgb.transpose(2, 0, 1)), photometric="rgb", planarconfig="separate", rowsperstrip=10), trgb, "tiff")
emit("tiff_gray8_miniswhite.tif", tiff_bytes(t8, photometric="miniswhite"), 255 - t8, "tiff")
tpal = (rng.integers(0, 256, size=(3, 256)).astype(np.uint16) * 257)
tidx = pattern(TH, TW, 1)[:, :, 0]
emit("tiff_palette8.tif", tiff_bytes(tidx, photometric="palette", colormap=tpal),
     (tpal[:, tidx] >> 8).transpose(1, 2, 0).astype(np.uint8), "tiff")
# JPEG-in-TIFF (YCbCr): expected pixels from Pillow's decode of the same file.
jpeg_tif = tiffcp(base_rgb, "-c", "jpeg:95", "-r", "16")
emit("tiff_rgb8_jpeg.tif", jpeg_tif, np.asarray(Image.open(io.BytesIO(jpeg_tif)).convert("RGB")), "tiff")
# A three-page stack; the index records page 1 (the reader test checks every page).
pages = np.stack([pattern(TH, TW, 1)[:, :, 0] for _ in range(3)])
emit("tiff_stack3.tif", tiff_bytes(pages, photometric="minisblack", compression="zlib"), pages[1], "tiff-page1")
np.asarray(pages, dtype=np.uint8).tofile(os.path.join(OUT, "tiff_stack3.tif.pages.raw"))

# ---------------------------------------------------------------- hostile files (expect clean errors)
def patch_ihdr(width, height, bits=8, color=0):
    ihdr = struct.pack(">IIBBBBB", width, height, bits, color, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + png_chunk(b"IEND", b"")
    return data


hostile = {
    "hostile_png_huge.png": patch_ihdr(100000, 100000),
    "hostile_png_zero_width.png": patch_ihdr(0, 10),
    "hostile_png_bad_depth.png": patch_ihdr(10, 10, bits=7),
}
jpeg = bytearray(pil_bytes(Image.fromarray(g8, "L"), "JPEG"))
sof = jpeg.index(b"\xff\xc0")
huge = bytearray(jpeg)
huge[sof + 5:sof + 9] = struct.pack(">HH", 65000, 65000)
hostile["hostile_jpeg_huge.jpg"] = bytes(huge)
zero = bytearray(jpeg)
zero[sof + 7:sof + 9] = struct.pack(">H", 0)
hostile["hostile_jpeg_zero_width.jpg"] = bytes(zero)
tif = bytearray(base_gray)
# Rewrite tags in the first IFD: width 100000 x length 100000, or 7 bits per sample.
ifd = struct.unpack("<I", tif[4:8])[0]
count = struct.unpack("<H", tif[ifd:ifd + 2])[0]
def patch_tag(blob, tag, value):
    blob = bytearray(blob)
    for i in range(count):
        at = ifd + 2 + 12 * i
        t, typ = struct.unpack("<HH", blob[at:at + 4])
        if t == tag:
            blob[at + 8:at + 12] = struct.pack("<H", value) + b"\0\0" if typ == 3 else struct.pack("<I", value)
    return bytes(blob)
hostile["hostile_tiff_huge.tif"] = patch_tag(patch_tag(base_gray, 256, 60000), 257, 60000)
hostile["hostile_tiff_bits7.tif"] = patch_tag(base_gray, 258, 7)
hostile["hostile_tiff_zero_width.tif"] = patch_tag(base_gray, 256, 0)
for name, data in hostile.items():
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)

with open(os.path.join(OUT, "index.json"), "w") as f:
    json.dump({"images": index, "hostile": sorted(hostile)}, f, indent=1)
print(f"{len(index)} images, {len(hostile)} hostile files in {OUT}")
