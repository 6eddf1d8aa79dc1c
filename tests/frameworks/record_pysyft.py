"""Records reference outputs of real PySyft 0.2.9 (FixedPrecisionTensor over
AdditiveSharingTensor, protocol "snn", torch 1.4.0) for mpcdiff's `pysyft` and `pysyft-mpcdiff`
profiles (issue 15). Never run in CI: CI reads the JSON.

    tests/frameworks/install.sh syft /work/fw-lab/syft
    /work/fw-lab/syft/bin/python tests/frameworks/record_pysyft.py tests/reference/frameworks/pysyft
    /work/fw-lab/syft/bin/python tests/frameworks/record_pysyft.py tests/reference/frameworks/pysyft model_lenet

The second line records the whole LeNet alone (`model_lenet`, merged into index.json) on the
first MPCDIFF_MODEL_IMAGES (30) MNIST test images in batches of MPCDIFF_MODEL_BATCH (2): PySyft
took 419 s for 30 images on two loaded cores, and a batch of 10 images did not finish in 15
minutes, so small batches it is.

Parties as in MPCDiff's `PySyft/fuzz.py`: two VirtualWorkers ("sam", "kelly") and a
"crypto_provider", all in this process. Schema: that of ../shared/reference/crypten/ (README
there), adapted: ring integers as decimal strings (`raw`: the reconstructed int64 of the
AdditiveSharingTensor under the FixedPrecisionTensor, i.e. before PySyft's float32 decode).
Configurations (`configs` in each file): `stock` = base 10, 3 fractional digits (PySyft's
defaults), `mpcdiff` = base 2, 16 bits (MNIST, Credit), `mpcdiff-bank` = base 2, 12 bits
(../shared/research/frameworks.md §2.2). Each run reseeds torch (seed = run index), so runs are
reproducible and differ from each other.

MPCDiff's sigmoid (`_sigmoid_exp` with levels low E=R=3, baseline E=R=6, high E=R=9) and its
reciprocal (NR started from 3·exp_6(0.5 − |d|) + 0.003) are not in the PyPI package: they are
written here exactly as in MPCDiff's `PySyft/syft/frameworks/torch/tensors/interpreters/
precision.py` (Qi-Pang/MPCDiff @ fbca55c), with the package's own FixedPrecisionTensor operators.
"""

import json
import math
import os
import platform
import sys
import time
import warnings

warnings.filterwarnings("ignore")
import numpy as np  # noqa: E402
import pkg_resources  # noqa: E402
import torch  # noqa: E402
import syft  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import load_model, mnist_test, write_references  # noqa: E402
from syft.frameworks.torch.nn import functional as syft_functional  # noqa: E402
from syft.frameworks.torch.tensors.interpreters.precision import FixedPrecisionTensor  # noqa: E402

hook = syft.TorchHook(torch)
SAM = syft.VirtualWorker(hook, id="sam")
KELLY = syft.VirtualWorker(hook, id="kelly")
CRYPTO = syft.VirtualWorker(hook, id="crypto_provider")

CONFIGS = {"stock": (10, 3), "mpcdiff": (2, 16), "mpcdiff-bank": (2, 12)}
LEVELS = {"low": 3, "baseline": 6, "high": 9}
RUNS = 3


def share(values, cfg):
    base, prec = CONFIGS[cfg]
    t = torch.tensor(np.asarray(values, dtype=np.float32))
    return t.fix_precision(base=base, precision_fractional=prec).share(
        SAM, KELLY, crypto_provider=CRYPTO, protocol="snn", requires_grad=False
    )


def raw(t):
    """The ring integers under a shared FixedPrecisionTensor (reconstructed, not decoded)."""
    fpt = t.child
    ast = fpt.child
    shares = [s.copy().get() for s in ast.child.values()]
    total = shares[0].clone()
    for s in shares[1:]:
        total = total + s  # int64 wraps
    return [str(int(v)) for v in total.view(-1).tolist()]


def encoded(values, cfg):
    base, prec = CONFIGS[cfg]
    t = torch.tensor(np.asarray(values, dtype=np.float32)).fix_precision(base=base, precision_fractional=prec)
    return [str(int(v)) for v in t.child.child.view(-1).tolist()]


def scale(cfg):
    base, prec = CONFIGS[cfg]
    return base**prec


# MPCDiff's recipes (precision.py @ fbca55c) on FixedPrecisionTensors.
def mpcdiff_reciprocal_nr(fpt, nr_iters):
    new_self = fpt.modulus()
    result = 3 * (0.5 - new_self).exp(iterations=6) + 0.003
    for _ in range(nr_iters):
        result = 2 * result - result * result * new_self
    return result * fpt.signum()


def mpcdiff_newton(fpt, nw_iters):
    """reciprocal(method="newton") with MPCDiff's iteration count (stock: 80): 1/sqrt(x)."""
    x = None
    C = 20
    for _ in range(nw_iters):
        if x is not None:
            y = C + 1 - fpt * (x * x)
            x = y * x / C
        else:
            y = C + 1 - fpt
            x = y / C
    return x


def mpcdiff_sigmoid(fpt, level):
    iters = LEVELS[level]
    sign = fpt.sign()
    x = fpt * sign
    ones = fpt * 0 + 1
    half = ones.div(2)
    result = mpcdiff_reciprocal_nr(ones + (-ones * x).exp(iterations=iters), iters)
    return (result - half) * sign + half


def on_fpt(fn):
    """Apply `fn` to the FixedPrecisionTensor under a wrapper and re-wrap the result."""

    def wrapped(t):
        return fn(t.child).wrap()

    return wrapped


def sigmoid(v):
    return 1.0 / (1.0 + math.exp(-v)) if v > -700 else 0.0


def grid_case(name, expr, x, fn, ref, configs=CONFIGS, runs=RUNS):
    doc = {"case": name, "function": name, "pysyft_expr": expr, "inputs": {"x": {"nominal": list(map(float, x))}}, "configs": {}}
    for cfg in configs:
        base, prec = CONFIGS[cfg]
        entry = {"base": base, "precision_fractional": prec, "scale": scale(cfg), "x_raw": encoded(x, cfg), "runs": []}
        for k in range(runs):
            torch.manual_seed(k)
            entry["runs"].append({"run": k, "raw": raw(fn(share(x, cfg)))})
        entry["float_ref"] = [ref(int(r) / scale(cfg)) for r in entry["x_raw"]]
        doc["configs"][cfg] = entry
    return doc


def case_encode():
    xs = [0.0, 1e-3, -1e-3, 0.003, 0.1, -0.1, 1.0 / 3, -1.0 / 3, 0.5, 0.7978845608, 0.044715, 2.5, -7.25,
          123.456, -123.456, 1e5, -1e5]
    doc = {"case": "encode", "function": "identity", "pysyft_expr": "torch.tensor(x, float32).fix_precision(base, prec)",
           "inputs": {"x": {"nominal": xs, "float32": [float(v) for v in np.asarray(xs, dtype=np.float32)]}}, "configs": {}}
    for cfg in CONFIGS:
        base, prec = CONFIGS[cfg]
        doc["configs"][cfg] = {"base": base, "precision_fractional": prec, "scale": scale(cfg), "raw": encoded(xs, cfg),
                               "shared_raw": raw(share(xs, cfg))}
    return doc


def case_mul(n=3000, seed=20261204):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-8, 8, n)
    y = rng.uniform(-8, 8, n)
    doc = {"case": "mul", "function": "mul", "pysyft_expr": "x * y", "note": f"numpy default_rng({seed}) uniform(-8, 8), as float32", "configs": {}}
    for cfg in CONFIGS:
        base, prec = CONFIGS[cfg]
        torch.manual_seed(0)
        doc["configs"][cfg] = {"base": base, "precision_fractional": prec, "scale": scale(cfg),
                               "x_raw": encoded(x, cfg), "y_raw": encoded(y, cfg),
                               "runs": [{"run": 0, "raw": raw(share(x, cfg) * share(y, cfg))}]}
    return doc


def case_div_int():
    """Division by a public int (per-share, toward zero): x / 3 and x / 4 (average pooling's)."""
    x = np.linspace(-10, 10, 201)
    doc = {"case": "div_int", "function": "div_int", "pysyft_expr": "x / 3; x / 4", "inputs": {"x": {"nominal": x.tolist()}}, "configs": {}}
    for cfg in CONFIGS:
        base, prec = CONFIGS[cfg]
        torch.manual_seed(0)
        s = share(x, cfg)
        doc["configs"][cfg] = {"base": base, "precision_fractional": prec, "scale": scale(cfg), "x_raw": encoded(x, cfg),
                               "div3": raw(s / 3), "div4": raw(s / 4)}
    return doc


def case_comparison():
    """x > 0, x < 0, x >= 0 (FPT-wrapped bits: base^prec for true), relu, sign."""
    doc = {"case": "comparison", "function": "comparison", "pysyft_expr": "x > 0; x < 0; x >= 0; relu(x); x.sign()", "configs": {}}
    for cfg in CONFIGS:
        base, prec = CONFIGS[cfg]
        s_ = scale(cfg)
        ring = list(range(-5, 6)) + [-s_, s_, -1000 * s_, 1000 * s_]
        x = np.asarray(ring, dtype=np.float64) / s_
        torch.manual_seed(0)
        t = share(x, cfg)
        doc["configs"][cfg] = {"base": base, "precision_fractional": prec, "scale": s_, "x_raw": encoded(x, cfg),
                               "gt0": raw(t > 0), "lt0": raw(t < 0), "ge0": raw(t >= 0), "relu": raw(t.relu()),
                               "sign": raw(on_fpt(lambda f: f.sign())(t))}
    return doc


def lenet_forward(p, x, F, batch_norm, sigmoid):
    """The committed LeNet (`cli/models/lenet`: conv-BN-sigmoid-avgpool twice, then three
    linear layers with BN and sigmoid after the first two), written with the operators PySyft
    overloads for shared FixedPrecisionTensors: conv2d = im2col matmul + bias (one truncation
    per output), BN = `functional.batch_norm` in eval mode (1/sqrt(running_var) by "newton", no
    eps), avg-pool = per-share window mean, linear = `bias.add(x.matmul(Wt))` as `addmm` does.
    `p` maps the tensor names to tensors of the same kind as `x` (shared, or plain float)."""

    def bn(v, name):
        if v.dim() == 2:  # BatchNorm1d: PySyft's batch_norm permutes 4 dims, so as (N, C, 1, 1)
            n, c = v.shape
            return batch_norm(v.reshape(n, c, 1, 1), name).reshape(n, c)
        return batch_norm(v, name)

    v = F.conv2d(x, p["conv1.weight"], p["conv1.bias"], padding=2)
    v = F.avg_pool2d(sigmoid(bn(v, "bn1")), 2)
    v = F.conv2d(v, p["conv2.weight"], p["conv2.bias"])
    v = F.avg_pool2d(sigmoid(bn(v, "bn2")), 2)
    v = v.reshape(v.shape[0], -1)  # NCHW flattening, as torch.flatten(x, 1)
    v = sigmoid(bn(p["fc1.bias"].add(v.matmul(p["fc1.wt"])), "bn3"))
    v = sigmoid(bn(p["fc2.bias"].add(v.matmul(p["fc2.wt"])), "bn4"))
    return p["fc3.bias"].add(v.matmul(p["fc3.wt"]))


def case_lenet(limit, batch):
    """The committed LeNet on the first `limit` MNIST test images, as MPCDiff's PySyft/fuzz.py
    runs a model: every tensor (image and parameters, batch-norm statistics included)
    `.fix_precision(base=2, precision_fractional=16).share(sam, kelly, crypto_provider,
    protocol="snn")`, the sigmoid MPCDiff's (exp E = 6, NR R = 6 from 3·exp_6(0.5 − |d|) +
    0.003, its baseline level) and batch norm's "newton" inverse square root with MPCDiff's 50
    iterations. Plaintext (torch float32, eval-mode BN with eps) beside it. One run,
    `torch.manual_seed(0)` first; logits as ring integers (scale 2^16)."""
    import torch.nn.functional as F

    tensors, _ = load_model("lenet")
    x, y = mnist_test(limit)
    plain = {k: torch.tensor(v) for k, v in tensors.items()}
    for fc in ("fc1", "fc2", "fc3"):
        plain[fc + ".wt"] = plain[fc + ".weight"].t().contiguous()

    def plain_bn(v, name):
        return F.batch_norm(v, plain[name + ".running_mean"], plain[name + ".running_var"],
                            plain[name + ".weight"], plain[name + ".bias"], False, 0.0, 1e-5)

    with torch.no_grad():
        plain_logits = lenet_forward(plain, torch.tensor(x), F, plain_bn, torch.sigmoid).numpy()
    cfg = "mpcdiff"
    base, prec = CONFIGS[cfg]
    torch.manual_seed(0)
    shared = {k: share(v.numpy(), cfg) for k, v in plain.items() if not (k.startswith("fc") and k.endswith(".weight"))}

    def mpc_bn(v, name):
        return syft_functional.batch_norm(v, shared[name + ".running_mean"], shared[name + ".running_var"],
                                          shared[name + ".weight"], shared[name + ".bias"], False, 0.0, 1e-5)

    stock_sigmoid, stock_reciprocal = FixedPrecisionTensor.sigmoid, FixedPrecisionTensor.reciprocal

    def reciprocal(self, method="NR", nr_iters=10):
        if method.lower() == "newton":
            return mpcdiff_newton(self, 50)
        return stock_reciprocal(self, method, nr_iters)

    FixedPrecisionTensor.sigmoid = lambda self, method=None: mpcdiff_sigmoid(self, "baseline")
    FixedPrecisionTensor.reciprocal = reciprocal
    raws, t0 = [], time.time()
    try:
        for lo in range(0, limit, batch):
            out = lenet_forward(shared, share(x[lo:lo + batch], cfg), F, mpc_bn, lambda v: v.sigmoid())
            raws += raw(out)
            print(f"record_pysyft: model_lenet {lo + batch}/{limit} images, {time.time() - t0:.0f} s", flush=True)
    finally:
        FixedPrecisionTensor.sigmoid, FixedPrecisionTensor.reciprocal = stock_sigmoid, stock_reciprocal
    labels = np.asarray([int(v) for v in raws]).reshape(-1, 10).argmax(1).tolist()
    return {"case": "model_lenet", "function": "model", "model": "lenet", "images": f"MNIST t10k 0..{limit}",
            "pysyft_expr": "lenet_forward on .fix_precision(base=2, precision_fractional=16).share(...) tensors; "
                           "MPCDiff sigmoid baseline (E = R = 6); batch norm newton 50",
            "labels": y.tolist(), "plain_logits": plain_logits.tolist(), "plain_labels": plain_logits.argmax(1).tolist(),
            "configs": {cfg: {"base": base, "precision_fractional": prec, "scale": scale(cfg), "batch": batch,
                              "seconds": round(time.time() - t0, 1), "runs": [{"run": 0, "raw": raws, "labels": labels}]}}}


def model_images():
    return int(os.environ.get("MPCDIFF_MODEL_IMAGES", "30")), int(os.environ.get("MPCDIFF_MODEL_BATCH", "2"))


def record_model(out):
    """Records `model_lenet` only and merges it into `out/index.json`, which must come from the
    same package versions (a recording never mixes versions)."""
    path = os.path.join(out, "index.json")
    try:
        with open(path) as fh:
            index = json.load(fh)
    except OSError as e:
        raise SystemExit(f"record_pysyft: {path}: {e.strerror}; record every case first")
    here = {"version": pkg_resources.get_distribution("syft").version, "torch": torch.__version__,
            "numpy": np.__version__, "python": platform.python_version()}
    for k, v in here.items():
        if index.get(k) != v:
            raise SystemExit(f"record_pysyft: {path} was recorded with {k} {index.get(k)}, this is {v}")
    t0 = time.time()
    doc = case_lenet(*model_images())
    index.setdefault("recorded_later", {})["model_lenet"] = {
        "generated_utc": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()),
        "seconds": round(time.time() - t0, 1),
    }
    if "model_lenet" not in index["cases"]:
        index["cases"].append("model_lenet")
    write_references(out, "record_pysyft", index, [doc], round(time.time() - t0, 1))


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "tests/reference/frameworks/pysyft"
    os.makedirs(out, exist_ok=True)
    if sys.argv[2:] == ["model_lenet"]:
        record_model(out)
        return
    if len(sys.argv) > 2:
        raise SystemExit(f"record_pysyft: only model_lenet can be recorded alone, not {' '.join(sys.argv[2:])}")
    t0 = time.time()
    docs = [case_encode(), case_mul(), case_div_int(), case_comparison()]
    docs.append(grid_case("sigmoid_stock", "x.sigmoid() (Chebyshev, maxval 6, 32 terms)", np.linspace(-20, 20, 161),
                          lambda t: t.sigmoid(), sigmoid))
    docs.append(grid_case("exp_stock", "x.exp() (limit, 8 iterations)", np.linspace(-8, 4, 97), lambda t: t.exp(), math.exp))
    docs.append(grid_case("reciprocal_stock", "x.reciprocal() (NR 10, y0 = 3 exp_8(0.5 - |x|) + 0.003)",
                          np.concatenate([-np.logspace(-2, 2, 33), np.logspace(-2, 2, 33)]), lambda t: t.reciprocal(), lambda v: 1.0 / v))
    for iters in (80, 50):
        docs.append(grid_case(f"inv_sqrt_newton_{iters}", f"x.reciprocal('newton') with {iters} iterations (1/sqrt, BatchNorm's)",
                              np.concatenate([np.logspace(-3, 1.3, 41), [19.0, 20.0, 21.0, 25.0]]),
                              on_fpt(lambda f, n=iters: mpcdiff_newton(f, n) if n != 80 else f.reciprocal(method="newton")),
                              lambda v: 1.0 / math.sqrt(v) if v > 0 else None,
                              configs={"mpcdiff": CONFIGS["mpcdiff"]}, runs=1))
    for level in LEVELS:
        docs.append(grid_case(f"sigmoid_mpcdiff_{level}", f"MPCDiff sigmoid, level {level} (E = R = {LEVELS[level]})",
                              np.linspace(-20, 20, 161), on_fpt(lambda f, lv=level: mpcdiff_sigmoid(f, lv)), sigmoid,
                              configs={"mpcdiff": CONFIGS["mpcdiff"], "mpcdiff-bank": CONFIGS["mpcdiff-bank"]}))
    docs.append(case_lenet(*model_images()))
    index = {
        "framework": "pysyft",
        "version": pkg_resources.get_distribution("syft").version,
        "torch": torch.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "generated_utc": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()),
        "seconds": round(time.time() - t0, 1),
        "configs": {k: {"base": b, "precision_fractional": p, "scale": b**p} for k, (b, p) in CONFIGS.items()},
        "levels": LEVELS,
        "cases": [d["case"] for d in docs],
    }
    write_references(out, "record_pysyft", index, docs)


if __name__ == "__main__":
    main()
