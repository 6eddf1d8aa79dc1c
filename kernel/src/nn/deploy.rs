//! Deployments: what a framework turns a trained model into before any share is drawn.
//!
//! A [`Profile`](crate::approx::profile::Profile) says how each function is approximated; a
//! [`Deployment`] says *which* computation runs at all: which layers the framework's importer
//! fuses or folds away, which run under MPC and with what formula, where it inserts public
//! multiplications and truncations, and how an op of the user's graph maps onto the
//! framework's modules. Bit-exact operators are not enough for a simulation to transfer: the
//! deployment decides what actually runs (the first version of this project evaluated all four
//! batch norms of LeNet under MPC, a computation real CrypTen never performs for a PyTorch
//! model, and blamed one of them for almost every deviation it found).
//!
//! | | [`Deployment::Crypten`] (`crypten`) | [`Deployment::CryptenModules`] (`crypten-modules`) | [`Deployment::Folded`] (`folded`) |
//! |---|---|---|---|
//! | how the user gets there | `crypten.nn.from_pytorch(model, dummy)` | a network written with `crypten.nn` modules | an idealised deployment |
//! | Conv → BatchNorm | fused into the conv **in float32** by torch's ONNX exporter | batch norm under MPC | folded in `f64` |
//! | Linear → BatchNorm1d | `BatchNormalization` node under MPC, `inv_sqrt` on **every** pass | under MPC, `inv_sqrt` once at `eval()` | folded in `f64` |
//! | batch-norm formula | `((x − mean)·inv)·γ + β`: two truncated products | the same | — |
//! | Linear | ONNX `Gemm`: `(x·W)·α + b·β`, α = β = 1.0 public, each truncated | `x·W + b` | `x·W + b` |
//! | `nn.GELU()` (erf form) | `Div(√2), Erf, Add(1), Mul(x), Mul(0.5)` with CrypTen's erf (8-term Taylor, buggy `pow`) | the profile's GELU | the profile's GELU |
//! | tanh, tanh-form GELU | refused: `from_pytorch` has no `Tanh` importer | the profile's | the profile's |
//!
//! # Sources
//! * The fusion: torch 1.13's exporter runs its eval-mode peephole pass (`fuse Conv+BN`)
//!   whatever `do_constant_folding` says; the recorded `lenet.onnx` in the shared reference
//!   folder is reproduced bit for bit by `s = γ / sqrt(var + eps)`, `W' = W·s`,
//!   `b' = β + s·(b − mean)`, every operation in `f32` ([`fuse_conv_bn_f32`]).
//! * The batch-norm formula and the dead eval-mode cache of `BatchNormalization` (it tests the
//!   bound method `self.train`, always truthy): CrypTen 0.4.1 `crypten/nn/module.py` and
//!   `crypten/gradients.py: AutogradBatchNorm`. `eps` = 1e−5 encodes to 0 at 16 bits.
//! * `crypten.nn.BatchNorm*d.train(False)` computes `inv_var` once (same module file), so a
//!   `crypten.nn`-built model pays the inverse square root at `eval()`, not per inference.
//! * `Gemm.forward`: `a.matmul(b).mul(alpha)`, then `.add(c.mul(beta))` with Python floats,
//!   which CrypTen encodes and truncates like any public real.
//! * The GELU graph: torch's `gelu` symbolic for opset 17 with `approximate="none"`; the
//!   division by the float32 constant √2 is CrypTen's multiplication by its float32
//!   reciprocal (`MPCTensor.div`).
//! * The communication counts these deployments give (136 / 26 / 38 rounds for the
//!   built-in LeNet / Credit / Bank models) equal CrypTen's communicator counters recorded in
//!   `shared/reference/crypten-models` (`tests/tests/deployment.rs`).

use super::spec::{Activation, Kind, Spec};
use crate::approx::profile::Framework;
use crate::error::{Error, Result};

/// What a framework turns a trained model into.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Deployment {
    /// What `crypten.nn.from_pytorch` runs (CrypTen 0.4.1, torch 1.13): see the module table.
    Crypten,
    /// What a model written directly with `crypten.nn` modules runs: every batch norm under
    /// MPC, its inverse square root computed once when the model is put in eval mode.
    CryptenModules,
    /// Every batch norm folded into the preceding conv or linear layer in `f64` before
    /// encoding: no MPC cost, one encoding error per weight. Also the plaintext model's form.
    Folded,
    /// What MPCDiff's `tfe.keras` model runs in TF-Encrypted 0.7.0 (`TFEncrypted/fuzz.py`):
    /// conv and dense `x·W + b` with private weights; batch norm **public**
    /// (`γ·(x − μ)·denom + β`, two truncated products, `denom = 1/√(var + ε)` computed in
    /// float64 on the decoded public variance and re-encoded, ε = 10^−3 encoding to 0 at 3^5);
    /// average pooling as the window sum times the encoded `1/(k·k)` (60/243 at 3^5: a 2×2
    /// average of equal values is 0.988 of them) (`frameworks.md` §1.4).
    TfEncrypted,
    /// What a jax model runs in SPU 0.9.5 (`spu.utils.simulation`, every parameter secret,
    /// as `tests/frameworks/record_spu.py` writes it): conv + bias, linear `x·Wᵀ + b`, flax's
    /// inference batch norm `(x − μ)·(γ·rsqrt(var + ε)) + β` under MPC on every pass (the
    /// scale `γ·rsqrt(·)` first), average pooling as the window sum times 0.25
    /// (`frameworks.md` §3.4–3.5).
    Spu,
    /// What MPCDiff's PySyft 0.2.9 model runs (`.fix_precision().share()` of the torch model):
    /// conv as im2col matmul + bias, linear `x·W + b`, every batch norm under MPC on every pass
    /// (the profile's inverse square root of the shared running variance; PySyft adds no ε in
    /// eval mode), average pooling as a per-share division (`frameworks.md` §2.4).
    PySyft,
}

/// How one batch-norm layer is deployed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BatchNormRun {
    /// Fused into the preceding convolution in `f32`, as torch's exporter does.
    FusedF32,
    /// Folded into the preceding conv or linear layer in `f64`.
    FoldedF64,
    /// Evaluated under MPC as `((x − mean)·inv)·γ + β`; `per_pass`: `inv = inv_sqrt(var + eps)`
    /// is recomputed on every forward pass (else once, when the model is prepared).
    Mpc {
        /// Whether the inverse square root is part of every inference.
        per_pass: bool,
    },
    /// Public parameters, as TF-Encrypted's Keras layer keeps them: `(γ·(x − mean))·denom + β`,
    /// two truncated products, with `denom` computed in the clear when the model is loaded.
    Public,
}

impl BatchNormRun {
    /// Whether the layer costs anything (and has a level) under MPC.
    pub const fn in_mpc(self) -> bool {
        matches!(self, BatchNormRun::Mpc { .. })
    }
}

impl Deployment {
    /// Every deployment, default first.
    pub const ALL: &'static [Deployment] = &[
        Deployment::Crypten,
        Deployment::CryptenModules,
        Deployment::Folded,
        Deployment::TfEncrypted,
        Deployment::PySyft,
        Deployment::Spu,
    ];

    /// The name used on the command line and in JSON.
    pub const fn name(self) -> &'static str {
        match self {
            Deployment::Crypten => "crypten",
            Deployment::CryptenModules => "crypten-modules",
            Deployment::Folded => "folded",
            Deployment::TfEncrypted => "tfe",
            Deployment::PySyft => "pysyft",
            Deployment::Spu => "spu",
        }
    }

    /// One line on what it is.
    pub const fn about(self) -> &'static str {
        match self {
            Deployment::Crypten => "crypten.nn.from_pytorch: conv+BN fused in float32, BN1d under MPC per pass, Gemm alpha/beta, GELU as Div/Erf/Add/Mul/Mul",
            Deployment::CryptenModules => "a crypten.nn-module network: every batch norm under MPC (inv_sqrt once at eval())",
            Deployment::Folded => "every batch norm folded in f64 before encoding (idealised)",
            Deployment::TfEncrypted => "MPCDiff's tfe.keras model: batch norm public (denom in the clear), avg-pool x enc(1/k^2), dense x.W + b",
            Deployment::PySyft => "MPCDiff's PySyft model: batch norm under MPC per pass (no eps), avg-pool by per-share division, linear x.W + b",
            Deployment::Spu => "a jax model in SPU: batch norm (x - mean)·(gamma·rsqrt(var + eps)) + beta under MPC per pass, avg-pool x 0.25",
        }
    }

    /// What `framework` runs for a model written in its own front end: CrypTen's importer for
    /// a PyTorch model, MPCDiff's `tfe.keras` and PySyft models.
    pub const fn native(framework: Framework) -> Deployment {
        match framework {
            Framework::Crypten => Deployment::Crypten,
            Framework::TfEncrypted => Deployment::TfEncrypted,
            Framework::PySyft => Deployment::PySyft,
            Framework::Spu => Deployment::Spu,
        }
    }

    /// The deployment a run of `profile` uses when `self` is asked for: CrypTen's importer
    /// (the default) stands for the profile's framework's own deployment.
    pub const fn resolve(self, profile: &crate::approx::profile::Profile) -> Deployment {
        match (self, profile.numerics.framework) {
            (Deployment::Crypten, f) => Deployment::native(f),
            (d, _) => d,
        }
    }

    /// The deployment called `name`.
    pub fn by_name(name: &str) -> Option<Deployment> {
        Deployment::ALL.iter().copied().find(|d| d.name() == name)
    }

    /// How the batch norm at `index` of `spec` runs (`None` if that layer is not a batch
    /// norm).
    ///
    /// # Errors
    /// [`Error::InvalidShape`] for a batch norm that [`Deployment::Folded`] cannot fold (not
    /// after a conv or linear layer).
    pub fn batch_norm(self, spec: &Spec, index: usize) -> Result<Option<BatchNormRun>> {
        if !matches!(
            spec.layers.get(index).map(|l| l.kind),
            Some(Kind::BatchNorm { .. })
        ) {
            return Ok(None);
        }
        let prev = index.checked_sub(1).map(|p| spec.layers[p].kind);
        Ok(Some(match (self, prev) {
            (Deployment::Crypten, Some(Kind::Conv2d { .. })) => BatchNormRun::FusedF32,
            (Deployment::Crypten, _) => BatchNormRun::Mpc { per_pass: true },
            (Deployment::CryptenModules, _) => BatchNormRun::Mpc { per_pass: false },
            (Deployment::Folded, Some(Kind::Conv2d { .. } | Kind::Linear { .. })) => {
                BatchNormRun::FoldedF64
            }
            (Deployment::Folded, _) => {
                return Err(Error::InvalidShape {
                    what: "a batch norm to fold must follow a conv2d or linear layer",
                })
            }
            (Deployment::TfEncrypted, _) => BatchNormRun::Public,
            (Deployment::PySyft | Deployment::Spu, _) => BatchNormRun::Mpc { per_pass: true },
        }))
    }

    /// Whether the layer at `index` runs a nonlinear protocol under MPC (an activation, or a
    /// batch norm evaluated under MPC): the layers localization blames and repair tunes.
    pub fn nonlinear_in_mpc(self, spec: &Spec, index: usize) -> bool {
        match spec.layers.get(index).map(|l| l.kind) {
            Some(Kind::Act(_)) => true,
            Some(Kind::BatchNorm { .. }) => matches!(
                self.batch_norm(spec, index),
                Ok(Some(BatchNormRun::Mpc { .. }))
            ),
            _ => false,
        }
    }

    /// Whether linear layers are ONNX `Gemm` nodes (`(x·W)·α + b·β`, α = β = 1 public).
    pub const fn gemm(self) -> bool {
        matches!(self, Deployment::Crypten)
    }

    /// Whether average pooling multiplies the window sum by the encoded `1/(k·k)` (a public
    /// product, TF-Encrypted's `avgpool2d`) instead of dividing it by `k·k` (a truncation).
    pub const fn avg_pool_by_constant(self) -> bool {
        matches!(self, Deployment::TfEncrypted | Deployment::Spu)
    }

    /// Whether an MPC batch norm multiplies `γ` into the inverse standard deviation first
    /// (`(x − μ)·(γ·inv) + β`, flax's form) instead of CrypTen's `((x − μ)·inv)·γ + β`.
    pub const fn batch_norm_scale_first(self) -> bool {
        matches!(self, Deployment::Spu)
    }

    /// Whether an erf-form GELU runs as the exported `Div, Erf, Add, Mul, Mul` graph with the
    /// profile's erf (CrypTen's: its Taylor series; else as the profile's
    /// [`GeluImpl`](crate::approx::profile::GeluImpl)).
    pub const fn gelu_graph(self) -> bool {
        matches!(self, Deployment::Crypten)
    }

    /// Checks that the deployment can run every layer of `spec`.
    ///
    /// # Errors
    /// [`Error::Unsupported`] for a layer the framework's importer refuses (with
    /// [`Deployment::Crypten`], `tanh` and the tanh-form GELU: `from_pytorch` stops with
    /// "CrypTen does not support ONNX op Tanh"); the batch-norm errors of
    /// [`Deployment::batch_norm`].
    pub fn check(self, spec: &Spec) -> Result<()> {
        for (i, layer) in spec.layers.iter().enumerate() {
            self.batch_norm(spec, i)?;
            if self == Deployment::Crypten
                && matches!(
                    layer.kind,
                    Kind::Act(Activation::Tanh | Activation::GeluTanh)
                )
            {
                return Err(Error::Unsupported {
                    what: "crypten.nn.from_pytorch cannot import tanh or a tanh-form GELU (CrypTen has no ONNX Tanh importer); use the crypten-modules deployment",
                });
            }
        }
        Ok(())
    }
}

/// torch's Conv→BatchNorm fusion for one output channel, in `f32` as the exporter computes it:
/// `s = γ / sqrt(var + eps)`; returns `(s, b')` with `b' = β + s·(b − mean)`; the fused
/// weights are `w·s` (each product rounded to `f32`).
pub fn fuse_conv_bn_f32(
    gamma: f32,
    beta: f32,
    mean: f32,
    var: f32,
    eps: f32,
    bias: f32,
) -> (f32, f32) {
    let s = gamma / libm::sqrtf(var + eps);
    (s, beta + s * (bias - mean))
}
