//! The SCSDF sign leak on a model's first block: run it in shares with a helper-assisted DReLU,
//! record the helper's view, and rebuild the user's input from that view alone.
//!
//! # Setting
//! Party 0 holds the model, party 1 (the user, the data owner of the shared arithmetic) the image; the helper assists
//! every comparison ([`Comparison`]). The first block is the model's first convolution and,
//! if one follows, its batch norm, folded into one convolution with a bias (in plaintext
//! `f64`, from the model file; [`FirstLayer`]) and computed on shares: the image is shared by
//! the user, the folded weights and biases by the model owner, one Beaver convolution, one
//! truncation. Its activation is a ReLU ([`Activation::Relu`]: one DReLU per pre-activation)
//! or the piecewise sigmoid of `m` breakpoints ([`Activation::Piecewise`]: `m` DReLUs per
//! pre-activation, [`drelu::piecewise_sigmoid`]). [`run_first_block`] returns the helper's
//! view: the words parties 0 and 1 sent it (`[P0's message, P1's message]`, each `m·N` words
//! for `N` pre-activations, breakpoint-major).
//!
//! # The attack (research note §2.3, both knowledge levels **\[derived\]**; Wei et al.'s own
//! reconstruction algorithm is **\[not found\]**)
//! * [`helper_levels`]: what the helper computes from its view — the sum of the two words of
//!   each element is `u`, and `[u ≥ 0]` is the sign (leaky and sign-hidden; the private
//!   compare's bit is its zero test, [`helper_signs`]); for `m` breakpoints, the number of
//!   non-negative signs is the interval index `0..=m` of each pre-activation.
//! * Without the weights ([`sign_image`]): each channel's level map is an image (a thresholded
//!   filter response). To make one picture of them the helper, who does not know which polarity
//!   is "ink", takes the majority value of each channel as background (MNIST is mostly
//!   background; a heuristic of this project), flips the channel so the background is 0, and
//!   averages the channels.
//! * With the first layer's weights ([`reconstruct`]): find `x ∈ [0, 1]^n` that satisfies the
//!   leaked constraints `s_jk·(pre_j(x) − c_k) ≥ 0`, with a prior: minimise
//!   `Σ max(0, μ − s_jk·(pre_j(x) − c_k)) + λ‖x − m‖²` from the mean image `m` by Adam
//!   (`lr = 0.05`, 500 steps, `μ = 0.05`, `λ = 0.05`, clamping to `[0, 1]` after each step) —
//!   the note's recipe, checked there on 8 × 8 digits with an MLP.
//! * The baseline is the mean image itself: a reconstruction must beat it to show a leak.
//!
//! With the sign-hidden DReLU the helper's "signs" are uniformly random and permuted, so both
//! reconstructions fall to (or below) the baseline. With the private compare the only bit the
//! helper derives per value is its zero test, XOR-blinded by a bit it does not know
//! ([`drelu::private_compare`]); the attack uses it in place of the sign, a coin flip, and the
//! reconstruction falls to (or below) the baseline too. With the A2B comparison its view is
//! empty and [`reconstruct`] returns the mean image.

use super::ViewRecorder;
use crate::arith::{Arith, Shared};
use crate::cost::Cost;
use crate::error::{check_len, Error, Result};
use crate::fixed::FixedPoint;
use crate::linalg::Conv2dShape;
use crate::nn::model::Model;
use crate::nn::spec::Kind;
use crate::protocols::drelu::{self, Comparison};
use crate::protocols::select;
use crate::share::Share;
use crate::wire::HELPER;

/// Largest first-layer channel count [`FirstLayer`] holds.
pub const CHANNELS_MAX: usize = 16;
/// Largest kernel side.
pub const KERNEL_MAX: usize = 7;
/// Largest image side.
pub const SIDE_MAX: usize = 1024;

/// The first block of a one-channel image model, folded: `pre[c, i, j] = scale_c·(conv(x̂)[c,
/// i, j] + bias_c) + shift_c` with `x̂ = (x − mean)/std` the model's preprocessing and zero
/// padding of `x̂` — written here as one convolution of weights `scale_c·w/std` on `x − mean`
/// plus `scale_c·bias_c + shift_c`.
#[derive(Clone, Debug)]
pub struct FirstLayer {
    /// Output channels.
    pub channels: usize,
    /// Kernel side.
    pub k: usize,
    /// Zero padding.
    pub pad: usize,
    /// Input height and width.
    pub hw: (usize, usize),
    /// Folded weights, `[channel][k][k]` row-major in the first `channels·k·k`.
    pub weight: [f64; CHANNELS_MAX * KERNEL_MAX * KERNEL_MAX],
    /// Folded biases.
    pub bias: [f64; CHANNELS_MAX],
    /// The preprocessing's mean (raw pixels in `[0, 1]`).
    pub mean: f64,
}

impl FirstLayer {
    /// The first block of `model` (its first layer a stride-1 convolution on one input
    /// channel, optionally followed by a batch norm) for inputs preprocessed as
    /// `(x − mean)/std`.
    ///
    /// # Errors
    /// [`Error::Unsupported`] for another first layer, more than [`CHANNELS_MAX`] channels or a
    /// kernel above [`KERNEL_MAX`]; [`Error::OutOfRange`] for a non-finite or non-positive
    /// `std`, or a non-finite weight.
    pub fn from_model(model: &Model<'_>, mean: f64, std: f64) -> Result<FirstLayer> {
        if !(std.is_finite() && std > 0.0 && mean.is_finite()) {
            return Err(Error::OutOfRange {
                what: "preprocessing mean and std",
            });
        }
        let layers = &model.spec.layers;
        let unsupported = Error::Unsupported {
            what: "the attack needs a first layer that is a 1-channel stride-1 convolution",
        };
        let first = layers.first().ok_or(unsupported)?;
        let Kind::Conv2d {
            in_ch: 1,
            out_ch,
            k,
            stride: 1,
            pad,
        } = first.kind
        else {
            return Err(unsupported);
        };
        let crate::nn::spec::Shape::Image { h, w, .. } = model.input else {
            return Err(unsupported);
        };
        if out_ch > CHANNELS_MAX || k > KERNEL_MAX || out_ch == 0 || k == 0 {
            return Err(unsupported);
        }
        let name = first.name.as_str();
        let (wt, bt) = (
            model.tensor(name, ".weight").ok_or(unsupported)?,
            model.tensor(name, ".bias"),
        );
        let mut scale = [1.0f64; CHANNELS_MAX];
        let mut shift = [0.0f64; CHANNELS_MAX];
        if let Some(bn) = layers.get(1) {
            if let Kind::BatchNorm {
                channels,
                eps_micro,
            } = bn.kind
            {
                if channels != out_ch {
                    return Err(unsupported);
                }
                let n = bn.name.as_str();
                let t = |s| model.tensor(n, s).ok_or(unsupported);
                let (g, b, mu, var) = (
                    t(".weight")?,
                    t(".bias")?,
                    t(".running_mean")?,
                    t(".running_var")?,
                );
                let eps = f64::from(eps_micro) * 1e-6;
                for c in 0..out_ch {
                    let s = f64::from(g.get(c)) / libm::sqrt(f64::from(var.get(c)) + eps);
                    scale[c] = s;
                    shift[c] = f64::from(b.get(c)) - s * f64::from(mu.get(c));
                }
            }
        }
        let mut layer = FirstLayer {
            channels: out_ch,
            k,
            pad,
            hw: (h, w),
            weight: [0.0; CHANNELS_MAX * KERNEL_MAX * KERNEL_MAX],
            bias: [0.0; CHANNELS_MAX],
            mean,
        };
        for c in 0..out_ch {
            for t in 0..k * k {
                layer.weight[c * k * k + t] = scale[c] * f64::from(wt.get(c * k * k + t)) / std;
            }
            let b = bt.map_or(0.0, |b| f64::from(b.get(c)));
            layer.bias[c] = scale[c] * b + shift[c];
        }
        if layer
            .weight
            .iter()
            .chain(layer.bias.iter())
            .any(|v| !v.is_finite())
        {
            return Err(Error::OutOfRange {
                what: "first-layer weights",
            });
        }
        Ok(layer)
    }

    /// Checks the (public, so possibly edited) fields: `1 ≤ channels ≤ CHANNELS_MAX`,
    /// `1 ≤ k ≤ KERNEL_MAX`, `pad < k`, both sides in `1..=PIXELS_SIDE_MAX`, finite weights,
    /// biases and mean. Every function taking a `FirstLayer` checks it first.
    ///
    /// # Errors
    /// [`Error::InvalidShape`] or [`Error::OutOfRange`] naming what is wrong.
    pub fn check(&self) -> Result<()> {
        let (h, w) = self.hw;
        if !(1..=CHANNELS_MAX).contains(&self.channels)
            || !(1..=KERNEL_MAX).contains(&self.k)
            || self.pad >= self.k
            || !(1..=SIDE_MAX).contains(&h)
            || !(1..=SIDE_MAX).contains(&w)
        {
            return Err(Error::InvalidShape {
                what: "first layer: channels 1..=16, kernel 1..=7, padding below the kernel, sides 1..=1024",
            });
        }
        let finite = self
            .weight
            .iter()
            .chain(self.bias.iter())
            .all(|v| v.is_finite());
        if !finite || !self.mean.is_finite() {
            return Err(Error::OutOfRange {
                what: "first-layer weights",
            });
        }
        Ok(())
    }

    /// Pixels of one input.
    pub fn pixels(&self) -> usize {
        self.hw.0.saturating_mul(self.hw.1)
    }

    /// Output height and width (stride 1).
    pub fn out_hw(&self) -> (usize, usize) {
        let side = |s: usize| {
            s.saturating_add(self.pad.saturating_mul(2))
                .saturating_add(1)
                .saturating_sub(self.k)
        };
        (side(self.hw.0), side(self.hw.1))
    }

    /// Pre-activations of one input.
    pub fn outputs(&self) -> usize {
        let (oh, ow) = self.out_hw();
        self.channels.saturating_mul(oh).saturating_mul(ow)
    }

    /// `pre = conv(x − mean) + bias` in `f64` (`x`: [`FirstLayer::pixels`],
    /// `pre`: [`FirstLayer::outputs`]).
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] for other lengths.
    pub fn forward(&self, x: &[f64], pre: &mut [f64]) -> Result<()> {
        self.check()?;
        check_len(self.pixels(), x.len())?;
        check_len(self.outputs(), pre.len())?;
        let per_channel = self.outputs() / self.channels.max(1);
        for (c, plane) in pre.chunks_mut(per_channel.max(1)).enumerate() {
            plane.fill(self.bias[c]);
        }
        self.taps(|o, wi, xi| pre[o] += self.weight[wi] * (x[xi] - self.mean));
        Ok(())
    }

    /// `gx += Jᵀ·g`: the gradient with respect to `x` of `Σ g·pre` (the transposed convolution).
    fn backward(&self, g: &[f64], gx: &mut [f64]) {
        self.taps(|o, wi, xi| {
            if g[o] != 0.0 {
                gx[xi] += g[o] * self.weight[wi];
            }
        });
    }

    /// Visits every tap of the stride-1 convolution in (channel, row, column, kernel row,
    /// kernel column) order, padding skipped: `f(output, weight, input)` indices.
    /// The forward pass and its transpose share it, so they cannot disagree on a window.
    fn taps(&self, mut f: impl FnMut(usize, usize, usize)) {
        let ((h, w), (oh, ow), k, p) = (self.hw, self.out_hw(), self.k, self.pad);
        for c in 0..self.channels {
            for i in 0..oh {
                for j in 0..ow {
                    let o = (c * oh + i) * ow + j;
                    for di in 0..k {
                        let Some(y) = (i + di).checked_sub(p) else {
                            continue;
                        };
                        if y >= h {
                            continue;
                        }
                        for dj in 0..k {
                            let Some(xx) = (j + dj).checked_sub(p) else {
                                continue;
                            };
                            if xx >= w {
                                continue;
                            }
                            f(o, c * k * k + di * k + dj, y * w + xx);
                        }
                    }
                }
            }
        }
    }
}

/// The activation after the first block.
#[derive(Clone, Copy, Debug)]
pub enum Activation<'c> {
    /// ReLU: one DReLU per pre-activation (breakpoint 0).
    Relu,
    /// The piecewise-linear sigmoid of these breakpoints ([`drelu::piecewise_sigmoid`]).
    Piecewise(&'c [f64]),
}

impl Activation<'_> {
    /// The breakpoints the DReLUs compare with (`[0]` for ReLU).
    pub fn breakpoints(&self) -> &[f64] {
        match self {
            Activation::Relu => &[0.0],
            Activation::Piecewise(c) => c,
        }
    }
}

/// Buffer sizes of [`run_first_block`] for `layer` and `m` breakpoints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockSizes {
    /// Ring words of the session arena.
    pub arena_words: usize,
    /// Shares of element scratch.
    pub elems: usize,
    /// Words of the helper's view (`2·63·m·N`, the private compare's; the others use
    /// `2·m·N`).
    pub view_words: usize,
}

/// The buffers [`run_first_block`] needs (`m` is taken as at least 1; sizes saturate).
///
/// # Errors
/// [`FirstLayer::check`]'s.
pub fn block_sizes(layer: &FirstLayer, m: usize) -> Result<BlockSizes> {
    layer.check()?;
    let (px, n) = (layer.pixels(), layer.outputs());
    let wn = layer.channels * layer.k * layer.k;
    let mn = m.max(1).saturating_mul(n);
    let conv = crate::protocols::beaver::scratch_words_bilinear(px, wn, n);
    let act = Shared::scratch_words_elementwise(mn).max(drelu::scratch_words_drelu(mn));
    Ok(BlockSizes {
        arena_words: conv.max(act),
        // x, w, bias, pre, then the activation's scratch (2·m·N, or N bits for ReLU).
        elems: (px + wn + 2 * n).saturating_add(mn.saturating_mul(2)),
        view_words: mn.saturating_mul(2 * drelu::private_compare::PC_BITS),
    })
}

/// What one run of the first block produced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockRun {
    /// Words of the helper's view written.
    pub view_words: usize,
    /// The session's ledger (the whole block).
    pub cost: Cost,
    /// The ledger of the activation alone (its DReLUs and products).
    pub activation_cost: Cost,
}

/// Runs the first block on the raw image `x` (pixels in `[0, 1]`) in a session seeded `seed`
/// with comparisons by `comparison`, writing the helper's view into `view` and the
/// activations' shares into the first [`FirstLayer::outputs`] of `elems`.
///
/// # Errors
/// [`Error::ShapeMismatch`] for a wrong image size; [`Error::BufferTooSmall`] for buffers
/// below [`block_sizes`]; [`drelu::check_breakpoints`]'s; the arithmetic's (e.g.
/// [`Error::NonFinite`] for a non-finite pixel).
#[allow(clippy::too_many_arguments)]
pub fn run_first_block(
    layer: &FirstLayer,
    act: Activation<'_>,
    comparison: Comparison,
    fp: FixedPoint,
    seed: u64,
    x: &[f64],
    arena: &mut [i64],
    elems: &mut [Share],
    view: &mut [i64],
) -> Result<BlockRun> {
    let c = act.breakpoints();
    drelu::check_breakpoints(c)?;
    check_len(layer.pixels(), x.len())?;
    let sizes = block_sizes(layer, c.len())?;
    crate::protocols::need(sizes.arena_words, arena.len())?;
    crate::protocols::need(sizes.elems, elems.len())?;
    crate::protocols::need(sizes.view_words, view.len())?;
    let (px, n, k) = (layer.pixels(), layer.outputs(), layer.k);
    let wn = layer.channels * k * k;
    let (xs, rest) = elems.split_at_mut(px);
    let (ws, rest) = rest.split_at_mut(wn);
    let (bs, rest) = rest.split_at_mut(n);
    let (pre, rest) = rest.split_at_mut(n);

    let mut rec = ViewRecorder::new(HELPER, view);
    let mut mpc = Shared::new(fp, seed, arena)
        .with_wire(&mut rec)
        .with_comparison(comparison);
    // The user's image, centred (a public shift: the model's preprocessing mean is public).
    let mut centred = [0.0f64; 64];
    for (q, chunk) in x.chunks(64).enumerate() {
        let b = &mut centred[..chunk.len()];
        for (o, &v) in b.iter_mut().zip(chunk) {
            *o = v - layer.mean;
        }
        mpc.input(b, &mut xs[q * 64..q * 64 + chunk.len()])?;
    }
    mpc.input_model(&layer.weight[..wn], ws)?;
    let (oh, ow) = layer.out_hw();
    let mut bias = [0.0f64; 64];
    let per = oh * ow;
    for (q, chunk) in bs.chunks_mut(64).enumerate() {
        for (t, b) in bias.iter_mut().enumerate().take(chunk.len()) {
            *b = layer.bias[((q * 64 + t) / per).min(CHANNELS_MAX - 1)];
        }
        mpc.input_model(&bias[..chunk.len()], chunk)?;
    }
    let shape = Conv2dShape {
        batch: 1,
        in_ch: 1,
        h: layer.hw.0,
        w: layer.hw.1,
        out_ch: layer.channels,
        kh: k,
        kw: k,
        stride: 1,
        pad: layer.pad,
    };
    mpc.conv2d(xs, ws, pre, &shape)?;
    mpc.add(pre, bs)?;
    let before = mpc.cost();
    match act {
        Activation::Relu => select::relu(&mut mpc, pre, &mut rest[..n])?,
        Activation::Piecewise(c) => {
            let need = drelu::scratch_elems_piecewise(n, c.len());
            drelu::piecewise_sigmoid(&mut mpc, pre, c, &mut rest[..need])?
        }
    }
    let cost = mpc.cost();
    Ok(BlockRun {
        view_words: rec.len(),
        cost,
        activation_cost: cost.since(&before),
    })
}

/// What the helper computes from its view about each of the `count` values it was asked
/// about, by `comparison`:
/// * leaky and sign-hidden: the sign `[u ≥ 0]` of the value it opened, `u` the sum of the two
///   words of that position (`view[i] + view[count + i]`; the view is `2·count` words);
/// * private compare: `[some of the 63 values it opened for the element is 0 mod 67]` (its
///   view is `2·63·count` words: party 0's message, then party 1's, 63 per element), the only
///   bit it can derive, which is the blinded `β ⊕ [r' > c']`, a coin flip about the sign;
/// * A2B: nothing (its view is empty).
///
/// A view shorter than the comparison's layout gives `Ok(false)` and leaves `signs` untouched.
///
/// # Errors
/// [`Error::ShapeMismatch`] if `signs` is not `count` long.
pub fn helper_signs(
    comparison: Comparison,
    view: &[i64],
    count: usize,
    signs: &mut [u8],
) -> Result<bool> {
    check_len(count, signs.len())?;
    let per = match comparison {
        Comparison::A2b => return Ok(false),
        Comparison::PrivateCompare => drelu::private_compare::PC_BITS,
        Comparison::Leaky | Comparison::SignHidden => 1,
    };
    let half = count.saturating_mul(per);
    if view.len() < half.saturating_mul(2) || count == 0 {
        return Ok(false);
    }
    let (d0, d1) = view.split_at(half);
    for (i, s) in signs.iter_mut().enumerate() {
        *s = if per == 1 {
            u8::from(d0[i].wrapping_add(d1[i]) >= 0)
        } else {
            let p = drelu::private_compare::PC_PRIME;
            u8::from((per * i..per * (i + 1)).any(|k| d0[k].wrapping_add(d1[k]).rem_euclid(p) == 0))
        };
    }
    Ok(true)
}

/// What the helper computes from its view: the interval index `0..=m` of each of the `N`
/// pre-activations (ReLU: 1 for `≥ 0`, 0 below), the number of its `m` bits
/// ([`helper_signs`], breakpoint-major: all of `c₁`, then `c₂`, …) that are 1. A view shorter
/// than the comparison's layout (the A2B comparison: empty) gives `Ok(false)` and leaves
/// `levels` untouched. `scratch` holds `m·N` bytes.
///
/// # Errors
/// [`Error::ShapeMismatch`] if `levels` is not `N` long or `scratch` not `m·N`.
pub fn helper_levels(
    comparison: Comparison,
    view: &[i64],
    m: usize,
    n: usize,
    levels: &mut [u8],
    scratch: &mut [u8],
) -> Result<bool> {
    check_len(n, levels.len())?;
    let mn = m.saturating_mul(n);
    check_len(mn, scratch.len())?;
    if m == 0 || !helper_signs(comparison, view, mn, scratch)? {
        return Ok(false);
    }
    levels.fill(0);
    for k in 0..m {
        for (e, l) in levels.iter_mut().enumerate() {
            *l = l.saturating_add(scratch[k * n + e]);
        }
    }
    Ok(true)
}

/// The no-weights picture of the level maps (see the module doc): `levels` of `channels` maps
/// of `hw` pixels with values `0..=m`, into `out` (`hw` pixels in `[0, 1]`).
///
/// # Errors
/// [`Error::ShapeMismatch`] unless `levels` is `channels·out.len()` long.
pub fn sign_image(levels: &[u8], channels: usize, m: usize, out: &mut [f64]) -> Result<()> {
    let hw = out.len();
    check_len(channels.saturating_mul(hw), levels.len())?;
    out.fill(0.0);
    if channels == 0 || hw == 0 {
        return Ok(());
    }
    let m = m.max(1) as f64;
    for ch in levels.chunks(hw) {
        let mean = ch.iter().map(|&l| f64::from(l) / m).sum::<f64>() / hw as f64;
        let flip = mean > 0.5;
        for (o, &l) in out.iter_mut().zip(ch) {
            let v = f64::from(l) / m;
            *o += if flip { 1.0 - v } else { v };
        }
    }
    for o in out.iter_mut() {
        *o /= channels as f64;
    }
    Ok(())
}

/// The optimiser's settings (the note's recipe by default).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ReconSettings {
    /// Adam steps.
    pub steps: u32,
    /// Adam learning rate.
    pub lr: f64,
    /// Hinge margin `μ`.
    pub margin: f64,
    /// Weight `λ` of the prior `‖x − m‖²`.
    pub prior: f64,
}

impl Default for ReconSettings {
    fn default() -> Self {
        ReconSettings {
            steps: 500,
            lr: 0.05,
            margin: 0.05,
            prior: 0.05,
        }
    }
}

/// `f64` words [`reconstruct`] needs as work space (for a layer that passes
/// [`FirstLayer::check`]; saturating otherwise).
pub fn recon_work_len(layer: &FirstLayer) -> usize {
    layer
        .pixels()
        .saturating_mul(3)
        .saturating_add(layer.outputs().saturating_mul(2))
}

/// Reconstructs the input from the helper's level maps with the first layer known (see the
/// module doc): `levels` as [`helper_levels`] writes them (or `None`: no constraint, the
/// result is the prior), `breakpoints` the activation's, `prior` the mean image, result in
/// `x`.
///
/// # Errors
/// [`Error::ShapeMismatch`] for wrong lengths; [`Error::BufferTooSmall`] for `work` below
/// [`recon_work_len`]; [`Error::OutOfRange`] for non-finite or non-positive settings.
pub fn reconstruct(
    layer: &FirstLayer,
    levels: Option<&[u8]>,
    breakpoints: &[f64],
    prior: &[f64],
    settings: ReconSettings,
    x: &mut [f64],
    work: &mut [f64],
) -> Result<()> {
    layer.check()?;
    let (px, n) = (layer.pixels(), layer.outputs());
    check_len(px, x.len())?;
    check_len(px, prior.len())?;
    if let Some(l) = levels {
        check_len(n, l.len())?;
    }
    drelu::check_breakpoints(breakpoints)?;
    let s = settings;
    let finite = s.lr.is_finite() && s.margin.is_finite() && s.prior.is_finite();
    if !(finite && s.lr > 0.0 && s.prior >= 0.0) {
        return Err(Error::OutOfRange {
            what: "reconstruction settings",
        });
    }
    crate::protocols::need(recon_work_len(layer), work.len())?;
    let (m1, rest) = work.split_at_mut(px);
    let (m2, rest) = rest.split_at_mut(px);
    let (gx, rest) = rest.split_at_mut(px);
    let (pre, rest) = rest.split_at_mut(n);
    let g = &mut rest[..n];
    x.copy_from_slice(prior);
    m1.fill(0.0);
    m2.fill(0.0);
    let Some(levels) = levels else {
        return Ok(());
    };
    let (b1, b2, eps) = (0.9f64, 0.999f64, 1e-8);
    let (mut p1, mut p2) = (1.0f64, 1.0f64);
    for _ in 0..s.steps {
        layer.forward(x, pre)?;
        // g_j = Σ_k −s_jk·[μ − s_jk·(pre_j − c_k) > 0].
        for ((gj, &pj), &l) in g.iter_mut().zip(pre.iter()).zip(levels) {
            let mut acc = 0.0;
            for (k, &ck) in breakpoints.iter().enumerate() {
                let sgn = if (k as u8) < l { 1.0 } else { -1.0 };
                if s.margin - sgn * (pj - ck) > 0.0 {
                    acc -= sgn;
                }
            }
            *gj = acc;
        }
        for ((o, &xi), &mi) in gx.iter_mut().zip(x.iter()).zip(prior) {
            *o = 2.0 * s.prior * (xi - mi);
        }
        layer.backward(g, gx);
        p1 *= b1;
        p2 *= b2;
        for i in 0..px {
            m1[i] = b1 * m1[i] + (1.0 - b1) * gx[i];
            m2[i] = b2 * m2[i] + (1.0 - b2) * gx[i] * gx[i];
            let mh = m1[i] / (1.0 - p1);
            let vh = m2[i] / (1.0 - p2);
            x[i] = (x[i] - s.lr * mh / (libm::sqrt(vh) + eps)).clamp(0.0, 1.0);
        }
    }
    Ok(())
}
