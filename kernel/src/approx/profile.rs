//! Framework profiles: every approximation parameter, named, as data.
//!
//! A profile is what a framework's configuration (and its quirks that change numbers) amounts
//! to. Algorithms take their parameters from a profile, never from constants of their own, so
//! new frameworks (PySyft, TF-Encrypted, SecretFlow-SPU) are new values of [`Profile`], not new
//! code.

use super::levels::Level;
use crate::encoding::RingWidth;
use crate::fixed::FixedPoint;
use crate::protocols::laws::{SignTest, TruncationLaw};
use crate::protocols::truncation::TruncMode;

/// How a reciprocal starts: a Newton–Raphson start, or SPU's normalised Goldschmidt division
/// (whose start and iteration differ from Newton's).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum RecipInit {
    /// CrypTen's `3·exp(1 − 2x) + 0.003`, with `iters_exp` squarings in the exp.
    Crypten {
        /// Squarings of the limit exp in the initial guess.
        iters_exp: u8,
    },
    /// A public constant `y0` (the first step is then `2·y0 − y0²·x`, all public but one product).
    Const(f64),
    /// PySyft 0.2.9's `reciprocal(method="nr")` start as MPCDiff set it:
    /// `3·exp(0.5 − x) + 0.003`, with `iters_exp` squarings in the exp (`frameworks.md` §2.6).
    PySyft {
        /// Squarings of the limit exp in the initial guess (MPCDiff: 6).
        iters_exp: u8,
    },
    /// SPU 0.9.5's Goldschmidt division (`reciprocal_goldschmidt`, what `jnp.reciprocal` and
    /// `1.0 / x` run): the input normalised to `c ∈ [1/2, 1)` by its highest set bit, the start
    /// `2.9142 − 2c`, then `iters_nr` Goldschmidt iterations `r ← r·(1 + e)`, `e ← e²` instead
    /// of Newton steps, and the normalisation undone
    /// ([`super::reciprocal::reciprocal_goldschmidt`]; `frameworks.md` §3.5).
    Goldschmidt,
}

/// How the limit exp divides `x` by 2^n before squaring.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExpDivide {
    /// By a truncation (CrypTen's `div(2**n)`, PySyft's per-share `/`, SPU's `_trunc`).
    Truncate,
    /// By multiplying with the encoded constant `1/2^n` (TF-Encrypted's `x / 2**n`): at 3^5,
    /// `1/32` encodes to 7/243, so the exp computes `exp(0.92x)` (`frameworks.md` §1.2).
    Constant,
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

/// Inverse square root parameters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct InvSqrtParams {
    /// Newton–Raphson steps.
    pub iters_nr: u8,
    /// Squarings of the limit exp in the initial guess (CrypTen's method only).
    pub iters_exp: u8,
    /// Which iteration.
    pub method: InvSqrtMethod,
}

/// The inverse square root's iteration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InvSqrtMethod {
    /// CrypTen: start `2.2·exp(−(x/2 + 0.2)) + 0.2 − x/1024`, then `y ← y·(3 − x·y²)/2`.
    Crypten,
    /// SPU 0.9.5's `f_rsqrt`: `u = x·2^(f−m−2) ∈ [1/4, 1/2)` from the highest set bit `m`,
    /// the degree-4 polynomial `26.02942339u⁴ − 49.86605845u³ + 38.4714796u² − 15.47994394u +
    /// 4.14285016` (`f32` coefficients, evaluated as [`super::polynomial`], the constant added
    /// after its truncation, as SPU does), times the compensation `2^((f−m−2)/2)` (√2 for odd
    /// exponents as SPU holds it, `⌊√2·2^(f/2)⌋/2^(f/2)`); no Newton step, no level
    /// (`frameworks.md` §3.5).
    Spu,
    /// PySyft 0.2.9's `reciprocal(method="newton")` (which computes 1/√x despite its name):
    /// `C = 20`, start `(C + 1 − x)/C`, then `y ← (C + 1 − x·y²)·y / C` — linear convergence
    /// (factor 0.9 near the root), only `x < 21` works (`frameworks.md` §2.6).
    PySyftNewton,
}

/// How the natural logarithm is computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogMethod {
    /// CrypTen's Householder iterations from its exp-based start (the other [`LogParams`]
    /// fields).
    Householder,
    /// SPU 0.9.5's `log_minmax` (its default `fxp_log_mode` MINMAX): `x = u·2^e` with
    /// `u ∈ [1, 2)` from the highest set bit, `ln x = p(u − 1) + e·ln 2` with SPU's degree-8
    /// minimax polynomial for `ln(1 + t)` on [0, 1]; no iteration (the other fields unused).
    SpuMinmax,
}

/// Natural logarithm parameters (Householder iterations from CrypTen's initial guess, unless
/// `method` says otherwise).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LogParams {
    /// The method; the fields below are the Householder method's.
    pub method: LogMethod,
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
    /// MPCDiff's sigmoid for TF-Encrypted and PySyft: `1 / (1 + exp(−|x|))` mirrored with one
    /// select (`select(b, p, 1 − p)`), the exp dividing as `divide` says, the Newton reciprocal
    /// starting from `init`; tanh is `2σ(2x) − 1`. Levels give the exp squarings and Newton
    /// steps (`frameworks.md` §1.6, §2.6).
    Limit {
        /// How the exp divides by 2^n.
        divide: ExpDivide,
        /// The Newton start.
        init: RecipInit,
    },
    /// What `jax.nn.sigmoid` runs under SPU 0.9.5 (jax lowers it to `1 / (1 + exp(−x))`,
    /// whatever SPU's `sigmoid_mode` says): the limit exp with `x/2^n` by a truncation, then
    /// SPU's Goldschmidt reciprocal (normalised by the highest set bit). Levels give the exp
    /// squarings and the Goldschmidt iterations (`frameworks.md` §3.5). Not mirrored: for
    /// very negative inputs `exp(−x)` overflows the ring (x ≲ −20 at 2^18). tanh is SPU's own
    /// `f_tanh`: a degree-17 Chebyshev series on [−5, 5] after a clamp.
    Logistic,
    /// PySyft 0.2.9's default (`sigmoid(method="chebyshev")`): `tanh(x/2)/2 + 1/2` with tanh an
    /// odd 32-term Chebyshev series fitted on [−6, 6] (`u = t/6` as a public division), gated
    /// to ±1 outside by exact comparisons (`t > 6`, `−t > 6`); tanh is the series itself
    /// (`frameworks.md` §2.6).
    PySyftChebyshev,
    /// TF-Encrypted 0.7.0's Pond polynomials (its `sigmoid` and `tanh`, which SecureNN keeps):
    /// σ: `w0 + w1·x + w3·x³ + … + w9·x⁹`, tanh: degree 7; each term a public product,
    /// truncated on its own (`frameworks.md` §1.6). Diverges beyond |x| ≈ 6–8.
    Pond,
}

/// Integer powers inside erf.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PowMode {
    /// Correct `x^p`.
    Exact,
    /// CrypTen 0.4.1's `pow`: for odd `p ≥ 5` it computes `x^(3(p−1)/2)`.
    CryptenBug,
}

/// How erf is computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErfMethod {
    /// The Taylor series of [`ErfParams`] (CrypTen's).
    Taylor,
    /// SPU 0.9.5's `f_erf` (Abramowitz–Stegun 7.1.27):
    /// `1 − (1 + 0.278393|x| + 0.230389x² + 0.000972|x|³ + 0.078108x⁴)^−4` by two squarings and
    /// the positive Goldschmidt reciprocal, 1 for `|x| ≥ 3`, the sign by a mux.
    Spu {
        /// Goldschmidt iterations of the reciprocal (SPU: `fxp_div_goldschmidt_iters` = 2).
        goldschmidt_iters: u8,
    },
}

/// erf parameters: the method, and the Taylor series' terms and powers.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ErfParams {
    /// The method; `terms` and `pow` are the Taylor series'.
    pub method: ErfMethod,
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
    /// The tanh form as MPCDiff wrote it for TF-Encrypted and PySyft, evaluated left to right:
    /// `u = (x·c1)·((x·x)·c2 + 1)`, `x·(tanh(u) + 1)` halved by the encoded 0.5
    /// (TF-Encrypted: 121/243 at 3^5) or by a division by 2 (PySyft's `.div(2)`)
    /// (`frameworks.md` §1.6, §2.6). Also used for the model's tanh-form GELU layers.
    TanhFactored {
        /// Halve by multiplying with the encoded 0.5 (else by a truncation by 2).
        halve_by_constant: bool,
    },
    /// The tanh form as `jax.nn.gelu(approximate=True)` lowers it (SPU):
    /// `x·(0.5·(tanh(0.79788456·(x + 0.044715·((x·x)·x))) + 1))`.
    TanhJax,
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
    /// The framework's arithmetic: format, truncation, sign test.
    pub numerics: Numerics,
}

/// What a framework's arithmetic is, beside its approximations: the fixed-point format the
/// model is encoded in, how shares are truncated after a product, and how signs are tested.
/// A target may override the format's precision and the truncation (command-line flags); these
/// are the defaults the framework runs with.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Numerics {
    /// The framework.
    pub framework: Framework,
    /// The fixed-point format.
    pub fp: FixedPoint,
    /// The truncation after a product.
    pub trunc: TruncMode,
    /// The sign test of comparisons.
    pub sign: SignTest,
}

impl Numerics {
    /// CrypTen 0.4.1 with two parties: 2^16, share-local truncation, exact comparisons.
    pub const CRYPTEN: Numerics = Numerics {
        framework: Framework::Crypten,
        fp: FixedPoint::CRYPTEN_DEFAULT,
        trunc: TruncMode::Local,
        sign: SignTest::Exact,
    };
}

impl Profile {
    /// The fractional digits a run of this profile uses when `frac_bits` are asked for:
    /// CrypTen's default (16) stands for the profile's own precision (3^5 for `tfe-mpcdiff`,
    /// say); any other value is taken as digits of the profile's base. The command line and
    /// the page both resolve their settings this way.
    pub fn resolve_digits(&self, frac_bits: u32) -> u32 {
        if self.numerics.framework != Framework::Crypten
            && frac_bits == FixedPoint::CRYPTEN_DEFAULT.frac_bits()
        {
            self.numerics.fp.frac_bits()
        } else {
            frac_bits
        }
    }

    /// The truncation a run of this profile uses when `trunc` is asked for: CrypTen's default
    /// (share-local) stands for the profile's own; any other mode is taken as asked.
    pub fn resolve_trunc(&self, trunc: TruncMode) -> TruncMode {
        if self.numerics.framework != Framework::Crypten && trunc == TruncMode::Local {
            self.numerics.trunc
        } else {
            trunc
        }
    }

    /// The profile's format at `digits` fractional digits of its base.
    ///
    /// # Errors
    /// As [`FixedPoint::with_scale`].
    pub fn format(&self, digits: u32) -> crate::error::Result<FixedPoint> {
        let own = self.numerics.fp;
        own.with_scale(own.base(), digits)
    }
}

/// The MPC framework a profile simulates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Framework {
    /// CrypTen 0.4.1 (Meta).
    Crypten,
    /// TF-Encrypted 0.7.0 (Cape Privacy), SecureNN.
    TfEncrypted,
    /// PySyft 0.2.9 (OpenMined), SecureNN comparisons.
    PySyft,
    /// SecretFlow-SPU 0.9.5 (Ant Group), SEMI2K two-party.
    Spu,
}

impl Framework {
    /// The name used in JSON.
    pub const fn name(self) -> &'static str {
        match self {
            Framework::Crypten => "crypten",
            Framework::TfEncrypted => "tf-encrypted",
            Framework::PySyft => "pysyft",
            Framework::Spu => "spu",
        }
    }
}

/// A format the built-in profiles use (a constant that is in range by construction).
const fn format(fp: crate::error::Result<FixedPoint>) -> FixedPoint {
    match fp {
        Ok(fp) => fp,
        Err(_) => panic!("a built-in format is in range"),
    }
}

/// Stock CrypTen 0.4.1 (`configs/default.yaml`), quirks included: sigmoid's exp uses the global
/// 8 squarings while its reciprocal is hard-wired to 3 Newton steps from 0.75 (the `exp_iterations:
/// 9` override is dead code), and erf uses the buggy `pow`.
pub const CRYPTEN: Profile = Profile {
    name: "crypten",
    about: "stock CrypTen 0.4.1 defaults (sigmoid exp 8 / NR 3 from 0.75, NR reciprocal 10, inv_sqrt 3, buggy pow in erf)",
    exp_iters: 8,
    reciprocal: RecipParams { iters_nr: 10, init: RecipInit::Crypten { iters_exp: 8 }, all_pos: false },
    inv_sqrt: InvSqrtParams { iters_nr: 3, iters_exp: 8, method: InvSqrtMethod::Crypten },
    log: LogParams { method: LogMethod::Householder, iters: 2, iters_exp: 8, iters_exp_init: 8, order: 8 },
    sigmoid: SigmoidMethod::Reciprocal { nr_init: 0.75, crypten_where: true },
    sigmoid_level: Level::new(8, 3),
    erf: ErfParams { method: ErfMethod::Taylor, terms: 8, pow: PowMode::CryptenBug },
    softmax_reciprocal: RecipParams { iters_nr: 10, init: RecipInit::Crypten { iters_exp: 8 }, all_pos: true },
    repair: RepairLevels { high: Level::new(9, 9), medium: Level::new(8, 3), low: Level::new(3, 3) },
    gelu: GeluImpl::TanhForm,
    numerics: Numerics::CRYPTEN,
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

/// TF-Encrypted 0.7.0 as MPCDiff ran it (`TFEncrypted/` of the artifact): SecureNN, scale 3^5,
/// exact stochastic rounding, the −1 sign quirk, and MPCDiff's sigmoid (exp by the encoded
/// constant 1/2^E, Newton from 0.75, one select) at levels medium 4/1 (the baseline), high 5/4,
/// low 3/2 (`frameworks.md` §1, `mpcdiff-artifact.md` §5). Deploy with `tfe` (batch norm public,
/// average pooling by the encoded 1/4).
pub const TFE_MPCDIFF: Profile = Profile {
    name: "tfe-mpcdiff",
    about: "TF-Encrypted 0.7.0 as MPCDiff patched it (SecureNN, 3^5, SR truncation, sigmoid exp 4 / NR 1 from 0.75; repair 5/4 high, 3/2 low)",
    sigmoid: SigmoidMethod::Limit { divide: ExpDivide::Constant, init: RecipInit::Const(0.75) },
    sigmoid_level: Level::new(4, 1),
    repair: RepairLevels { high: Level::new(5, 4), medium: Level::new(4, 1), low: Level::new(3, 2) },
    gelu: GeluImpl::TanhFactored { halve_by_constant: true },
    numerics: Numerics {
        framework: Framework::TfEncrypted,
        fp: format(FixedPoint::tf_encrypted(5)),
        trunc: TruncMode::Law(TruncationLaw::StochasticRounding),
        sign: SignTest::MinusOneNonNegative,
    },
    ..CRYPTEN
};

/// Stock TF-Encrypted 0.7.0: scale 3^8 and Pond's polynomial sigmoid (which diverges for
/// |x| ≳ 8: the recorded LeNet gets 308 of 1,000 test images right).
pub const TFE: Profile = Profile {
    name: "tfe",
    about: "stock TF-Encrypted 0.7.0 (SecureNN, 3^8, SR truncation, Pond's degree-9 polynomial sigmoid)",
    sigmoid: SigmoidMethod::Pond,
    numerics: Numerics {
        fp: format(FixedPoint::tf_encrypted(8)),
        ..TFE_MPCDIFF.numerics
    },
    ..TFE_MPCDIFF
};

/// Stock PySyft 0.2.9: base 10 with 3 digits, float32 encoding and decoding, share-local
/// truncation, the Chebyshev sigmoid on [−6, 6] gated outside, and batch norm's `newton` inverse
/// square root with 80 iterations (`frameworks.md` §2). Deploy with `pysyft`.
pub const PYSYFT: Profile = Profile {
    name: "pysyft",
    about: "stock PySyft 0.2.9 (10^3, local truncation, Chebyshev sigmoid on [-6, 6] gated, BN newton 80)",
    sigmoid: SigmoidMethod::PySyftChebyshev,
    inv_sqrt: InvSqrtParams { iters_nr: 80, iters_exp: 0, method: InvSqrtMethod::PySyftNewton },
    numerics: Numerics {
        fp: format(FixedPoint::pysyft(10, 3)),
        ..PYSYFT_MPCDIFF.numerics
    },
    ..PYSYFT_MPCDIFF
};

/// PySyft 0.2.9 as MPCDiff ran it (`PySyft/` of the artifact): base 2 with 16 bits, share-local
/// truncation (each share's `/`), float32 encoding and decoding, MPCDiff's exp sigmoid (exp by a
/// truncation, Newton from `3·exp_6(0.5 − d) + 0.003`) at 6/6 (high 9/9, low 3/3), and batch
/// norm's `newton` inverse square root with 50 iterations (`frameworks.md` §2). Deploy with
/// `pysyft`. (For Bank MPCDiff used 12 bits: `--frac-bits 12`.)
pub const PYSYFT_MPCDIFF: Profile = Profile {
    name: "pysyft-mpcdiff",
    about: "PySyft 0.2.9 as MPCDiff patched it (2^16, local truncation, sigmoid exp 6 / NR 6 from 3exp6(0.5-d)+0.003, BN newton 50; repair 9/9 high, 3/3 low)",
    sigmoid: SigmoidMethod::Limit { divide: ExpDivide::Truncate, init: RecipInit::PySyft { iters_exp: 6 } },
    sigmoid_level: Level::new(6, 6),
    inv_sqrt: InvSqrtParams { iters_nr: 50, iters_exp: 0, method: InvSqrtMethod::PySyftNewton },
    repair: RepairLevels { high: Level::new(9, 9), medium: Level::new(6, 6), low: Level::new(3, 3) },
    gelu: GeluImpl::TanhFactored { halve_by_constant: false },
    numerics: Numerics {
        framework: Framework::PySyft,
        fp: format(FixedPoint::pysyft(2, 16)),
        trunc: TruncMode::Local,
        sign: SignTest::Exact,
    },
    ..CRYPTEN
};

/// SecretFlow-SPU 0.9.5 as a user's jax model runs it (`spu.utils.simulation`, SEMI2K two
/// parties, FM64): scale 2^18, saturating encoder, truncation `TruncAPr2` (law SR+1), exact
/// MSB comparisons, `jax.nn.sigmoid` = `1/(1 + exp(−x))` with the limit exp (8 squarings, `x/2^8`
/// by a truncation) and the Goldschmidt reciprocal (2 iterations), which is also the
/// standalone reciprocal (`1.0 / x`, `jnp.reciprocal`), batch norm's `rsqrt` by SPU's
/// polynomial, tanh (and jax's tanh-form GELU) by SPU's Chebyshev series, erf
/// (`jax.scipy.special.erf`) by SPU's `f_erf` and `jnp.log` by SPU's `log_minmax`. Deploy with
/// `spu`. [`SPU_FM128`] is the same recipe in SecretFlow's default field. Not modelled: SPU's
/// other exp and log modes, its `sqrt` (rsqrt and a Goldschmidt step; here `x·rsqrt`) and its
/// softmax's division (`div_goldschmidt_general`; here CrypTen's Newton reciprocal).
pub const SPU: Profile = Profile {
    name: "spu",
    about: "SecretFlow-SPU 0.9.5 SEMI2K 2PC FM64 (2^18, TruncAPr2 = SR+1, sigmoid 1/(1+exp8(-x)) and reciprocal by Goldschmidt 2, rsqrt polynomial, erf A&S 7.1.27, log minimax)",
    exp_iters: 8,
    reciprocal: RecipParams { iters_nr: 2, init: RecipInit::Goldschmidt, all_pos: false },
    // SPU's config also sets `fxp_log_iters` 3 and `fxp_log_orders` 8, read only by its
    // Householder mode
    log: LogParams { method: LogMethod::SpuMinmax, iters: 3, iters_exp: 8, iters_exp_init: 8, order: 8 },
    erf: ErfParams { method: ErfMethod::Spu { goldschmidt_iters: 2 }, terms: 8, pow: PowMode::Exact },
    sigmoid: SigmoidMethod::Logistic,
    sigmoid_level: Level::new(8, 2),
    gelu: GeluImpl::TanhJax,
    inv_sqrt: InvSqrtParams { iters_nr: 0, iters_exp: 0, method: InvSqrtMethod::Spu },
    repair: RepairLevels { high: Level::new(10, 3), medium: Level::new(8, 2), low: Level::new(6, 1) },
    numerics: Numerics {
        framework: Framework::Spu,
        fp: format(FixedPoint::spu(18)),
        trunc: TruncMode::Law(TruncationLaw::StochasticRoundingPlusOne),
        sign: SignTest::Exact,
    },
    ..CRYPTEN
};

/// SecretFlow-SPU 0.9.5 in SecretFlow's own default field: SEMI2K two parties, **FM128**
/// (Z_2^128, scale 2^26: `fxp_fraction_bits`' default for FM128), otherwise [`SPU`]'s recipe
/// (the same kernels, levels and truncation law; SPU's `TruncAPr2` is SR+1 in either field).
/// The arithmetics run it in Z_2^128 ([`crate::ring::Word`] `i128`), as the real package does:
/// the pre-truncation range is 2^126, so products and the limit exp's squarings that overflow
/// FM64 (exp past x ≈ 19) do not here.
pub const SPU_FM128: Profile = Profile {
    name: "spu-fm128",
    about: "SecretFlow-SPU 0.9.5 SEMI2K 2PC FM128 (Z_2^128, 2^26, TruncAPr2 = SR+1; recipe as spu)",
    numerics: Numerics {
        fp: format(FixedPoint::spu(26)).with_ring(RingWidth::Z128),
        ..SPU.numerics
    },
    ..SPU
};

/// Every built-in profile.
pub const PROFILES: &[&Profile] = &[
    &CRYPTEN,
    &MPCDIFF,
    &CRYPTEN_CHEBYSHEV,
    &TFE,
    &TFE_MPCDIFF,
    &PYSYFT,
    &PYSYFT_MPCDIFF,
    &SPU,
    &SPU_FM128,
];

/// The built-in profile called `name`.
pub fn by_name(name: &str) -> Option<&'static Profile> {
    PROFILES.iter().copied().find(|p| p.name == name)
}
