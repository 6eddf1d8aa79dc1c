"""MPC LeNet throughput side by side in one run: real CrypTen 0.4.1 (two parties in two
processes, 1 torch thread each), torch float32 plaintext (1 thread), and the simulator's
`tests/benches/models.rs` (protocol and ideal engines, one thread).

Run with the Python of the CrypTen harness's environment (see
`../shared/crypten-harness/README.md`; it is never installed by CI):

    HARNESS=~/crypten-harness
    $HARNESS/venv/bin/python tests/scripts/vs_crypten.py --harness $HARNESS [--data ../shared/data]

It writes a Markdown table (inferences per second and ratios) to stdout; BENCHMARKS.md quotes
it. Inputs: the first 64 MNIST test images, normalised as mpcdiff does.
"""

import argparse
import gzip
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def mnist64(data):
    with gzip.open(os.path.join(data, "mnist", "t10k-images-idx3-ubyte.gz")) as f:
        raw = f.read()
    n = 64
    x = np.frombuffer(raw[16 : 16 + n * 784], dtype=np.uint8).reshape(n, 1, 28, 28)
    x = x.astype(np.float32) / np.float32(255.0)
    return ((x - np.float32(0.1307)) / np.float32(0.3081)).astype(np.float32)


def crypten_bench(harness, weights, inputs, out):
    cmd = [sys.executable, os.path.join(harness, "harness.py"), "--model", "lenet-sigmoid-bn",
           "--weights", weights, "--inputs", inputs, "--out", out, "--parties", "2",
           "--threads", "1", "--bench", "--bench-batches", "1,64", "--bench-reps", "5"]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(out) as f:
        meta = json.load(f)["meta"]
    return {b["batch"]: b["median_s"] for b in meta["bench"]}


def torch_bench(harness, weights, x):
    sys.path.insert(0, harness)
    import torch
    import harness as h

    torch.set_num_threads(1)
    w = h.load_weights(weights)
    model = h.build_torch_model(h.model_spec("lenet-sigmoid-bn", w, "sigmoid"), w).eval()
    medians = {}
    with torch.no_grad():
        for batch in (1, 64):
            xb = torch.from_numpy(x[:batch])
            for _ in range(20):
                model(xb)
            reps = max(50, 2000 // batch)
            times = []
            for _ in range(7):
                t = time.perf_counter()
                for _ in range(reps):
                    model(xb)
                times.append((time.perf_counter() - t) / reps)
            medians[batch] = statistics.median(times)
    return medians


def simulator_bench():
    subprocess.run(["cargo", "bench", "-p", "mpcdiff-tests", "--bench", "models", "--",
                    "lenet/"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    out = {}
    # Where criterion writes: $CRITERION_HOME, else `criterion` in the cargo target directory.
    target = os.path.join(ROOT, os.environ.get("CARGO_TARGET_DIR", "target"))
    home = os.environ.get("CRITERION_HOME") or os.path.join(target, "criterion")
    for name in ("plaintext", "mpc", "mpc-ideal"):
        for batch in (1, 64):
            # criterion writes the function `mpc/batch1` as the folder `mpc_batch1`.
            path = os.path.join(home, "lenet", f"{name}_batch{batch}", "new", "estimates.json")
            with open(path) as f:
                out[(name, batch)] = json.load(f)["median"]["point_estimate"] / 1e9
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--harness", required=True, help="a copy of ../shared/crypten-harness with its venv")
    ap.add_argument("--data", default=os.path.join(ROOT, "..", "shared", "data"))
    a = ap.parse_args()
    weights = os.path.join(ROOT, "cli", "models", "lenet.safetensors")
    x = mnist64(a.data)
    with tempfile.TemporaryDirectory() as tmp:
        inputs = os.path.join(tmp, "x64.npy")
        np.save(inputs, x)
        started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        crypten = crypten_bench(a.harness, weights, inputs, os.path.join(tmp, "r.json"))
    torch_s = torch_bench(a.harness, weights, x)
    sim = simulator_bench()
    print(f"One run, started {started}; seconds per batch are medians.\n")
    print("| | batch 1 inf/s | batch 64 inf/s |")
    print("|---|---|---|")
    rows = [("real CrypTen 0.4.1, two parties", crypten),
            ("torch float32 plaintext", torch_s),
            ("simulator plaintext (f64)", {b: sim[("plaintext", b)] for b in (1, 64)}),
            ("simulator MPC, protocol engine", {b: sim[("mpc", b)] for b in (1, 64)}),
            ("simulator MPC, ideal engine", {b: sim[("mpc-ideal", b)] for b in (1, 64)})]
    for name, s in rows:
        print(f"| {name} | {1 / s[1]:,.1f} | {64 / s[64]:,.1f} |")
    print("\n| ratio | batch 1 | batch 64 |")
    print("|---|---|---|")
    for eng, key in (("protocol", "mpc"), ("ideal", "mpc-ideal")):
        v = [crypten[b] / sim[(key, b)] for b in (1, 64)]
        print(f"| {eng} engine vs real CrypTen (× faster) | {v[0]:,.0f}× | {v[1]:,.1f}× |")
        w = [sim[(key, b)] / torch_s[b] for b in (1, 64)]
        print(f"| {eng} engine vs torch float32 (× slower) | {w[0]:,.1f}× | {w[1]:,.1f}× |")


if __name__ == "__main__":
    main()
