//! Nonlinear approximations, written once against [`Arith`], with tunable levels.
//!
//! Each function follows the exact operation sequence of its reference implementation
//! (CrypTen 0.4.1 unless noted), so that [`crate::Fixed`] reproduces CrypTen's one-party ring
//! integers bit for bit, [`crate::Float`] gives the same algorithm in ideal math, and
//! [`crate::Shared`] adds the share randomness. Every parameter is named and comes from a
//! [`Profile`]; iterative ones can be set per element with [`Levels`].
//!
//! Buffers: each function takes a scratch slice of elements (its `scratch_elems*` says how many;
//! [`scratch_elems`] bounds them all) and, in [`crate::Shared`], needs an arena of
//! [`crate::Shared::scratch_words_elementwise`]`(4·n)` words.
//!
//! # Error budgets (f = 16, `crypten` profile unless a level is given)
//! Largest error of each stage over the range; enforced by this module's tests
//! (`approx/tests.rs`; budgets there are these figures with a margin). "rel" rows are relative to |f(x)|;
//! shared − fixed is in ring units (2^−16) over 3 MPC seeds.
//!
//! | function | level (exp/NR) | range | float − exact | fixed − float | shared − fixed |
//! |---|---|---|---|---|---|
//! | exp | 8 | [−5, 5] rel | 4.8e−2 | 6.8e−3 | 6.3e4 (≈ 1 LSB relative at e^5) |
//! | reciprocal | NR 10 | [0.1, 10] rel | 3.7e−8 | 1.5e−3 | 17 |
//! | inv_sqrt | 8/3 | [0.1, 100] rel | 4.9e−3 | 6.9e−4 | 32 |
//! | sqrt | 8/3 | [0.1, 100] rel | 4.9e−3 | 6.9e−4 | 900 |
//! | log | 2 × (8, order 8) | [0.1, 100] | 3.9e−2 | 5.0e−3 | 519 |
//! | sigmoid | 8/3 (stock) | [−20, 20] | 2.0e−3 | 7.8e−4 | 66 |
//! | sigmoid | 6/6 (MPCDiff) | [−20, 20] | 3.5e−3 | 1.9e−4 | 18 |
//! | sigmoid | 9/9 (repair high) | [−20, 20] | 4.3e−4 | **1.7e−3** | 129 |
//! | sigmoid | 3/3 (repair low) | [−15, 15] | 2.6e−1 | 7.2e−5 | 6 |
//! | tanh | 8/3 | [−10, 10] | 3.9e−3 | 1.6e−3 | 128 |
//! | erf (CrypTen, pow bug) | 8 terms | [−1, 1] | 2.3e−1 | 9.5e−5 | 7 |
//! | erf (Taylor, exact powers) | 8 terms | [−1, 1] | 1.5e−7 | 4.2e−5 | 4 |
//! | erf (bounded) | 28 nodes | [−6, 6] | 9.4e−7 | 1.5e−4 | 8 |
//! | gelu (tanh form) | 8/3 | [−10, 10] | 1.3e−3 | 3.9e−4 | 40 |
//! | gelu (erf form) | — | [−10, 10] | 4.7e−6 | 1.4e−4 | 5 |
//! | relu, sign | — | [−10, 10] | 0 | encoding only | 0 |
//!
//! Reading the table: the repair level 9/9 is four times more accurate than 8/3 *as an
//! algorithm*, but in fixed point its 9 squarings amplify the encoding error of
//! `1 + x/2^9` 512-fold, so its fixed-point error is the larger one; the low level 3/3 is
//! cheap and fine in fixed point but its algorithm diverges for |x| ≥ 16.
//!
//! The `spu` profile's own methods at its own precision (f = 18, truncation SR+1; shared −
//! fixed in units of 2^−18, 3 seeds; enforced by the same tests). Their one-party outputs
//! equal SPU 0.9.5's plaintext ring bit for bit on the recorded grids
//! (`tests/tests/framework_profiles.rs`):
//!
//! | function | method | range | float − exact | fixed − float | shared − fixed |
//! |---|---|---|---|---|---|
//! | reciprocal | Goldschmidt, 2 iterations | [0.1, 10] rel | 5.1e−5 | 2.7e−5 | 16 |
//! | erf | A&S 7.1.27 | [−5, 5] | 4.7e−4 | 9.0e−6 | 7 |
//! | log | minimax, degree 8 | [0.01, 1000] | 4.6e−8 | 1.6e−4 (the input's encoding) | 2 |
//! | inv_sqrt | polynomial + compensation | [0.01, 100] rel | 1.9e−4 | 1.1e−4 | 282 |

pub mod attribution;
pub mod chebyshev;
pub mod erf;
pub mod exp;
pub mod gelu;
pub mod levels;
pub mod log;
pub mod polynomial;
pub mod profile;
pub mod reciprocal;
pub mod sigmoid;
pub mod softmax;
pub mod sqrt;

pub use levels::{Level, Levels};
pub use profile::Profile;

use crate::arith::Arith;
use crate::error::{Error, Result};

#[inline]
pub(crate) fn need(got: usize, needed: usize) -> Result<()> {
    if got >= needed {
        Ok(())
    } else {
        Err(Error::BufferTooSmall { needed, got })
    }
}

/// The elementwise functions, by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Function {
    /// `e^x`.
    Exp,
    /// `1/x` (signed).
    Reciprocal,
    /// `1/x` for positive inputs.
    ReciprocalPos,
    /// `1/√x`.
    InvSqrt,
    /// `√x`.
    Sqrt,
    /// `ln x`.
    Log,
    /// `1/(1 + e^−x)`.
    Sigmoid,
    /// `tanh x`.
    Tanh,
    /// `erf x` by the profile's method (CrypTen's Taylor series with its `pow` bug in
    /// `crypten`, SPU's `f_erf` in `spu`).
    Erf,
    /// `erf x` by the profile's Taylor series with correct odd powers (whatever its method).
    ErfTaylor,
    /// `erf x` by the bounded rational form.
    ErfBounded,
    /// GELU, tanh form.
    GeluTanh,
    /// GELU, erf form.
    GeluErf,
    /// `max(0, x)`.
    Relu,
    /// `[x < 0]` (a bit).
    Ltz,
    /// `sign x` as ±1 (a scale-1 integer).
    Sign,
}

impl Function {
    /// Every function, in the order the CLI lists them.
    pub const ALL: &'static [Function] = &[
        Function::Exp,
        Function::Reciprocal,
        Function::ReciprocalPos,
        Function::InvSqrt,
        Function::Sqrt,
        Function::Log,
        Function::Sigmoid,
        Function::Tanh,
        Function::Erf,
        Function::ErfTaylor,
        Function::ErfBounded,
        Function::GeluTanh,
        Function::GeluErf,
        Function::Relu,
        Function::Ltz,
        Function::Sign,
    ];

    /// The CLI name.
    pub const fn name(self) -> &'static str {
        match self {
            Function::Exp => "exp",
            Function::Reciprocal => "reciprocal",
            Function::ReciprocalPos => "reciprocal-pos",
            Function::InvSqrt => "inv-sqrt",
            Function::Sqrt => "sqrt",
            Function::Log => "log",
            Function::Sigmoid => "sigmoid",
            Function::Tanh => "tanh",
            Function::Erf => "erf",
            Function::ErfTaylor => "erf-taylor",
            Function::ErfBounded => "erf-bounded",
            Function::GeluTanh => "gelu-tanh",
            Function::GeluErf => "gelu-erf",
            Function::Relu => "relu",
            Function::Ltz => "ltz",
            Function::Sign => "sign",
        }
    }

    /// The function called `name`.
    pub fn by_name(name: &str) -> Option<Function> {
        Function::ALL.iter().copied().find(|f| f.name() == name)
    }

    /// Whether the output is a scale-1 integer (a bit or a sign) rather than a value.
    pub const fn integer_output(self) -> bool {
        matches!(self, Function::Ltz | Function::Sign)
    }

    /// Whether an approximation [`Level`] changes how the function is computed under MPC (the
    /// functions [`Function::default_level`] takes from the profile's iteration counts);
    /// `false` for exact comparisons such as ReLU, whose level is always 0/0.
    pub const fn takes_level(self) -> bool {
        matches!(
            self,
            Function::Exp
                | Function::Reciprocal
                | Function::ReciprocalPos
                | Function::InvSqrt
                | Function::Sqrt
                | Function::Sigmoid
                | Function::Tanh
                | Function::GeluTanh
        )
    }

    /// The default level of this function under `p` (used when no per-element plan is given).
    pub const fn default_level(self, p: &Profile) -> Level {
        match self {
            Function::Exp => Level::new(p.exp_iters, 0),
            Function::Reciprocal | Function::ReciprocalPos => {
                reciprocal::default_level(&p.reciprocal)
            }
            Function::InvSqrt | Function::Sqrt => sqrt::default_level(&p.inv_sqrt),
            Function::Sigmoid | Function::Tanh | Function::GeluTanh => p.sigmoid_level,
            _ => Level::new(0, 0),
        }
    }

    /// A named level of `p` for this function: `default` ([`Function::default_level`]), or
    /// the repair levels `high`, `medium`, `low` (the page's level presets).
    pub fn preset(self, p: &Profile, name: &str) -> Option<Level> {
        match name {
            "default" => Some(self.default_level(p)),
            "high" => Some(p.repair.high),
            "medium" => Some(p.repair.medium),
            "low" => Some(p.repair.low),
            _ => None,
        }
    }

    /// The true value of the function at `x` (`f64`, `libm` only).
    pub fn exact(self, x: f64) -> f64 {
        match self {
            Function::Exp => libm::exp(x),
            Function::Reciprocal | Function::ReciprocalPos => 1.0 / x,
            Function::InvSqrt => 1.0 / libm::sqrt(x),
            Function::Sqrt => libm::sqrt(x),
            Function::Log => libm::log(x),
            Function::Sigmoid => {
                if x >= 0.0 {
                    1.0 / (1.0 + libm::exp(-x))
                } else {
                    let e = libm::exp(x);
                    e / (1.0 + e)
                }
            }
            Function::Tanh => libm::tanh(x),
            Function::Erf | Function::ErfTaylor | Function::ErfBounded => libm::erf(x),
            Function::GeluTanh => {
                0.5 * x * (1.0 + libm::tanh(0.797_884_560_8 * (x + 0.044715 * x * x * x)))
            }
            Function::GeluErf => 0.5 * x * (1.0 + libm::erf(x * core::f64::consts::FRAC_1_SQRT_2)),
            Function::Relu => {
                if x > 0.0 {
                    x
                } else {
                    0.0
                }
            }
            Function::Ltz => {
                if x < 0.0 {
                    1.0
                } else {
                    0.0
                }
            }
            Function::Sign => {
                if x < 0.0 {
                    -1.0
                } else {
                    1.0
                }
            }
        }
    }
}

/// Scratch elements any [`eval`] needs for `n` inputs (an upper bound over all functions and
/// built-in profiles).
pub const fn scratch_elems(n: usize) -> usize {
    let a = log::scratch_elems(n, 8);
    let b = gelu::scratch_elems_tanh(n);
    let c = gelu::scratch_elems_erf(n);
    let d = gelu::scratch_elems_erf_graph(n);
    let c = if c > d { c } else { d };
    let ab = if a > b { a } else { b };
    if ab > c {
        ab
    } else {
        c
    }
}

/// `x ← f(x)` under profile `p`, with `levels` for the iterative functions (ignored by the
/// others).
///
/// # Errors
/// The function's: [`Levels::check`]'s, [`Error::BufferTooSmall`] if `scratch` is shorter than
/// the function's `scratch_elems*` (at most [`scratch_elems`] for the built-in profiles),
/// [`Error::OutOfRange`] for a profile parameter outside its documented range; then the
/// arithmetic's (a [`crate::Shared`] arena too small, an encoding overflow).
pub fn eval<A: Arith>(
    a: &mut A,
    f: Function,
    p: &Profile,
    x: &mut [A::Elem],
    levels: &Levels<'_>,
    scratch: &mut [A::Elem],
) -> Result<()> {
    match f {
        Function::Exp => exp::exp(a, x, levels, scratch),
        Function::Reciprocal => reciprocal::reciprocal(a, x, &p.reciprocal, levels, scratch),
        Function::ReciprocalPos => {
            let rp = profile::RecipParams {
                all_pos: true,
                ..p.reciprocal
            };
            reciprocal::reciprocal(a, x, &rp, levels, scratch)
        }
        Function::InvSqrt => sqrt::inv_sqrt(a, x, &p.inv_sqrt, levels, scratch),
        Function::Sqrt => sqrt::sqrt(a, x, &p.inv_sqrt, levels, scratch),
        Function::Log => log::log(a, x, &p.log, scratch),
        Function::Sigmoid => sigmoid::sigmoid(a, x, p.sigmoid, levels, scratch),
        Function::Tanh => sigmoid::tanh(a, x, p.sigmoid, levels, scratch),
        Function::Erf => erf::erf(a, x, &p.erf, scratch),
        Function::ErfTaylor => {
            let exact = profile::ErfParams {
                method: profile::ErfMethod::Taylor,
                pow: profile::PowMode::Exact,
                ..p.erf
            };
            erf::erf(a, x, &exact, scratch)
        }
        Function::ErfBounded => erf::erf_bounded(a, x, scratch),
        Function::GeluTanh => gelu::gelu_tanh_as(a, x, p.sigmoid, p.gelu, levels, scratch),
        Function::GeluErf => gelu::gelu_erf(a, x, scratch),
        Function::Relu => {
            need(scratch.len(), x.len())?;
            crate::protocols::select::relu(a, x, &mut scratch[..x.len()])
        }
        Function::Ltz => {
            need(scratch.len(), x.len())?;
            let t = &mut scratch[..x.len()];
            t.copy_from_slice(x);
            a.ltz(t, x)
        }
        Function::Sign => {
            need(scratch.len(), x.len())?;
            let t = &mut scratch[..x.len()];
            t.copy_from_slice(x);
            crate::protocols::select::sign(a, t, x)
        }
    }
}

#[cfg(test)]
mod tests;
