//! The model file: `mpcdiff-model/1`, a [safetensors] file with a fixed set of metadata.
//!
//! This module is self-contained (it knows nothing of the training code) so that the kernel,
//! the wasm adapter or a Python script can read a model from this description alone.
//!
//! # Layout
//! ```text
//! [0, 8)          N: the header length, u64 little-endian
//! [8, 8 + N)      the header: UTF-8 JSON, padded with spaces (0x20) so that N % 8 == 0
//! [8 + N, end)    the data section: every tensor's bytes, back to back
//! ```
//!
//! # Header
//! One JSON object. Each key but `__metadata__` is a tensor name, mapped to
//! `{"data_offsets":[begin,end],"dtype":"F32","shape":[d0,d1,...]}`; `begin` and `end` are
//! byte offsets into the data section, `end − begin = 4 · d0 · d1 · …`.
//! `"__metadata__"` maps to an object of string → string (below).
//!
//! The writer makes the bytes a function of the model alone: object keys in byte order
//! (so `__metadata__` first, then the tensors by name, and `data_offsets`, `dtype`, `shape`
//! inside an entry), no whitespace outside strings, tensors stored in name order with no gap
//! (the first at offset 0), floats as `f32` little-endian in row-major order. The same model
//! therefore always gives the same file.
//!
//! The reader is stricter than safetensors in content and as lenient in form: keys may come
//! in any order and tensors may be stored in any order, but the ranges must tile the data
//! section exactly (no gap, no overlap, no trailing bytes), every tensor must be `F32`, finite,
//! and have the shape the layer spec implies, and no tensor may be missing or unexpected.
//!
//! # Tensors
//! PyTorch's `state_dict` names and shapes (so a PyTorch model exports with a name map of
//! nothing), `f32` little-endian, row-major:
//!
//! | layer kind | tensors |
//! | --- | --- |
//! | `conv2d` | `<name>.weight` `[out, in, k, k]`, `<name>.bias` `[out]` |
//! | `linear` | `<name>.weight` `[out, in]`, `<name>.bias` `[out]` |
//! | `batchnorm` | `<name>.weight` (γ), `<name>.bias` (β), `<name>.running_mean`, `<name>.running_var`, each `[c]` |
//! | others | none |
//!
//! # Metadata (`__metadata__`, all values are strings)
//! | key | value |
//! | --- | --- |
//! | `format` | `mpcdiff-model/1` |
//! | `architecture` | the model's name: `lenet`, `lenet-relu`, `credit-mlp`, `bank-mlp` (informative: the layer spec is what defines the network) |
//! | `layers` | the layer spec (below) |
//! | `input` | the shape of one input: `CxHxW` for images (`1x28x28`), `F` for feature vectors (`23`) |
//! | `classes` | the number of logits the network outputs (decimal) |
//! | `preprocessing` | JSON: how raw data becomes the network input (below) |
//! | `training` | JSON: how the weights were made (informative, free form; see `crate::train`) |
//!
//! Other metadata keys are allowed and ignored by the reader.
//!
//! ## Layer spec
//! Layers in order, separated by `;`. Each layer is `kind name key=value …`, separated by
//! single spaces, with exactly the keys of its kind (the writer uses the order below; the
//! reader accepts any order, and rejects missing, unknown and repeated keys). Names match
//! `[A-Za-z_][A-Za-z0-9_]*` and are unique. Integers are decimal; `eps` is an `f32` in its
//! shortest decimal form (`0.00001`).
//!
//! | kind | keys | computes (PyTorch equivalent) |
//! | --- | --- | --- |
//! | `conv2d` | `in out k stride pad` | `nn.Conv2d(in, out, k, stride, pad)`, square kernel, zero padding, with bias |
//! | `batchnorm` | `c eps` | `nn.BatchNorm2d(c, eps)` on an image, `nn.BatchNorm1d(c, eps)` on a vector; in inference `(x − running_mean) / sqrt(running_var + eps) · weight + bias` |
//! | `sigmoid` | – | `1 / (1 + e^−x)` |
//! | `relu` | – | `max(x, 0)` |
//! | `tanh` | – | `tanh x` |
//! | `gelu_erf` | – | `nn.GELU()`: `0.5 · x · (1 + erf(x / √2))` |
//! | `avgpool` | `k stride` | `nn.AvgPool2d(k, stride)`, no padding, floor mode |
//! | `maxpool` | `k stride` | `nn.MaxPool2d(k, stride)`, no padding, floor mode |
//! | `flatten` | – | `torch.flatten(x, 1)`: `C×H×W` → `C·H·W` in C, H, W order |
//! | `linear` | `in out` | `nn.Linear(in, out)` with bias, on a vector |
//!
//! The reader checks that the chain is well formed from `input` to `classes`: conv and pools
//! take images (and their `in`/`c` match the channels), `linear` takes vectors of length `in`,
//! every output size is at least 1, and the last layer outputs a vector of `classes`.
//!
//! Example (the `credit-mlp`):
//! `linear fc1 in=23 out=120;sigmoid act1;linear fc2 in=120 out=2`.
//!
//! ## Preprocessing
//! * `{"kind":"mnist","mean":0.1307,"std":0.3081}`: pixels `p ∈ 0..=255` become
//!   `(p / 255 − mean) / std` in `f32` (torchvision `ToTensor` + `Normalize`); `mean` and `std`
//!   are `f32` values written in their shortest decimal form.
//! * `{"kind":"minmax","max":[…],"min":[…]}`: feature `j` (raw units, `f64`) becomes
//!   `(raw − min[j]) / (max[j] − min[j])` computed in `f64` and rounded to `f32`, or
//!   `raw − min[j]` when `max[j] == min[j]`; one entry per input feature. The statistics are
//!   the training split's.
//!
//! [safetensors]: https://github.com/huggingface/safetensors

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde_json::{Map, Value};

/// The value of the `format` metadata key.
pub const FORMAT: &str = "mpcdiff-model/1";

/// Header lengths above this are rejected before anything is allocated (100 MiB).
pub const HEADER_MAX: u64 = 100 << 20;

/// What one layer computes (see the module doc for the spec syntax).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum LayerKind {
    /// 2-D convolution with a square kernel and bias.
    Conv2d {
        /// Input channels.
        in_c: usize,
        /// Output channels.
        out_c: usize,
        /// Kernel size.
        k: usize,
        /// Stride.
        stride: usize,
        /// Zero padding on each side.
        pad: usize,
    },
    /// Batch normalisation over `c` channels (2-D on images, 1-D on vectors).
    BatchNorm {
        /// Channels (features for vectors).
        c: usize,
        /// The variance offset.
        eps: f32,
    },
    /// The logistic function.
    Sigmoid,
    /// `max(x, 0)`.
    Relu,
    /// The hyperbolic tangent.
    Tanh,
    /// GELU, erf form.
    GeluErf,
    /// Average pooling.
    AvgPool {
        /// Window size.
        k: usize,
        /// Stride.
        stride: usize,
    },
    /// Max pooling.
    MaxPool {
        /// Window size.
        k: usize,
        /// Stride.
        stride: usize,
    },
    /// Image to vector.
    Flatten,
    /// Fully connected layer with bias.
    Linear {
        /// Input features.
        inp: usize,
        /// Output features.
        out: usize,
    },
}

impl LayerKind {
    /// The kind's name in the layer spec.
    pub fn keyword(&self) -> &'static str {
        match self {
            LayerKind::Conv2d { .. } => "conv2d",
            LayerKind::BatchNorm { .. } => "batchnorm",
            LayerKind::Sigmoid => "sigmoid",
            LayerKind::Relu => "relu",
            LayerKind::Tanh => "tanh",
            LayerKind::GeluErf => "gelu_erf",
            LayerKind::AvgPool { .. } => "avgpool",
            LayerKind::MaxPool { .. } => "maxpool",
            LayerKind::Flatten => "flatten",
            LayerKind::Linear { .. } => "linear",
        }
    }
}

/// One named layer.
#[derive(Clone, Debug, PartialEq)]
pub struct LayerSpec {
    /// The layer's name (the prefix of its tensor names).
    pub name: String,
    /// What it computes.
    pub kind: LayerKind,
}

impl LayerSpec {
    /// A layer named `name`.
    pub fn new(name: &str, kind: LayerKind) -> LayerSpec {
        LayerSpec {
            name: name.to_string(),
            kind,
        }
    }

    /// The tensors this layer owns, with their shapes, in the order of the module doc.
    pub fn tensors(&self) -> Vec<(String, Vec<usize>)> {
        let n = &self.name;
        match self.kind {
            LayerKind::Conv2d { in_c, out_c, k, .. } => vec![
                (format!("{n}.weight"), vec![out_c, in_c, k, k]),
                (format!("{n}.bias"), vec![out_c]),
            ],
            LayerKind::Linear { inp, out } => vec![
                (format!("{n}.weight"), vec![out, inp]),
                (format!("{n}.bias"), vec![out]),
            ],
            LayerKind::BatchNorm { c, .. } => vec![
                (format!("{n}.weight"), vec![c]),
                (format!("{n}.bias"), vec![c]),
                (format!("{n}.running_mean"), vec![c]),
                (format!("{n}.running_var"), vec![c]),
            ],
            _ => Vec::new(),
        }
    }
}

impl fmt::Display for LayerSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind.keyword(), self.name)?;
        match self.kind {
            LayerKind::Conv2d {
                in_c,
                out_c,
                k,
                stride,
                pad,
            } => write!(f, " in={in_c} out={out_c} k={k} stride={stride} pad={pad}"),
            LayerKind::BatchNorm { c, eps } => write!(f, " c={c} eps={eps}"),
            LayerKind::AvgPool { k, stride } | LayerKind::MaxPool { k, stride } => {
                write!(f, " k={k} stride={stride}")
            }
            LayerKind::Linear { inp, out } => write!(f, " in={inp} out={out}"),
            _ => Ok(()),
        }
    }
}

/// The layer spec string of `layers` (module doc).
pub fn layers_to_string(layers: &[LayerSpec]) -> String {
    let parts: Vec<String> = layers.iter().map(ToString::to_string).collect();
    parts.join(";")
}

/// The shape of the value between two layers, for one example.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// A `c × h × w` image.
    Image {
        /// Channels.
        c: usize,
        /// Rows.
        h: usize,
        /// Columns.
        w: usize,
    },
    /// A vector of `n` features.
    Vector {
        /// Length.
        n: usize,
    },
}

impl Shape {
    /// Number of values.
    pub fn len(&self) -> usize {
        match *self {
            Shape::Image { c, h, w } => c * h * w,
            Shape::Vector { n } => n,
        }
    }

    /// Whether the shape holds no value.
    #[allow(dead_code, reason = "the companion of `len`")]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The shape as in the `input` metadata: `CxHxW` or `F`.
    pub fn to_metadata(self) -> String {
        match self {
            Shape::Image { c, h, w } => format!("{c}x{h}x{w}"),
            Shape::Vector { n } => n.to_string(),
        }
    }

    /// Parses the `input` metadata.
    pub fn parse_metadata(s: &str) -> Option<Shape> {
        let dims: Option<Vec<usize>> = s.split('x').map(parse_dec).collect();
        match *dims?.as_slice() {
            [n] if n > 0 => Some(Shape::Vector { n }),
            [c, h, w] if c > 0 && h > 0 && w > 0 => Some(Shape::Image { c, h, w }),
            _ => None,
        }
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Shape::Image { c, h, w } => write!(f, "image {c}×{h}×{w}"),
            Shape::Vector { n } => write!(f, "vector of {n}"),
        }
    }
}

/// A plain decimal `usize` (no sign, no leading `+`, at most 9 digits so products stay small).
fn parse_dec(s: &str) -> Option<usize> {
    if s.is_empty() || s.len() > 9 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// The output shape of a pooling or convolution window over `n` positions, if at least one.
fn window_out(n: usize, pad: usize, k: usize, stride: usize) -> Option<usize> {
    let padded = n + 2 * pad;
    if k == 0 || stride == 0 || padded < k {
        return None;
    }
    Some((padded - k) / stride + 1)
}

/// The shape after `layer` given the shape before it, or why the layer does not fit.
pub fn output_shape(layer: &LayerSpec, input: Shape) -> Result<Shape, String> {
    let bad = |what: &str| Err(format!("layer {:?} ({}): {what}", layer.name, layer));
    match (layer.kind, input) {
        (
            LayerKind::Conv2d {
                in_c,
                out_c,
                k,
                stride,
                pad,
            },
            Shape::Image { c, h, w },
        ) => {
            if in_c != c {
                return bad(&format!("expects {in_c} input channels, gets {input}"));
            }
            if out_c == 0 {
                return bad("has no output channel");
            }
            match (window_out(h, pad, k, stride), window_out(w, pad, k, stride)) {
                (Some(h), Some(w)) => Ok(Shape::Image { c: out_c, h, w }),
                _ => bad(&format!("does not fit its input, {input}")),
            }
        }
        (LayerKind::BatchNorm { c, eps }, _) => {
            let channels = match input {
                Shape::Image { c, .. } => c,
                Shape::Vector { n } => n,
            };
            if c != channels {
                return bad(&format!("expects {c} channels, gets {input}"));
            }
            if !(eps.is_finite() && eps > 0.0) {
                return bad("eps must be finite and positive");
            }
            Ok(input)
        }
        (LayerKind::Sigmoid | LayerKind::Relu | LayerKind::Tanh | LayerKind::GeluErf, _) => {
            Ok(input)
        }
        (
            LayerKind::AvgPool { k, stride } | LayerKind::MaxPool { k, stride },
            Shape::Image { c, h, w },
        ) => match (window_out(h, 0, k, stride), window_out(w, 0, k, stride)) {
            (Some(h), Some(w)) => Ok(Shape::Image { c, h, w }),
            _ => bad(&format!("does not fit its input, {input}")),
        },
        (LayerKind::Flatten, _) => Ok(Shape::Vector { n: input.len() }),
        (LayerKind::Linear { inp, out }, Shape::Vector { n }) => {
            if inp != n {
                return bad(&format!("expects {inp} inputs, gets {input}"));
            }
            if out == 0 {
                return bad("has no output");
            }
            Ok(Shape::Vector { n: out })
        }
        (LayerKind::Linear { .. }, Shape::Image { .. }) => bad(&format!(
            "needs a vector, gets {input} (add a flatten layer)"
        )),
        (_, Shape::Vector { .. }) => bad(&format!("needs an image, gets {input}")),
    }
}

/// The shapes between the layers: `input`, then the output of each layer in turn.
pub fn shapes(input: Shape, layers: &[LayerSpec]) -> Result<Vec<Shape>, String> {
    let mut out = Vec::with_capacity(layers.len() + 1);
    out.push(input);
    let mut s = input;
    for l in layers {
        s = output_shape(l, s)?;
        out.push(s);
    }
    Ok(out)
}

/// Parses a layer spec string (module doc); the error says which layer and why.
pub fn parse_layers(spec: &str) -> Result<Vec<LayerSpec>, String> {
    let mut layers = Vec::new();
    let mut names = BTreeSet::new();
    for (i, text) in spec.split(';').enumerate() {
        let pos = i + 1;
        let mut words = text.split(' ');
        let kind = words.next().unwrap_or("");
        let name = words
            .next()
            .ok_or_else(|| format!("layer {pos} ({text:?}) has no name"))?;
        let valid_name = name
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !valid_name {
            return Err(format!(
                "layer {pos} has the invalid name {name:?} (expected [A-Za-z_][A-Za-z0-9_]*)"
            ));
        }
        if !names.insert(name.to_string()) {
            return Err(format!("layer name {name:?} is used twice"));
        }
        let mut keys: BTreeMap<&str, &str> = BTreeMap::new();
        for word in words {
            let (k, v) = word.split_once('=').ok_or_else(|| {
                format!("layer {name:?}: {word:?} is not key=value (single spaces only)")
            })?;
            if keys.insert(k, v).is_some() {
                return Err(format!("layer {name:?}: key {k:?} is repeated"));
            }
        }
        let expected: &[&str] = match kind {
            "conv2d" => &["in", "out", "k", "stride", "pad"],
            "batchnorm" => &["c", "eps"],
            "avgpool" | "maxpool" => &["k", "stride"],
            "linear" => &["in", "out"],
            "sigmoid" | "relu" | "tanh" | "gelu_erf" | "flatten" => &[],
            _ => {
                return Err(format!(
                    "layer {pos} ({name:?}) has the unknown kind {kind:?} (expected conv2d, \
                     batchnorm, sigmoid, relu, tanh, gelu_erf, avgpool, maxpool, flatten, linear)"
                ))
            }
        };
        for k in keys.keys() {
            if !expected.contains(k) {
                return Err(format!("layer {name:?} ({kind}) has the unknown key {k:?}"));
            }
        }
        let int = |k: &str| -> Result<usize, String> {
            let v = keys
                .get(k)
                .ok_or_else(|| format!("layer {name:?} ({kind}) lacks the key {k:?}"))?;
            parse_dec(v)
                .ok_or_else(|| format!("layer {name:?}: {k}={v:?} is not a decimal integer"))
        };
        let kind = match kind {
            "conv2d" => LayerKind::Conv2d {
                in_c: int("in")?,
                out_c: int("out")?,
                k: int("k")?,
                stride: int("stride")?,
                pad: int("pad")?,
            },
            "batchnorm" => {
                let c = int("c")?;
                let v = keys
                    .get("eps")
                    .ok_or_else(|| format!("layer {name:?} (batchnorm) lacks the key \"eps\""))?;
                let eps: f32 = v
                    .parse()
                    .ok()
                    .filter(|e: &f32| e.is_finite() && *e > 0.0)
                    .ok_or_else(|| {
                        format!("layer {name:?}: eps={v:?} is not a positive finite number")
                    })?;
                LayerKind::BatchNorm { c, eps }
            }
            "avgpool" => LayerKind::AvgPool {
                k: int("k")?,
                stride: int("stride")?,
            },
            "maxpool" => LayerKind::MaxPool {
                k: int("k")?,
                stride: int("stride")?,
            },
            "linear" => LayerKind::Linear {
                inp: int("in")?,
                out: int("out")?,
            },
            "sigmoid" => LayerKind::Sigmoid,
            "relu" => LayerKind::Relu,
            "tanh" => LayerKind::Tanh,
            "gelu_erf" => LayerKind::GeluErf,
            _ => LayerKind::Flatten,
        };
        layers.push(LayerSpec::new(name, kind));
    }
    Ok(layers)
}

/// How raw data becomes the network input (module doc, "Preprocessing").
#[derive(Clone, Debug, PartialEq)]
pub enum Preprocessing {
    /// `(p / 255 − mean) / std` in `f32`.
    Mnist {
        /// The mean subtracted.
        mean: f32,
        /// The standard deviation divided by.
        std: f32,
    },
    /// Per-feature min-max scaling with training statistics (raw units).
    MinMax {
        /// Per feature, the raw value that maps to 0.
        min: Vec<f64>,
        /// Per feature, the raw value that maps to 1.
        max: Vec<f64>,
    },
}

/// An `f32` as the JSON number of its shortest decimal form (so `0.1307f32` is `0.1307`).
fn f32_json(x: f32) -> Value {
    let shortest: f64 = x.to_string().parse().unwrap_or(f64::from(x));
    Value::from(shortest)
}

impl Preprocessing {
    /// The JSON string stored in the metadata.
    pub fn to_json(&self) -> String {
        let mut m = Map::new();
        match self {
            Preprocessing::Mnist { mean, std } => {
                m.insert("kind".into(), "mnist".into());
                m.insert("mean".into(), f32_json(*mean));
                m.insert("std".into(), f32_json(*std));
            }
            Preprocessing::MinMax { min, max } => {
                m.insert("kind".into(), "minmax".into());
                m.insert("min".into(), min.clone().into());
                m.insert("max".into(), max.clone().into());
            }
        }
        Value::Object(m).to_string()
    }

    /// Parses the metadata JSON; `features` is the input length, which `minmax` must match.
    pub fn parse(s: &str, features: usize) -> Result<Preprocessing, String> {
        let v: Value = serde_json::from_str(s).map_err(|e| format!("not JSON: {e}"))?;
        let obj = v.as_object().ok_or("not a JSON object")?;
        let num = |k: &str| obj.get(k).and_then(Value::as_f64).filter(|x| x.is_finite());
        let nums = |k: &str| -> Result<Vec<f64>, String> {
            let arr = obj
                .get(k)
                .and_then(Value::as_array)
                .ok_or(format!("{k:?} is not an array"))?;
            let v: Option<Vec<f64>> = arr
                .iter()
                .map(|x| x.as_f64().filter(|x| x.is_finite()))
                .collect();
            let v = v.ok_or(format!("{k:?} holds a value that is not a finite number"))?;
            if v.len() != features {
                return Err(format!(
                    "{k:?} has {} entries for {features} input features",
                    v.len()
                ));
            }
            Ok(v)
        };
        match obj.get("kind").and_then(Value::as_str) {
            Some("mnist") => {
                let mean = num("mean").ok_or("\"mean\" is not a finite number")? as f32;
                let std = num("std")
                    .filter(|s| *s > 0.0)
                    .ok_or("\"std\" is not a positive finite number")?
                    as f32;
                Ok(Preprocessing::Mnist { mean, std })
            }
            Some("minmax") => Ok(Preprocessing::MinMax {
                min: nums("min")?,
                max: nums("max")?,
            }),
            Some(k) => Err(format!("unknown kind {k:?} (expected mnist or minmax)")),
            None => Err("\"kind\" is missing or not a string".into()),
        }
    }
}

/// One tensor: shape and row-major values.
#[derive(Clone, Debug, PartialEq)]
pub struct Tensor {
    /// Dimensions, outermost first.
    pub shape: Vec<usize>,
    /// `shape.iter().product()` values.
    pub data: Vec<f32>,
}

/// A model as stored: the network description, its tensors and the metadata.
#[derive(Clone, Debug, PartialEq)]
pub struct Model {
    /// The `architecture` metadata.
    pub architecture: String,
    /// The parsed `layers` metadata.
    pub layers: Vec<LayerSpec>,
    /// The `input` metadata.
    pub input: Shape,
    /// The `classes` metadata.
    pub classes: usize,
    /// The `preprocessing` metadata.
    pub preprocessing: Preprocessing,
    /// The `training` metadata: a JSON object, kept as its text.
    pub training: String,
    /// Every tensor, by name.
    pub tensors: BTreeMap<String, Tensor>,
}

/// Why a model file was rejected. Each message names the tensor or metadata field.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum FormatError {
    /// Fewer than 8 bytes, or fewer than the header length says.
    Truncated {
        /// What is cut short.
        what: String,
    },
    /// The header length is not a multiple of 8, or exceeds [`HEADER_MAX`].
    HeaderLength {
        /// The header length read.
        len: u64,
    },
    /// The header is not UTF-8 JSON of the expected form.
    Header {
        /// What is wrong.
        message: String,
    },
    /// A metadata field is missing or invalid.
    Metadata {
        /// The key.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
    /// A tensor's header entry is malformed.
    TensorEntry {
        /// The tensor.
        tensor: String,
        /// What is wrong.
        message: String,
    },
    /// A tensor is not `F32`.
    Dtype {
        /// The tensor.
        tensor: String,
        /// The dtype found.
        dtype: String,
    },
    /// A tensor's bytes are outside the data section, overlap another's, or leave a gap.
    Offsets {
        /// The tensor.
        tensor: String,
        /// What is wrong.
        message: String,
    },
    /// Bytes after the last tensor.
    TrailingBytes {
        /// How many.
        count: u64,
    },
    /// A tensor the layer spec needs is absent.
    MissingTensor {
        /// The tensor.
        tensor: String,
    },
    /// A tensor the layer spec does not name.
    UnexpectedTensor {
        /// The tensor.
        tensor: String,
    },
    /// A tensor's shape disagrees with the layer spec.
    Shape {
        /// The tensor.
        tensor: String,
        /// The shape the spec implies.
        expected: Vec<usize>,
        /// The shape in the file.
        found: Vec<usize>,
    },
    /// A tensor holds NaN or ±∞.
    NonFinite {
        /// The tensor.
        tensor: String,
        /// The flat index of the first such value.
        index: usize,
    },
}

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FormatError::Truncated { what } => write!(f, "the model file is truncated: {what}"),
            FormatError::HeaderLength { len } => write!(
                f,
                "the header length {len} is invalid (it must be a multiple of 8, at most {HEADER_MAX})"
            ),
            FormatError::Header { message } => write!(f, "malformed header: {message}"),
            FormatError::Metadata { field, message } => {
                write!(f, "metadata field {field:?}: {message}")
            }
            FormatError::TensorEntry { tensor, message } => {
                write!(f, "tensor {tensor:?}: malformed header entry: {message}")
            }
            FormatError::Dtype { tensor, dtype } => {
                write!(f, "tensor {tensor:?} has dtype {dtype:?}; only \"F32\" is supported")
            }
            FormatError::Offsets { tensor, message } => {
                write!(f, "tensor {tensor:?}: data_offsets {message}")
            }
            FormatError::TrailingBytes { count } => {
                write!(f, "{count} bytes follow the last tensor in the data section")
            }
            FormatError::MissingTensor { tensor } => {
                write!(f, "tensor {tensor:?} is missing (the layer spec needs it)")
            }
            FormatError::UnexpectedTensor { tensor } => {
                write!(f, "tensor {tensor:?} is not part of any layer in the layer spec")
            }
            FormatError::Shape {
                tensor,
                expected,
                found,
            } => write!(
                f,
                "tensor {tensor:?} has shape {found:?}, but the layer spec implies {expected:?}"
            ),
            FormatError::NonFinite { tensor, index } => {
                write!(f, "tensor {tensor:?} holds a non-finite value at index {index}")
            }
        }
    }
}

impl std::error::Error for FormatError {}

/// The model file's bytes (module doc). The caller vouches that the tensors match the layer
/// spec; [`read_model`] of the result gives `model` back.
pub fn write_model(model: &Model) -> Vec<u8> {
    let mut meta = Map::new();
    meta.insert("format".into(), FORMAT.into());
    meta.insert("architecture".into(), model.architecture.clone().into());
    meta.insert("layers".into(), layers_to_string(&model.layers).into());
    meta.insert("input".into(), model.input.to_metadata().into());
    meta.insert("classes".into(), model.classes.to_string().into());
    meta.insert("preprocessing".into(), model.preprocessing.to_json().into());
    meta.insert("training".into(), model.training.clone().into());
    let mut header = Map::new();
    header.insert("__metadata__".into(), Value::Object(meta));
    let mut offset = 0usize;
    // BTreeMap iteration is in name order: the data section follows the header's order.
    for (name, t) in &model.tensors {
        debug_assert_eq!(t.shape.iter().product::<usize>(), t.data.len());
        let end = offset + 4 * t.data.len();
        let mut entry = Map::new();
        entry.insert("dtype".into(), "F32".into());
        entry.insert("shape".into(), t.shape.clone().into());
        entry.insert("data_offsets".into(), vec![offset, end].into());
        header.insert(name.clone(), Value::Object(entry));
        offset = end;
    }
    // serde_json's Map is a BTreeMap (no `preserve_order` feature), so keys come out sorted.
    let mut text = Value::Object(header).to_string().into_bytes();
    while !text.len().is_multiple_of(8) {
        text.push(b' ');
    }
    let mut out = Vec::with_capacity(8 + text.len() + offset);
    out.extend_from_slice(&(text.len() as u64).to_le_bytes());
    out.extend_from_slice(&text);
    for t in model.tensors.values() {
        for x in &t.data {
            out.extend_from_slice(&x.to_le_bytes());
        }
    }
    out
}

fn meta_err(field: &'static str, message: impl Into<String>) -> FormatError {
    FormatError::Metadata {
        field,
        message: message.into(),
    }
}

fn entry_err(tensor: &str, message: impl Into<String>) -> FormatError {
    FormatError::TensorEntry {
        tensor: tensor.to_string(),
        message: message.into(),
    }
}

/// A non-negative JSON integer that fits `usize`.
fn json_usize(v: &Value) -> Option<usize> {
    v.as_u64().and_then(|x| usize::try_from(x).ok())
}

/// One tensor's header entry, checked: (shape, begin, end).
fn parse_entry(
    name: &str,
    v: &Value,
    data_len: usize,
) -> Result<(Vec<usize>, usize, usize), FormatError> {
    let obj = v
        .as_object()
        .ok_or_else(|| entry_err(name, "not a JSON object"))?;
    for k in obj.keys() {
        if !["dtype", "shape", "data_offsets"].contains(&k.as_str()) {
            return Err(entry_err(name, format!("unknown key {k:?}")));
        }
    }
    let dtype = obj
        .get("dtype")
        .ok_or_else(|| entry_err(name, "\"dtype\" is missing"))?;
    let dtype = dtype
        .as_str()
        .ok_or_else(|| entry_err(name, "\"dtype\" is not a string"))?;
    if dtype != "F32" {
        return Err(FormatError::Dtype {
            tensor: name.to_string(),
            dtype: dtype.to_string(),
        });
    }
    let shape = obj
        .get("shape")
        .and_then(Value::as_array)
        .ok_or_else(|| entry_err(name, "\"shape\" is missing or not an array"))?;
    let shape: Option<Vec<usize>> = shape.iter().map(json_usize).collect();
    let shape = shape.ok_or_else(|| entry_err(name, "\"shape\" holds a non-integer"))?;
    let count = shape
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .and_then(|c| c.checked_mul(4))
        .ok_or_else(|| entry_err(name, "\"shape\" is too large"))?;
    let offs = obj
        .get("data_offsets")
        .and_then(Value::as_array)
        .ok_or_else(|| entry_err(name, "\"data_offsets\" is missing or not an array"))?;
    let (begin, end) = match offs.as_slice() {
        [b, e] => match (json_usize(b), json_usize(e)) {
            (Some(b), Some(e)) => (b, e),
            _ => return Err(entry_err(name, "\"data_offsets\" holds a non-integer")),
        },
        _ => return Err(entry_err(name, "\"data_offsets\" is not [begin, end]")),
    };
    let off_err = |m: String| FormatError::Offsets {
        tensor: name.to_string(),
        message: m,
    };
    if begin > end {
        return Err(off_err(format!("[{begin}, {end}] end before they begin")));
    }
    if end > data_len {
        return Err(off_err(format!(
            "[{begin}, {end}] lie outside the data section of {data_len} bytes"
        )));
    }
    if end - begin != count {
        return Err(off_err(format!(
            "[{begin}, {end}] span {} bytes, but shape {shape:?} needs {count}",
            end - begin
        )));
    }
    Ok((shape, begin, end))
}

/// Reads a model file, checking everything the module doc promises.
pub fn read_model(bytes: &[u8]) -> Result<Model, FormatError> {
    let len_bytes: [u8; 8] = bytes
        .get(..8)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| FormatError::Truncated {
            what: format!("{} bytes, fewer than the 8-byte header length", bytes.len()),
        })?;
    let n = u64::from_le_bytes(len_bytes);
    if !n.is_multiple_of(8) || n > HEADER_MAX {
        return Err(FormatError::HeaderLength { len: n });
    }
    let n = n as usize;
    let header = bytes.get(8..8 + n).ok_or_else(|| FormatError::Truncated {
        what: format!(
            "the header length is {n} but only {} bytes follow it",
            bytes.len() - 8
        ),
    })?;
    let data = &bytes[8 + n..];
    let text = std::str::from_utf8(header).map_err(|e| FormatError::Header {
        message: format!("not UTF-8 ({e})"),
    })?;
    let value: Value = serde_json::from_str(text).map_err(|e| FormatError::Header {
        message: format!("not JSON ({e})"),
    })?;
    let Value::Object(mut obj) = value else {
        return Err(FormatError::Header {
            message: "not a JSON object".into(),
        });
    };

    // Metadata.
    let meta = obj
        .remove("__metadata__")
        .ok_or_else(|| FormatError::Header {
            message: "\"__metadata__\" is missing".into(),
        })?;
    let Value::Object(meta) = meta else {
        return Err(FormatError::Header {
            message: "\"__metadata__\" is not a JSON object".into(),
        });
    };
    let get = |field: &'static str| -> Result<&str, FormatError> {
        match meta.get(field) {
            None => Err(meta_err(field, "missing")),
            Some(Value::String(s)) => Ok(s.as_str()),
            Some(_) => Err(meta_err(field, "not a string")),
        }
    };
    let format = get("format")?;
    if format != FORMAT {
        return Err(meta_err("format", format!("{format:?} is not {FORMAT:?}")));
    }
    let architecture = get("architecture")?.to_string();
    if architecture.is_empty() {
        return Err(meta_err("architecture", "empty"));
    }
    let input_text = get("input")?;
    let input = Shape::parse_metadata(input_text).ok_or_else(|| {
        meta_err(
            "input",
            format!("{input_text:?} is neither CxHxW nor F with positive decimal sizes"),
        )
    })?;
    let classes_text = get("classes")?;
    let classes = parse_dec(classes_text).filter(|&c| c > 0).ok_or_else(|| {
        meta_err(
            "classes",
            format!("{classes_text:?} is not a positive integer"),
        )
    })?;
    let layers = parse_layers(get("layers")?).map_err(|m| meta_err("layers", m))?;
    let chain = shapes(input, &layers).map_err(|m| meta_err("layers", m))?;
    let last = *chain.last().unwrap_or(&input);
    if last != (Shape::Vector { n: classes }) {
        return Err(meta_err(
            "layers",
            format!("the network outputs a {last}, but \"classes\" is {classes}"),
        ));
    }
    let preprocessing = Preprocessing::parse(get("preprocessing")?, input.len())
        .map_err(|m| meta_err("preprocessing", m))?;
    let training = get("training")?;
    match serde_json::from_str::<Value>(training) {
        Ok(Value::Object(_)) => {}
        Ok(_) => return Err(meta_err("training", "not a JSON object")),
        Err(e) => return Err(meta_err("training", format!("not JSON: {e}"))),
    }

    // Tensor entries, then their ranges: sorted by start they must tile the data section.
    let mut entries: Vec<(String, Vec<usize>, usize, usize)> = Vec::with_capacity(obj.len());
    for (name, v) in &obj {
        let (shape, b, e) = parse_entry(name, v, data.len())?;
        entries.push((name.clone(), shape, b, e));
    }
    let mut by_offset: Vec<&(String, Vec<usize>, usize, usize)> = entries.iter().collect();
    by_offset.sort_by(|a, b| (a.2, a.3, &a.0).cmp(&(b.2, b.3, &b.0)));
    let mut at = 0usize;
    for (name, _, b, e) in &by_offset {
        if *b != at {
            let what = if *b > at {
                "leave a gap"
            } else {
                "overlap another tensor"
            };
            return Err(FormatError::Offsets {
                tensor: name.clone(),
                message: format!("[{b}, {e}] {what} (the previous tensor ends at {at})"),
            });
        }
        at = *e;
    }
    if at != data.len() {
        return Err(FormatError::TrailingBytes {
            count: (data.len() - at) as u64,
        });
    }

    // Tensors against the layer spec.
    let mut expected: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for l in &layers {
        expected.extend(l.tensors());
    }
    for (name, _, _, _) in &entries {
        if !expected.contains_key(name) {
            return Err(FormatError::UnexpectedTensor {
                tensor: name.clone(),
            });
        }
    }
    let mut found: BTreeMap<&str, &(String, Vec<usize>, usize, usize)> = BTreeMap::new();
    for e in &entries {
        found.insert(e.0.as_str(), e);
    }
    let mut tensors = BTreeMap::new();
    for (name, shape) in expected {
        let &&(_, ref got, b, e) =
            found
                .get(name.as_str())
                .ok_or_else(|| FormatError::MissingTensor {
                    tensor: name.clone(),
                })?;
        if *got != shape {
            return Err(FormatError::Shape {
                tensor: name,
                expected: shape,
                found: got.clone(),
            });
        }
        let values: Vec<f32> = data[b..e]
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        if let Some(index) = values.iter().position(|x| !x.is_finite()) {
            return Err(FormatError::NonFinite {
                tensor: name,
                index,
            });
        }
        tensors.insert(
            name,
            Tensor {
                shape,
                data: values,
            },
        );
    }
    Ok(Model {
        architecture,
        layers,
        input,
        classes,
        preprocessing,
        training: training.to_string(),
        tensors,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small valid model: the `credit-mlp` layers with 3 inputs and distinct values.
    fn sample() -> Model {
        let layers = parse_layers(
            "linear fc1 in=3 out=4;batchnorm bn1 c=4 eps=0.00001;sigmoid act1;linear fc2 in=4 out=2",
        )
        .unwrap();
        let mut tensors = BTreeMap::new();
        let mut k = 0.0f32;
        for l in &layers {
            for (name, shape) in l.tensors() {
                let n = shape.iter().product();
                let data = (0..n)
                    .map(|_| {
                        k += 1.0;
                        k / 8.0 - 1.0
                    })
                    .collect();
                tensors.insert(name, Tensor { shape, data });
            }
        }
        Model {
            architecture: "tiny".into(),
            layers,
            input: Shape::Vector { n: 3 },
            classes: 2,
            preprocessing: Preprocessing::MinMax {
                min: vec![0.0, -1.5, 2.0],
                max: vec![1.0, 1.5, 1e6],
            },
            training: r#"{"seed":1}"#.into(),
            tensors,
        }
    }

    /// The header JSON and the data section of a file.
    fn split(bytes: &[u8]) -> (Value, Vec<u8>) {
        let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
        let header = serde_json::from_slice(&bytes[8..8 + n]).unwrap();
        (header, bytes[8 + n..].to_vec())
    }

    /// A file from a header and a data section (padded as the writer does).
    fn join(header: &Value, data: &[u8]) -> Vec<u8> {
        let mut text = header.to_string().into_bytes();
        while !text.len().is_multiple_of(8) {
            text.push(b' ');
        }
        let mut out = (text.len() as u64).to_le_bytes().to_vec();
        out.extend_from_slice(&text);
        out.extend_from_slice(data);
        out
    }

    /// The sample's file with its header and data changed by `edit`.
    fn edited(edit: impl FnOnce(&mut Value, &mut Vec<u8>)) -> Vec<u8> {
        let (mut h, mut d) = split(&write_model(&sample()));
        edit(&mut h, &mut d);
        join(&h, &d)
    }

    fn err(bytes: &[u8]) -> FormatError {
        read_model(bytes).expect_err("the file must be rejected")
    }

    /// Goal: writing then reading gives the model back, and the bytes follow the documented
    /// layout: sorted keys, no whitespace, padded header, tensors in name order.
    #[test]
    fn round_trip_and_layout() {
        let m = sample();
        let bytes = write_model(&m);
        assert_eq!(read_model(&bytes).unwrap(), m);
        assert_eq!(write_model(&m), bytes, "the writer is deterministic");
        let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
        assert_eq!(n % 8, 0);
        let header = std::str::from_utf8(&bytes[8..8 + n]).unwrap();
        let trimmed = header.trim_end_matches(' ');
        assert!(n - trimmed.len() < 8);
        assert!(trimmed.starts_with(
            r#"{"__metadata__":{"architecture":"tiny","classes":"2","format":"mpcdiff-model/1","input":"3","layers":"linear fc1 in=3 out=4;batchnorm bn1 c=4 eps=0.00001;sigmoid act1;linear fc2 in=4 out=2","preprocessing":"{\"kind\":\"minmax\",\"max\":[1.0,1.5,1000000.0],\"min\":[0.0,-1.5,2.0]}","training":"{\"seed\":1}"},"bn1.bias":{"data_offsets":[0,16],"dtype":"F32","shape":[4]},"#
        ), "{trimmed}");
        // Data: tensors in name order, f32 little-endian.
        let names: Vec<&String> = m.tensors.keys().collect();
        assert_eq!(
            names,
            [
                "bn1.bias",
                "bn1.running_mean",
                "bn1.running_var",
                "bn1.weight",
                "fc1.bias",
                "fc1.weight",
                "fc2.bias",
                "fc2.weight"
            ]
        );
        let first = m.tensors["bn1.bias"].data[0];
        assert_eq!(bytes[8 + n..8 + n + 4], first.to_le_bytes());
        let total: usize = m.tensors.values().map(|t| 4 * t.data.len()).sum();
        assert_eq!(bytes.len(), 8 + n + total);
    }

    /// Goal: MNIST preprocessing keeps its `f32` values in their shortest decimal form.
    #[test]
    fn mnist_preprocessing_is_written_in_shortest_form() {
        let p = Preprocessing::Mnist {
            mean: 0.1307,
            std: 0.3081,
        };
        assert_eq!(
            p.to_json(),
            r#"{"kind":"mnist","mean":0.1307,"std":0.3081}"#
        );
        assert_eq!(Preprocessing::parse(&p.to_json(), 784).unwrap(), p);
    }

    /// Goal: a file a PyTorch exporter could write (keys in another order, tensors stored in
    /// another order, extra metadata) reads the same.
    #[test]
    fn reader_accepts_any_key_and_storage_order() {
        let m = sample();
        // Store the tensors in reverse name order.
        let mut header = Map::new();
        let mut data = Vec::new();
        for (name, t) in m.tensors.iter().rev() {
            let begin = data.len();
            for x in &t.data {
                data.extend_from_slice(&x.to_le_bytes());
            }
            header.insert(
                name.clone(),
                serde_json::json!({"shape": t.shape, "dtype": "F32", "data_offsets": [begin, data.len()]}),
            );
        }
        let (h, _) = split(&write_model(&m));
        let mut meta = h["__metadata__"].clone();
        meta["producer"] = "pytorch".into();
        header.insert("__metadata__".into(), meta);
        assert_eq!(read_model(&join(&Value::Object(header), &data)).unwrap(), m);
    }

    /// Goal: every malformed file is rejected with an error naming the tensor or field.
    #[test]
    fn malformed_files_are_rejected_by_name() {
        let good = write_model(&sample());
        // Framing.
        assert!(matches!(err(&good[..5]), FormatError::Truncated { .. }));
        assert!(matches!(err(&good[..100]), FormatError::Truncated { .. }));
        let mut odd = good.clone();
        odd[..8].copy_from_slice(&13u64.to_le_bytes());
        assert_eq!(err(&odd), FormatError::HeaderLength { len: 13 });
        let mut huge = good.clone();
        huge[..8].copy_from_slice(&(HEADER_MAX + 8).to_le_bytes());
        assert!(matches!(err(&huge), FormatError::HeaderLength { .. }));
        let mut not_utf8 = good.clone();
        not_utf8[9] = 0xff;
        assert!(matches!(err(&not_utf8), FormatError::Header { .. }));
        let mut not_json = good.clone();
        not_json[8] = b'[';
        assert!(matches!(err(&not_json), FormatError::Header { .. }));
        assert!(matches!(
            err(&join(&serde_json::json!([1, 2]), &[])),
            FormatError::Header { .. }
        ));
        let e = err(&edited(|h, _| {
            h.as_object_mut().unwrap().remove("__metadata__");
        }));
        assert!(e.to_string().contains("__metadata__"), "{e}");

        // Metadata fields.
        for field in [
            "format",
            "architecture",
            "layers",
            "input",
            "classes",
            "preprocessing",
            "training",
        ] {
            let e = err(&edited(|h, _| {
                h["__metadata__"].as_object_mut().unwrap().remove(field);
            }));
            assert!(
                matches!(e, FormatError::Metadata { field: f, .. } if f == field),
                "{field}: {e}"
            );
            assert!(e.to_string().contains(field), "{e}");
        }
        let meta = |field: &'static str, value: &str| {
            let value = value.to_string();
            err(&edited(move |h, _| h["__metadata__"][field] = value.into()))
        };
        let is_field = |e: &FormatError, field: &str| matches!(e, FormatError::Metadata { field: f, .. } if *f == field);
        assert!(is_field(&meta("format", "mpcdiff-model/2"), "format"));
        assert!(is_field(&meta("input", "3x"), "input"));
        assert!(is_field(&meta("input", "0"), "input"));
        assert!(
            is_field(&meta("classes", "3"), "layers"),
            "classes disagree with the chain"
        );
        assert!(is_field(&meta("classes", "-2"), "classes"));
        for bad in [
            "linear fc1 in=3 out=4;batchnorm bn1 c=4 eps=0.00001;sigmoid act1;linear fc2 in=5 out=2",
            "linear fc1 in=3 out=4;batchnorm bn1 c=4 eps=0.00001;softmax act1;linear fc2 in=4 out=2",
            "linear fc1 in=3 out=4;batchnorm bn1 c=4 eps=0;sigmoid act1;linear fc2 in=4 out=2",
            "linear fc1 in=3 out=4 k=2;batchnorm bn1 c=4 eps=0.00001;sigmoid act1;linear fc2 in=4 out=2",
            "linear fc1 in=3;batchnorm bn1 c=4 eps=0.00001;sigmoid act1;linear fc2 in=4 out=2",
            "linear fc1 in=3 out=4;batchnorm fc1 c=4 eps=0.00001;sigmoid act1;linear fc2 in=4 out=2",
            "linear fc1  in=3 out=4;batchnorm bn1 c=4 eps=0.00001;sigmoid act1;linear fc2 in=4 out=2",
            "conv2d fc1 in=3 out=4 k=1 stride=1 pad=0;batchnorm bn1 c=4 eps=0.00001;sigmoid act1;linear fc2 in=4 out=2",
            "",
        ] {
            assert!(is_field(&meta("layers", bad), "layers"), "{bad:?} accepted");
        }
        assert!(is_field(
            &meta("preprocessing", r#"{"kind":"minmax","min":[0],"max":[1]}"#),
            "preprocessing"
        ));
        assert!(is_field(
            &meta("preprocessing", r#"{"kind":"zscore"}"#),
            "preprocessing"
        ));
        assert!(is_field(&meta("training", "[1]"), "training"));
        assert!(is_field(&meta("training", "{"), "training"));

        // Tensors.
        let e = err(&edited(|h, _| h["fc1.weight"]["dtype"] = "F16".into()));
        assert_eq!(
            e,
            FormatError::Dtype {
                tensor: "fc1.weight".into(),
                dtype: "F16".into()
            }
        );
        let e = err(&edited(|h, _| {
            h["fc1.weight"]["shape"] = serde_json::json!([3, 4])
        }));
        assert_eq!(
            e,
            FormatError::Shape {
                tensor: "fc1.weight".into(),
                expected: vec![4, 3],
                found: vec![3, 4]
            }
        );
        let e = err(&edited(|h, _| {
            h["fc1.weight"]["shape"] = serde_json::json!([4, 4])
        }));
        assert!(
            matches!(&e, FormatError::Offsets { tensor, .. } if tensor == "fc1.weight"),
            "{e}"
        );
        let e = err(&edited(|h, _| {
            h["fc2.bias"]["dtype"] = serde_json::json!(7)
        }));
        assert!(
            matches!(&e, FormatError::TensorEntry { tensor, .. } if tensor == "fc2.bias"),
            "{e}"
        );
        let e = err(&edited(|h, _| h["fc2.bias"]["extra"] = 1.into()));
        assert!(
            matches!(&e, FormatError::TensorEntry { tensor, .. } if tensor == "fc2.bias"),
            "{e}"
        );
        // A missing tensor: drop its entry and its bytes (the last in the data section).
        let e = err(&edited(|h, d| {
            let end = d.len();
            h.as_object_mut().unwrap().remove("fc2.weight");
            d.truncate(end - 4 * 8);
        }));
        assert_eq!(
            e,
            FormatError::MissingTensor {
                tensor: "fc2.weight".into()
            }
        );
        let e = err(&edited(|h, d| {
            let end = d.len();
            h["fc3.weight"] =
                serde_json::json!({"dtype":"F32","shape":[1],"data_offsets":[end, end + 4]});
            d.extend_from_slice(&1f32.to_le_bytes());
        }));
        assert_eq!(
            e,
            FormatError::UnexpectedTensor {
                tensor: "fc3.weight".into()
            }
        );
        // Offsets beyond the data, a gap, an overlap, trailing bytes.
        let e = err(&edited(|h, d| {
            let end = d.len();
            h["fc2.weight"]["data_offsets"] = serde_json::json!([end - 28, end + 4]);
        }));
        assert!(
            matches!(&e, FormatError::Offsets { tensor, .. } if tensor == "fc2.weight"),
            "{e}"
        );
        let e = err(&edited(|h, d| {
            let end = d.len();
            h["fc2.weight"]["data_offsets"] = serde_json::json!([end, end + 32]);
            d.extend_from_slice(&[0; 32]);
        }));
        assert!(
            matches!(&e, FormatError::Offsets { tensor, message } if tensor == "fc2.weight" && message.contains("gap")),
            "{e}"
        );
        let e = err(&edited(|h, _| {
            h["bn1.running_mean"]["data_offsets"] = serde_json::json!([0, 16])
        }));
        assert!(
            matches!(&e, FormatError::Offsets { message, .. } if message.contains("overlap")),
            "{e}"
        );
        let e = err(&edited(|_, d| d.extend_from_slice(&[0; 3])));
        assert_eq!(e, FormatError::TrailingBytes { count: 3 });
        let e = err(&edited(|_, d| {
            d[4..8].copy_from_slice(&f32::NAN.to_le_bytes())
        }));
        assert_eq!(
            e,
            FormatError::NonFinite {
                tensor: "bn1.bias".into(),
                index: 1
            }
        );
        assert!(e.to_string().contains("bn1.bias"));
    }
}
