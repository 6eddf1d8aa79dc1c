"""Records reference outputs of real SecretFlow-SPU 0.9.5 (spu.utils.simulation, all parties in
threads of one process) for mpcdiff's `spu` profile (issue 15). Never run in CI: CI reads the JSON.

    tests/frameworks/install.sh spu /work/fw-lab/spu
    /work/fw-lab/spu/bin/python tests/frameworks/record_spu.py tests/reference/frameworks/spu
    # only some function cases, merged into an existing recording's index.json:
    /work/fw-lab/spu/bin/python tests/frameworks/record_spu.py tests/reference/frameworks/spu erf log

Schema: that of ../shared/reference/crypten/ (README there), adapted: every value is recorded as
ring integers (`raw`, decimal strings) and as `value` = raw / 2^f. SPU decodes `double(v) / 2^f`
and jax runs with `jax_enable_x64`, so `raw = value * 2^f` is exact (|raw| < 2^53 for every case
here; checked). `one_party` is REF2K, SPU's plaintext ring protocol: the noise-free fixed-point
reference, deterministic (checked: two REF2K runs are compared). `runs` are the secure protocols,
each run a fresh Simulator (fresh randomness). `float_ref` is float64 of the exact function at the
decoded input.

Configurations (`configs` in each file): SEMI2K 2PC FM64 (f = 18), SEMI2K 2PC FM128 (f = 26, the
SecretFlow default), SEMI2K 3PC FM64, ABY3 FM64, and SEMI2K 2PC FM64 with trunc_allow_msb_error;
fraction bits are SPU's defaults for the field (config.cc: populateRuntimeConfig).
"""

import json
import math
import os
import platform
import sys
import time

import jax

jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import spu  # noqa: E402
import spu.libspu as libspu  # noqa: E402
import spu.utils.simulation as spsim  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import load_model, mnist_test, write_references  # noqa: E402

P = libspu.ProtocolKind
F = libspu.FieldType
FRAC = {"FM64": 18, "FM128": 26}

CONFIGS = {
    "semi2k-2pc-fm64": dict(parties=2, protocol="SEMI2K", field="FM64"),
    "semi2k-2pc-fm128": dict(parties=2, protocol="SEMI2K", field="FM128"),
    "semi2k-3pc-fm64": dict(parties=3, protocol="SEMI2K", field="FM64"),
    "aby3-fm64": dict(parties=3, protocol="ABY3", field="FM64"),
    "semi2k-2pc-fm64-msb-error": dict(parties=2, protocol="SEMI2K", field="FM64", trunc_allow_msb_error=True),
}


def simulator(parties, protocol, field, trunc_allow_msb_error=False):
    cfg = libspu.RuntimeConfig(protocol=getattr(P, protocol), field=getattr(F, field))
    cfg.fxp_fraction_bits = FRAC[field]
    cfg.trunc_allow_msb_error = trunc_allow_msb_error
    return spsim.Simulator(parties, cfg)


def raw_of(values, f):
    out = []
    for v in np.asarray(values, dtype=np.float64).ravel().tolist():
        r = v * (1 << f)
        if not math.isfinite(r) or r != math.floor(r) or abs(r) >= 2.0**53:
            raise SystemExit(f"record_spu: a decoded value {v!r} is not an exact ring integer at f={f}")
        out.append(str(int(r)))
    return out


def run(cfg_name, fn, *args, ref2k=False):
    c = dict(CONFIGS[cfg_name])
    f = FRAC[c["field"]]
    if ref2k:
        c = dict(parties=c["parties"], protocol="REF2K", field=c["field"])
    sim = simulator(**c)
    out = spsim.sim_jax(sim, fn)(*args)
    return raw_of(out, f)


GRIDS = {
    "sigmoid": np.concatenate([np.linspace(-40, 40, 321), [-600.0, -520.0, -510.0, 510.0, 520.0, 600.0]]),
    "exp": np.linspace(-16, 16, 257),
    "reciprocal": np.concatenate([-np.logspace(-4, 4, 65), np.logspace(-4, 4, 65)]),
    "rsqrt": np.logspace(-4, 4, 129),
    "tanh": np.linspace(-8, 8, 257),
    "gelu": np.linspace(-12, 12, 241),
    "relu": np.concatenate([np.linspace(-4, 4, 129), [-2.0**-18, 2.0**-18, -2.0**-26, 2.0**-26]]),
    # f_erf's mux switches to 1 at |x| = 3
    "erf": np.linspace(-5, 5, 201),
    # log_minmax is valid on (0, 2^(f+1)): 2^19 = 524288 at FM64
    "log": np.logspace(-4, 5, 145),
}
FUNCS = {
    "sigmoid": (jax.nn.sigmoid, lambda x: 1.0 / (1.0 + math.exp(-x)) if x > -700 else 0.0, "jax.nn.sigmoid(x)"),
    "exp": (jnp.exp, math.exp, "jnp.exp(x)"),
    "reciprocal": (lambda x: 1.0 / x, lambda x: 1.0 / x, "1.0 / x"),
    "rsqrt": (jax.lax.rsqrt, lambda x: 1.0 / math.sqrt(x), "jax.lax.rsqrt(x)"),
    "tanh": (jnp.tanh, math.tanh, "jnp.tanh(x)"),
    "gelu": (
        lambda x: jax.nn.gelu(x, approximate=True),
        lambda x: 0.5 * x * (1.0 + math.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3))),
        "jax.nn.gelu(x, approximate=True)",
    ),
    "relu": (jax.nn.relu, lambda x: max(x, 0.0), "jax.nn.relu(x)"),
    # the compiled program calls SPU's `mhlo.erf` intrinsic (f_erf), float64 and float32 alike
    "erf": (jax.scipy.special.erf, math.erf, "jax.scipy.special.erf(x)"),
    # pphlo.log: SPU's f_log, fxp_log_mode MINMAX by default
    "log": (jnp.log, math.log, "jnp.log(x)"),
}
RUNS = {"semi2k-2pc-fm64": 3, "semi2k-2pc-fm128": 2, "aby3-fm64": 1}


def case_function(name):
    fn, ref, expr = FUNCS[name]
    x = np.asarray(GRIDS[name], dtype=np.float64)
    doc = {"case": f"{name}", "function": name, "spu_expr": expr, "inputs": {}, "configs": {}}
    doc["inputs"]["x"] = {"nominal": x.tolist()}
    for cfg_name, n in RUNS.items():
        f = FRAC[CONFIGS[cfg_name]["field"]]
        xr = run(cfg_name, lambda a: a, x, ref2k=True)
        one = run(cfg_name, fn, x, ref2k=True)
        again = run(cfg_name, fn, x, ref2k=True)
        value = [int(r) / (1 << f) for r in xr]
        entry = {
            **CONFIGS[cfg_name],
            "frac_bits": f,
            "x_raw": xr,
            "float_ref": [ref(v) for v in value],
            "one_party": {"protocol": "REF2K", "raw": one, "deterministic": one == again},
            "runs": [{"run": k, "raw": run(cfg_name, fn, x)} for k in range(n)],
        }
        doc["configs"][cfg_name] = entry
    return doc


def case_mul(n=3000, seed=20261204):
    """Products of uniform [-8, 8] pairs: the truncation law of each configuration."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-8, 8, n)
    y = rng.uniform(-8, 8, n)
    doc = {"case": "mul", "function": "mul", "spu_expr": "x * y", "note": f"numpy default_rng({seed}) uniform(-8, 8)", "configs": {}}
    for cfg_name in CONFIGS:
        f = FRAC[CONFIGS[cfg_name]["field"]]
        xr = run(cfg_name, lambda a: a, x, ref2k=True)
        yr = run(cfg_name, lambda a: a, y, ref2k=True)
        doc["configs"][cfg_name] = {
            **CONFIGS[cfg_name],
            "frac_bits": f,
            "x_raw": xr,
            "y_raw": yr,
            "one_party": {"protocol": "REF2K", "raw": run(cfg_name, lambda a, b: a * b, x, y, ref2k=True)},
            "runs": [{"run": 0, "raw": run(cfg_name, lambda a, b: a * b, x, y)}],
        }
    return doc


def case_encode():
    """The encoder: float64 and float32 inputs (truncation toward zero, saturation at ±2^(k−2))."""
    xs = [0.0, 1e-5, -1e-5, 0.1, -0.1, 1.0 / 3, -1.0 / 3, 0.7978845608, 0.044715, 2.5, -7.25, 123.456, -123.456,
          3.0e5, -3.0e5, 1.0e7, -1.0e7]
    huge = [1.0e12, -1.0e12, 1.0e20, -1.0e20]
    doc = {"case": "encode", "function": "identity", "spu_expr": "x", "inputs": {"x": {"nominal": xs}}, "configs": {}}
    for cfg_name in ("semi2k-2pc-fm64", "semi2k-2pc-fm128"):
        f = FRAC[CONFIGS[cfg_name]["field"]]
        doc["configs"][cfg_name] = {
            **CONFIGS[cfg_name],
            "frac_bits": f,
            "float64": run(cfg_name, lambda a: a, np.asarray(xs, dtype=np.float64)),
            "float32": run(cfg_name, lambda a: a.astype(jnp.float64), np.asarray(xs, dtype=np.float32)),
            "float32_nominal": [float(v) for v in np.asarray(xs, dtype=np.float32)],
            # beyond 2^53 ring units a decoded float64 is not exact: recorded as decoded values
            "huge_nominal": huge,
            "huge_decoded": [float(v) for v in np.asarray(spsim.sim_jax(simulator(**CONFIGS[cfg_name]), lambda a: a)(np.asarray(huge))).tolist()],
        }
    return doc


def forward_of(meta):
    """A jax forward pass of an mpcdiff model from its `layers` metadata, as a user would write
    it for SPU (flax's inference batch norm (x − μ)·(γ·rsqrt(var + ε)) + β, average pooling as
    a window sum times 0.25, jax.nn.sigmoid); every parameter is a secret input."""
    layers = [dict(kv.split("=") for kv in spec.split()[2:]) | {"op": spec.split()[0], "name": spec.split()[1]}
              for spec in meta["layers"].split(";")]

    def forward(x, p):
        for l in layers:
            op, n = l["op"], l["name"]
            if op == "conv2d":
                pad = int(l["pad"])
                x = jax.lax.conv_general_dilated(x, p[n + ".weight"], (int(l["stride"]),) * 2, [(pad, pad)] * 2,
                                                 dimension_numbers=("NCHW", "OIHW", "NCHW"))
                x = x + p[n + ".bias"].reshape(1, -1, 1, 1)
            elif op == "batchnorm":
                shape = (1, -1, 1, 1) if x.ndim == 4 else (1, -1)
                g, b, m, v = (p[n + k].reshape(shape) for k in (".weight", ".bias", ".running_mean", ".running_var"))
                x = (x - m) * (g * jax.lax.rsqrt(v + float(l["eps"]))) + b
            elif op == "sigmoid":
                x = jax.nn.sigmoid(x)
            elif op == "relu":
                x = jax.nn.relu(x)
            elif op in ("avgpool", "maxpool"):
                k, st = int(l["k"]), int(l["stride"])
                if op == "avgpool":
                    x = jax.lax.reduce_window(x, 0.0, jax.lax.add, (1, 1, k, k), (1, 1, st, st), "VALID") * (1.0 / (k * k))
                else:
                    x = jax.lax.reduce_window(x, -jnp.inf, jax.lax.max, (1, 1, k, k), (1, 1, st, st), "VALID")
            elif op == "flatten":
                x = x.reshape(x.shape[0], -1)
            elif op == "linear":
                x = x @ p[n + ".weight"].T + p[n + ".bias"]
            else:
                raise SystemExit(f"record_spu: layer {op} is not supported here")
        return x

    return forward


def case_model(name, limit, configs=("semi2k-2pc-fm64", "semi2k-2pc-fm128")):
    """The model on the first `limit` MNIST test images: plaintext (jax float64) and MPC logits
    per configuration (ring integers), labels; compared by flip rates."""
    tensors, meta = load_model(name)
    params = {k: v.astype(np.float64) for k, v in tensors.items()}
    x, y = mnist_test(limit)
    fwd = forward_of(meta)
    plain = np.asarray(fwd(x.astype(np.float64), params))
    doc = {"case": f"model_{name}", "function": "model", "model": name, "images": f"MNIST t10k 0..{limit}",
           "labels": y.tolist(), "plain_logits": plain.tolist(), "plain_labels": plain.argmax(1).tolist(), "configs": {}}
    for cfg_name in configs:
        f = FRAC[CONFIGS[cfg_name]["field"]]
        t0 = time.time()
        # chunks of 100 images: one simulator run of 1,000 exceeds the in-memory link's timeout
        out = np.concatenate([
            np.asarray(spsim.sim_jax(simulator(**CONFIGS[cfg_name]), fwd)(x[lo:lo + 100].astype(np.float64), params))
            for lo in range(0, limit, 100)
        ])
        doc["configs"][cfg_name] = {**CONFIGS[cfg_name], "frac_bits": f, "seconds": round(time.time() - t0, 1),
                                    "runs": [{"run": 0, "raw": raw_of(out, f), "labels": out.argmax(1).tolist()}]}
    return doc


def record_some(out, names):
    """Records the function cases `names` only and merges them into `out/index.json`, which
    must come from the same package versions (a recording never mixes versions)."""
    unknown = [n for n in names if n not in FUNCS]
    if unknown:
        raise SystemExit(f"record_spu: no function case {unknown[0]!r} (known: {', '.join(FUNCS)})")
    path = os.path.join(out, "index.json")
    try:
        with open(path) as fh:
            index = json.load(fh)
    except OSError as e:
        raise SystemExit(f"record_spu: {path}: {e.strerror}; record every case first")
    here = {"version": spu.__version__, "jax": jax.__version__, "numpy": np.__version__,
            "python": platform.python_version()}
    for k, v in here.items():
        if index.get(k) != v:
            raise SystemExit(f"record_spu: {path} was recorded with {k} {index.get(k)}, this is {v}")
    docs = []
    start = time.time()
    for n in names:
        t0 = time.time()
        docs.append(case_function(n))
        index.setdefault("recorded_later", {})[n] = {
            "generated_utc": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()),
            "seconds": round(time.time() - t0, 1),
        }
        if n not in index["cases"]:
            index["cases"].append(n)
    write_references(out, "record_spu", index, docs, round(time.time() - start, 1))


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "tests/reference/frameworks/spu"
    os.makedirs(out, exist_ok=True)
    if len(sys.argv) > 2:
        record_some(out, sys.argv[2:])
        return
    t0 = time.time()
    docs = [case_encode(), case_mul()] + [case_function(n) for n in FUNCS]
    limit = int(os.environ.get("MPCDIFF_MODEL_IMAGES", "1000"))
    docs += [case_model("lenet", limit), case_model("lenet-relu", limit)]
    index = {
        "framework": "spu",
        "version": spu.__version__,
        "jax": jax.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "generated_utc": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()),
        "seconds": round(time.time() - t0, 1),
        "configs": CONFIGS,
        "frac_bits": FRAC,
        "cases": [d["case"] for d in docs],
    }
    write_references(out, "record_spu", index, docs)


if __name__ == "__main__":
    main()
