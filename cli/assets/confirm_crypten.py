#!/usr/bin/env python3
"""Confirm in real CrypTen the deviations an mpcdiff fuzzing campaign found.

Written by `mpcdiff export` next to the files it reads:
  model.onnx      the deployed graph (what crypten.nn.from_pytorch would import)
  inputs.npy      float64 [n, *input_shape], the inputs as the simulator encoded them
  labels.npy      int64 [n], the simulator's plaintext label of each input
  mpc_labels.npy  int64 [n], the simulator's MPC label of each input
  manifest.json   only `frac_bits` and `crypten_config` (CrypTen cfg keys to set) are used;
                  `inputs[i].entry`, when present, names input i in the table

usage: python confirm_crypten.py [--runs 8] [--parties 2] [--dir .] [--batch-size 64]

Needs CrypTen 0.4.1 with torch 1.13: pip install torch==1.13.1 "numpy<2" onnx==1.14.1
omegaconf pyyaml, then pip install --no-deps crypten==0.4.1 (its declared dependencies
include the unusable `sklearn` stub).

Every input is replicated --runs times, and each replica is one private inference with fresh
randomness (shares, Beaver triples, truncation): the parties are separate local processes
talking over torch.distributed/gloo, like crypten.mpc.run_multiprocess (CrypTen 0.4.1's
in-thread parties do not work).  Party 0 owns the model (encrypt(src=0): every party reads
model.onnx to build the graph, only party 0's weights are shared), party 1 owns the inputs
(cryptensor(src=1)).  CrypTen encodes an input as (x * 2^f) truncated toward zero,
computed in float64 here, as the simulator did.  The logits are the revealed ring values
divided by 2^f: get_plain_text() is not used, because its decoder returns some negative
values 1.0 too low.  A run "flips" when its label (argmax, ties to the lowest class) differs
from the simulator's plaintext label.  Results go to crypten_results.json.
"""
import argparse
import importlib.util
import json
import multiprocessing as mp
import os
import sys
import tempfile
import time
import traceback

FILES = ("model.onnx", "inputs.npy", "labels.npy", "mpc_labels.npy", "manifest.json")


def fail(sentence):
    print(sentence, file=sys.stderr)
    sys.exit(2)


def party(rank, world, rendezvous, job, queue):
    """One CrypTen party: import the graph, share model and inputs, run, reveal the ring logits."""
    os.environ.update({"RANK": str(rank), "WORLD_SIZE": str(world),
                       "RENDEZVOUS": rendezvous, "DISTRIBUTED_BACKEND": "gloo"})
    try:
        import warnings
        warnings.filterwarnings("ignore")
        import numpy as np
        import torch
        torch.set_num_threads(1)
        import crypten
        for key, value in job["config"].items():
            crypten.cfg[key] = value
        crypten.init()
        if rank >= world:  # trusted third party, only with mpc.provider=TTP
            crypten.mpc.provider.TTPServer()
            crypten.uninit()
            return
        with open(job["model"], "rb") as f:
            model = crypten.nn.from_onnx(f)
        model.encrypt(src=0)
        model.eval()
        data_src = 1 if world > 1 else 0
        x = np.repeat(job["inputs"], job["runs"], axis=0)  # input i, runs times, then input i+1
        x = torch.from_numpy(x if rank == data_src else np.zeros_like(x))
        ring = []
        for i in range(0, x.shape[0], job["batch_size"]):
            xe = crypten.cryptensor(x[i:i + job["batch_size"]], src=data_src)
            with crypten.no_grad():
                ye = model(xe)
            ring.append(ye._tensor.reveal())  # int64 ring values, the exact result
            scale = ye._tensor.encoder.scale
        crypten.uninit()
        if rank == 0:
            queue.put(("ok", rank, {"ring": torch.cat(ring).numpy(), "scale": int(scale),
                                    "crypten": crypten.__version__, "torch": torch.__version__}))
    except BaseException:
        queue.put(("err", rank, traceback.format_exc()))
        raise


def run_parties(job, parties):
    """Starts the parties (plus a TTP process if configured) and returns party 0's result."""
    ttp = str(job["config"].get("mpc.provider", "TFP")).upper() == "TTP"
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    rendezvous = tempfile.NamedTemporaryFile(prefix="crypten-rdv-", delete=True).name
    procs = [ctx.Process(target=party, args=(r, parties, "file://" + rendezvous, job, queue))
             for r in range(parties + int(ttp))]
    for p in procs:
        p.start()
    result = error = None
    try:
        while result is None and error is None:
            try:
                kind, rank, payload = queue.get(timeout=5)
            except Exception:  # queue.Empty: check that no party died silently
                if any(p.exitcode not in (None, 0) for p in procs):
                    error = "a CrypTen party exited abnormally"
                continue
            if kind == "ok":
                result = payload
            else:
                error = "CrypTen party %d failed:\n%s" % (rank, payload)
        if error is None:
            for p in procs:
                p.join()
    finally:
        for p in procs:
            if p.is_alive():
                p.terminate()
        if os.path.exists(rendezvous):
            os.remove(rendezvous)
    if error:
        print(error, file=sys.stderr)
        sys.exit(1)
    return result


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=8, help="private inferences per input (default 8)")
    ap.add_argument("--parties", type=int, default=2, help="CrypTen parties (default 2)")
    ap.add_argument("--dir", default=".", help="the exported folder (default .)")
    ap.add_argument("--batch-size", type=int, default=64, help="inferences per CrypTen batch")
    args = ap.parse_args()
    if args.runs < 1 or args.parties < 1 or args.batch_size < 1:
        fail("--runs, --parties and --batch-size must be at least 1.")

    for name in FILES:
        if not os.path.isfile(os.path.join(args.dir, name)):
            fail("Missing %s in %s: run this script in (or with --dir) the folder "
                 "`mpcdiff export` wrote." % (name, os.path.abspath(args.dir)))
    for pkg in ("numpy", "torch", "onnx", "omegaconf", "yaml", "crypten"):
        if importlib.util.find_spec(pkg) is None:
            fail("Missing Python package %r: install CrypTen 0.4.1 with torch 1.13 (see the "
                 "top of this script)." % pkg)
    import numpy as np

    path = lambda name: os.path.join(args.dir, name)  # noqa: E731
    with open(path("manifest.json")) as f:
        manifest = json.load(f)
    frac_bits = int(manifest["frac_bits"])
    config = dict(manifest.get("crypten_config") or {})
    if int(config.get("encoder.precision_bits", frac_bits)) != frac_bits:
        fail("manifest.json: crypten_config's encoder.precision_bits differs from frac_bits.")
    config["encoder.precision_bits"] = frac_bits
    x = np.load(path("inputs.npy")).astype(np.float64)
    labels = np.load(path("labels.npy")).astype(np.int64)
    mpc_labels = np.load(path("mpc_labels.npy")).astype(np.int64)
    n = x.shape[0]
    if n == 0:
        fail("inputs.npy holds no inputs.")
    if labels.shape != (n,) or mpc_labels.shape != (n,):
        fail("labels.npy and mpc_labels.npy must hold one label per input (%d)." % n)
    entries = [e.get("entry", i) for i, e in enumerate(manifest.get("inputs") or [])]
    if len(entries) != n:
        entries = list(range(n))

    job = {"model": os.path.abspath(path("model.onnx")), "inputs": x, "runs": args.runs,
           "batch_size": args.batch_size, "config": config}
    t0 = time.time()
    res = run_parties(job, args.parties)
    seconds = time.time() - t0
    if res["scale"] != 2 ** frac_bits:
        fail("CrypTen used scale %d, not 2^%d." % (res["scale"], frac_bits))
    ring = res["ring"].reshape(n, args.runs, -1)
    crypten_labels = ring.argmax(axis=2)  # argmax of the ring values = of ring / 2^f
    flips = (crypten_labels != labels[:, None]).sum(axis=1)

    print("CrypTen %s, torch %s, %d %s, %d fractional bits, config %s, %d runs per input, "
          "%.0f s" % (res["crypten"], res["torch"], args.parties,
                      "party" if args.parties == 1 else "parties", frac_bits,
                      json.dumps(config, sort_keys=True), args.runs, seconds))
    width = max(2 * args.runs - 1, 14)
    print("%4s  %8s  %5s  %7s  %-*s  %5s" % ("#", "entry", "plain", "sim mpc", width,
                                             "CrypTen labels", "flips"))
    for i in range(n):
        print("%4d  %8s  %5d  %7d  %-*s  %5d" % (i, entries[i], labels[i], mpc_labels[i], width,
                                                 " ".join(str(v) for v in crypten_labels[i]),
                                                 flips[i]))
    flipping = int((flips > 0).sum())
    same_as_sim = int((crypten_labels == mpc_labels[:, None]).sum())
    print("%d of %d inputs flip in at least one run; %d of %d runs flip" % (
        flipping, n, int(flips.sum()), n * args.runs))
    print("%d of %d runs give the simulator's MPC label" % (same_as_sim, n * args.runs))

    out = {
        "schema": "mpcdiff.confirm/1",
        "versions": {"crypten": res["crypten"], "torch": res["torch"], "numpy": np.__version__,
                     "python": sys.version.split()[0]},
        "parties": args.parties, "runs": args.runs, "frac_bits": frac_bits, "crypten_config": config,
        "decode": "ring / 2^frac_bits (exact; get_plain_text() not used)", "seconds": seconds,
        "summary": {"inputs": n, "inputs_flipping": flipping, "runs_total": n * args.runs,
                    "flips_total": int(flips.sum()), "runs_with_sim_mpc_label": same_as_sim},
        "inputs": [{"index": i, "entry": entries[i], "plaintext_label": int(labels[i]),
                    "sim_mpc_label": int(mpc_labels[i]),
                    "crypten_labels": crypten_labels[i].tolist(), "flips": int(flips[i]),
                    "ring_logits": [[str(int(v)) for v in r] for r in ring[i]]}
                   for i in range(n)],
    }
    with open(path("crypten_results.json"), "w") as f:
        json.dump(out, f, indent=1)
    print("wrote %s" % path("crypten_results.json"))


if __name__ == "__main__":
    main()
