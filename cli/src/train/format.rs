//! The model file: `mpcdiff-model/1`, a [safetensors] file with a fixed set of metadata.
//!
//! The kernel reads it (`mpcdiff_kernel::nn::model::Model::parse`, which checks the framing,
//! the dtype, the layer spec and every tensor's name and shape against it); this module
//! writes it, and reads and writes the two metadata entries that are the cli's
//! (`preprocessing`, `training`). `crate::train::read_model` is the kernel's reader plus the
//! cli's checks.
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
//! Readers accept keys and tensors in any order, but the ranges must tile the data section
//! exactly (no gap, no overlap, no trailing bytes), every tensor must be `F32` and have the
//! shape the layer spec implies, and no tensor may be missing or unexpected; the cli also
//! wants every value finite.
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
//! | `training` | JSON object: how the weights were made (informative, free form; see `crate::train`) |
//!
//! Other metadata keys are allowed and ignored by the readers.
//!
//! ## Layer spec
//! The kernel's syntax (`mpcdiff_kernel::nn::spec`): layers in order, separated by `;`, each
//! `kind name key=value …` (the cli also wants single spaces between the words); `eps` is a
//! decimal multiple of 10⁻⁶ (`0.00001`). The trainer writes the kernel's built-in strings
//! (`spec::builtin`) verbatim. What each kind computes:
//!
//! | kind | keys | computes (PyTorch equivalent) |
//! | --- | --- | --- |
//! | `conv2d` | `in out k stride pad` | `nn.Conv2d(in, out, k, stride, pad)`, square kernel, zero padding, with bias |
//! | `batchnorm` | `c eps` | `nn.BatchNorm2d(c, eps)` on an image, `nn.BatchNorm1d(c, eps)` on a vector; in inference `(x − running_mean) / sqrt(running_var + eps) · weight + bias` |
//! | `sigmoid` | – | `1 / (1 + e^−x)` |
//! | `relu` | – | `max(x, 0)` |
//! | `tanh` | – | `tanh x` |
//! | `gelu_erf` | – | `nn.GELU()`: `0.5 · x · (1 + erf(x / √2))` |
//! | `gelu_tanh` | – | `nn.GELU(approximate="tanh")` (the kernel evaluates it; the trainer cannot train it) |
//! | `avgpool` | `k stride` | `nn.AvgPool2d(k, stride)`, no padding, floor mode |
//! | `maxpool` | `k stride` | `nn.MaxPool2d(k, stride)`, no padding, floor mode |
//! | `flatten` | – | `torch.flatten(x, 1)`: `C×H×W` → `C·H·W` in C, H, W order |
//! | `linear` | `in out` | `nn.Linear(in, out)` with bias, on a vector |
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

use std::collections::BTreeMap;

use mpcdiff_kernel::nn::model::Model as KernelModel;
use serde_json::{Map, Value};

/// The value of the `format` metadata key.
pub const FORMAT: &str = "mpcdiff-model/1";

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

/// A model as stored: the metadata and the tensors.
#[derive(Clone, Debug, PartialEq)]
pub struct Model {
    /// The `architecture` metadata.
    pub architecture: String,
    /// The `layers` metadata: a layer spec, written verbatim.
    pub layers: String,
    /// The `input` metadata (`CxHxW` or `F`), written verbatim.
    pub input: String,
    /// The `classes` metadata.
    pub classes: usize,
    /// The `preprocessing` metadata.
    pub preprocessing: Preprocessing,
    /// The `training` metadata: a JSON object, kept as its text.
    pub training: String,
    /// Every tensor, by name.
    pub tensors: BTreeMap<String, Tensor>,
}

/// The value of metadata field `key`, unescaped (the kernel gives the JSON string's insides).
pub fn metadata_text(km: &KernelModel<'_>, key: &str) -> Result<String, String> {
    let raw = km
        .metadata_raw(key)
        .ok_or_else(|| format!("metadata field {key:?} is missing"))?;
    serde_json::from_str(&format!("\"{raw}\""))
        .map_err(|e| format!("metadata field {key:?} is not a JSON string: {e}"))
}

impl Model {
    /// The model a file holds, from the kernel's reading of it and its `tensors`, after the
    /// checks that are the cli's: the layer spec separates words by single spaces,
    /// `preprocessing` parses (one `minmax` entry per input feature), `training` is a JSON
    /// object.
    pub fn from_parsed(
        km: &KernelModel<'_>,
        tensors: BTreeMap<String, Tensor>,
    ) -> Result<Model, String> {
        let text = |key: &str| metadata_text(km, key);
        let layers = text("layers")?;
        if layers.split(';').any(|l| l.split(' ').any(str::is_empty)) {
            return Err(format!(
                "metadata field \"layers\": {layers:?} does not separate its layers by ';' \
                 and their words by single spaces"
            ));
        }
        let preprocessing = Preprocessing::parse(&text("preprocessing")?, km.input.len())
            .map_err(|e| format!("metadata field \"preprocessing\": {e}"))?;
        let training = text("training")?;
        if !matches!(serde_json::from_str(&training), Ok(Value::Object(_))) {
            return Err("metadata field \"training\" is not a JSON object".into());
        }
        Ok(Model {
            architecture: km.architecture.to_string(),
            layers,
            input: text("input")?,
            classes: km.classes,
            preprocessing,
            training,
            tensors,
        })
    }
}

/// The model file's bytes (module doc). The caller vouches that the tensors match the layer
/// spec; `crate::train::read_model` of the result gives `model` back.
pub fn write_model(model: &Model) -> Vec<u8> {
    let meta = [
        ("architecture", model.architecture.clone()),
        ("layers", model.layers.clone()),
        ("input", model.input.clone()),
        ("classes", model.classes.to_string()),
        ("preprocessing", model.preprocessing.to_json()),
        ("training", model.training.clone()),
    ];
    write_file(&meta, &model.tensors)
}

/// The bytes of an `mpcdiff-model/1` file with metadata `format` plus `metadata` (key, value)
/// and `tensors`, laid out as the module doc says (sorted keys, tensors in name order). The
/// caller vouches that the tensors match the `layers` metadata; importers of foreign models
/// (`crate::import`) use it for files without `preprocessing` and `training`.
pub fn write_file(metadata: &[(&str, String)], tensors: &BTreeMap<String, Tensor>) -> Vec<u8> {
    let mut meta = Map::new();
    meta.insert("format".into(), FORMAT.into());
    for (key, value) in metadata {
        meta.insert((*key).into(), value.clone().into());
    }
    let mut header = Map::new();
    header.insert("__metadata__".into(), Value::Object(meta));
    let mut offset = 0usize;
    // BTreeMap iteration is in name order: the data section follows the header's order.
    for (name, t) in tensors {
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
    for t in tensors.values() {
        for x in &t.data {
            out.extend_from_slice(&x.to_le_bytes());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use mpcdiff_kernel::nn::spec::{self, Shape, Spec};

    use super::*;
    use crate::train::net::Network;
    use crate::train::read_model;

    const SAMPLE_LAYERS: &str =
        "linear fc1 in=3 out=4;batchnorm bn1 c=4 eps=0.00001;sigmoid act1;linear fc2 in=4 out=2";

    /// A small valid model: the `credit-mlp` layers with 3 inputs, a batch norm and distinct
    /// values.
    fn sample() -> Model {
        let spec = Spec::parse(SAMPLE_LAYERS).unwrap();
        let mut net = Network::<f32>::zeros(Shape::Vector(3), &spec).unwrap();
        let mut k = 0.0f32;
        for layer in net.layers_mut() {
            for (_, t) in layer.tensors_mut() {
                for v in t.iter_mut() {
                    k += 1.0;
                    *v = k / 8.0 - 1.0;
                }
            }
        }
        Model {
            architecture: "tiny".into(),
            layers: SAMPLE_LAYERS.into(),
            input: "3".into(),
            classes: 2,
            preprocessing: Preprocessing::MinMax {
                min: vec![0.0, -1.5, 2.0],
                max: vec![1.0, 1.5, 1e6],
            },
            training: r#"{"seed":1}"#.into(),
            tensors: net.to_tensors(),
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

    fn err(bytes: &[u8]) -> String {
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

    /// Goal: every committed model file is what the writer writes for what the readers read
    /// from it, byte for byte, and records the kernel's built-in layer spec verbatim.
    #[test]
    fn committed_models_rewrite_byte_for_byte() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
        let mut names = Vec::new();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "safetensors") {
                continue;
            }
            let bytes = std::fs::read(&path).unwrap();
            let model =
                read_model(&bytes).unwrap_or_else(|e| panic!("{}: rejected: {e}", path.display()));
            assert!(
                write_model(&model) == bytes,
                "{}: rewritten, the bytes differ",
                path.display()
            );
            assert_eq!(
                spec::builtin(&model.architecture),
                Some((model.layers.as_str(), model.input.as_str())),
                "{}",
                path.display()
            );
            names.push(model.architecture);
        }
        names.sort();
        assert_eq!(names, ["bank-mlp", "credit-mlp", "lenet", "lenet-relu"]);
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

    /// Goal: every malformed file is rejected, by the kernel's reader or by the cli's checks
    /// (the message names the metadata field where the cli's checks reject it).
    #[test]
    fn malformed_files_are_rejected() {
        let good = write_model(&sample());
        // Framing.
        err(&good[..5]);
        err(&good[..100]);
        let mut odd = good.clone();
        odd[..8].copy_from_slice(&13u64.to_le_bytes());
        err(&odd);
        let mut huge = good.clone();
        huge[..8].copy_from_slice(&(100u64 << 20).to_le_bytes());
        err(&huge);
        let mut not_utf8 = good.clone();
        not_utf8[9] = 0xff;
        err(&not_utf8);
        let mut not_json = good.clone();
        not_json[8] = b'[';
        err(&not_json);
        err(&join(&serde_json::json!([1, 2]), &[]));
        err(&edited(|h, _| {
            h.as_object_mut().unwrap().remove("__metadata__");
        }));

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
            assert!(e.contains(field), "{field}: {e}");
        }
        let meta = |field: &'static str, value: &str| {
            let value = value.to_string();
            err(&edited(move |h, _| h["__metadata__"][field] = value.into()))
        };
        assert!(meta("format", "mpcdiff-model/2").contains("format"));
        assert!(meta("input", "3x").contains("input"));
        meta("input", "0");
        meta("classes", "3"); // disagrees with the chain
        assert!(meta("classes", "-2").contains("classes"));
        for bad in [
            "linear fc1 in=3 out=4;batchnorm bn1 c=4 eps=0.00001;sigmoid act1;linear fc2 in=5 out=2",
            "linear fc1 in=3 out=4;batchnorm bn1 c=4 eps=0.00001;softmax act1;linear fc2 in=4 out=2",
            "linear fc1 in=3 out=4;batchnorm bn1 c=4 eps=0;sigmoid act1;linear fc2 in=4 out=2",
            "linear fc1 in=3 out=4 k=2;batchnorm bn1 c=4 eps=0.00001;sigmoid act1;linear fc2 in=4 out=2",
            "linear fc1 in=3;batchnorm bn1 c=4 eps=0.00001;sigmoid act1;linear fc2 in=4 out=2",
            "linear fc1 in=3 out=4;batchnorm fc1 c=4 eps=0.00001;sigmoid act1;linear fc2 in=4 out=2",
            "linear fc1  in=3 out=4;batchnorm bn1 c=4 eps=0.00001;sigmoid act1;linear fc2 in=4 out=2",
            "conv2d fc1 in=3 out=4 k=1 stride=1 pad=0;batchnorm bn1 c=4 eps=0.00001;sigmoid act1;linear fc2 in=4 out=2",
            "linear fc1 in=3 out=4;batchnorm bn1 c=4 eps=0.00001;gelu_tanh act1;linear fc2 in=4 out=2",
            "",
        ] {
            assert!(read_model(&edited(|h, _| h["__metadata__"]["layers"] = bad.into())).is_err(), "{bad:?} accepted");
        }
        let e = meta("preprocessing", r#"{"kind":"minmax","min":[0],"max":[1]}"#);
        assert!(e.contains("preprocessing"), "{e}");
        let e = meta("preprocessing", r#"{"kind":"zscore"}"#);
        assert!(e.contains("preprocessing"), "{e}");
        assert!(meta("training", "[1]").contains("training"));
        assert!(meta("training", "{").contains("training"));

        // Tensors.
        let e = err(&edited(|h, _| h["fc1.weight"]["dtype"] = "F16".into()));
        assert!(e.contains("F32"), "{e}");
        err(&edited(|h, _| {
            h["fc1.weight"]["shape"] = serde_json::json!([3, 4])
        }));
        err(&edited(|h, _| {
            h["fc1.weight"]["shape"] = serde_json::json!([4, 4])
        }));
        err(&edited(|h, _| {
            h["fc2.bias"]["dtype"] = serde_json::json!(7)
        }));
        err(&edited(|h, _| h["fc2.bias"]["extra"] = 1.into()));
        // A missing tensor: drop its entry and its bytes (the last in the data section).
        err(&edited(|h, d| {
            let end = d.len();
            h.as_object_mut().unwrap().remove("fc2.weight");
            d.truncate(end - 4 * 8);
        }));
        err(&edited(|h, d| {
            let end = d.len();
            h["fc3.weight"] =
                serde_json::json!({"dtype":"F32","shape":[1],"data_offsets":[end, end + 4]});
            d.extend_from_slice(&1f32.to_le_bytes());
        }));
        // Offsets beyond the data, a gap, an overlap, trailing bytes.
        err(&edited(|h, d| {
            let end = d.len();
            h["fc2.weight"]["data_offsets"] = serde_json::json!([end - 28, end + 4]);
        }));
        let e = err(&edited(|h, d| {
            let end = d.len();
            h["fc2.weight"]["data_offsets"] = serde_json::json!([end, end + 32]);
            d.extend_from_slice(&[0; 32]);
        }));
        assert!(e.contains("gap"), "{e}");
        let e = err(&edited(|h, _| {
            h["bn1.running_mean"]["data_offsets"] = serde_json::json!([0, 16])
        }));
        assert!(e.contains("overlap"), "{e}");
        err(&edited(|_, d| d.extend_from_slice(&[0; 3])));
        let e = err(&edited(|_, d| {
            d[4..8].copy_from_slice(&f32::NAN.to_le_bytes())
        }));
        assert!(
            e.contains("bn1.bias") && e.contains("non-finite") && e.contains("index 1"),
            "{e}"
        );
    }
}
