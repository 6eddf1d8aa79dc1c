"""What the framework recorders share: the committed mpcdiff models (safetensors, read with the
standard library: the reference environments run Python 3.7) and the MNIST test images of
../shared/data, preprocessed as the models' metadata says. Never copies data into the repository.
"""

import gzip
import json
import os
import struct

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODELS = os.path.join(ROOT, "cli", "models")


def shared_dir():
    return os.environ.get("MPCDIFF_SHARED", os.path.join(os.path.dirname(ROOT), "shared"))


def load_model(name):
    """(tensors as float32 numpy arrays by name, metadata dict) of cli/models/NAME.safetensors."""
    path = os.path.join(MODELS, name + ".safetensors")
    with open(path, "rb") as fh:
        data = fh.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n].decode("utf-8"))
    body = data[8 + n :]
    meta = header.pop("__metadata__", {})
    tensors = {}
    for key, spec in header.items():
        if spec["dtype"] != "F32":
            raise SystemExit(f"{path}: {key} is {spec['dtype']}, expected F32")
        lo, hi = spec["data_offsets"]
        tensors[key] = np.frombuffer(body[lo:hi], dtype="<f4").reshape(spec["shape"]).copy()
    return tensors, meta


def mnist_test(limit):
    """The first `limit` MNIST test images, normalised ((x/255 − 0.1307)/0.3081, float32,
    N×1×28×28) and their labels."""
    base = os.path.join(shared_dir(), "data", "mnist")
    with gzip.open(os.path.join(base, "t10k-images-idx3-ubyte.gz")) as fh:
        raw = fh.read()
    _, n, rows, cols = struct.unpack(">IIII", raw[:16])
    images = np.frombuffer(raw[16:], dtype=np.uint8).reshape(n, 1, rows, cols)[:limit]
    with gzip.open(os.path.join(base, "t10k-labels-idx1-ubyte.gz")) as fh:
        labels = np.frombuffer(fh.read()[8:], dtype=np.uint8)[:limit]
    x = ((images.astype(np.float32) / np.float32(255.0)) - np.float32(0.1307)) / np.float32(0.3081)
    return x.astype(np.float32), labels.astype(np.int64)


def write_references(out, script, index, docs, seconds=None):
    """Writes each case as `out/CASE.json` (compact, tagged with the framework and its version)
    and `out/index.json`, and says so (with `seconds`, the time this run took, when it is not
    the index's)."""
    for d in docs:
        d["framework"] = index["framework"]
        d["version"] = index["version"]
        with open(os.path.join(out, d["case"] + ".json"), "w") as fh:
            json.dump(d, fh, separators=(",", ":"))
    with open(os.path.join(out, "index.json"), "w") as fh:
        json.dump(index, fh, indent=1)
    took = index["seconds"] if seconds is None else seconds
    print(f"{script}: {len(docs)} cases in {took} s -> {out}")
