//! Mutation operators: how the fuzzer turns a seed input into a nearby candidate.
//!
//! # The artifact's operator, and why we have more
//! MPCDiff mutates with i.i.d. Gaussian noise on every element (σ = 0.05 for MNIST in
//! normalised units, 0.1 for the tables), then projects: MNIST images are **min-max
//! re-stretched** to the full input range (a contrast change, not a clip) and table rows are
//! clamped to [0, 1]. Noise accumulates without bound, and categorical columns become
//! non-codes. [`Mutator::artifact`] reproduces that (except that categorical columns snap to a
//! valid code, see below); [`Mutator::mpcdiff`] adds the operators a fuzzer of natural inputs
//! needs: sparse pixels, contrast/brightness, small affine warps (images), one-feature steps
//! (tables), and clipping instead of re-stretching. [`Mutator::gradient`] instead walks each
//! seed towards the plaintext decision boundary along the plaintext margin's gradient
//! ([`Operator::Gradient`], given by a [`Descent`]), where the MPC model's error flips labels.
//!
//! # Budgets
//! A [`Budget`] bounds the distance of every mutant to its **original** seed input (not to its
//! parent), in L∞ and/or L2, in model-input units. Without one (the default, as the artifact)
//! distances are still measured and reported.
//!
//! # Valid inputs
//! Every mutant is projected into its [`Domain`]: image pixels into `[lo, hi]`, continuous
//! table features into their range, categorical features onto the nearest of their codes'
//! input values. A budget that a categorical change would break reverts that feature to its
//! original code.
//!
//! # Randomness
//! An operator draws only from the generator it is given; the fuzzer gives each mutant its own
//! sub-stream (see [`super::campaign`]), so a mutant depends on its number, not on the thread
//! that made it. All float math is IEEE basic operations and `libm`.

use rand_core::RngCore;

use crate::error::{check_len, Error, Result};
use crate::seed::{below, normal, unit_f64};

/// One input feature of a table.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Feature<'a> {
    /// A continuous feature with its valid range of model inputs.
    Continuous {
        /// Smallest valid input.
        lo: f64,
        /// Largest valid input.
        hi: f64,
    },
    /// A categorical feature: the model inputs of its codes (any order).
    Categorical {
        /// The valid inputs.
        values: &'a [f64],
    },
}

/// The space inputs live in.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Domain<'a> {
    /// An image in CHW order with one valid range for every pixel.
    Image {
        /// Channels.
        channels: usize,
        /// Rows.
        height: usize,
        /// Columns.
        width: usize,
        /// Smallest valid pixel (MNIST normalised: (0 − 0.1307)/0.3081).
        lo: f64,
        /// Largest valid pixel (MNIST normalised: (1 − 0.1307)/0.3081).
        hi: f64,
    },
    /// A table row.
    Table {
        /// One entry per feature.
        features: &'a [Feature<'a>],
    },
}

impl Domain<'_> {
    /// Elements of one input, or `None` if `channels × height × width` overflows `usize`.
    pub fn checked_len(&self) -> Option<usize> {
        match *self {
            Domain::Image {
                channels,
                height,
                width,
                ..
            } => channels.checked_mul(height)?.checked_mul(width),
            Domain::Table { features } => Some(features.len()),
        }
    }

    /// Elements of one input (saturating at `usize::MAX` when the image's size overflows: no
    /// slice is that long, so every length check against it fails, and
    /// [`Mutator::apply`] rejects such a domain).
    pub fn len(&self) -> usize {
        self.checked_len().unwrap_or(usize::MAX)
    }

    /// Whether inputs have no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether `x` is a valid input (every value finite and in the domain).
    pub fn contains(&self, x: &[f64]) -> bool {
        if self.checked_len() != Some(x.len()) {
            return false;
        }
        match *self {
            Domain::Image { lo, hi, .. } => x.iter().all(|&v| v >= lo && v <= hi),
            Domain::Table { features } => x.iter().zip(features).all(|(&v, f)| match *f {
                Feature::Continuous { lo, hi } => v >= lo && v <= hi,
                Feature::Categorical { values } => values.contains(&v),
            }),
        }
    }

    /// Checks that the domain can hold inputs: not empty, a size that does not overflow,
    /// finite ranges with `lo ≤ hi`, and at least one finite code per categorical feature.
    ///
    /// # Errors
    /// [`Error::InvalidShape`] if the image's size overflows; [`Error::OutOfRange`] otherwise.
    pub fn check(&self) -> Result<()> {
        if self.checked_len().is_none() {
            return Err(Error::InvalidShape {
                what: "domain: channels × height × width overflows",
            });
        }
        let ok_range = |lo: f64, hi: f64| lo.is_finite() && hi.is_finite() && lo <= hi;
        let ok = match *self {
            Domain::Image { lo, hi, .. } => ok_range(lo, hi),
            Domain::Table { features } => features.iter().all(|f| match *f {
                Feature::Continuous { lo, hi } => ok_range(lo, hi),
                Feature::Categorical { values } => {
                    !values.is_empty() && values.iter().all(|v| v.is_finite())
                }
            }),
        };
        if ok && !self.is_empty() {
            Ok(())
        } else {
            Err(Error::OutOfRange {
                what: "domain: empty, or a range that is not finite with lo <= hi, or a categorical feature without codes",
            })
        }
    }
}

/// How a mutant is brought back into an image domain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Projection {
    /// Clamp each pixel into `[lo, hi]` (tables always clamp).
    Clip,
    /// The artifact's MNIST projection: min-max re-stretch the whole image onto `[lo, hi]`.
    Rescale,
}

/// A mutation operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Operator {
    /// σ·N(0, 1) on every element (the artifact's operator).
    Gaussian = 0,
    /// One to four pixels set to uniform values in `[lo, hi]` (images).
    SparsePixel = 1,
    /// Contrast ×(1 ± 0.1) about `lo`, brightness ± 5 % of the range (images).
    Contrast = 2,
    /// A small affine warp: rotation ± 3°, scale 1 ± 3 %, shift ± 0.5 px, bilinear (images).
    Affine = 3,
    /// One feature: a continuous one moves by σ·N(0, 1), a categorical one takes another code
    /// (tables).
    FeatureStep = 4,
    /// A step towards the plaintext decision boundary along the gradient of the plaintext
    /// margin ([`Mutator::step_to_boundary`]); needs a [`Descent`] (the plaintext model).
    Gradient = 5,
}

/// Number of operators.
pub const OPERATORS: usize = 6;

/// The plaintext model's decision margin and its gradient: what [`Operator::Gradient`]
/// follows. Implemented over [`crate::nn::gradient::margin_gradient`] by whoever holds the
/// plaintext model's parameters (the CLI's judge).
pub trait Descent {
    /// Writes `∂margin/∂x` into `grad` and returns the margin `z_label − max_{j ≠ label} z_j`
    /// of the plaintext model at `x` (positive exactly when it predicts `label`).
    ///
    /// # Errors
    /// The gradient's (shapes, buffers, a label that is no class).
    fn margin_gradient(&mut self, x: &[f64], label: usize, grad: &mut [f64]) -> Result<f64>;
}

impl Operator {
    /// Every operator, in number order.
    pub const ALL: [Operator; OPERATORS] = [
        Operator::Gaussian,
        Operator::SparsePixel,
        Operator::Contrast,
        Operator::Affine,
        Operator::FeatureStep,
        Operator::Gradient,
    ];

    /// The name used in result files and on the command line.
    pub const fn name(self) -> &'static str {
        match self {
            Operator::Gaussian => "gaussian",
            Operator::SparsePixel => "sparse-pixel",
            Operator::Contrast => "contrast",
            Operator::Affine => "affine",
            Operator::FeatureStep => "feature-step",
            Operator::Gradient => "gradient",
        }
    }

    /// The operator called `name`.
    pub fn by_name(name: &str) -> Option<Operator> {
        Operator::ALL.into_iter().find(|o| o.name() == name)
    }

    /// Whether the operator applies to inputs of `domain`.
    pub fn applies_to(self, domain: &Domain<'_>) -> bool {
        matches!(
            (self, domain),
            (Operator::Gaussian | Operator::Gradient, _)
                | (
                    Operator::SparsePixel | Operator::Contrast | Operator::Affine,
                    Domain::Image { .. }
                )
                | (Operator::FeatureStep, Domain::Table { .. })
        )
    }
}

/// Bounds on a mutant's distance to its original input (model-input units).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Budget {
    /// Largest |mutant − original| of any element.
    pub linf: Option<f64>,
    /// Largest ‖mutant − original‖₂.
    pub l2: Option<f64>,
}

/// The distances of `x` to `original`: `(L2, L∞)`.
pub fn distance(x: &[f64], original: &[f64]) -> (f64, f64) {
    let (mut sq, mut inf) = (0.0f64, 0.0f64);
    for (&a, &b) in x.iter().zip(original) {
        let d = a - b;
        sq += d * d;
        inf = inf.max(libm::fabs(d));
    }
    (libm::sqrt(sq), inf)
}

/// Operator weights, noise scale, projection and budget: how mutants are made.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Mutator {
    /// σ of [`Operator::Gaussian`] and [`Operator::FeatureStep`], in model-input units.
    pub sigma: f64,
    /// How image mutants are projected back.
    pub projection: Projection,
    /// Relative weight of each operator (indexed by its number); 0 disables it.
    pub weights: [u32; OPERATORS],
    /// Distance bounds to the original.
    pub budget: Budget,
}

impl Mutator {
    /// `gradient` when [`Operator::Gradient`] has a weight, else `artifact` when Gaussian
    /// noise is the only operator (the artifact's mutator), `mpcdiff` otherwise (the CLI's
    /// `--mutator` names).
    pub fn name(&self) -> &'static str {
        if self.weights[Operator::Gradient as usize] > 0 {
            return "gradient";
        }
        let gaussian = Operator::Gaussian as usize;
        let only_gaussian = self
            .weights
            .iter()
            .enumerate()
            .all(|(k, &w)| w == 0 || k == gaussian);
        if only_gaussian {
            "artifact"
        } else {
            "mpcdiff"
        }
    }

    /// The mutator the CLI's `--mutator` calls `name` (`mpcdiff`, `artifact`, `gradient`; see
    /// [`Mutator::name`]) for `domain`.
    pub fn by_name(name: &str, domain: &Domain<'_>) -> Option<Mutator> {
        match name {
            "mpcdiff" => Some(Mutator::mpcdiff(domain)),
            "artifact" => Some(Mutator::artifact(domain)),
            "gradient" => Some(Mutator::gradient(domain)),
            _ => None,
        }
    }

    /// The artifact's mutator for `domain`: Gaussian only, σ 0.05 (images) or 0.1 (tables),
    /// images re-stretched, no budget.
    pub fn artifact(domain: &Domain<'_>) -> Mutator {
        let image = matches!(domain, Domain::Image { .. });
        Mutator {
            sigma: if image { 0.05 } else { 0.1 },
            projection: if image {
                Projection::Rescale
            } else {
                Projection::Clip
            },
            weights: [1, 0, 0, 0, 0, 0],
            budget: Budget::default(),
        }
    }

    /// mpcdiff's mutator: the artifact's σ, clipping, and every operator that applies, the
    /// Gaussian one as likely as all others together.
    pub fn mpcdiff(domain: &Domain<'_>) -> Mutator {
        let image = matches!(domain, Domain::Image { .. });
        Mutator {
            sigma: if image { 0.05 } else { 0.1 },
            projection: Projection::Clip,
            weights: if image {
                [3, 1, 1, 1, 0, 0]
            } else {
                [1, 0, 0, 0, 1, 0]
            },
            budget: Budget::default(),
        }
    }

    /// The boundary-walking mutator: [`Operator::Gradient`] only, σ 0.05 (images) or 0.1
    /// (tables) bounding each step, clipping, no budget.
    pub fn gradient(domain: &Domain<'_>) -> Mutator {
        let image = matches!(domain, Domain::Image { .. });
        Mutator {
            sigma: if image { 0.05 } else { 0.1 },
            projection: Projection::Clip,
            weights: [0, 0, 0, 0, 0, 1],
            budget: Budget::default(),
        }
    }

    fn check(&self, domain: &Domain<'_>) -> Result<()> {
        domain.check()?;
        if !(self.sigma.is_finite() && self.sigma >= 0.0) {
            return Err(Error::OutOfRange {
                what: "mutation sigma must be finite and >= 0",
            });
        }
        let bad = |b: Option<f64>| b.is_some_and(|v| !(v.is_finite() && v >= 0.0));
        if bad(self.budget.linf) || bad(self.budget.l2) {
            return Err(Error::OutOfRange {
                what: "distance budgets must be finite and >= 0",
            });
        }
        let usable = Operator::ALL
            .iter()
            .any(|o| self.weights[*o as usize] > 0 && o.applies_to(domain));
        if !usable {
            return Err(Error::OutOfRange {
                what: "no mutation operator with a positive weight applies to this input domain",
            });
        }
        Ok(())
    }

    /// Draws an operator in proportion to the weights of those that apply to `domain`.
    ///
    /// # Errors
    /// [`Domain::check`]'s; [`Error::OutOfRange`] if none applies or a setting is out of range.
    pub fn choose(&self, domain: &Domain<'_>, rng: &mut impl RngCore) -> Result<Operator> {
        self.check(domain)?;
        let weight = |o: Operator| {
            if o.applies_to(domain) {
                u64::from(self.weights[o as usize])
            } else {
                0
            }
        };
        let total: u64 = Operator::ALL.into_iter().map(weight).sum();
        let mut pick = below(rng, total);
        for o in Operator::ALL {
            let w = weight(o);
            if pick < w {
                return Ok(o);
            }
            pick -= w;
        }
        Err(Error::OutOfRange {
            what: "no mutation operator applies",
        })
    }

    /// `out` = operator `op` applied to `current`, projected into `domain` and into the budget
    /// around `original`.
    ///
    /// # Errors
    /// [`Domain::check`]'s, [`Error::ShapeMismatch`] if a slice is not `domain.len()` long,
    /// [`Error::OutOfRange`] if `op` does not apply to the domain or a setting is out of range.
    pub fn apply(
        &self,
        op: Operator,
        domain: &Domain<'_>,
        original: &[f64],
        current: &[f64],
        out: &mut [f64],
        rng: &mut impl RngCore,
    ) -> Result<()> {
        self.check(domain)?;
        let n = domain.len();
        check_len(n, original.len())?;
        check_len(n, current.len())?;
        check_len(n, out.len())?;
        if !op.applies_to(domain) {
            return Err(Error::OutOfRange {
                what: "mutation operator does not apply to this input domain",
            });
        }
        match (op, *domain) {
            (Operator::Gaussian, _) => {
                for (o, &c) in out.iter_mut().zip(current) {
                    *o = c + self.sigma * normal(rng);
                }
            }
            (Operator::SparsePixel, Domain::Image { lo, hi, .. }) => {
                out.copy_from_slice(current);
                let k = 1 + below(rng, 4);
                for _ in 0..k {
                    let i = below(rng, n as u64) as usize;
                    out[i] = lo + (hi - lo) * unit_f64(rng);
                }
            }
            (Operator::Contrast, Domain::Image { lo, hi, .. }) => {
                let c = 1.0 + 0.1 * (2.0 * unit_f64(rng) - 1.0);
                let b = 0.05 * (hi - lo) * (2.0 * unit_f64(rng) - 1.0);
                for (o, &v) in out.iter_mut().zip(current) {
                    *o = lo + (v - lo) * c + b;
                }
            }
            (
                Operator::Affine,
                Domain::Image {
                    channels,
                    height,
                    width,
                    lo,
                    ..
                },
            ) => {
                let theta = (2.0 * unit_f64(rng) - 1.0) * 3.0 * core::f64::consts::PI / 180.0;
                let scale = 1.0 + 0.03 * (2.0 * unit_f64(rng) - 1.0);
                let ty = 0.5 * (2.0 * unit_f64(rng) - 1.0);
                let tx = 0.5 * (2.0 * unit_f64(rng) - 1.0);
                let warp = Warp {
                    cos: libm::cos(theta) / scale,
                    sin: libm::sin(theta) / scale,
                    ty,
                    tx,
                    height,
                    width,
                    fill: lo,
                };
                let plane = height * width;
                for (src, dst) in current
                    .chunks(plane)
                    .zip(out.chunks_mut(plane))
                    .take(channels)
                {
                    warp.apply(src, dst);
                }
            }
            (Operator::FeatureStep, Domain::Table { features }) => {
                out.copy_from_slice(current);
                let j = below(rng, n as u64) as usize;
                match features[j] {
                    Feature::Continuous { .. } => out[j] += self.sigma * normal(rng),
                    Feature::Categorical { values } => {
                        // Another code, uniformly (the same one if there is no other).
                        let others = values.iter().filter(|&&v| v != current[j]).count();
                        if others > 0 {
                            let pick = below(rng, others as u64) as usize;
                            if let Some(&v) = values.iter().filter(|&&v| v != current[j]).nth(pick)
                            {
                                out[j] = v;
                            }
                        }
                    }
                }
            }
            (Operator::Gradient, _) => {
                return Err(Error::OutOfRange {
                    what: "the gradient operator needs the plaintext model's gradient (Mutator::step_to_boundary)",
                })
            }
            _ => {
                return Err(Error::OutOfRange {
                    what: "mutation operator does not apply to this input domain",
                })
            }
        }
        project(domain, self.projection, out)?;
        self.bound(domain, original, out)
    }

    /// [`Operator::Gradient`]: `out` = one linearised (Newton) step from `current` towards
    /// the plaintext decision boundary, projected into `domain` and the budget. On entry `out`
    /// holds `g`, the gradient of the plaintext margin `margin` at `current` (a [`Descent`]'s).
    ///
    /// # Method
    /// The step aims at the margin `t = ρ·|margin|`, ρ uniform in `[0, ½)`: a random fraction
    /// of the way on the label's side (from the wrong side, back across). Components that
    /// would push a value out of its range (a pixel at `lo` pushed down) or move a categorical
    /// feature are masked out of `g`; the step is `−(margin − t)·g/‖g‖²` (so the linearised
    /// margin becomes `t`), shortened to at most `σ·√n` in L2 (the expected length of a
    /// Gaussian mutation). A zero or non-finite gradient makes a Gaussian mutation instead.
    /// Near the boundary the steps shrink with the margin, so a seed that reached it stays
    /// there and each further mutant is another draw of the MPC randomness close to it.
    ///
    /// # Errors
    /// As [`Mutator::apply`].
    pub fn step_to_boundary(
        &self,
        domain: &Domain<'_>,
        original: &[f64],
        current: &[f64],
        margin: f64,
        out: &mut [f64],
        rng: &mut impl RngCore,
    ) -> Result<()> {
        self.check(domain)?;
        let n = domain.len();
        check_len(n, original.len())?;
        check_len(n, current.len())?;
        check_len(n, out.len())?;
        let rho = 0.5 * unit_f64(rng);
        let target = rho * libm::fabs(margin);
        let excess = margin - target;
        // Mask what cannot move that way (the move of element i has the sign of −excess·g_i).
        let mut sq = 0.0;
        for (j, (g, &c)) in out.iter_mut().zip(current).enumerate() {
            let up = -excess * *g > 0.0;
            let blocked = match *domain {
                Domain::Image { lo, hi, .. } => (c <= lo && !up) || (c >= hi && up),
                Domain::Table { features } => match features[j] {
                    Feature::Continuous { lo, hi } => (c <= lo && !up) || (c >= hi && up),
                    Feature::Categorical { .. } => true,
                },
            };
            if blocked {
                *g = 0.0;
            }
            sq += *g * *g;
        }
        if !(sq > 0.0 && sq.is_finite() && excess.is_finite()) {
            for (o, &c) in out.iter_mut().zip(current) {
                *o = c + self.sigma * normal(rng);
            }
        } else {
            let mut k = -excess / sq;
            let length = libm::fabs(k) * libm::sqrt(sq);
            let cap = self.sigma * libm::sqrt(n as f64);
            if length > cap {
                k *= cap / length;
            }
            for (o, &c) in out.iter_mut().zip(current) {
                *o = c + k * *o;
            }
        }
        project(domain, self.projection, out)?;
        self.bound(domain, original, out)
    }

    /// Brings `x` within the budget around `original`, then back into the domain by clipping
    /// (which only moves values towards the original's, so the budget holds).
    fn bound(&self, domain: &Domain<'_>, original: &[f64], x: &mut [f64]) -> Result<()> {
        let Budget { linf, l2 } = self.budget;
        if linf.is_none() && l2.is_none() {
            return Ok(());
        }
        let categorical = |j: usize| match domain {
            Domain::Table { features } => matches!(features[j], Feature::Categorical { .. }),
            Domain::Image { .. } => false,
        };
        if let Some(e) = linf {
            for (j, (v, &o)) in x.iter_mut().zip(original).enumerate() {
                let d = *v - o;
                if libm::fabs(d) > e {
                    *v = if categorical(j) {
                        o
                    } else {
                        o + e * d.signum()
                    };
                }
            }
        }
        if let Some(e) = l2 {
            // Categorical changes count whole; if they alone exceed the budget they revert.
            let mut cat_sq = 0.0;
            let mut cont_sq = 0.0;
            for (j, (&v, &o)) in x.iter().zip(original).enumerate() {
                let d = v - o;
                if categorical(j) {
                    cat_sq += d * d;
                } else {
                    cont_sq += d * d;
                }
            }
            if cat_sq > e * e {
                for (j, (v, &o)) in x.iter_mut().zip(original).enumerate() {
                    if categorical(j) {
                        *v = o;
                    }
                }
                cat_sq = 0.0;
            }
            let room = libm::sqrt(e * e - cat_sq);
            let norm = libm::sqrt(cont_sq);
            if norm > room {
                let k = room / norm;
                for (j, (v, &o)) in x.iter_mut().zip(original).enumerate() {
                    if !categorical(j) {
                        *v = o + (*v - o) * k;
                    }
                }
            }
        }
        project(domain, Projection::Clip, x)
    }
}

/// Brings `x` into `domain`.
///
/// # Errors
/// [`Domain::check`]'s (an empty or overflowing domain, a range that is not finite with
/// `lo ≤ hi`, a categorical feature without codes), and [`Error::ShapeMismatch`] unless `x`
/// is `domain.len()` long; `x` is unchanged then.
pub fn project(domain: &Domain<'_>, projection: Projection, x: &mut [f64]) -> Result<()> {
    domain.check()?;
    check_len(domain.len(), x.len())?;
    match *domain {
        Domain::Image { lo, hi, .. } => {
            if projection == Projection::Rescale {
                let (mut min, mut max) = (f64::INFINITY, f64::NEG_INFINITY);
                for &v in x.iter() {
                    min = min.min(v);
                    max = max.max(v);
                }
                if max > min {
                    let k = (hi - lo) / (max - min);
                    for v in x.iter_mut() {
                        *v = (*v - min) * k + lo;
                    }
                }
            }
            for v in x.iter_mut() {
                *v = v.clamp(lo, hi);
            }
        }
        Domain::Table { features } => {
            for (v, f) in x.iter_mut().zip(features) {
                match *f {
                    Feature::Continuous { lo, hi } => *v = v.clamp(lo, hi),
                    Feature::Categorical { values } => *v = nearest(values, *v),
                }
            }
        }
    }
    Ok(())
}

/// The value of `values` nearest to `v` (the first of equals; `v` itself for no values, which
/// [`Domain::check`] rejects first).
fn nearest(values: &[f64], v: f64) -> f64 {
    let Some(&first) = values.first() else {
        return v;
    };
    let mut best = first;
    for &c in values {
        if libm::fabs(c - v) < libm::fabs(best - v) {
            best = c;
        }
    }
    best
}

/// An inverse affine map about the image centre, sampled bilinearly.
struct Warp {
    cos: f64,
    sin: f64,
    ty: f64,
    tx: f64,
    height: usize,
    width: usize,
    fill: f64,
}

impl Warp {
    fn apply(&self, src: &[f64], dst: &mut [f64]) {
        let (h, w) = (self.height, self.width);
        let cy = (h as f64 - 1.0) / 2.0;
        let cx = (w as f64 - 1.0) / 2.0;
        let at = |r: isize, c: isize| {
            if r < 0 || c < 0 || r >= h as isize || c >= w as isize {
                self.fill
            } else {
                src[r as usize * w + c as usize]
            }
        };
        for r in 0..h {
            for c in 0..w {
                let y = r as f64 - cy - self.ty;
                let x = c as f64 - cx - self.tx;
                let sy = self.cos * y - self.sin * x + cy;
                let sx = self.sin * y + self.cos * x + cx;
                let (y0, x0) = (libm::floor(sy), libm::floor(sx));
                let (fy, fx) = (sy - y0, sx - x0);
                let (y0, x0) = (y0 as isize, x0 as isize);
                let top = at(y0, x0) * (1.0 - fx) + at(y0, x0 + 1) * fx;
                let bottom = at(y0 + 1, x0) * (1.0 - fx) + at(y0 + 1, x0 + 1) * fx;
                dst[r * w + c] = top * (1.0 - fy) + bottom * fy;
            }
        }
    }
}
