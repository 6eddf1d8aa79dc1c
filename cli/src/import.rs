//! Models from PyTorch: an ONNX file (what `torch.onnx.export` and CrypTen's
//! `crypten.nn.from_pytorch` write, read by the `onnx` module into an [`Imported`]) or a `state_dict` saved as
//! safetensors plus an architecture (`--arch`), turned into an `mpcdiff-model/1` file.
//!
//! Why: a CrypTen user has a PyTorch model, not an mpcdiff file. Converting it here, to the
//! kernel's own format, means the rest of the CLI (eval, fuzz, localize, repair) runs
//! unchanged on it, and the kernel's reader (`Model::parse`) checks the result like any other
//! model file.
//!
//! What an import cannot know is left out: the `preprocessing` and `training` metadata (a
//! command that needs them, such as `predict` or `eval` on a tabular dataset, says so). The
//! `architecture` is the built-in name when the layers and the input equal a built-in
//! architecture's (or equal it with each conv→batch-norm pair folded, as torch exports
//! them), so an imported `lenet.onnx` is evaluated on MNIST; otherwise it is the file's stem.
//!
//! # `--arch`
//! The architecture of a `state_dict` is one of:
//! * a built-in name (`lenet`, `lenet-relu`, `credit-mlp`, `bank-mlp`);
//! * a layer spec (`mpcdiff_kernel::nn::spec`, e.g.
//!   `"linear fc1 in=23 out=120;sigmoid act1;linear fc2 in=120 out=2"`);
//! * a file holding a layer spec, one layer per line or `;`-separated, `#` starting a comment.
//!
//! The input shape comes with a built-in name, from the first layer when it is `linear`, and
//! otherwise from `--input-shape` (`CxHxW`). The state_dict's tensors must be the spec's,
//! F32 with PyTorch's names and shapes; batch norms' `num_batches_tracked` (an integer
//! counter of training) is ignored; any other tensor is an error, since a tensor no layer uses
//! means the architecture is not the model's.

use std::collections::BTreeMap;
use std::path::Path;

use mpcdiff_kernel::nn::spec::{self, Kind, Shape, Spec, NAME_MAX};

use crate::error::{usage, UsageError};
use crate::train::format::{self, Tensor};

/// The largest model file read (ONNX, state_dict or mpcdiff): checked before reading it.
pub const FILE_MAX: u64 = 512 << 20;
/// The most values one input sample may have.
const INPUT_MAX: usize = 1 << 28;
/// The largest `--arch` file read.
const ARCH_FILE_MAX: u64 = 64 << 10;

/// A model converted from PyTorch, ready to be written as an `mpcdiff-model/1` file.
#[derive(Clone, Debug, PartialEq)]
pub struct Imported {
    /// The `architecture` metadata (module doc).
    pub architecture: String,
    /// The layers, named.
    pub layers: Vec<(String, Kind)>,
    /// One sample's input shape.
    pub input: Shape,
    /// The number of logits.
    pub classes: usize,
    /// The tensors by name (`conv1.weight`, …), as the spec wants them.
    pub tensors: BTreeMap<String, Tensor>,
}

impl Imported {
    /// The layer spec string (single spaces, `;` between layers, as the trainer writes).
    pub fn spec_text(&self) -> String {
        self.layers
            .iter()
            .map(|(name, kind)| layer_text(name, *kind))
            .collect::<Vec<_>>()
            .join(";")
    }

    /// The `mpcdiff-model/1` file.
    pub fn to_bytes(&self) -> Vec<u8> {
        let meta = [
            ("architecture", self.architecture.clone()),
            ("layers", self.spec_text()),
            ("input", shape_text(self.input)),
            ("classes", self.classes.to_string()),
        ];
        format::write_file(&meta, &self.tensors)
    }

    /// The `mpcdiff-model/1` file, after the kernel's reader has accepted it (so a converted
    /// model that could not run is refused here, naming `label`).
    pub fn checked_bytes(&self, label: &str) -> Result<Vec<u8>, UsageError> {
        let bytes = self.to_bytes();
        mpcdiff_kernel::nn::model::Model::parse(&bytes)
            .map_err(|e| usage!("{label}: the converted model is not valid ({e})"))?;
        Ok(bytes)
    }

    /// One line: the architecture, the input and every layer.
    pub fn summary(&self) -> String {
        let layers: Vec<String> = self
            .layers
            .iter()
            .map(|(name, kind)| {
                let text = layer_text(name, *kind);
                let mut words = text.split(' ');
                let kind = words.next().unwrap_or_default();
                let _name = words.next();
                let params: Vec<&str> = words.collect();
                if params.is_empty() {
                    format!("{name} ({kind})")
                } else {
                    format!("{name} ({kind} {})", params.join(" "))
                }
            })
            .collect();
        let params: usize = self.tensors.values().map(|t| t.data.len()).sum();
        format!(
            "{}: input {}, {} classes, {} layers, {params} parameters: {}",
            self.architecture,
            shape_text(self.input),
            self.classes,
            self.layers.len(),
            layers.join(", ")
        )
    }
}

/// `CxHxW` or `N`, as the `input` metadata.
pub fn shape_text(s: Shape) -> String {
    match s {
        Shape::Image { c, h, w } => format!("{c}x{h}x{w}"),
        Shape::Vector(n) => n.to_string(),
    }
}

/// A batch norm's `eps` (millionths) as the spec's decimal (`10` → `0.00001`).
fn eps_text(micro: u32) -> String {
    let frac = format!("{:06}", micro % 1_000_000);
    let frac = frac.trim_end_matches('0');
    if frac.is_empty() {
        (micro / 1_000_000).to_string()
    } else {
        format!("{}.{frac}", micro / 1_000_000)
    }
}

/// One layer in spec syntax.
pub fn layer_text(name: &str, kind: Kind) -> String {
    match kind {
        Kind::Conv2d {
            in_ch,
            out_ch,
            k,
            stride,
            pad,
        } => format!("conv2d {name} in={in_ch} out={out_ch} k={k} stride={stride} pad={pad}"),
        Kind::Linear { inputs, outputs } => format!("linear {name} in={inputs} out={outputs}"),
        Kind::BatchNorm {
            channels,
            eps_micro,
        } => format!("batchnorm {name} c={channels} eps={}", eps_text(eps_micro)),
        Kind::Act(a) => format!("{} {name}", a.keyword()),
        Kind::AvgPool { k, stride } => format!("avgpool {name} k={k} stride={stride}"),
        Kind::MaxPool { k, stride } => format!("maxpool {name} k={k} stride={stride}"),
        Kind::Flatten => format!("flatten {name}"),
    }
}

/// The built-in architectures, in the order they are matched.
const BUILTINS: [&str; 4] = ["lenet", "lenet-relu", "credit-mlp", "bank-mlp"];

/// The layer kinds of `layers` with every batch norm that directly follows a convolution
/// removed: what torch's ONNX export leaves of them (it folds such pairs into the conv).
fn conv_bn_folded(kinds: &[Kind]) -> Vec<Kind> {
    let mut out: Vec<Kind> = Vec::with_capacity(kinds.len());
    for &k in kinds {
        let after_conv = matches!(out.last(), Some(Kind::Conv2d { .. }));
        if !(after_conv && matches!(k, Kind::BatchNorm { .. })) {
            out.push(k);
        }
    }
    out
}

/// The built-in architecture whose layer kinds and input equal these (names aside), or equal
/// them once its conv→batch-norm pairs are folded.
pub fn builtin_name(layers: &[(String, Kind)], input: Shape) -> Option<&'static str> {
    let kinds: Vec<Kind> = layers.iter().map(|(_, k)| *k).collect();
    BUILTINS.into_iter().find(|name| {
        let Some((text, shape)) = spec::builtin(name) else {
            return false;
        };
        let (Ok(spec), Ok(shape)) = (Spec::parse(text), Shape::parse(shape)) else {
            return false;
        };
        let theirs: Vec<Kind> = spec.layers.iter().map(|l| l.kind).collect();
        shape == input && (kinds == theirs || kinds == conv_bn_folded(&theirs))
    })
}

/// The file stem of `path`, as an architecture name (`models/my-net.onnx` → `my-net`).
pub fn stem(path: &str) -> String {
    Path::new(path)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "imported".into())
}

/// Reads a model file after checking its size (`FILE_MAX`); `label` names it in errors.
pub fn read_file(label: &str, path: &str) -> Result<Vec<u8>, UsageError> {
    let meta = std::fs::metadata(path).map_err(|e| usage!("{label}: cannot read it ({e})"))?;
    if meta.len() > FILE_MAX {
        return Err(usage!(
            "{label}: the file has {} bytes, more than the {} a model may have",
            meta.len(),
            FILE_MAX
        ));
    }
    crate::files::read(path).map_err(|e| usage!("{label}: cannot read it ({e})"))
}

/// A checked architecture for a `state_dict` (module doc, "`--arch`").
#[derive(Clone, Debug, PartialEq)]
pub struct Arch {
    /// The layers.
    pub spec: Spec,
    /// One sample's input shape.
    pub input: Shape,
    /// Each layer's output shape.
    pub shapes: Vec<Shape>,
}

/// Parses `--arch` (a built-in name, a spec, or a file holding one) and `--input-shape`.
pub fn parse_arch(arch: &str, input_shape: Option<&str>) -> Result<Arch, UsageError> {
    let given = input_shape
        .map(|s| Shape::parse(s).map_err(|e| usage!("--input-shape {s}: {e}")))
        .transpose()?;
    let (spec, builtin_input) = if let Some((text, shape)) = spec::builtin(arch) {
        let spec = Spec::parse(text).map_err(|e| usage!("--arch {arch}: {e}"))?;
        let shape = Shape::parse(shape).map_err(|e| usage!("--arch {arch}: {e}"))?;
        (spec, Some(shape))
    } else {
        let path = Path::new(arch);
        let text = if path.is_file() {
            let len = std::fs::metadata(path)
                .map_err(|e| usage!("--arch {arch}: cannot read it ({e})"))?
                .len();
            if len > ARCH_FILE_MAX {
                return Err(usage!(
                    "--arch {arch}: the file has {len} bytes, more than the {ARCH_FILE_MAX} an architecture may have"
                ));
            }
            let text = crate::files::read_to_string(path)
                .map_err(|e| usage!("--arch {arch}: cannot read it as text ({e})"))?;
            text.lines()
                .map(|l| l.split('#').next().unwrap_or_default().trim())
                .filter(|l| !l.is_empty())
                .collect::<Vec<_>>()
                .join(";")
        } else {
            arch.to_string()
        };
        let spec = Spec::parse(&text).map_err(|e| {
            usage!("--arch {arch}: not a built-in architecture ({}), a readable file or a layer spec ({e})", BUILTINS.join(", "))
        })?;
        (spec, None)
    };
    let input = match (given, builtin_input, spec.layers.first().map(|l| l.kind)) {
        (Some(g), Some(b), _) if g != b => {
            return Err(usage!(
                "--input-shape {}: built-in architecture {arch} takes {}",
                shape_text(g),
                shape_text(b)
            ))
        }
        (Some(g), _, _) => g,
        (None, Some(b), _) => b,
        (None, None, Some(Kind::Linear { inputs, .. })) => Shape::Vector(inputs),
        (None, None, _) => {
            return Err(usage!(
                "--arch: its first layer is not linear, so --input-shape must give the input (e.g. 1x28x28)"
            ))
        }
    };
    let len = match input {
        Shape::Image { c, h, w } => c.checked_mul(h).and_then(|x| x.checked_mul(w)),
        Shape::Vector(n) => Some(n),
    };
    if len.is_none_or(|n| n > INPUT_MAX) {
        return Err(usage!(
            "--input-shape {}: more than {INPUT_MAX} values per sample",
            shape_text(input)
        ));
    }
    let mut shapes = vec![Shape::Vector(0); spec.layers.len()];
    spec.shapes(input, &mut shapes).map_err(|e| {
        usage!(
            "--arch {arch}: the layers do not fit the input shape {} ({e})",
            shape_text(input)
        )
    })?;
    Ok(Arch {
        spec,
        input,
        shapes,
    })
}

/// The tensors a layer needs: (suffix, shape).
pub fn layer_tensors(kind: Kind) -> Vec<(&'static str, Vec<usize>)> {
    match kind {
        Kind::Conv2d {
            in_ch, out_ch, k, ..
        } => vec![
            (".weight", vec![out_ch, in_ch, k, k]),
            (".bias", vec![out_ch]),
        ],
        Kind::Linear { inputs, outputs } => {
            vec![(".weight", vec![outputs, inputs]), (".bias", vec![outputs])]
        }
        Kind::BatchNorm { channels: c, .. } => vec![
            (".weight", vec![c]),
            (".bias", vec![c]),
            (".running_mean", vec![c]),
            (".running_var", vec![c]),
        ],
        _ => Vec::new(),
    }
}

/// The first non-finite value of `data`, as an error about tensor `name` of `label`.
pub fn check_finite(label: &str, name: &str, data: &[f32]) -> Result<(), UsageError> {
    match data.iter().position(|x| !x.is_finite()) {
        Some(i) => Err(usage!(
            "{label}: tensor {name} holds a non-finite value ({}) at index {i}",
            data[i]
        )),
        None => Ok(()),
    }
}

/// A PyTorch `state_dict` saved as safetensors (`safetensors.torch.save_file`), with the
/// architecture `arch`; `label` names the file in errors, `path` gives the architecture's
/// name when it is not a built-in one.
pub fn from_state_dict(
    label: &str,
    path: &str,
    bytes: &[u8],
    arch: &Arch,
) -> Result<Imported, UsageError> {
    let file = safetensors::SafeTensors::deserialize(bytes)
        .map_err(|e| usage!("{label}: not a safetensors file ({e})"))?;
    let mut tensors = BTreeMap::new();
    let mut layers = Vec::with_capacity(arch.spec.layers.len());
    for layer in &arch.spec.layers {
        let lname = layer.name.as_str();
        for (suffix, shape) in layer_tensors(layer.kind) {
            let name = format!("{lname}{suffix}");
            let t = file.tensor(&name).map_err(|_| {
                usage!("{label}: tensor {name}, which layer {lname} needs, is missing")
            })?;
            if t.dtype() != safetensors::Dtype::F32 {
                return Err(usage!(
                    "{label}: tensor {name} is {:?}, not F32 (save the state_dict in float32)",
                    t.dtype()
                ));
            }
            if t.shape() != shape.as_slice() {
                return Err(usage!(
                    "{label}: tensor {name} has shape {:?}, layer {} needs {shape:?}",
                    t.shape(),
                    layer_text(lname, layer.kind)
                ));
            }
            let data: Vec<f32> = t
                .data()
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect();
            check_finite(label, &name, &data)?;
            tensors.insert(name, Tensor { shape, data });
        }
        layers.push((lname.to_string(), layer.kind));
    }
    for (name, _) in file.tensors() {
        let counter = name.strip_suffix(".num_batches_tracked").is_some_and(|l| {
            arch.spec
                .layers
                .iter()
                .any(|x| x.name.as_str() == l && matches!(x.kind, Kind::BatchNorm { .. }))
        });
        if !counter && !tensors.contains_key(&name) {
            return Err(usage!(
                "{label}: tensor {name} belongs to no layer of --arch (is it the model's architecture?)"
            ));
        }
    }
    let classes = arch.shapes.last().map_or(0, Shape::len);
    let architecture = builtin_name(&layers, arch.input).map_or_else(|| stem(path), String::from);
    Ok(Imported {
        architecture,
        layers,
        input: arch.input,
        classes,
        tensors,
    })
}

/// A valid, unique layer name from an ONNX node name (`/conv1/Conv` → `conv1`,
/// `/features/features.0/Conv` → `features.0`): the scope just above the op, with characters
/// other than ASCII letters, digits, `_`, `.` and `-` replaced by `_`; `layerN` (N = `index`)
/// when that is empty, longer than the spec allows or already taken.
pub fn layer_name(node_name: &str, index: usize, taken: &[(String, Kind)]) -> String {
    let parts: Vec<&str> = node_name.split('/').filter(|p| !p.is_empty()).collect();
    let scope = if parts.len() >= 2 {
        parts[parts.len() - 2]
    } else {
        ""
    };
    let clean: String = scope
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let free = |n: &str| !taken.iter().any(|(t, _)| t == n);
    if !clean.is_empty() && clean.len() <= NAME_MAX && free(&clean) {
        return clean;
    }
    let mut name = format!("layer{index}");
    let mut k = 2;
    while !free(&name) {
        name = format!("layer{index}_{k}");
        k += 1;
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Goal: the spec text of every built-in architecture round-trips through the kinds, so
    /// an import writes the same layer strings the trainer does.
    #[test]
    fn layer_text_round_trips_builtin_specs() {
        for name in BUILTINS {
            let (text, input) = spec::builtin(name).unwrap();
            let spec = Spec::parse(text).unwrap();
            let layers: Vec<(String, Kind)> = spec
                .layers
                .iter()
                .map(|l| (l.name.to_string(), l.kind))
                .collect();
            let again: Vec<String> = layers.iter().map(|(n, k)| layer_text(n, *k)).collect();
            assert_eq!(again.join(";"), text);
            assert_eq!(
                builtin_name(&layers, Shape::parse(input).unwrap()),
                Some(name)
            );
        }
        assert_eq!(eps_text(10), "0.00001");
        assert_eq!(eps_text(1_500_000), "1.5");
        assert_eq!(eps_text(2_000_000), "2");
    }

    /// Goal: node names become spec names, unique and short, with `layerN` as the fallback.
    #[test]
    fn layer_names_from_node_names() {
        let taken = vec![("conv1".to_string(), Kind::Flatten)];
        assert_eq!(layer_name("/conv2/Conv", 3, &taken), "conv2");
        assert_eq!(
            layer_name("/features/features.0/Conv", 3, &taken),
            "features.0"
        );
        assert_eq!(layer_name("/conv1/Conv", 3, &taken), "layer3");
        assert_eq!(layer_name("Conv_0", 3, &taken), "layer3");
        assert_eq!(layer_name("/a b\"c/Relu", 1, &taken), "a_b_c");
        assert_eq!(
            layer_name("/abcdefghijklmnopqrstuvwxyz/Relu", 1, &taken),
            "layer1"
        );
        let taken = vec![("layer1".to_string(), Kind::Flatten)];
        assert_eq!(layer_name("", 1, &taken), "layer1_2");
    }
}
