//! `mpcdiff train-mpc`: train logistic regression, an MLP or LeNet-5 **under MPC** (or in fixed point), beside its float twin, and save the result.
//!
//! `mpcdiff train-mpc --model logistic|mlp|lenet --data DIR --seed S [--dataset credit|mnist]
//! [--digits A,B|all] [--no-batch-norm] [--samples N] [--hidden W,…] [--activation sigmoid|relu]
//! [--arith float|fixed|shared] [--engine protocol|ideal] [--trunc MODE] [--profile P]
//! [--frac-bits F] [--lr η] [--batch B] [--epochs E] [--out FILE] [--json]`
//!
//! A sibling of `train` rather than a flag of it: `train` fits the four MPCDiff models in
//! `f32` with Adam and its own recipes, while this command runs the kernel's trainers
//! (`mpcdiff_kernel::training::{logistic, backprop, convnet}`: plain SGD with a public learning rate,
//! the profile's sigmoid and softmax, every product a Beaver product in the shared
//! arithmetic) through the host driver (`mpcdiff_host::training`), so its options (arithmetic,
//! engine, truncation, profile, precision) are the MPC commands' and not `train`'s.
//!
//! The data: Credit (the seeded 80/20 split, min-max scaled, as `train` makes it) or MNIST
//! (normalised as `train` does): a pair of digits `A,B` (the official split restricted to the
//! two digits, `A` as class 0, `B` as class 1) or `--digits all` (ten classes). `--samples N` keeps the first `N` training examples
//! (Credit's split is shuffled, so they are a random sample); the test split is kept whole.
//! The default MLP, `--hidden 120 --activation sigmoid` on Credit, is the Credit MLP's
//! architecture (Linear 23→120, sigmoid, Linear 120→2). `--model lenet` (MNIST only) is
//! LeNet-5 as MPCDiff defines it, its last layer as wide as the classes: with `--activation
//! relu` (the default) its `lenet-relu` (max pooling), with `sigmoid` its `lenet` (average
//! pooling), each with its four batch norms trained in training mode (batch statistics,
//! PyTorch's running statistics for the saved model) unless `--no-batch-norm`.
//!
//! One seed chooses everything: the Credit split, the initial weights (PyTorch's `Linear`
//! default; logistic regression starts at zero) and the shared session's randomness.
//!
//! # Output
//! stderr: the header line (version, seed, replay command), the data, then one line per epoch
//! with the run and its float twin side by side: training loss (mean cross-entropy of the
//! parameters after the epoch, exact functions), training and test accuracy, and the largest
//! parameter difference. Parameters are read after each epoch without a protocol step (the
//! simulator's view); at the end the run's parameters are revealed (one round, counted in the
//! cost) and written to `--out` (default `models/<model>-mpc.safetensors`) as an
//! `mpcdiff-model/1` file (logistic regression as the equivalent two-class linear layer with
//! logits `(0, x·w + b)`; architecture `logistic`, `credit-mlp` when it is that network,
//! `mlp`, `lenet-relu` or `lenet` when it is MPCDiff's (batch norms, ten digits), with
//! `-no-batchnorm` and/or `-pair` otherwise), through a temporary file and a rename. `eval`
//! scores the Credit MLP and the MPCDiff LeNets; `predict` runs any of them.
//!
//! stdout: one summary line, or with `--json` one JSON object, schema `mpcdiff.train-mpc/1`:
//! `{schema, command: "train-mpc", version, seed, model, architecture, widths (the
//! fully-connected part), activation,
//! dataset, digits, train_len, test_len, arith, engine, trunc, profile, frac_bits, lr, batch,
//! epochs, per_epoch: [{epoch, run: {loss, train_accuracy, test_accuracy}, twin: {…},
//! max_param_diff}], cost: {rounds, bytes_per_party, matrix_triples, mul_triples,
//! and_triples, truncations, wrap_events}, out, bytes, digest, seconds, replay}`. `engine`
//! and `trunc` are `null` outside the shared arithmetic; the cost is zero there. Only
//! `seconds` varies between runs.
//!
//! # Errors (exit 2)
//! A `--data` folder that does not exist or a missing or malformed data file (named),
//! `--digits` that are neither two different digits nor `all`, or given without `--dataset
//! mnist`,
//! `--hidden` or `--activation` with `--model logistic`, `--hidden` with `--model lenet`,
//! `--model lenet` without `--dataset mnist`, `--no-batch-norm` without `--model lenet`, a
//! zero or unparsable hidden width,
//! `--epochs` outside 1..=1000, a learning rate that is not positive and finite, a batch of 0
//! or larger than the training examples, `--samples 0`, an unknown profile or a precision out
//! of its range, an `--out` that is a folder or whose folder cannot be created.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use clap::{Args, ValueEnum};
use mpcdiff_host::training::{self, Arithmetic, Data, Epoch, Model, Spec};
use mpcdiff_kernel::training::backprop::Hidden;
use mpcdiff_kernel::Digest;
use serde::Serialize;
use serde_json::json;

use crate::data::{self, Dataset};
use crate::error::{usage, UsageError};
use crate::flags::{self, EngineArg, TruncArg};
use crate::output;
use crate::train::format::{self, Tensor};

/// The largest `--epochs`.
const EPOCHS_MAX: u32 = 1000;

/// The model to train.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ModelArg {
    /// Logistic regression (two classes), with the profile's sigmoid.
    Logistic,
    /// A fully-connected network (`--hidden`, `--activation`), softmax cross-entropy.
    Mlp,
    /// LeNet-5 as MPCDiff defines it (`--dataset mnist`; `--activation relu`: max pooling,
    /// the default; `sigmoid`: average pooling; `--no-batch-norm` drops its batch norms).
    Lenet,
}

/// The data set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DatasetArg {
    /// Credit default (23 features, 2 classes).
    Credit,
    /// MNIST: two digits or all ten (`--digits`), 784 pixels.
    Mnist,
}

/// The hidden activation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ActivationArg {
    /// The profile's sigmoid (the Credit MLP's).
    Sigmoid,
    /// ReLU by one comparison; its mask is reused backward.
    Relu,
}

/// The arithmetic of the run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ArithArg {
    /// Reals: the twin's own arithmetic.
    Float,
    /// Plaintext fixed point.
    Fixed,
    /// Two-party additive shares.
    Shared,
}

/// Options of `train-mpc`. Syntax only: [`Plan::from_args`] checks values.
#[derive(Clone, Debug, Args)]
pub struct TrainMpcArgs {
    /// The model.
    #[arg(long, value_enum)]
    pub model: ModelArg,
    /// The data folder, holding mnist/ and credit/ (e.g. ../shared/data).
    #[arg(long, value_name = "DIR")]
    pub data: PathBuf,
    /// The seed: the Credit split, the initial weights, the shared session.
    #[arg(long)]
    pub seed: u64,
    /// The data set.
    #[arg(long, value_enum, default_value = "credit")]
    pub dataset: DatasetArg,
    /// Two MNIST digits, class 0 then class 1, or `all` for the ten classes (with --dataset
    /// mnist; default 0,1).
    #[arg(long, value_name = "A,B|all")]
    pub digits: Option<String>,
    /// LeNet without its four batch norms (default: with them, as MPCDiff defines it).
    #[arg(long)]
    pub no_batch_norm: bool,
    /// Keep the first N training examples (default: all).
    #[arg(long, value_name = "N")]
    pub samples: Option<usize>,
    /// Hidden widths of the MLP, comma-separated (default 120).
    #[arg(long, value_name = "W,…")]
    pub hidden: Option<String>,
    /// Hidden activation of the MLP (default sigmoid) or LeNet (default relu).
    #[arg(long, value_enum)]
    pub activation: Option<ActivationArg>,
    /// The arithmetic of the run, trained beside its float twin.
    #[arg(long, value_enum, default_value = "shared")]
    pub arith: ArithArg,
    /// How the shared arithmetic is simulated.
    #[arg(long, value_enum, default_value = "protocol")]
    pub engine: EngineArg,
    /// Truncation protocol (default: the profile's).
    #[arg(long, value_enum, default_value = "local")]
    pub trunc: TruncArg,
    /// Approximation profile (sigmoid, softmax).
    #[arg(long, default_value = "crypten")]
    pub profile: String,
    /// Fixed-point fractional bits.
    #[arg(long, default_value_t = 16)]
    pub frac_bits: u32,
    /// SGD learning rate.
    #[arg(long, default_value_t = 0.5)]
    pub lr: f64,
    /// Examples per step.
    #[arg(long, default_value_t = 32)]
    pub batch: usize,
    /// Passes over the training examples.
    #[arg(long, default_value_t = 2)]
    pub epochs: u32,
    /// Where to write the model (default: models/<model>-mpc.safetensors).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Print one JSON object on stdout instead of the summary line.
    #[arg(long)]
    pub json: bool,
}

/// A checked run.
struct Plan {
    model: ModelArg,
    hidden: Vec<usize>,
    activation: ActivationArg,
    dataset: DatasetArg,
    /// The MNIST digit pair (`None`: all ten digits, or Credit).
    digits: Option<(u8, u8)>,
    batch_norm: bool,
    spec: Spec,
    trunc: TruncArg,
    data: PathBuf,
    out: PathBuf,
    args: TrainMpcArgs,
}

/// A flag value's name as typed.
fn value_name(v: impl ValueEnum) -> String {
    v.to_possible_value()
        .map(|p| p.get_name().to_string())
        .unwrap_or_default()
}

fn parse_digits(s: &str) -> Result<Option<(u8, u8)>, UsageError> {
    if s == "all" {
        return Ok(None);
    }
    let bad = || usage!("--digits {s:?}: give two different digits 0..9, e.g. 0,1, or all.");
    let (a, b) = s.split_once(',').ok_or_else(bad)?;
    let a: u8 = a.trim().parse().map_err(|_| bad())?;
    let b: u8 = b.trim().parse().map_err(|_| bad())?;
    if a > 9 || b > 9 || a == b {
        return Err(bad());
    }
    Ok(Some((a, b)))
}

fn parse_hidden(s: &str) -> Result<Vec<usize>, UsageError> {
    let widths: Option<Vec<usize>> = s
        .split(',')
        .map(|w| w.trim().parse().ok().filter(|&w| w > 0 && w <= 4096))
        .collect();
    widths.ok_or_else(|| {
        usage!("--hidden {s:?}: give widths 1..=4096 separated by commas, e.g. 120 or 64,32.")
    })
}

impl Plan {
    fn from_args(a: &TrainMpcArgs) -> Result<Plan, UsageError> {
        if !a.data.is_dir() {
            return Err(usage!(
                "--data {}: the folder does not exist (it must hold mnist/ and credit/, e.g. \
                 ../shared/data).",
                a.data.display()
            ));
        }
        let digits = match (&a.digits, a.dataset) {
            (Some(d), DatasetArg::Mnist) => parse_digits(d)?,
            (None, DatasetArg::Mnist) => Some((0, 1)),
            (Some(_), DatasetArg::Credit) => {
                return Err(usage!("--digits needs --dataset mnist."));
            }
            (None, DatasetArg::Credit) => None,
        };
        if a.model == ModelArg::Logistic && (a.hidden.is_some() || a.activation.is_some()) {
            return Err(usage!(
                "--hidden and --activation are for --model mlp, not logistic."
            ));
        }
        if a.model == ModelArg::Lenet && a.hidden.is_some() {
            return Err(usage!("--hidden is for --model mlp, not lenet."));
        }
        if a.no_batch_norm && a.model != ModelArg::Lenet {
            return Err(usage!("--no-batch-norm is for --model lenet."));
        }
        if a.model == ModelArg::Lenet && a.dataset != DatasetArg::Mnist {
            return Err(usage!("--model lenet needs --dataset mnist."));
        }
        let hidden = parse_hidden(a.hidden.as_deref().unwrap_or("120"))?;
        let activation = a.activation.unwrap_or(if a.model == ModelArg::Lenet {
            ActivationArg::Relu
        } else {
            ActivationArg::Sigmoid
        });
        let hidden_fn = match activation {
            ActivationArg::Sigmoid => Hidden::Sigmoid,
            ActivationArg::Relu => Hidden::Relu,
        };
        if !(1..=EPOCHS_MAX).contains(&a.epochs) {
            return Err(usage!(
                "--epochs must be between 1 and {EPOCHS_MAX}, got {}.",
                a.epochs
            ));
        }
        if !(a.lr.is_finite() && a.lr > 0.0) {
            return Err(usage!(
                "--lr must be a positive finite number, got {}.",
                a.lr
            ));
        }
        if a.batch == 0 {
            return Err(usage!("--batch must be at least 1."));
        }
        if a.samples == Some(0) {
            return Err(usage!("--samples must be at least 1."));
        }
        let profile = flags::parse_profile(&a.profile)?;
        let fp = flags::format(profile, profile.resolve_digits(a.frac_bits))?;
        let trunc = flags::resolve_trunc(profile, a.trunc);
        let arith = match a.arith {
            ArithArg::Float => Arithmetic::Float,
            ArithArg::Fixed => Arithmetic::Fixed,
            ArithArg::Shared => Arithmetic::Shared {
                engine: a.engine.engine(),
                trunc: trunc.mode(),
            },
        };
        let model = match a.model {
            ModelArg::Logistic => Model::Logistic,
            ModelArg::Mlp => Model::Mlp {
                hidden: hidden.clone(),
                activation: hidden_fn,
            },
            ModelArg::Lenet => Model::Lenet {
                activation: hidden_fn,
                batch_norm: !a.no_batch_norm,
            },
        };
        let name = value_name(a.model);
        let out = a
            .out
            .clone()
            .unwrap_or_else(|| Path::new("models").join(format!("{name}-mpc.safetensors")));
        if out.is_dir() {
            return Err(usage!("--out {}: is a folder, not a file.", out.display()));
        }
        if out.file_name().is_none() {
            return Err(usage!("--out {}: has no file name.", out.display()));
        }
        Ok(Plan {
            model: a.model,
            hidden,
            activation,
            dataset: a.dataset,
            digits,
            batch_norm: a.model == ModelArg::Lenet && !a.no_batch_norm,
            spec: Spec {
                model,
                arith,
                profile,
                fp,
                lr: a.lr,
                batch: a.batch,
                epochs: a.epochs,
                seed: a.seed,
            },
            trunc,
            data: a.data.clone(),
            out,
            args: a.clone(),
        })
    }

    fn replay(&self) -> String {
        let a = &self.args;
        let mut s = format!(
            "mpcdiff train-mpc --model {} --data {} --seed {} --dataset {}",
            value_name(a.model),
            self.data.display(),
            a.seed,
            value_name(a.dataset),
        );
        if self.dataset == DatasetArg::Mnist {
            match self.digits {
                Some((x, y)) => s += &format!(" --digits {x},{y}"),
                None => s += " --digits all",
            }
        }
        if let Some(n) = a.samples {
            s += &format!(" --samples {n}");
        }
        if self.model == ModelArg::Mlp {
            let h: Vec<String> = self.hidden.iter().map(usize::to_string).collect();
            s += &format!(" --hidden {}", h.join(","));
        }
        if self.model != ModelArg::Logistic {
            s += &format!(" --activation {}", self.activation_name());
        }
        if self.model == ModelArg::Lenet && !self.batch_norm {
            s += " --no-batch-norm";
        }
        s += &format!(
            " --arith {} --engine {} --trunc {} --profile {} --frac-bits {} --lr {} --batch {} \
             --epochs {} --out {}{}",
            self.arith_name(),
            value_name(a.engine),
            self.trunc.name(),
            self.spec.profile.name,
            a.frac_bits,
            a.lr,
            a.batch,
            a.epochs,
            self.out.display(),
            if a.json { " --json" } else { "" }
        );
        s
    }

    fn arith_name(&self) -> &'static str {
        match self.args.arith {
            ArithArg::Float => "float",
            ArithArg::Fixed => "fixed",
            ArithArg::Shared => "shared",
        }
    }

    fn activation_name(&self) -> &'static str {
        match self.activation {
            ActivationArg::Sigmoid => "sigmoid",
            ActivationArg::Relu => "relu",
        }
    }
}

/// A split as the driver takes it: `f64` rows and class indices, MNIST restricted to the
/// digit pair (at most `limit` examples).
struct Rows {
    x: Vec<f64>,
    y: Vec<f64>,
}

fn rows(split: &data::Split, pair: Option<(u8, u8)>, limit: Option<usize>) -> Rows {
    let f = split.features;
    let (mut x, mut y) = (Vec::new(), Vec::new());
    for (i, &label) in split.y.iter().enumerate() {
        if limit.is_some_and(|n| y.len() >= n) {
            break;
        }
        let class = match pair {
            None => f64::from(label),
            Some((a, _)) if label == a => 0.0,
            Some((_, b)) if label == b => 1.0,
            Some(_) => continue,
        };
        x.extend(split.x[i * f..(i + 1) * f].iter().map(|&v| f64::from(v)));
        y.push(class);
    }
    Rows { x, y }
}

#[derive(Serialize)]
struct SideJson {
    loss: f64,
    train_accuracy: f64,
    test_accuracy: Option<f64>,
}

impl From<training::Side> for SideJson {
    fn from(s: training::Side) -> Self {
        SideJson {
            loss: s.loss,
            train_accuracy: s.accuracy,
            test_accuracy: s.test_accuracy,
        }
    }
}

#[derive(Serialize)]
struct EpochJson {
    epoch: u32,
    run: SideJson,
    twin: SideJson,
    max_param_diff: f64,
}

#[derive(Serialize)]
struct CostJson {
    rounds: u64,
    bytes_per_party: u64,
    matrix_triples: u64,
    mul_triples: u64,
    and_triples: u64,
    truncations: u64,
    wrap_events: u64,
}

/// The `--json` report (module doc).
#[derive(Serialize)]
struct Report {
    schema: &'static str,
    command: &'static str,
    version: &'static str,
    seed: u64,
    model: &'static str,
    architecture: String,
    widths: Vec<usize>,
    activation: Option<&'static str>,
    dataset: &'static str,
    digits: Option<[u8; 2]>,
    train_len: usize,
    test_len: usize,
    arith: &'static str,
    engine: Option<&'static str>,
    trunc: Option<&'static str>,
    profile: &'static str,
    frac_bits: u32,
    lr: f64,
    batch: usize,
    epochs: u32,
    per_epoch: Vec<EpochJson>,
    cost: CostJson,
    out: String,
    bytes: usize,
    digest: String,
    seconds: f64,
    replay: String,
}

fn pct(v: Option<f64>) -> String {
    v.map_or_else(|| "-".into(), |v| format!("{:.2}%", 100.0 * v))
}

/// One layer of the written model, in order.
enum Written {
    Conv {
        ci: usize,
        co: usize,
        k: usize,
        pad: usize,
    },
    Norm {
        c: usize,
    },
    Act,
    Pool,
    Flatten,
    Linear {
        i: usize,
        o: usize,
    },
}

/// The layers of the trained network as the model file names them (MPCDiff's LeNet naming:
/// `conv1, bn1, act1, pool1, …, flatten, fc1, bn3, act3, …`).
fn written_layers(plan: &Plan, widths: &[usize]) -> Vec<Written> {
    let mut out = Vec::new();
    if plan.model == ModelArg::Lenet {
        for (ci, co, k, pad) in [(1, 6, 5, 2), (6, 16, 5, 0)] {
            out.push(Written::Conv { ci, co, k, pad });
            if plan.batch_norm {
                out.push(Written::Norm { c: co });
            }
            out.push(Written::Act);
            out.push(Written::Pool);
        }
        out.push(Written::Flatten);
    }
    for (l, pair) in widths.windows(2).enumerate() {
        out.push(Written::Linear {
            i: pair[0],
            o: pair[1],
        });
        if l + 2 < widths.len() {
            if plan.batch_norm {
                out.push(Written::Norm { c: pair[1] });
            }
            out.push(Written::Act);
        }
    }
    out
}

/// The model file of the trained parameters (the kernel's layout: layers in order; a
/// convolution's `[Co, Ci, k, k]` weights and bias as PyTorch's; a linear layer's weights
/// input-major, transposed here to PyTorch's `[out, in]`; a batch norm's `γ, β`, running mean
/// and variance).
fn model_file(
    plan: &Plan,
    data: &Dataset,
    architecture: &str,
    widths: &[usize],
    params: &[f64],
    training: String,
) -> Vec<u8> {
    let mut layers = Vec::new();
    let mut tensors = std::collections::BTreeMap::new();
    let mut off = 0;
    let act = plan.activation_name();
    let pool = if plan.activation == ActivationArg::Relu {
        "maxpool"
    } else {
        "avgpool"
    };
    let f32s = |v: &[f64]| v.iter().map(|&x| x as f32).collect::<Vec<f32>>();
    let mut put = |name: String, shape: Vec<usize>, data: Vec<f32>| {
        tensors.insert(name, Tensor { shape, data });
    };
    let (mut convs, mut norms, mut acts, mut pools, mut fcs) = (0, 0, 0, 0, 0);
    for layer in written_layers(plan, widths) {
        match layer {
            Written::Conv { ci, co, k, pad } => {
                convs += 1;
                let name = format!("conv{convs}");
                layers.push(format!(
                    "conv2d {name} in={ci} out={co} k={k} stride=1 pad={pad}"
                ));
                let nw = co * ci * k * k;
                put(
                    format!("{name}.weight"),
                    vec![co, ci, k, k],
                    f32s(&params[off..off + nw]),
                );
                put(
                    format!("{name}.bias"),
                    vec![co],
                    f32s(&params[off + nw..off + nw + co]),
                );
                off += nw + co;
            }
            Written::Norm { c } => {
                norms += 1;
                let name = format!("bn{norms}");
                layers.push(format!("batchnorm {name} c={c} eps=0.00001"));
                for (j, what) in ["weight", "bias", "running_mean", "running_var"]
                    .iter()
                    .enumerate()
                {
                    put(
                        format!("{name}.{what}"),
                        vec![c],
                        f32s(&params[off + j * c..off + (j + 1) * c]),
                    );
                }
                off += 4 * c;
            }
            Written::Act => {
                acts += 1;
                layers.push(format!("{act} act{acts}"));
            }
            Written::Pool => {
                pools += 1;
                layers.push(format!("{pool} pool{pools} k=2 stride=2"));
            }
            Written::Flatten => layers.push("flatten flatten".to_string()),
            Written::Linear { i, o } => {
                fcs += 1;
                let name = format!("fc{fcs}");
                layers.push(format!("linear {name} in={i} out={o}"));
                let w = &params[off..off + i * o];
                // PyTorch's [out, in] from the kernel's [in, out].
                let mut wt = vec![0.0f32; i * o];
                for j in 0..i {
                    for k in 0..o {
                        wt[k * i + j] = w[j * o + k] as f32;
                    }
                }
                put(format!("{name}.weight"), vec![o, i], wt);
                put(
                    format!("{name}.bias"),
                    vec![o],
                    f32s(&params[off + i * o..off + i * o + o]),
                );
                off += i * o + o;
            }
        }
    }
    debug_assert_eq!(off, params.len());
    let lenet = plan.model == ModelArg::Lenet;
    let model = format::Model {
        architecture: architecture.to_string(),
        layers: layers.join(";"),
        input: if lenet {
            "1x28x28".to_string()
        } else {
            widths[0].to_string()
        },
        classes: widths[widths.len() - 1],
        preprocessing: crate::train::preprocessing(&data.scaling),
        training,
        tensors,
    };
    format::write_model(&model)
}

/// Runs `train-mpc`.
pub fn run(args: &TrainMpcArgs) -> anyhow::Result<()> {
    let plan = Plan::from_args(args)?;
    output::say_line(&format!(
        "mpcdiff {}  train-mpc  seed {}  replay: {}",
        env!("CARGO_PKG_VERSION"),
        plan.spec.seed,
        plan.replay()
    ));
    let (name, pair) = match plan.dataset {
        DatasetArg::Credit => ("credit", None),
        DatasetArg::Mnist => ("mnist", plan.digits),
    };
    let data = data::load(name, &plan.data, plan.spec.seed).map_err(UsageError::from)?;
    let train = rows(&data.train, pair, args.samples);
    let test = rows(&data.test, pair, None);
    let classes = if pair.is_some() {
        2
    } else {
        usize::from(data.classes)
    };
    if plan.spec.batch > train.y.len() {
        return Err(usage!(
            "--batch {} is larger than the {} training examples.",
            plan.spec.batch,
            train.y.len()
        )
        .into());
    }
    output::say_line(&format!(
        "data: {}{} from {}, {} train / {} test examples, {} features",
        data.name,
        pair.map_or(String::new(), |(a, b)| format!(" digits {a} vs {b}")),
        plan.data.display(),
        train.y.len(),
        test.y.len(),
        data.features
    ));
    if let Some(dir) = plan.out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| {
            usage!(
                "--out {}: cannot create the folder {}: {e}.",
                plan.out.display(),
                dir.display()
            )
        })?;
    }
    let train_d = Data {
        x: &train.x,
        y: &train.y,
        features: data.features,
        classes,
    };
    let test_d = Data {
        x: &test.x,
        y: &test.y,
        features: data.features,
        classes,
    };
    let t0 = Instant::now();
    output::say_line(&format!(
        "{:>5}  {:>24}  {:>24}  {:>24}  {:>10}",
        "epoch",
        format!("loss {} / float", plan.arith_name()),
        "train acc",
        "test acc",
        "max |Δw|"
    ));
    let outcome = training::run(&plan.spec, &train_d, Some(&test_d), &mut |e: &Epoch| {
        output::say_line(&format!(
            "{:>5}  {:>11.5} / {:<10.5}  {:>11} / {:<10}  {:>11} / {:<10}  {:>10.3e}  ({:.1} s)",
            e.epoch,
            e.run.loss,
            e.twin.loss,
            pct(Some(e.run.accuracy)),
            pct(Some(e.twin.accuracy)),
            pct(e.run.test_accuracy),
            pct(e.twin.test_accuracy),
            e.max_param_diff,
            t0.elapsed().as_secs_f64()
        ));
    })
    .map_err(|e| anyhow::anyhow!("the kernel refused the training run: {e}"))?;
    let seconds = t0.elapsed().as_secs_f64();
    let widths = outcome.widths.clone();
    let architecture = match plan.model {
        ModelArg::Logistic => "logistic".to_string(),
        ModelArg::Mlp
            if plan.dataset == DatasetArg::Credit
                && widths == [23, 120, 2]
                && plan.activation == ActivationArg::Sigmoid =>
        {
            "credit-mlp".to_string()
        }
        ModelArg::Mlp => "mlp".to_string(),
        // MPCDiff's own names only for its networks: batch norms, all ten digits.
        ModelArg::Lenet => format!(
            "{}{}{}",
            if plan.activation == ActivationArg::Relu {
                "lenet-relu"
            } else {
                "lenet"
            },
            if plan.batch_norm { "" } else { "-no-batchnorm" },
            if pair.is_some() { "-pair" } else { "" }
        ),
    };
    let shared = plan.args.arith == ArithArg::Shared;
    let last = outcome.epochs.last().copied();
    let training_meta = json!({
        "trainer": "mpcdiff train-mpc (mpcdiff_kernel::training)",
        "seed": plan.spec.seed,
        "arith": plan.arith_name(),
        "engine": shared.then(|| plan.args.engine.engine().name()),
        "trunc": shared.then(|| plan.trunc.name()),
        "profile": plan.spec.profile.name,
        "frac_bits": plan.spec.fp.frac_bits(),
        "optimizer": {"kind": "sgd", "lr": plan.spec.lr, "batch": plan.spec.batch},
        "epochs": plan.spec.epochs,
        "loss": "softmax cross-entropy (logistic: binary), the profile's approximations",
        "data": {
            "dataset": data.name,
            "split_seed": data.provenance.seed,
            "train_len": data.provenance.train_len,
            "test_len": data.provenance.test_len,
            "index_digest": format!("{:016x}", data.provenance.index_digest),
            "digits": pair.map(|(a, b)| [a, b]),
            "examples_used": train.y.len(),
        },
        "train_accuracy": last.map(|e| e.run.accuracy),
        "test_accuracy": last.and_then(|e| e.run.test_accuracy),
        "mpcdiff_version": env!("CARGO_PKG_VERSION"),
    })
    .to_string();
    let bytes = model_file(
        &plan,
        &data,
        &architecture,
        &widths,
        &outcome.params,
        training_meta,
    );
    debug_assert!(crate::train::read_model(&bytes).is_ok());
    output::write_atomic(&plan.out, &bytes)?;
    let digest = format!("{:016x}", Digest::new().bytes(&bytes).finish());
    let c = outcome.cost;
    let text = if plan.args.json {
        let report = Report {
            schema: "mpcdiff.train-mpc/1",
            command: "train-mpc",
            version: env!("CARGO_PKG_VERSION"),
            seed: plan.spec.seed,
            model: match plan.model {
                ModelArg::Logistic => "logistic",
                ModelArg::Mlp => "mlp",
                ModelArg::Lenet => "lenet",
            },
            architecture: architecture.clone(),
            widths: widths.clone(),
            activation: (plan.model != ModelArg::Logistic).then(|| plan.activation_name()),
            dataset: data.name,
            digits: pair.map(|(a, b)| [a, b]),
            train_len: train.y.len(),
            test_len: test.y.len(),
            arith: plan.arith_name(),
            engine: shared.then(|| plan.args.engine.engine().name()),
            trunc: shared.then(|| plan.trunc.name()),
            profile: plan.spec.profile.name,
            frac_bits: plan.spec.fp.frac_bits(),
            lr: plan.spec.lr,
            batch: plan.spec.batch,
            epochs: plan.spec.epochs,
            per_epoch: outcome
                .epochs
                .iter()
                .map(|e| EpochJson {
                    epoch: e.epoch,
                    run: e.run.into(),
                    twin: e.twin.into(),
                    max_param_diff: e.max_param_diff,
                })
                .collect(),
            cost: CostJson {
                rounds: c.rounds,
                bytes_per_party: c.bytes_sent[0].max(c.bytes_sent[1]),
                matrix_triples: c.matrix_triples,
                mul_triples: c.mul_triples,
                and_triples: c.and_triples,
                truncations: c.truncations,
                wrap_events: c.wrap_events,
            },
            out: plan.out.display().to_string(),
            bytes: bytes.len(),
            digest,
            seconds,
            replay: plan.replay(),
        };
        let mut s = serde_json::to_string_pretty(&report).context("serialize the report")?;
        s.push('\n');
        s
    } else {
        let e = last.map_or_else(String::new, |e| {
            format!(
                "train {} (float twin {}), test {} (float twin {}), max |Δw| {:.3e}",
                pct(Some(e.run.accuracy)),
                pct(Some(e.twin.accuracy)),
                pct(e.run.test_accuracy),
                pct(e.twin.test_accuracy),
                e.max_param_diff
            )
        });
        format!(
            "{architecture} ({}) in {}: {e}; {} rounds; wrote {} ({} bytes, digest {})\n",
            widths
                .iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join("-"),
            plan.arith_name(),
            c.rounds,
            plan.out.display(),
            bytes.len(),
            digest
        )
    };
    output::emit(&text)
}
