//! The model under test and its MPC deployment, from flags or from a campaign file.
//!
//! One place turns `--model / --profile / --frac-bits / --trunc / --deploy` into a checked
//! [`Setup`] (the kernel's [`Target`] plus what the CLI needs to name and replay it), and
//! loads the dataset split the model was trained against.

use clap::Args;
use mpcdiff_kernel::approx::profile::Profile;
use mpcdiff_kernel::difftest::oracle::Target;
use mpcdiff_kernel::nn::deploy::Deployment;
use mpcdiff_kernel::nn::model::Model;
use mpcdiff_kernel::{FixedPoint, TruncMode};
use serde::{Deserialize, Serialize};

use crate::data::{self, Dataset};
use crate::error::{usage, UsageError};
use crate::flags::{self, DeployArg, EngineArg, TruncArg};
use crate::import;

/// The trained models shipped with mpcdiff (`cli/models/`, seed 42; embedded by the kernel,
/// which the browser reads them from too).
pub use mpcdiff_kernel::nn::builtin::model as builtin_model;

/// The dataset a built-in architecture is trained on.
pub fn dataset_of(architecture: &str) -> Option<&'static str> {
    match architecture {
        "lenet" | "lenet-relu" => Some("mnist"),
        "credit-mlp" => Some("credit"),
        "bank-mlp" => Some("bank"),
        _ => None,
    }
}

/// The flags that choose the model and its MPC deployment.
#[derive(Clone, Debug, Args, Serialize, Deserialize, PartialEq)]
pub struct TargetArgs {
    /// A built-in model (lenet, lenet-relu, credit-mlp, bank-mlp) or a model file: an
    /// mpcdiff model, an ONNX file (`*.onnx`, as `crypten.nn.from_pytorch` exports), or a
    /// PyTorch state_dict saved as safetensors together with --arch.
    #[arg(long, default_value = "lenet")]
    pub model: String,
    /// The architecture of a state_dict given as --model: a built-in name, a layer spec
    /// ("linear fc1 in=23 out=120;sigmoid act1;linear fc2 in=120 out=2") or a file holding
    /// one.
    #[arg(long)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arch: Option<String>,
    /// The input shape (CxHxW or N) for an --arch whose first layer is not linear.
    #[arg(long)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_shape: Option<String>,
    /// Approximation profile of the MPC model (crypten, mpcdiff, crypten-chebyshev, tfe,
    /// tfe-mpcdiff, pysyft, pysyft-mpcdiff, spu, spu-fm128: SPU in Z_2^128). A profile of
    /// another framework brings that framework's
    /// format, truncation and deployment; --frac-bits, --trunc and --deploy at their CrypTen
    /// defaults (16, local, crypten) mean "the profile's".
    #[arg(long, default_value = "crypten")]
    pub profile: String,
    /// Fixed-point fractional digits in the profile's base (bits for CrypTen's 2^f: 0..=40;
    /// TF-Encrypted's scale is 3^digits).
    #[arg(long, default_value_t = 16)]
    pub frac_bits: u32,
    /// Truncation protocol (local, dealer; sr, sr1, fl, ch: other frameworks' laws).
    #[arg(long, value_enum, default_value = "local")]
    #[serde(with = "trunc_serde")]
    pub trunc: TruncArg,
    /// What the framework runs: crypten (what crypten.nn.from_pytorch deploys),
    /// crypten-modules (a crypten.nn-module network), folded (idealised), tfe, pysyft
    /// (MPCDiff's models in those frameworks).
    #[arg(long, value_enum, default_value = "crypten")]
    pub deploy: DeployArg,
    /// How the two-party arithmetic is simulated: protocol (every message; the reference) or
    /// ideal (each protocol as its ideal functionality: the same law of results and the same
    /// cost ledger, faster, other draws for a seed).
    #[arg(long, value_enum, default_value = "protocol")]
    #[serde(default, skip_serializing_if = "EngineArg::is_default")]
    pub engine: EngineArg,
}

/// A path as a campaign records it, so that it resolves from any working directory: an
/// absolute path as given, a relative one as the absolute, canonical path it names now (from
/// the working directory; symlinks and `..` resolved). A path that cannot be resolved (it was
/// read a moment ago, so this is rare) is kept as given.
pub fn recorded_path(p: &std::path::Path) -> std::path::PathBuf {
    if p.is_absolute() {
        return p.to_path_buf();
    }
    std::fs::canonicalize(p)
        .or_else(|_| std::path::absolute(p))
        .unwrap_or_else(|_| p.to_path_buf())
}

/// [`recorded_path`] of a path given as a string flag.
fn recorded_str(p: &str) -> String {
    recorded_path(std::path::Path::new(p))
        .to_string_lossy()
        .into_owned()
}

impl TargetArgs {
    /// These flags with the profile's own format, truncation and deployment in place of
    /// CrypTen's defaults, for a profile of another framework (the flags as given otherwise).
    pub fn resolved(&self, profile: &Profile) -> TargetArgs {
        let mut out = self.clone();
        out.frac_bits = profile.resolve_digits(self.frac_bits);
        out.trunc = flags::resolve_trunc(profile, self.trunc);
        out.deploy = DeployArg::of(self.deploy.deployment().resolve(profile));
        out
    }

    /// These flags as a campaign records them: a model file (and an `--arch` file) by
    /// [`recorded_path`], so `repair`, `report` and `fuzz --resume` find it from any working
    /// directory; a built-in model or architecture stays a name, a layer spec stays text.
    pub fn recorded(&self) -> TargetArgs {
        let arch = self.arch.as_ref().map(|a| {
            let file =
                mpcdiff_kernel::nn::spec::builtin(a).is_none() && std::path::Path::new(a).is_file();
            if file {
                recorded_str(a)
            } else {
                a.clone()
            }
        });
        TargetArgs {
            model: if builtin_model(&self.model).is_some() {
                self.model.clone()
            } else {
                recorded_str(&self.model)
            },
            arch,
            ..self.clone()
        }
    }
}

mod trunc_serde {
    use super::TruncArg;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &TruncArg, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(t.name())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<TruncArg, D::Error> {
        let name = String::deserialize(d)?;
        mpcdiff_kernel::TruncMode::by_name(&name)
            .map(TruncArg::of)
            .ok_or_else(|| {
                serde::de::Error::custom(format!(
                    "truncation {name:?} is not local, dealer, sr, sr1, fl or ch"
                ))
            })
    }
}

/// A checked model and deployment. The model's bytes live for the whole run (a CLI run
/// tests one model).
pub struct Setup {
    /// The flags it came from.
    pub args: TargetArgs,
    /// The parsed model.
    pub model: Model<'static>,
    /// The profile.
    pub profile: &'static Profile,
    /// The encoding.
    pub fp: FixedPoint,
    /// The truncation protocol.
    pub trunc: TruncMode,
    /// What the framework runs.
    pub deploy: Deployment,
    /// The dataset of its architecture, if known.
    pub dataset: Option<&'static str>,
    /// FNV-1a of the model's `mpcdiff-model/1` bytes (a campaign's identity includes it).
    pub model_digest: u64,
}

/// The most features a model input may have (the shipped models take at most 784).
pub const INPUT_MAX: usize = 1 << 20;
/// The most classes a model may have.
pub const CLASSES_MAX: usize = mpcdiff_kernel::difftest::evaluator::CLASSES_MAX;
/// The most memory one inference's buffers may take, in bytes.
pub const MEMORY_MAX: usize = 4 << 30;

/// Checks what the kernel would otherwise report without naming the file or the tensor: the
/// input and class counts against mpcdiff's limits, and every weight finite and encodable at
/// the format `fp` (a batch norm's running variance also non-negative).
fn check_model(
    name: &str,
    bytes: &[u8],
    model: &Model<'_>,
    fp: FixedPoint,
) -> Result<(), UsageError> {
    let features = model.input.len();
    if features == 0 || features > INPUT_MAX {
        return Err(usage!(
            "--model {name}: its input has {features} values; mpcdiff takes 1 to {INPUT_MAX}"
        ));
    }
    if !(2..=CLASSES_MAX).contains(&model.classes) {
        return Err(usage!(
            "--model {name}: it has {} classes; mpcdiff takes 2 to {CLASSES_MAX}",
            model.classes
        ));
    }
    let file = mpcdiff_kernel::nn::safetensors::File::parse(bytes)
        .map_err(|e| usage!("--model {name}: {e}"))?;
    for t in file.tensors() {
        let variance = t.name.ends_with("running_var");
        for (i, v) in t.values().enumerate() {
            let v = f64::from(v);
            if !v.is_finite() {
                return Err(usage!(
                    "--model {name}: tensor {} holds a non-finite value at index {i}",
                    t.name
                ));
            }
            if variance && v < 0.0 {
                return Err(usage!(
                    "--model {name}: tensor {} holds a negative variance ({v}) at index {i}",
                    t.name
                ));
            }
            if fp.encode(v).is_err() {
                return Err(usage!(
                    "--model {name}: tensor {} value {v} at index {i} does not fit the 64-bit ring with --frac-bits {}",
                    t.name,
                    fp.frac_bits()
                ));
            }
        }
    }
    Ok(())
}

/// The `mpcdiff-model/1` bytes of a model: a built-in name or a file, which may also be an
/// ONNX model or, with `arch` (`--arch`, `--input-shape`), a PyTorch state_dict: both are
/// converted to an `mpcdiff-model/1` file first (`crate::import`). The bytes of a file are
/// leaked: they must outlive every borrow of the parsed model, which is the whole run.
pub fn model_bytes(
    name: &str,
    arch: Option<&str>,
    input_shape: Option<&str>,
) -> Result<&'static [u8], UsageError> {
    let bytes: &'static [u8] = match builtin_model(name) {
        Some(b) if arch.is_none() && input_shape.is_none() => b,
        Some(_) => {
            return Err(usage!("--arch: --model {name} is a built-in model, which carries its architecture; --arch and --input-shape go with a state_dict file"))
        }
        None => {
            if !std::path::Path::new(name).is_file() {
                return Err(usage!("--model {name}: not a built-in model (lenet, lenet-relu, credit-mlp, bank-mlp) and not a readable file"));
            }
            let owned = model_file_bytes(
                &format!("--model {name}"),
                name,
                arch,
                input_shape,
            )?;
            Box::leak(owned.into_boxed_slice())
        }
    };
    Ok(bytes)
}

/// Whether `path` names an ONNX file (by its extension, any case).
fn is_onnx(path: &str) -> bool {
    std::path::Path::new(path)
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("onnx"))
}

/// The `mpcdiff-model/1` bytes of the model file `path`: converted from ONNX (`*.onnx`) or
/// from a state_dict when `arch` is given, read as is otherwise. `label` names the file in
/// errors (`--model x.onnx`).
fn model_file_bytes(
    label: &str,
    path: &str,
    arch: Option<&str>,
    input_shape: Option<&str>,
) -> Result<Vec<u8>, UsageError> {
    if input_shape.is_some() && arch.is_none() {
        return Err(usage!(
            "--input-shape: it gives the input of an --arch, and no --arch is given"
        ));
    }
    if is_onnx(path) {
        if arch.is_some() {
            return Err(usage!(
                "--arch: {path} is an ONNX file, which carries its own architecture"
            ));
        }
        let bytes = import::read_file(label, path)?;
        return crate::onnx::read(label, path, &bytes)?.checked_bytes(label);
    }
    match arch {
        Some(arch) => {
            let arch = import::parse_arch(arch, input_shape)?;
            let bytes = import::read_file(label, path)?;
            import::from_state_dict(label, path, &bytes, &arch)?.checked_bytes(label)
        }
        None => import::read_file(label, path),
    }
}

impl Setup {
    /// Checks the flags and loads the model.
    pub fn new(args: &TargetArgs) -> Result<Setup, UsageError> {
        let profile = flags::parse_profile(&args.profile)?;
        let args = &args.resolved(profile);
        let fp = flags::format(profile, args.frac_bits)?;
        let bytes = model_bytes(
            &args.model,
            args.arch.as_deref(),
            args.input_shape.as_deref(),
        )?;
        let model = Model::parse(bytes).map_err(|e| usage!("--model {}: {e}", args.model))?;
        check_model(&args.model, bytes, &model, fp)?;
        let model_digest = mpcdiff_kernel::digest::Digest::new().bytes(bytes).finish();
        let deploy = args.deploy.deployment();
        deploy.check(&model.spec).map_err(|e| {
            usage!(
                "--deploy {} cannot run --model {}: {e}",
                deploy.name(),
                args.model
            )
        })?;
        let dataset = dataset_of(model.architecture);
        Ok(Setup {
            args: args.clone(),
            profile,
            fp,
            trunc: args.trunc.mode(),
            deploy,
            dataset,
            model,
            model_digest,
        })
        .and_then(|s| {
            // Every buffer is sized from the model: bound them before anything allocates.
            let need = mpcdiff_kernel::difftest::evaluator::Footprint::of(&s.target(), 1)
                .map_err(|e| usage!("--model {}: {e}", s.args.model))?;
            let bytes = need.floats * 8 + need.ints * 8 + need.shares * 16;
            if bytes > MEMORY_MAX {
                return Err(usage!(
                    "--model {}: one inference would need {:.1} GiB of memory, above mpcdiff's limit of {} GiB",
                    s.args.model,
                    bytes as f64 / (1u64 << 30) as f64,
                    MEMORY_MAX >> 30
                ));
            }
            Ok(s)
        })
    }

    /// Checks that every model input of `x` (after the model's preprocessing) is finite and
    /// fits the 64-bit ring at this format: a user error naming `what` (the flag and file, or
    /// the file and line) otherwise.
    pub fn check_input(&self, x: &[f64], what: &str) -> Result<(), UsageError> {
        for (i, &v) in x.iter().enumerate() {
            if !v.is_finite() {
                return Err(usage!(
                    "{what}: value {} is not finite after the model's preprocessing",
                    i + 1
                ));
            }
            if self.fp.encode(v).is_err() {
                return Err(usage!(
                    "{what}: value {} is {v} after the model's preprocessing, too large for the 64-bit ring at {} fractional bits",
                    i + 1,
                    self.fp.frac_bits()
                ));
            }
        }
        Ok(())
    }

    /// The same deployment at another precision.
    pub fn with_frac_bits(&self, frac_bits: u32) -> Result<Setup, UsageError> {
        let mut args = self.args.clone();
        args.frac_bits = frac_bits;
        Setup::new(&args)
    }

    /// The kernel's view.
    pub fn target(&self) -> Target<'_, 'static> {
        Target {
            model: &self.model,
            profile: self.profile,
            fp: self.fp,
            trunc: self.trunc,
            deploy: self.deploy,
            engine: self.args.engine.engine(),
            comparison: Default::default(),
        }
    }

    /// The flags that reproduce this deployment.
    pub fn flags(&self) -> String {
        self.flags_naming(&self.args)
    }

    /// [`Setup::flags`] with the model (and `--arch`, `--input-shape`) named as in `args`
    /// (e.g. as a campaign recorded them).
    pub fn flags_naming(&self, args: &TargetArgs) -> String {
        let mut arch = String::new();
        if let Some(a) = &args.arch {
            arch = format!(" --arch '{}'", a.replace('\'', "'\\''"));
        }
        if let Some(s) = &args.input_shape {
            arch.push_str(&format!(" --input-shape {s}"));
        }
        let mut out = String::new();
        let _ = self
            .target()
            .write_flags(&format!("{}{arch}", args.model), &mut out);
        out
    }

    /// A metadata value of the model, unescaped and parsed as JSON.
    pub fn metadata_json(&self, key: &str) -> Option<serde_json::Value> {
        let text = crate::train::format::metadata_text(&self.model, key).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// The dataset split the model was trained against, from `dir` (its `training.data`
    /// metadata names the split seed and the digest of the split's index lists).
    pub fn load_data(&self, dir: &std::path::Path) -> Result<Dataset, UsageError> {
        let name = &self.args.model;
        let dataset = self.dataset.ok_or_else(|| {
            usage!(
                "--model {name}: no dataset known for architecture {:?}",
                self.model.architecture
            )
        })?;
        let training = self.metadata_json("training");
        let present = crate::train::format::metadata_text(&self.model, "training").is_ok();
        if present && training.is_none() {
            return Err(usage!(
                "--model {name}: its training metadata is not JSON, so the data split it was trained on cannot be checked"
            ));
        }
        let recorded = training.as_ref().and_then(|t| t.get("data"));
        let split_seed = recorded
            .and_then(|d| d.get("split_seed"))
            .and_then(|v| v.as_u64());
        if split_seed.is_none() && dataset != "mnist" {
            return Err(usage!("--model {name}: its metadata does not record the data split it was trained on (training.data.split_seed)"));
        }
        let data = data::load(dataset, dir, split_seed.unwrap_or(0)).map_err(UsageError::from)?;
        if let Some(digest) = recorded
            .and_then(|d| d.get("index_digest"))
            .and_then(|v| v.as_str())
        {
            let loaded = format!("{:016x}", data.provenance.index_digest);
            if loaded != digest {
                return Err(usage!("--model {name}: the {dataset} split loaded from {} (digest {loaded}) is not the one the model was trained on ({digest})", dir.display()));
            }
        }
        if data.features != self.model.input.len() {
            return Err(usage!(
                "--model {name}: the model takes {} features, the {dataset} data has {}",
                self.model.input.len(),
                data.features
            ));
        }
        Ok(data)
    }
}
