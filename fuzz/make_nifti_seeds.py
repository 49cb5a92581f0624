#!/usr/bin/env python3
"""Writes the NIfTI seed corpus of fuzz_nifti (fuzz/corpus/nifti/): small valid files of each layout the
reader supports, so the fuzzer starts from inputs that reach the voxel code. Run from the repository root."""
import gzip
import struct
import zlib

OUT = "fuzz/corpus/nifti/"


def nifti1(dims, datatype, bitpix, data, endian="<", vox_offset=352.0, pixdim=(1, 0.8, 0.8, 2.5), qform=1, sform=1,
           slope=1.0, inter=0.0):
    h = bytearray(348)
    struct.pack_into(endian + "i", h, 0, 348)
    d = [len(dims)] + list(dims) + [1] * (7 - len(dims))
    struct.pack_into(endian + "8h", h, 40, *d)
    struct.pack_into(endian + "hh", h, 70, datatype, bitpix)
    struct.pack_into(endian + "8f", h, 76, *(list(pixdim) + [1] * (8 - len(pixdim))))
    struct.pack_into(endian + "fff", h, 108, vox_offset, slope, inter)
    struct.pack_into(endian + "hh", h, 252, qform, sform)
    struct.pack_into(endian + "6f", h, 256, 0, 0, 0, -10, 20, -30)
    struct.pack_into(endian + "12f", h, 280, 0.8, 0, 0, -10, 0, 0.8, 0, 20, 0, 0, 2.5, -30)
    h[344:348] = b"n+1\0"
    pad = b"\0" * (int(vox_offset) - 348)
    return bytes(h) + pad + data


def nifti2(dims, data):
    h = bytearray(540)
    struct.pack_into("<i", h, 0, 540)
    h[4:12] = b"n+2\0\r\n\x1a\n"
    struct.pack_into("<hh", h, 12, 2, 8)
    d = [len(dims)] + list(dims) + [1] * (7 - len(dims))
    struct.pack_into("<8q", h, 16, *d)
    struct.pack_into("<8d", h, 104, 1, 0.7, 0.8, 2.0, 1, 1, 1, 1)
    struct.pack_into("<qdd", h, 168, 544, 1.0, 0.0)
    return bytes(h) + b"\0" * 4 + data


def write(name, data):
    with open(OUT + name, "wb") as f:
        f.write(data)


vox = bytes((i * 7) % 3 == 0 for i in range(4 * 5 * 3))
write("u8.nii", nifti1((4, 5, 3), 2, 8, vox))
write("u8.nii.gz", gzip.compress(nifti1((4, 5, 3), 2, 8, vox), mtime=0))
write("i16-big-endian.nii", nifti1((4, 5, 3), 4, 16, b"".join(struct.pack(">h", v) for v in vox), endian=">"))
write("f32-scaled.nii.gz", gzip.compress(nifti1((4, 5, 3), 16, 32, b"".join(struct.pack("<f", 2.0 * v) for v in vox),
                                                slope=0.5), mtime=0))
write("no-qform-sform-4d.nii", nifti1((4, 5, 3, 1), 2, 8, vox, qform=0, sform=0))
write("extension.nii", nifti1((4, 5, 3), 2, 8, vox, vox_offset=368.0))
write("nifti2.nii", nifti2((4, 5, 3), vox))
raw = nifti1((4, 5, 3), 2, 8, vox)
write("two-members.nii.gz", gzip.compress(raw[:200], mtime=0) + gzip.compress(raw[200:], mtime=0))
write("trailing.nii.gz", gzip.compress(raw, mtime=0) + b"trailing bytes")
# A raw deflate stream with stored blocks, wrapped by hand: another encoder's layout.
co = zlib.compressobj(0, zlib.DEFLATED, -15)
body = co.compress(raw) + co.flush()
write("stored-blocks.nii.gz", b"\x1f\x8b\x08\x00\0\0\0\0\0\xff" + body + struct.pack("<II", zlib.crc32(raw), len(raw)))
