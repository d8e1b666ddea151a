"""The expected-values file shared by the Swift tests and the interop scripts.

DIR/expected.json is {"files": [FILE, ...]} where FILE is
  {"file": "name.parquet", "rows": N, "row_groups": K, "compression": "zstd" | "none",
   "expect_error": "text"            (optional: the Swift reader must fail with this text)
   "columns": [{"name": str, "type": "int32" | "int64" | "double" | "string" | "bytes",
                "nullable": bool, "values": [...],
                "encodings": ["PLAIN", "RLE", ...]   (optional: what every column chunk must list)}]}
Values: ints as JSON numbers, doubles as 16 hex digits of their IEEE-754 bits (so NaN and -0.0
survive), strings as text, bytes as hex, nulls as null.
"""
import json
import math
import struct


def decode_value(kind, value):
    if value is None:
        return None
    if kind in ("int32", "int64"):
        return int(value)
    if kind == "double":
        return struct.unpack(">d", bytes.fromhex(value))[0]
    if kind == "string":
        return value
    if kind == "bytes":
        return bytes.fromhex(value)
    raise ValueError(f"unknown column type {kind}")


def encode_value(kind, value):
    if value is None:
        return None
    if kind in ("int32", "int64"):
        return int(value)
    if kind == "double":
        return struct.pack(">d", float(value)).hex()
    if kind == "string":
        return value
    if kind == "bytes":
        return bytes(value).hex()
    raise ValueError(f"unknown column type {kind}")


def load(directory):
    with open(f"{directory}/expected.json", encoding="utf-8") as f:
        files = json.load(f)["files"]
    for entry in files:
        for column in entry["columns"]:
            column["values"] = [decode_value(column["type"], v) for v in column["values"]]
    return files


def same(a, b):
    """Value equality where NaN equals NaN and -0.0 differs from +0.0."""
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, float) or isinstance(b, float):
        if not isinstance(a, (int, float)) or not isinstance(b, (int, float)):
            return False
        a, b = float(a), float(b)
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)
    if isinstance(a, (bytes, bytearray, memoryview)) or isinstance(b, (bytes, bytearray, memoryview)):
        return isinstance(a, (bytes, bytearray, memoryview)) and isinstance(b, (bytes, bytearray, memoryview)) \
            and bytes(a) == bytes(b)
    return type(a) is type(b) and a == b
