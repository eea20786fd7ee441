#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes the seed corpus of fuzz_spill_file into corpus/spill_file/ (see fuzz_spill_file.cpp for the
input format: one mode byte, then a spill file or a payload list)."""
import os
import struct

def crc32c(data, crc=0):
    crc ^= 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF

assert crc32c(b"123456789") == 0xE3069283

def header(record_max=1 << 20, version=1, header_size=32, magic=b"RKSPILL\0"):
    h = magic + struct.pack("<IIIII", version, header_size, record_max, 0, 0)
    return h + struct.pack("<I", crc32c(h))

def record(payload):
    length = struct.pack("<I", len(payload))
    return length + struct.pack("<I", crc32c(payload, crc32c(length))) + payload

def mode(bits=0, record_max_log2=0):
    return bytes([bits | (record_max_log2 << 4)])

seeds = {
    # bit 0 clear: the whole file comes from the input
    "empty_file": mode() + header(),
    "one_record": mode() + header() + record(b"hello"),
    "three_records": mode() + header() + record(b"") + record(b"a" * 40) + record(bytes(range(256))),
    "truncated_payload": mode() + header() + record(b"abcdefgh")[:-3],
    "truncated_frame": mode() + header() + record(b"abc")[:5],
    "bad_checksum": mode() + header() + record(b"abc")[:-1] + b"d",
    "length_past_record_max": mode() + header(record_max=4) + record(b"12345"),
    "bad_magic": mode() + header(magic=b"RKSPILX\0"),
    "bad_header_crc": mode() + header()[:-1] + b"\0",
    "version_2": mode() + header(version=2),
    "header_size_64": mode() + header(header_size=64),
    "short_header": mode() + header()[:20],
    # bit 0 set: a valid header is put in front; bits 0+1: CRCs fixed up
    "framed_small_limit": mode(1, 3) + record(b"12345678") + record(b"123456789"),
    "framed_fixed_crc": mode(3, 10) + struct.pack("<II", 3, 0) + b"xyz" + struct.pack("<II", 0, 0),
    # bit 2: round trip of a payload list (u8 length, bytes)
    "round_trip": mode(4) + b"\x03abc\x00\x05hello",
}

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "spill_file")
os.makedirs(out, exist_ok=True)
for name, data in seeds.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
print(f"{len(seeds)} seeds in {out}")
