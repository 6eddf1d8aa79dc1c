//! Flag values shared by several commands, and their parsers: one place, below the commands
//! and the engine that use them (nothing here imports from `cmd` or `engine`).

use clap::ValueEnum;
use mpcdiff_kernel::approx::profile::{self, Profile};
use mpcdiff_kernel::nn::deploy::Deployment;
use mpcdiff_kernel::{Engine, TruncMode};
use serde::{Deserialize, Serialize};

use crate::error::{usage, UsageError};

/// The truncation protocol of the shared arithmetic, as a flag value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum TruncArg {
    /// Share-local truncation, as CrypTen does with two parties (rare wrap catastrophes).
    Local,
    /// Dealer-assisted truncation (one more round; no wrap catastrophe).
    Dealer,
    /// Exact stochastic rounding (TF-Encrypted's interactive truncation), as its ideal
    /// functionality.
    Sr,
    /// Stochastic rounding biased by one unit of the numerator (SPU's TruncAPr2).
    Sr1,
    /// Both shares floor-divided (SPU's TruncA), wrap errors included.
    Fl,
    /// Stochastic rounding minus a fair bit (SPU's Cheetah, measured).
    Ch,
}

impl TruncArg {
    /// The kernel's truncation mode.
    pub fn mode(self) -> TruncMode {
        use mpcdiff_kernel::protocols::laws::TruncationLaw as L;
        match self {
            TruncArg::Local => TruncMode::Local,
            TruncArg::Dealer => TruncMode::Dealer,
            TruncArg::Sr => TruncMode::Law(L::StochasticRounding),
            TruncArg::Sr1 => TruncMode::Law(L::StochasticRoundingPlusOne),
            TruncArg::Fl => TruncMode::Law(L::ArithmeticShiftBoth),
            TruncArg::Ch => TruncMode::Law(L::Cheetah),
        }
    }

    /// The flag value of a kernel mode.
    pub fn of(mode: TruncMode) -> TruncArg {
        TruncArg::value_variants()
            .iter()
            .copied()
            .find(|t| t.mode().name() == mode.name())
            .unwrap_or(TruncArg::Local)
    }

    /// The flag value's name (`local`, `dealer`, `sr`, `sr1`, `fl`, `ch`).
    pub fn name(self) -> &'static str {
        self.mode().name()
    }
}

/// What the framework turns the model into ([`Deployment`]), as a flag.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeployArg {
    /// What `crypten.nn.from_pytorch` runs: conv+BN fused in float32, BN1d under MPC on every
    /// pass, Gemm alpha/beta, GELU as Div/Erf/Add/Mul/Mul with CrypTen's erf.
    Crypten,
    /// A network written with `crypten.nn` modules: every batch norm under MPC.
    CryptenModules,
    /// Every batch norm folded into the previous layer in f64 before encoding (idealised).
    Folded,
    /// MPCDiff's tfe.keras model in TF-Encrypted: batch norm public, avg-pool times enc(1/k²).
    Tfe,
    /// MPCDiff's PySyft model: batch norm under MPC on every pass, linear x·W + b.
    Pysyft,
    /// A jax model in SPU: flax batch norm under MPC on every pass, avg-pool times 0.25.
    Spu,
}

impl DeployArg {
    /// The kernel's deployment.
    pub fn deployment(self) -> Deployment {
        match self {
            DeployArg::Crypten => Deployment::Crypten,
            DeployArg::CryptenModules => Deployment::CryptenModules,
            DeployArg::Folded => Deployment::Folded,
            DeployArg::Tfe => Deployment::TfEncrypted,
            DeployArg::Pysyft => Deployment::PySyft,
            DeployArg::Spu => Deployment::Spu,
        }
    }

    /// The flag value of a kernel deployment.
    pub fn of(d: Deployment) -> DeployArg {
        DeployArg::value_variants()
            .iter()
            .copied()
            .find(|a| a.deployment() == d)
            .unwrap_or(DeployArg::Crypten)
    }
}

/// How the two-party arithmetic is simulated ([`Engine`]), as a flag.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EngineArg {
    /// Every protocol message by message: the reference (and what --seed replays).
    #[default]
    Protocol,
    /// Ideal functionalities (fresh shares of exact results): the same law of results and the
    /// same cost ledger, several times faster; other draws, so other samples for a seed.
    Ideal,
}

impl EngineArg {
    /// The kernel's engine.
    pub fn engine(self) -> Engine {
        match self {
            EngineArg::Protocol => Engine::Protocol,
            EngineArg::Ideal => Engine::Ideal,
        }
    }

    /// Whether it is the default (left out of recorded specs, so older ones read the same).
    pub fn is_default(&self) -> bool {
        *self == EngineArg::default()
    }
}

/// The built-in profile called `name` (`--profile`).
/// The truncation a command runs `profile` with ([`Profile::resolve_trunc`]).
pub fn resolve_trunc(profile: &Profile, trunc: TruncArg) -> TruncArg {
    TruncArg::of(profile.resolve_trunc(trunc.mode()))
}

/// The profile's fixed-point format at `digits` fractional digits of its base.
///
/// # Errors
/// A usage error naming `--frac-bits`.
pub fn format(profile: &Profile, digits: u32) -> Result<mpcdiff_kernel::FixedPoint, UsageError> {
    profile
        .format(digits)
        .map_err(|e| usage!("--frac-bits: {e}"))
}

pub fn parse_profile(name: &str) -> Result<&'static Profile, UsageError> {
    profile::by_name(name).ok_or_else(|| {
        let names: Vec<&str> = profile::PROFILES.iter().map(|p| p.name).collect();
        usage!(
            "--profile {name:?} is not a known profile (one of: {})",
            names.join(", ")
        )
    })
}
