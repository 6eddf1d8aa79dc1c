"""Records reference outputs of real TF-Encrypted 0.7.0 (SecureNN, TensorFlow 1.15.2) for
mpcdiff's `tfe` and `tfe-mpcdiff` profiles (issue 15). Never run in CI: CI reads the JSON.

    tests/frameworks/install.sh tfe /work/fw-lab/tfe
    /work/fw-lab/tfe/bin/python tests/frameworks/record_tfe.py tests/reference/frameworks/tfe

Schema: that of ../shared/reference/crypten/ (README there), adapted: ring integers are recorded as
decimal strings (`raw`: the revealed int64 backing, `value_on_0`), inputs with their encodings.
Two configurations (`configs` in each file): `stock` = fixed64 as shipped (scale 3^8 = 6561) and
`mpcdiff` = fixed64 with precision_fractional patched to 5 (scale 3^5 = 243), as MPCDiff's vendored
copy sets it (../shared/research/frameworks.md §1.2). Each run is a fresh graph and session
(fresh randomness). Inputs enter as private variables from numpy float64 arrays (encoded
trunc(x·S) in float64) except in `encode`, which also records the float32 placeholder path.

MPCDiff's sigmoid/exp/reciprocal_nn/tanh_nn/GELU are not in the PyPI package: they are written
here exactly as in MPCDiff's `TFEncrypted/tf_encrypted/protocol/securenn/securenn.py`
(Qi-Pang/MPCDiff @ fbca55c), with the package's own operators, so the numbers are those of the
real protocol running MPCDiff's recipes (levels: low E=3/R=2, medium E=4/R=1, high E=5/R=4).
"""

import json
import math
import os
import platform
import sys
import time
import warnings

warnings.filterwarnings("ignore")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

tf.compat.v1.logging.set_verbosity(tf.compat.v1.logging.ERROR)
import tf_encrypted as tfe  # noqa: E402
from tf_encrypted.tensor import fixed  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import load_model, mnist_test, write_references  # noqa: E402

CONFIGS = {"stock": 8, "mpcdiff": 5}  # precision_fractional at scaling_base 3
LEVELS = {"low": (3, 2), "medium": (4, 1), "high": (5, 4)}
RUNS = 3


def protocol(cfg):
    tf.reset_default_graph()
    fixed.fixed64.precision_fractional = CONFIGS[cfg]
    prot = tfe.protocol.SecureNN()
    tfe.set_protocol(prot)
    return prot


def raw(sess, prot, t):
    return [str(int(v)) for v in np.asarray(sess.run(prot.reveal(t).value_on_0.to_native())).ravel()]


def evaluate(cfg, build, *arrays):
    """build(prot, *private tensors) -> list of tensors; returns ([inputs raw], [outputs raw])."""
    prot = protocol(cfg)
    xs = [prot.define_private_variable(np.asarray(a, dtype=np.float64)) for a in arrays]
    outs = build(prot, *xs)
    with tfe.Session() as sess:
        sess.run(tf.global_variables_initializer())
        return [raw(sess, prot, x) for x in xs], [raw(sess, prot, o) for o in outs]


# MPCDiff's recipes (securenn.py @ fbca55c), unchanged but for the level arguments.
def mpcdiff_exp(prot, x, iters):
    result = x / (2**iters) + 1
    for _ in range(iters):
        result = result.square()
    return result


def mpcdiff_reciprocal_nn(prot, x, nr_iters):
    result = 0.75
    for _ in range(nr_iters):
        result = 2 * result - result * result * x
    return result


def mpcdiff_sigmoid(prot, x, level):
    e, r = LEVELS[level]
    ltz = prot.is_negative(x)
    sign = 1 - 2 * ltz
    pos_input = x * sign
    denominator = mpcdiff_exp(prot, 0 - pos_input, e) + 1
    pos_output = mpcdiff_reciprocal_nn(prot, denominator, r)
    return prot.select(ltz, pos_output, 1 - pos_output)


def mpcdiff_gelu(prot, x, level):
    def tanh_nn(v):
        return mpcdiff_sigmoid(prot, v * 2.0, level) * 2.0 - 1.0

    return x * (tanh_nn(x * 0.7978845608 * (x * x * 0.044715 + 1.0)) + 1.0) * 0.5


def sigmoid(v):
    return 1.0 / (1.0 + math.exp(-v)) if v > -700 else 0.0


def gelu_tanh(v):
    return 0.5 * v * (1.0 + math.tanh(math.sqrt(2.0 / math.pi) * (v + 0.044715 * v**3)))


def grid_case(name, expr, x, build, ref, runs=RUNS, configs=CONFIGS):
    doc = {"case": name, "function": name, "tfe_expr": expr, "inputs": {"x": {"nominal": list(map(float, x))}}, "configs": {}}
    for cfg in configs:
        scale = 3 ** CONFIGS[cfg]
        entry = {"scaling_base": 3, "precision_fractional": CONFIGS[cfg], "scale": scale, "runs": []}
        for k in range(runs):
            (xr,), (out,) = evaluate(cfg, lambda p, a: [build(p, a)], x)
            entry["x_raw"] = xr
            entry["runs"].append({"run": k, "raw": out})
        entry["float_ref"] = [ref(int(r) / scale) for r in entry["x_raw"]]
        doc["configs"][cfg] = entry
    return doc


def case_encode():
    xs = [0.0, 1e-3, -1e-3, 0.1, -0.1, 1.0 / 3, -1.0 / 3, 0.5, 0.0625, 0.03125, 0.7978845608, 0.044715,
          0.2159198015, 2.5, -7.25, 123.456, -123.456, 1e5, -1e5]
    doc = {"case": "encode", "function": "identity", "tfe_expr": "x", "inputs": {"x": {"nominal": xs}}, "configs": {}}
    for cfg in CONFIGS:
        prot = protocol(cfg)
        v = prot.define_private_variable(np.asarray(xs, dtype=np.float64))
        ph = prot.define_private_placeholder(shape=(len(xs),))
        c = prot.define_constant(np.asarray(xs, dtype=np.float64))
        with tfe.Session() as sess:
            sess.run(tf.global_variables_initializer())
            feed = ph.feed(np.asarray(xs, dtype=np.float32))
            doc["configs"][cfg] = {
                "scaling_base": 3,
                "precision_fractional": CONFIGS[cfg],
                "scale": 3 ** CONFIGS[cfg],
                "variable_float64": raw(sess, prot, v),
                "placeholder_float32": [str(int(t)) for t in np.asarray(sess.run(prot.reveal(ph).value_on_0.to_native(), feed_dict=feed)).ravel()],
                "constant_float64": [str(int(t)) for t in np.asarray(sess.run(c.value_on_0.to_native())).ravel()],
            }
    return doc


def case_mul(n=3000, seed=20261204):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-8, 8, n)
    y = rng.uniform(-8, 8, n)
    doc = {"case": "mul", "function": "mul", "tfe_expr": "x * y", "note": f"numpy default_rng({seed}) uniform(-8, 8)", "configs": {}}
    for cfg in CONFIGS:
        (xr, yr), (out,) = evaluate(cfg, lambda p, a, b: [a * b], x, y)
        doc["configs"][cfg] = {"scaling_base": 3, "precision_fractional": CONFIGS[cfg], "scale": 3 ** CONFIGS[cfg],
                               "x_raw": xr, "y_raw": yr, "runs": [{"run": 0, "raw": out}]}
    return doc


def case_public_constants():
    """x times the public constants MPCDiff's recipes use (each a truncated product)."""
    consts = [0.5, 0.25, 0.125, 0.0625, 0.03125, 0.7978845608, 0.044715, 2.0, 1.0 / 3]
    x = np.linspace(-10, 10, 81)
    doc = {"case": "mul_public", "function": "mul_public", "tfe_expr": "x * c (c a Python float)",
           "inputs": {"x": {"nominal": x.tolist()}, "c": consts}, "configs": {}}
    for cfg in CONFIGS:
        (xr,), outs = evaluate(cfg, lambda p, a: [a * c for c in consts], x)
        doc["configs"][cfg] = {"scaling_base": 3, "precision_fractional": CONFIGS[cfg], "scale": 3 ** CONFIGS[cfg],
                               "x_raw": xr, "runs": [{"run": 0, "raw_per_constant": outs}]}
    return doc


def case_comparison():
    """is_negative on ring values around 0 (the −1 quirk) and beyond; relu."""
    doc = {"case": "is_negative", "function": "is_negative", "tfe_expr": "prot.is_negative(x); prot.relu(x)", "configs": {}}
    for cfg in CONFIGS:
        scale = 3 ** CONFIGS[cfg]
        ring = list(range(-40, 41)) + [-scale, scale, -1000 * scale, 1000 * scale, -(2**40), 2**40]
        x = np.asarray(ring, dtype=np.float64) / scale
        entry = {"scaling_base": 3, "precision_fractional": CONFIGS[cfg], "scale": scale, "runs": []}
        for k in range(RUNS):
            (xr,), (neg, relu) = evaluate(cfg, lambda p, a: [p.is_negative(a), p.relu(a)], x)
            entry["x_raw"] = xr
            entry["runs"].append({"run": k, "is_negative": neg, "relu": relu})
        doc["configs"][cfg] = entry
    return doc


def case_avgpool():
    """2×2 average pooling: window sum times the public constant 1/4 (NCHW input 1×1×4×4)."""
    planes = {"ones": np.ones((1, 1, 4, 4)), "ramp": (np.arange(16, dtype=np.float64) / 4 - 2).reshape((1, 1, 4, 4))}
    doc = {"case": "avgpool2d", "function": "avgpool2d", "tfe_expr": "prot.avgpool2d(x, (2, 2), (2, 2), 'VALID')", "inputs": {k: v.ravel().tolist() for k, v in planes.items()}, "configs": {}}
    for cfg in CONFIGS:
        entry = {"scaling_base": 3, "precision_fractional": CONFIGS[cfg], "scale": 3 ** CONFIGS[cfg]}
        for name, plane in planes.items():
            (xr,), (out,) = evaluate(cfg, lambda p, a: [p.avgpool2d(a, (2, 2), (2, 2), "VALID")], plane)
            entry[name] = {"x_raw": xr, "raw": out}
        doc["configs"][cfg] = entry
    return doc


def keras_weights(tensors, meta):
    """The mpcdiff model's tensors in tfe.keras order and layout, as MPCDiff's weight transfer
    does it (TFEncrypted/tf2torch.py, reversed): conv kernels OIHW → HWIO, dense kernels
    transposed, batch norm γ, β, moving mean, moving variance; the first dense layer after a
    flatten has its rows permuted from NCHW to NHWC flattening order."""
    out, shape = [], None
    for spec in meta["layers"].split(";"):
        op, name = spec.split()[:2]
        kv = dict(t.split("=") for t in spec.split()[2:])
        if op == "conv2d":
            out += [tensors[name + ".weight"].transpose(2, 3, 1, 0), tensors[name + ".bias"]]
            shape = int(kv["out"])
        elif op == "batchnorm":
            out += [tensors[name + k] for k in (".weight", ".bias", ".running_mean", ".running_var")]
        elif op == "linear":
            w = tensors[name + ".weight"]
            if shape is not None:  # the first dense layer after conv: NCHW → NHWC flattening
                c = shape
                hw = w.shape[1] // c
                side = int(round(hw ** 0.5))
                w = w.reshape(w.shape[0], c, side, side).transpose(0, 2, 3, 1).reshape(w.shape[0], -1)
                shape = None
            out += [w.T, tensors[name + ".bias"]]
    return out


def lenet_keras(batch):
    """MPCDiff's tfe.keras LeNet (TFEncrypted/fuzz.py), NHWC."""
    L = tfe.keras.layers
    return tfe.keras.Sequential([
        L.Conv2D(6, 5, padding="same", batch_input_shape=(batch, 28, 28, 1)),
        L.BatchNormalization(), L.Activation("sigmoid"), L.AveragePooling2D(2, 2),
        L.Conv2D(16, 5, padding="valid"), L.BatchNormalization(), L.Activation("sigmoid"),
        L.AveragePooling2D(2, 2), L.Flatten(),
        L.Dense(120), L.BatchNormalization(axis=1), L.Activation("sigmoid"),
        L.Dense(84), L.BatchNormalization(axis=1), L.Activation("sigmoid"),
        L.Dense(10),
    ])


def case_lenet(limit, batch=100):
    """The committed LeNet on the first `limit` MNIST test images, deployed as MPCDiff's
    TFEncrypted/fuzz.py deploys it (tfe.keras, float32 placeholder input, public batch norm),
    stock (Pond's polynomial sigmoid, 3^8) and as MPCDiff altered it (3^5, its sigmoid at the
    medium level). Logits as ring integers; compared by flip rates."""
    tensors, meta = load_model("lenet")
    x, y = mnist_test(limit)
    x = x.transpose(0, 2, 3, 1)  # NHWC
    doc = {"case": "model_lenet", "function": "model", "model": "lenet", "images": f"MNIST t10k 0..{limit}",
           "labels": y.tolist(), "configs": {}}
    stock_sigmoid = tfe.protocol.SecureNN.sigmoid
    for cfg in CONFIGS:
        if cfg == "mpcdiff":
            tfe.protocol.SecureNN.sigmoid = lambda self, v, **kw: mpcdiff_sigmoid(self, v.reshape((-1, 1)), "medium").reshape(v.shape.as_list())
        else:
            tfe.protocol.SecureNN.sigmoid = stock_sigmoid
        prot = protocol(cfg)
        ph = prot.define_private_placeholder(shape=(batch, 28, 28, 1))
        model = lenet_keras(batch)
        logits = model(ph)
        raws, t0 = [], time.time()
        with tfe.Session() as sess:
            sess.run(tf.global_variables_initializer())
            model.set_weights(keras_weights(tensors, meta), sess)
            for lo in range(0, limit, batch):
                chunk = x[lo:lo + batch]
                if len(chunk) < batch:
                    chunk = np.concatenate([chunk, np.zeros((batch - len(chunk),) + chunk.shape[1:], np.float32)])
                out = sess.run(prot.reveal(logits).value_on_0.to_native(), feed_dict=ph.feed(chunk))
                raws += [str(int(v)) for v in np.asarray(out)[: min(batch, limit - lo)].ravel()]
        tfe.protocol.SecureNN.sigmoid = stock_sigmoid
        scale = 3 ** CONFIGS[cfg]
        labels = np.asarray([int(v) for v in raws]).reshape(-1, 10).argmax(1).tolist()
        doc["configs"][cfg] = {"scaling_base": 3, "precision_fractional": CONFIGS[cfg], "scale": scale,
                               "seconds": round(time.time() - t0, 1), "batch": batch,
                               "runs": [{"run": 0, "raw": raws, "labels": labels}]}
    return doc


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "tests/reference/frameworks/tfe"
    os.makedirs(out, exist_ok=True)
    t0 = time.time()
    docs = [case_encode(), case_mul(), case_public_constants(), case_comparison(), case_avgpool()]
    docs.append(grid_case("sigmoid_stock", "prot.sigmoid(x) (Pond's polynomial)", np.linspace(-10, 10, 161),
                          lambda p, a: p.sigmoid(a), sigmoid))
    docs.append(grid_case("tanh_stock", "prot.tanh(x) (Pond's polynomial)", np.linspace(-6, 6, 97),
                          lambda p, a: p.tanh(a), math.tanh))
    for level in LEVELS:
        docs.append(grid_case(f"sigmoid_mpcdiff_{level}", f"MPCDiff sigmoid, level {level} (E, R) = {LEVELS[level]}",
                              np.concatenate([np.linspace(-40, 40, 161), [-0.01, -1.0 / 243, 1.0 / 243, 0.01]]),
                              lambda p, a, lv=level: mpcdiff_sigmoid(p, a, lv), sigmoid, configs={"mpcdiff": 5}))
    docs.append(grid_case("gelu_mpcdiff_medium", "MPCDiff GELU (tanh form through its sigmoid), level medium",
                          np.linspace(-8, 8, 97), lambda p, a: mpcdiff_gelu(p, a, "medium"), gelu_tanh, configs={"mpcdiff": 5}))
    docs.append(case_lenet(int(os.environ.get("MPCDIFF_MODEL_IMAGES", "1000"))))
    import pkg_resources

    index = {
        "framework": "tf-encrypted",
        "version": pkg_resources.get_distribution("tf-encrypted").version,
        "tensorflow": tf.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "generated_utc": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()),
        "seconds": round(time.time() - t0, 1),
        "configs": {k: {"scaling_base": 3, "precision_fractional": v, "scale": 3**v} for k, v in CONFIGS.items()},
        "levels": LEVELS,
        "cases": [d["case"] for d in docs],
    }
    write_references(out, "record_tfe", index, docs)


if __name__ == "__main__":
    main()
