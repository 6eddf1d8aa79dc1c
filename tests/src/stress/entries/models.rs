//! Hostile model files: small random architectures written in the documented format
//! (safetensors + `mpcdiff-model/1` metadata), sometimes broken on purpose (overflowing or
//! zero sizes, wrong tensors, bad metadata, corrupted bytes), and parsed models whose public
//! fields are changed afterwards.

use crate::stress::Gen;
use mpcdiff_kernel::nn::model::Model;
use mpcdiff_kernel::nn::spec::{self, Kind, Shape, Spec};

/// A named F32 tensor: name, shape, values.
pub(crate) type Tensor = (String, Vec<usize>, Vec<f32>);

/// A safetensors file of named F32 tensors plus string metadata.
pub(crate) fn safetensors(tensors: &[Tensor], meta: &[(String, String)]) -> Vec<u8> {
    let mut header = String::from("{\"__metadata__\":{");
    header += &meta
        .iter()
        .map(|(k, v)| format!("\"{k}\":\"{v}\""))
        .collect::<Vec<_>>()
        .join(",");
    header += "}";
    let mut data = Vec::new();
    for (name, shape, values) in tensors {
        let begin = data.len();
        for v in values {
            data.extend_from_slice(&v.to_le_bytes());
        }
        let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
        header += &format!(
            ",\"{name}\":{{\"dtype\":\"F32\",\"shape\":[{}],\"data_offsets\":[{begin},{}]}}",
            dims.join(","),
            data.len()
        );
    }
    header += "}";
    let mut out = (header.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(&data);
    out
}

/// A hostile float for a weight: ordinary most of the time.
fn weight(g: &mut Gen) -> f32 {
    if g.one_in(40) {
        g.f64() as f32
    } else {
        (g.unit() * 2.0 - 1.0) as f32
    }
}

/// A random small architecture as a spec string, its input shape string and class count.
fn random_arch(g: &mut Gen) -> (String, String, usize) {
    let mut layers = Vec::new();
    let mut shape = if g.bool() {
        Shape::Image {
            c: 1 + g.small(1),
            h: 2 + g.small(4),
            w: 2 + g.small(4),
        }
    } else {
        Shape::Vector(1 + g.small(7))
    };
    let input = match shape {
        Shape::Image { c, h, w } => format!("{c}x{h}x{w}"),
        Shape::Vector(n) => n.to_string(),
    };
    let acts = ["sigmoid", "relu", "tanh", "gelu_erf", "gelu_tanh"];
    // Batch norms follow a conv or linear layer (every deployment can run them), except now
    // and then.
    let mut after_product = false;
    for i in 0..1 + g.small(5) {
        let name = format!("l{i}");
        let bn = after_product || g.one_in(10);
        after_product = false;
        let layer = match shape {
            Shape::Image { c, h, w } => match g.below(5) {
                0 => {
                    let (out, k) = (1 + g.small(2), 1 + g.small(2.min(h.min(w) - 1)));
                    shape = Shape::Image {
                        c: out,
                        h: h - k + 1,
                        w: w - k + 1,
                    };
                    after_product = true;
                    format!("conv2d {name} in={c} out={out} k={k} stride=1 pad=0")
                }
                1 if bn => format!("batchnorm {name} c={c} eps=0.00001"),
                2 => format!("{} {name}", g.pick(&acts)),
                3 if h >= 2 && w >= 2 => {
                    shape = Shape::Image {
                        c,
                        h: h / 2,
                        w: w / 2,
                    };
                    let kind = if g.bool() { "avgpool" } else { "maxpool" };
                    format!("{kind} {name} k=2 stride=2")
                }
                _ => {
                    shape = Shape::Vector(c * h * w);
                    format!("flatten {name}")
                }
            },
            Shape::Vector(n) => match g.below(3) {
                0 if bn => format!("batchnorm {name} c={n} eps=0.00001"),
                1 => format!("{} {name}", g.pick(&acts)),
                _ => {
                    let out = 1 + g.small(6);
                    shape = Shape::Vector(out);
                    after_product = true;
                    format!("linear {name} in={n} out={out}")
                }
            },
        };
        layers.push(layer);
    }
    if !matches!(shape, Shape::Vector(_)) {
        layers.push("flatten fl".into());
        shape = Shape::Vector(shape.len());
    }
    let classes = 2 + g.small(3);
    layers.push(format!("linear head in={} out={classes}", shape.len()));
    (layers.join(";"), input, classes)
}

/// Breaks a spec string the way a hand-edited or hostile file could.
fn break_spec(g: &mut Gen, spec: &str) -> String {
    let mut s = spec.to_string();
    match g.below(8) {
        0 => s = s.replacen(|c: char| c.is_ascii_digit(), "999999999", 1 + g.small(3)),
        1 => s = s.replacen("in=", "in=0", 1),
        2 => s.push_str(&format!(";{}", g.text(6))),
        3 => s = s.replacen("out=", "out=999999999", 1),
        4 => s = s.replacen(';', ";relu dup;relu dup;", 1),
        5 => {
            let keep = g.small(s.len());
            s = s.chars().take(keep).collect();
        }
        6 => {
            s = (0..40)
                .map(|i| format!("relu r{i}"))
                .collect::<Vec<_>>()
                .join(";")
        }
        _ => s = s.replacen("stride=1", "stride=999999999", 1),
    }
    s
}

/// The tensors a spec needs for `input`, with seeded values (plausible batch-norm statistics),
/// or `None` when a tensor would be too large to write.
fn tensors(g: &mut Gen, spec: &Spec) -> Option<Vec<Tensor>> {
    let mut out = Vec::new();
    for l in &spec.layers {
        let n = l.name.as_str();
        let mut push = |suffix: &str, dims: Vec<usize>, var: bool| -> Option<()> {
            let len = dims.iter().try_fold(1usize, |a, &d| a.checked_mul(d))?;
            if len > 4096 {
                return None;
            }
            let values = (0..len)
                .map(|_| {
                    let w = weight(g);
                    if var && w.is_finite() {
                        0.3 + 2.7 * w.abs()
                    } else {
                        w
                    }
                })
                .collect();
            out.push((format!("{n}{suffix}"), dims, values));
            Some(())
        };
        match l.kind {
            Kind::Conv2d {
                in_ch, out_ch, k, ..
            } => {
                push(".weight", vec![out_ch, in_ch, k, k], false)?;
                push(".bias", vec![out_ch], false)?;
            }
            Kind::Linear { inputs, outputs } => {
                push(".weight", vec![outputs, inputs], false)?;
                push(".bias", vec![outputs], false)?;
            }
            Kind::BatchNorm { channels, .. } => {
                push(".weight", vec![channels], false)?;
                push(".bias", vec![channels], false)?;
                push(".running_mean", vec![channels], false)?;
                push(".running_var", vec![channels], true)?;
            }
            _ => {}
        }
    }
    Some(out)
}

/// A model file: usually a small valid one, sometimes a built-in architecture, sometimes
/// broken (spec, metadata, tensors or bytes).
pub(crate) fn model_bytes(g: &mut Gen) -> Vec<u8> {
    let (mut layers, mut input, mut classes) = match g.below(12) {
        0 => {
            let name = g.pick(&["credit-mlp", "bank-mlp"]);
            let (l, i) = spec::builtin(name).expect("built-in");
            (l.to_string(), i.to_string(), 2)
        }
        _ => random_arch(g),
    };
    let broken = g.one_in(5);
    if broken {
        match g.below(6) {
            0 => layers = break_spec(g, &layers),
            1 => {
                input = g
                    .pick(&[
                        "999999999x999999999x999999999",
                        "0",
                        "0x0x0",
                        "1x0x5",
                        "x",
                        "7x7",
                        "123456789x99999999x9",
                    ])
                    .to_string()
            }
            2 => classes = g.size(),
            3 => input = format!("{}x{}x{}", g.small(1000), g.small(3), g.small(3)),
            _ => layers = break_spec(g, &layers),
        }
    }
    // The tensors of the (possibly broken) spec when it parses, else of nothing.
    let mut ts = Spec::parse(&layers)
        .ok()
        .and_then(|s| tensors(g, &s))
        .unwrap_or_default();
    if broken && g.bool() && !ts.is_empty() {
        let i = g.index(ts.len());
        match g.below(4) {
            0 => {
                ts.remove(i);
            }
            1 => ts[i].1.push(1),
            2 => ts[i].0.push('x'),
            _ => ts.push(("extra.weight".into(), vec![1], vec![0.0])),
        }
    }
    let mut meta = vec![
        ("format".to_string(), "mpcdiff-model/1".to_string()),
        ("architecture".to_string(), "stress".to_string()),
        ("layers".to_string(), layers),
        ("input".to_string(), input),
        ("classes".to_string(), classes.to_string()),
    ];
    if broken && g.one_in(4) {
        let i = g.index(meta.len());
        meta.remove(i);
    }
    let mut bytes = safetensors(&ts, &meta);
    if broken && g.one_in(4) && !bytes.is_empty() {
        let i = g.index(bytes.len());
        match g.below(3) {
            0 => bytes[i] ^= 1 << g.below(8),
            1 => bytes.truncate(i),
            _ => bytes[..8].copy_from_slice(&g.u64_edge().to_le_bytes()),
        }
    }
    bytes
}

/// Changes a parsed model's public fields, sometimes (as an embedder could).
pub(crate) fn tamper(g: &mut Gen, m: &mut Model<'_>) {
    if !g.one_in(8) {
        return;
    }
    match g.below(6) {
        0 => m.classes = g.size(),
        1 => {
            m.input = if g.bool() {
                Shape::Vector(g.size())
            } else {
                Shape::Image {
                    c: g.dim(),
                    h: g.dim(),
                    w: g.dim(),
                }
            }
        }
        2 => {
            if !m.shapes.is_empty() {
                let i = g.index(m.shapes.len());
                m.shapes[i] = Shape::Vector(g.size());
            }
        }
        3 => {
            let _ = m.shapes.pop();
        }
        4 => {
            if !m.spec.layers.is_empty() {
                let i = g.index(m.spec.layers.len());
                m.spec.layers[i].kind = match m.spec.layers[i].kind {
                    Kind::Linear { inputs, .. } => Kind::Linear {
                        inputs,
                        outputs: g.size(),
                    },
                    Kind::Conv2d { in_ch, k, .. } => Kind::Conv2d {
                        in_ch,
                        out_ch: g.dim(),
                        k,
                        stride: g.size(),
                        pad: g.size(),
                    },
                    Kind::BatchNorm { eps_micro, .. } => Kind::BatchNorm {
                        channels: g.size(),
                        eps_micro,
                    },
                    _ => Kind::Flatten,
                };
            }
        }
        _ => {
            let _ = m.spec.layers.pop();
        }
    }
}
