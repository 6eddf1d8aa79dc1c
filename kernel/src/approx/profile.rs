//! Framework profiles: every approximation parameter, named, as data.
//!
//! A profile is what a framework's configuration (and its quirks that change numbers) amounts
//! to. Algorithms take their parameters from a profile, never from constants of their own, so
//! new frameworks (PySyft, TF-Encrypted, SecretFlow-SPU) are new values of [`Profile`], not new
//! code.

use super::levels::Level;

/// How a Newton–Raphson reciprocal starts.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum RecipInit {
    /// CrypTen's `3·exp(1 − 2x) + 0.003`, with `iters_exp` squarings in the exp.
    Crypten {
        /// Squarings of the limit exp in the initial guess.
        iters_exp: u8,
    },
    /// A public constant `y0` (the first step is then `2·y0 − y0²·x`, all public but one product).
    Const(f64),
}

/// Reciprocal parameters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RecipParams {
    /// Newton–Raphson steps.
    pub iters_nr: u8,
    /// The initial guess.
    pub init: RecipInit,
    /// Skip the sign handling (inputs known positive).
    pub all_pos: bool,
}

/// Inverse square root parameters (CrypTen's initial guess `2.2·exp(−(x/2 + 0.2)) + 0.2 − x/1024`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct InvSqrtParams {
    /// Newton–Raphson steps.
    pub iters_nr: u8,
    /// Squarings of the limit exp in the initial guess.
    pub iters_exp: u8,
}

/// Natural logarithm parameters (Householder iterations from CrypTen's initial guess).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LogParams {
    /// Householder iterations.
    pub iters: u8,
    /// Squarings of the exp inside each iteration.
    pub iters_exp: u8,
    /// Squarings of the exp in the initial guess (CrypTen: the global `exp_iterations`).
    pub iters_exp_init: u8,
    /// Order of the Householder polynomial.
    pub order: u8,
}

/// How sigmoid and tanh are computed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum SigmoidMethod {
    /// `1 / (1 + exp(−|x|))` by a Newton reciprocal from the constant `nr_init`, mirrored for
    /// negative inputs (CrypTen's default). Levels give the exp squarings and Newton steps.
    Reciprocal {
        /// The Newton starting point (CrypTen: 0.75).
        nr_init: f64,
        /// The final choice between `p` and `1 − p` as CrypTen's `where` computes it,
        /// `p·c + (1 − p)·(1 − c)`: two products in two rounds, where the select
        /// `q + c·(p − q)` needs one. The values are identical (a product by a 0/1 bit is
        /// exact); only the cost differs, and CrypTen's communicator counts its way.
        crypten_where: bool,
    },
    /// tanh by an odd Chebyshev series fitted on [−1, 1], clipped to [−1, 1];
    /// `sigmoid(x) = tanh(x/2)/2 + 1/2`.
    Chebyshev {
        /// Number of Chebyshev terms (even, ≥ 6); only the odd ones are used.
        terms: u8,
    },
}

/// Integer powers inside erf.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PowMode {
    /// Correct `x^p`.
    Exact,
    /// CrypTen 0.4.1's `pow`: for odd `p ≥ 5` it computes `x^(3(p−1)/2)`.
    CryptenBug,
}

/// erf by its Taylor series.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ErfParams {
    /// Terms after the linear one (CrypTen: `erf_iterations` = 8).
    pub terms: u8,
    /// How the odd powers are computed.
    pub pow: PowMode,
}

/// The levels a repair plan chooses from.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RepairLevels {
    /// For neurons voted most error-prone.
    pub high: Level,
    /// The default.
    pub medium: Level,
    /// For neurons voted least error-prone (cheaper).
    pub low: Level,
}

/// How a model's erf-form GELU layers are evaluated under MPC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GeluImpl {
    /// The tanh form (what the MPCDiff artifact ran in every framework: the plaintext model's
    /// erf GELU and the MPC model's tanh GELU differ by up to 4.7e−4 even in exact math).
    TanhForm,
    /// The erf form with the bounded erf (the same function as the plaintext model).
    ErfBounded,
}

/// A framework's approximation parameters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Profile {
    /// Name used on the command line and in JSON.
    pub name: &'static str,
    /// One line on where the numbers come from.
    pub about: &'static str,
    /// `exp` squarings (CrypTen `functions.exp_iterations`).
    pub exp_iters: u8,
    /// Reciprocal.
    pub reciprocal: RecipParams,
    /// Inverse square root (also sqrt, and batch norm's `1/√var`).
    pub inv_sqrt: InvSqrtParams,
    /// Logarithm.
    pub log: LogParams,
    /// Sigmoid/tanh method.
    pub sigmoid: SigmoidMethod,
    /// The default sigmoid level (exp squarings, Newton steps).
    pub sigmoid_level: Level,
    /// erf.
    pub erf: ErfParams,
    /// Reciprocal inside softmax (always on positive sums).
    pub softmax_reciprocal: RecipParams,
    /// Repair levels for sigmoid-like neurons.
    pub repair: RepairLevels,
    /// How `gelu_erf` layers run under MPC.
    pub gelu: GeluImpl,
}

/// Stock CrypTen 0.4.1 (`configs/default.yaml`), quirks included: sigmoid's exp uses the global
/// 8 squarings while its reciprocal is hard-wired to 3 Newton steps from 0.75 (the `exp_iterations:
/// 9` override is dead code), and erf uses the buggy `pow`.
pub const CRYPTEN: Profile = Profile {
    name: "crypten",
    about: "stock CrypTen 0.4.1 defaults (sigmoid exp 8 / NR 3 from 0.75, NR reciprocal 10, inv_sqrt 3, buggy pow in erf)",
    exp_iters: 8,
    reciprocal: RecipParams { iters_nr: 10, init: RecipInit::Crypten { iters_exp: 8 }, all_pos: false },
    inv_sqrt: InvSqrtParams { iters_nr: 3, iters_exp: 8 },
    log: LogParams { iters: 2, iters_exp: 8, iters_exp_init: 8, order: 8 },
    sigmoid: SigmoidMethod::Reciprocal { nr_init: 0.75, crypten_where: true },
    sigmoid_level: Level::new(8, 3),
    erf: ErfParams { terms: 8, pow: PowMode::CryptenBug },
    softmax_reciprocal: RecipParams { iters_nr: 10, init: RecipInit::Crypten { iters_exp: 8 }, all_pos: true },
    repair: RepairLevels { high: Level::new(9, 9), medium: Level::new(8, 3), low: Level::new(3, 3) },
    gelu: GeluImpl::TanhForm,
};

/// The MPCDiff artifact's baseline: CrypTen with sigmoid's exp and reciprocal both under an
/// override (exp 6 / NR 6 from 0.75); repair levels high 9/9, low 3/3; batch norm's inverse
/// square root 3 steps (6 for "high" neurons).
pub const MPCDIFF: Profile = Profile {
    name: "mpcdiff",
    about: "MPCDiff artifact baseline (CrypTen with sigmoid exp 6 / NR 6 from 0.75; repair 9/9 high, 3/3 low)",
    sigmoid_level: Level::new(6, 6),
    repair: RepairLevels { high: Level::new(9, 9), medium: Level::new(6, 6), low: Level::new(3, 3) },
    ..CRYPTEN
};

/// CrypTen with `sigmoid_tanh_method: chebyshev` (32 terms).
pub const CRYPTEN_CHEBYSHEV: Profile = Profile {
    name: "crypten-chebyshev",
    about: "CrypTen 0.4.1 with sigmoid_tanh_method = chebyshev, 32 terms (fitted on [-1, 1])",
    sigmoid: SigmoidMethod::Chebyshev { terms: 32 },
    ..CRYPTEN
};

/// Every built-in profile.
pub const PROFILES: &[&Profile] = &[&CRYPTEN, &MPCDIFF, &CRYPTEN_CHEBYSHEV];

/// The built-in profile called `name`.
pub fn by_name(name: &str) -> Option<&'static Profile> {
    PROFILES.iter().copied().find(|p| p.name == name)
}
