//! Mini-batch SGD for a fully-connected network (the Credit MLP's kind: any layer widths,
//! ReLU or sigmoid hidden units, softmax output) by backpropagation, written once against
//! [`Arith`].
//!
//! # Method
//! The network has widths `n_0 (= features), n_1, …, n_L (= classes ≥ 2)`; layer `l` maps
//! `n_l` inputs to `n_{l+1}` outputs by `Z = H · W_l + b_l`, with `W_l` stored `n_l × n_{l+1}`
//! (input-major, the product's natural layout; the transpose of PyTorch's `Linear.weight`).
//! Samples are taken in order, `batch` (= B) at a time (a trailing partial batch is skipped),
//! for `epochs` passes, exactly as in [`super::logistic`]. Step `t` on the rows `H_0 = X`
//! (`B × n_0`) and the one-hot targets `Y` (`B × n_L`) runs
//!
//! ```text
//! forward, l = 0 … L−1:
//!   Z_l = H_l · W_l + b_l            matmul (B × n_l)·(n_l × n_{l+1}), local bias
//!   l < L−1, ReLU:    K_l = 1 − [Z_l < 0]  (ltz, local),  H_{l+1} = Z_l ⊙ K_l  (mul_unscaled)
//!   l < L−1, sigmoid: H_{l+1} = σ(Z_l)     (the profile's sigmoid)
//!   l = L−1:          P = softmax(Z_l)     (the profile's: max, exp, reciprocal)
//! backward:
//!   Δ_{L−1} = P − Y                                  local
//!   l = L−1 … 0:
//!     G_l = H_lᵀ · Δ_l                               matmul (n_l × B)·(B × n_{l+1})
//!     g_l = Σ_rows Δ_l                               local
//!     l > 0:  E = Δ_l · W_lᵀ                         matmul (B × n_{l+1})·(n_{l+1} × n_l)
//!     (W_l, b_l) ← (W_l, b_l) − (lr / B) · (G_l, g_l)  one mul_const, local subtraction
//!     l > 0, ReLU:    Δ_{l−1} = E ⊙ K_{l−1}              (mul_unscaled by the forward mask)
//!     l > 0, sigmoid: Δ_{l−1} = E ⊙ (H_l ⊙ (1 − H_l))   (two products)
//! ```
//!
//! `P − Y` is the gradient of the summed cross-entropy `−Σ log softmax(Z)_y` with respect to
//! the logits, which is what CrypTen's `CrossEntropyLoss` backward computes on encrypted
//! tensors (`(softmax(x) − y) / B`, its softmax by the same approximations): the `1/B` is
//! folded into the update's public constant `lr / B`, so the products stay at the scale of
//! one example. `H_lᵀ` and `W_lᵀ` are the same elements reordered (free). The ReLU masks are
//! the forward comparisons' bits, reused by the backward pass (no second comparison). The
//! data and one-hot targets are brought in once per call ([`Arith::input`]: the data
//! owner's), the initial parameters by [`Arith::input_model`] (the caller's).
//!
//! ## Messages of one step (the [`crate::Shared`] protocol engine)
//! In order, for `L` layers:
//! 1. forward, `l = 0 … L−1`: the `"matmul"` opening (ε = `H_l − A`: `B·n_l` words, example
//!    `i`'s unit `j` at `i·n_l + j`; then δ = `W_l − b`: `n_l·n_{l+1}` words), its truncation
//!    (dealer mode), then the hidden activation's openings (ReLU: one `ltz` — its last
//!    message `"ltz.b2a"` — and one `"mul"`; sigmoid: the sigmoid's) or, after the last
//!    layer, the softmax's (the row maximum's comparisons and products, exp's squarings, the
//!    reciprocal's, one product);
//! 2. backward, `l = L−1 … 0`: the **weight-gradient** `"matmul"` (ε = `H_lᵀ − A'`:
//!    `n_l·B` words, word `j·B + i` is example `i`'s input unit `j`; then δ = `Δ_l − b'`:
//!    `B·n_{l+1}` words, word `n_l·B + i·n_{l+1} + k` is **example `i`'s error at output unit
//!    `k`**: [`error_word`]), its truncation (dealer mode); if `l > 0` the **error** `"matmul"`
//!    (ε = `Δ_l − A''`, δ = `W_lᵀ − b''`) and its truncation (dealer mode); the update's
//!    truncation (dealer mode); if `l > 0` the derivative's products (ReLU: one `"mul"`;
//!    sigmoid: two).
//!
//! So every step opens `3L − 1` matrix products, all distinct: step `t`'s forward product of
//! layer `l` is the party's `"matmul"` message number `t·(3L−1) + l` ([`forward_opening`]),
//! its weight-gradient product number `t·(3L−1) + L + 2·(L−1−l)` ([`gradient_opening`]; in
//! dealer truncation mode the gradient's truncation is the round after it,
//! [`gradient_truncation`]) and its error product the next one ([`error_opening`]). Steps
//! count from the session's first `"matmul"`, over all calls of [`train`], as in
//! [`super::logistic`]. With ReLU units the step's comparisons are the `L − 1` masks' and then
//! the softmax maximum's (none backward): [`relu_mask_toggle`] names the `"ltz.b2a"` word of
//! one example's unit.
//!
//! # Cost
//! Per step: `3L − 1` matrix triples and as many product rounds; the forward products open
//! `B·n_l + n_l·n_{l+1}` words, the gradient products `n_l·B + B·n_{l+1}`, the error products
//! `B·n_{l+1} + n_{l+1}·n_l` (8 bytes each per party); per ReLU layer one comparison and two
//! unscaled products of `B·n_{l+1}` elements (the forward mask and the backward one); per
//! sigmoid layer the sigmoid's cost plus two products; the softmax's (`crate::approx::softmax`);
//! and in dealer truncation mode one round per truncation batch (`3L − 1` products' and `L`
//! updates' per step, besides the approximations'). Share-local truncation costs nothing.
//!
//! # Error
//! [`crate::Float`] runs the same algorithm with ideal products and the same approximations,
//! so shared − float is the encoding, truncation and share randomness of every step, fed back
//! through later steps. Measured in `training/tests` (`backprop_tests.rs`; f = 16, `crypten`
//! profile, the 64 × 5 set of [`super::separable`] as two classes, widths 5-8-2, init seed 3,
//! lr 0.5, batch 8, 4 epochs = 32 steps, MPC seeds 1, 0x5EED, 2024, both truncation modes):
//! the largest parameter difference after any epoch is 2.3e−4 to 6.5e−4 in 11 of the 12 runs
//! and 5.1e−3 in one (ReLU, seed 1, share-local truncation: not attributed yet; a ReLU mask
//! that differs where a pre-activation lies within the error of 0 moves a step's gradient by
//! one example's contribution, of this size). The exact loss after 4 epochs differs by at
//! most 1.4e−4 (ReLU 0.1586, sigmoid 0.4036, from 0.684 and 0.696) and the training
//! accuracies are equal (95.3 % and 89.1 %, from 57.8 % and 50 %). The tests enforce 1e−2 and
//! 1e−3. The float backward itself matches central finite differences of the exact loss
//! ([`evaluate`]) within 2.1e−7 (enforced: 1e−5 + 1e−4·|g| per parameter), with the
//! approximations made near-exact (2^20 exp squarings, 30 Newton steps), for 5-6-2 and
//! 5-4-3-2 networks, ReLU and sigmoid.
//!
//! # Errors
//! [`Error::InvalidShape`] for fewer than two widths, a zero width, fewer than two classes, a
//! feature count other than `n_0`, a zero batch or one larger than the data; [`Error::ShapeMismatch`]
//! for a parameter or data buffer of the wrong length; [`Error::BufferTooSmall`] for a work
//! buffer shorter than [`Sizes::of`]'s `work`; [`Error::OutOfRange`] for a label that is not a
//! class index; then the approximations' and the arithmetic's errors.
//!
//! # Reference
//! Backpropagation for a multi-layer perceptron (Rumelhart, Hinton, Williams 1986) with
//! CrypTen's encrypted training recipe (`crypten.nn` modules' backward, `CrossEntropyLoss`
//! as `softmax − target`, SGD with a public learning rate); the research note's §4 (H3: ReLU
//! mask from the forward `ltz`, weight gradients as Beaver matmuls). What is not here: LeNet
//! training (convolution and pooling backward, batch norm) and momentum or weight decay.

use super::logistic::{Hyper, Problem};
use crate::approx::levels::take;
use crate::approx::softmax::{self, softmax};
use crate::approx::{self, Function, Levels};
use crate::arith::Arith;
use crate::error::{check_len, Error, Result};
use crate::linalg::MatShape;
use crate::seed::{self, StreamId};
use crate::wire::additive::Target;
use crate::Shared;

/// The hidden layers' activation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hidden {
    /// `max(0, z)`, by one comparison and one unscaled product; its mask is reused backward.
    Relu,
    /// The profile's sigmoid; its derivative `σ(1 − σ)` from the forward output.
    Sigmoid,
}

impl Hidden {
    /// The name used on the command line and in JSON (`relu`, `sigmoid`).
    pub const fn name(self) -> &'static str {
        match self {
            Hidden::Relu => "relu",
            Hidden::Sigmoid => "sigmoid",
        }
    }
}

/// The network: widths `n_0 … n_L` (inputs, hidden units, classes) and the hidden
/// activation.
#[derive(Clone, Copy, Debug)]
pub struct Net<'w> {
    /// `n_0` (features, including a bias column if the data has one), the hidden widths, then
    /// `n_L` (classes, at least 2).
    pub widths: &'w [usize],
    /// The hidden layers' activation.
    pub hidden: Hidden,
}

/// Where one layer's parameters sit in the flat parameter vector.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LayerParams {
    /// Offset of `W_l` (`inputs × outputs`, input-major), followed by `b_l` (`outputs`).
    pub offset: usize,
    /// `n_l`.
    pub inputs: usize,
    /// `n_{l+1}`.
    pub outputs: usize,
}

impl LayerParams {
    /// Elements of `W_l` and `b_l` together.
    pub const fn len(&self) -> usize {
        self.inputs
            .saturating_mul(self.outputs)
            .saturating_add(self.outputs)
    }
    /// Whether the layer has no parameters (never, for a checked network).
    pub const fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Net<'_> {
    /// `L`, the number of layers (0 for fewer than two widths).
    pub const fn layers(&self) -> usize {
        self.widths.len().saturating_sub(1)
    }

    /// `n_L`, the number of classes (0 for no widths).
    pub fn classes(&self) -> usize {
        self.widths.last().copied().unwrap_or(0)
    }

    /// Checks the widths.
    ///
    /// # Errors
    /// [`Error::InvalidShape`] for fewer than two widths, a zero width or fewer than two
    /// classes.
    pub fn check(&self) -> Result<()> {
        if self.widths.len() < 2 {
            return Err(Error::InvalidShape {
                what: "a network needs an input and an output width",
            });
        }
        if self.widths.contains(&0) {
            return Err(Error::InvalidShape {
                what: "a layer width is zero",
            });
        }
        if self.classes() < 2 {
            return Err(Error::InvalidShape {
                what: "a softmax output needs at least two classes",
            });
        }
        Ok(())
    }

    /// Layer `l`'s place in the parameter vector: layers in order, each `W_l` then `b_l`.
    ///
    /// # Errors
    /// [`Net::check`]'s; [`Error::OutOfRange`] for `l ≥ L`; [`Error::InvalidShape`] if a size
    /// overflows.
    pub fn layer(&self, l: usize) -> Result<LayerParams> {
        self.check()?;
        if l >= self.layers() {
            return Err(Error::OutOfRange {
                what: "the layer is past the network's last",
            });
        }
        let mut offset = 0usize;
        for k in 0..l {
            offset = offset
                .checked_add(layer_len(self.widths[k], self.widths[k + 1])?)
                .ok_or(OVERFLOW)?;
        }
        layer_len(self.widths[l], self.widths[l + 1])?;
        Ok(LayerParams {
            offset,
            inputs: self.widths[l],
            outputs: self.widths[l + 1],
        })
    }

    /// Elements of the flat parameter vector (every layer's `W_l` and `b_l`).
    ///
    /// # Errors
    /// [`Net::check`]'s; [`Error::InvalidShape`] if the count overflows.
    pub fn params_len(&self) -> Result<usize> {
        self.check()?;
        let mut n = 0usize;
        for w in self.widths.windows(2) {
            n = n.checked_add(layer_len(w[0], w[1])?).ok_or(OVERFLOW)?;
        }
        Ok(n)
    }
}

pub(super) const OVERFLOW: Error = Error::InvalidShape {
    what: "training sizes overflow",
};

fn layer_len(inputs: usize, outputs: usize) -> Result<usize> {
    inputs
        .checked_mul(outputs)
        .and_then(|w| w.checked_add(outputs))
        .ok_or(OVERFLOW)
}

pub(super) fn mul(a: usize, b: usize) -> Result<usize> {
    a.checked_mul(b).ok_or(OVERFLOW)
}

pub(super) fn add(a: usize, b: usize) -> Result<usize> {
    a.checked_add(b).ok_or(OVERFLOW)
}

/// Element counts of the work buffer's parts (in the order [`train`] takes them).
#[derive(Clone, Copy, Debug)]
struct Layout {
    data: usize,
    onehot: usize,
    /// Σ over hidden layers of `B·n_l` (activations; the ReLU masks take as many again).
    hidden: usize,
    probs: usize,
    ht: usize,
    wt: usize,
    grad: usize,
    /// `B·max(n_1 … n_L)`: one error signal (three of them: Δ, E and the derivative).
    signal: usize,
    scratch: usize,
    words: usize,
}

impl Layout {
    fn of(net: &Net<'_>, p: &Problem<'_>, h: &Hyper<'_>) -> Result<Layout> {
        net.check()?;
        let b = h.batch;
        if b == 0 {
            return Err(Error::InvalidShape {
                what: "the batch must be at least 1",
            });
        }
        if b > p.samples {
            return Err(Error::InvalidShape {
                what: "the batch is larger than the data set",
            });
        }
        if p.features != net.widths[0] {
            return Err(Error::InvalidShape {
                what: "the data's feature count is not the network's input width",
            });
        }
        let w = net.widths;
        let layers = net.layers();
        let classes = net.classes();
        let mut hidden = 0usize;
        let mut widest_hidden = 0usize;
        for &n in &w[1..layers] {
            hidden = add(hidden, mul(b, n)?)?;
            widest_hidden = widest_hidden.max(n);
        }
        let widest_out = w[1..].iter().copied().max().unwrap_or(0);
        let widest_in = w[..layers].iter().copied().max().unwrap_or(0);
        let mut grad = 0usize;
        let mut wt = 0usize;
        let mut words = 0usize;
        for (l, pair) in w.windows(2).enumerate() {
            let (i, o) = (pair[0], pair[1]);
            grad = grad.max(layer_len(i, o)?);
            if l > 0 {
                wt = wt.max(mul(i, o)?);
            }
            for s in [
                MatShape { m: b, k: i, n: o },
                MatShape { m: i, k: b, n: o },
                MatShape { m: b, k: o, n: i },
            ] {
                words = words.max(Shared::scratch_words_matmul(s));
            }
        }
        let signal = mul(b, widest_out)?;
        words = words
            .max(Shared::scratch_words_elementwise(mul(signal, 4)?))
            .max(Shared::scratch_words_elementwise(grad));
        if words == usize::MAX {
            return Err(OVERFLOW);
        }
        let mut scratch = softmax::scratch_elems(b, classes);
        if net.hidden == Hidden::Sigmoid && widest_hidden > 0 {
            scratch = scratch.max(approx::scratch_elems(mul(b, widest_hidden)?));
        }
        if scratch == usize::MAX {
            return Err(OVERFLOW);
        }
        Ok(Layout {
            data: mul(p.samples, p.features)?,
            onehot: mul(p.samples, classes)?,
            hidden,
            probs: mul(b, classes)?,
            ht: mul(widest_in, b)?,
            wt,
            grad,
            signal,
            scratch,
            words,
        })
    }

    fn work(&self) -> Result<usize> {
        let mut n = add(self.data, self.onehot)?;
        n = add(n, mul(self.hidden, 2)?)?;
        n = add(n, self.probs)?;
        n = add(n, self.ht)?;
        n = add(n, self.wt)?;
        n = add(n, self.grad)?;
        n = add(n, mul(self.signal, 3)?)?;
        add(n, self.scratch)
    }
}

/// What [`train`] needs: the parameter vector's length, the work buffer's and the words of a
/// [`Shared`] session's arena.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sizes {
    /// Elements of the parameters ([`Net::params_len`]).
    pub params: usize,
    /// Elements of the work buffer: the data, the one-hot targets, the activations and masks
    /// of one batch, transposes, one layer's gradient, three error signals and the
    /// approximations' scratch.
    pub work: usize,
    /// Words of a [`Shared`] arena enough for every operation of a step.
    pub words: usize,
}

impl Sizes {
    /// The sizes for `net` trained on `p` with `h`.
    ///
    /// # Errors
    /// See the module doc ([`Error::InvalidShape`] cases).
    pub fn of(net: &Net<'_>, p: &Problem<'_>, h: &Hyper<'_>) -> Result<Sizes> {
        let lay = Layout::of(net, p, h)?;
        Ok(Sizes {
            params: net.params_len()?,
            work: lay.work()?,
            words: lay.words,
        })
    }
}

/// Fills `out` ([`Net::params_len`] long) with initial parameters drawn from `seed`: PyTorch's
/// `nn.Linear` default, every weight and bias of layer `l` uniform in `[−1/√n_l, 1/√n_l)`.
///
/// # Method
/// From the stream [`StreamId::WeightInit`] of `seed`, one [`seed::unit_f64`] draw `u` per
/// parameter in the flat order (`W_0`, `b_0`, `W_1`, …), mapped to `(2u − 1)/√n_l`.
///
/// # Errors
/// [`Net::params_len`]'s; [`Error::ShapeMismatch`] for an `out` of another length.
pub fn init(seed: u64, net: &Net<'_>, out: &mut [f64]) -> Result<()> {
    check_len(net.params_len()?, out.len())?;
    let mut rng = seed::stream(seed, StreamId::WeightInit);
    let mut rest = out;
    for pair in net.widths.windows(2) {
        let bound = 1.0 / libm::sqrt(pair[0] as f64);
        let (layer, tail) = core::mem::take(&mut rest).split_at_mut(layer_len(pair[0], pair[1])?);
        for v in layer.iter_mut() {
            *v = (2.0 * seed::unit_f64(&mut rng) - 1.0) * bound;
        }
        rest = tail;
    }
    Ok(())
}

/// Trains `params` (already brought in, [`Net::params_len`] elements in the layout of
/// [`Net::layer`]) on `p` (labels: class indices `0 … n_L − 1`) with `h` in arithmetic `a`,
/// using `work` ([`Sizes::of`]'s `work` elements at least) as scratch. See the module doc.
///
/// # Errors
/// See the module doc.
pub fn train<A: Arith>(
    a: &mut A,
    net: &Net<'_>,
    p: &Problem<'_>,
    h: &Hyper<'_>,
    params: &mut [A::Elem],
    work: &mut [A::Elem],
) -> Result<()> {
    let lay = Layout::of(net, p, h)?;
    check_len(lay.data, p.x.len())?;
    check_len(p.samples, p.y.len())?;
    check_len(net.params_len()?, params.len())?;
    approx::need(work.len(), lay.work()?)?;
    let classes = net.classes();
    if p.y.iter().any(|&y| !class_index(y, classes)) {
        return Err(Error::OutOfRange {
            what: "a label is not a class index of the network",
        });
    }
    let mut s = work;
    let data = take(&mut s, lay.data)?;
    let onehot = take(&mut s, lay.onehot)?;
    let hidden = take(&mut s, lay.hidden)?;
    let keeps = take(&mut s, lay.hidden)?;
    let probs = take(&mut s, lay.probs)?;
    let ht = take(&mut s, lay.ht)?;
    let wt = take(&mut s, lay.wt)?;
    let grad = take(&mut s, lay.grad)?;
    let delta = take(&mut s, lay.signal)?;
    let err = take(&mut s, lay.signal)?;
    let deriv = take(&mut s, lay.signal)?;
    let scratch = take(&mut s, lay.scratch)?;

    a.input(p.x, data)?;
    input_onehot(a, p.y, classes, onehot)?;

    let (b, layers) = (h.batch, net.layers());
    let w = net.widths;
    let step_lr = h.lr / b as f64;
    let sig_level = Function::Sigmoid.default_level(h.profile);
    for _ in 0..h.epochs {
        for st in 0..h.steps_per_epoch(p.samples) {
            let rows = &data[st * b * w[0]..][..b * w[0]];
            let targets = &onehot[st * b * classes..][..b * classes];
            // ---- forward ----
            let mut hid_off = 0usize;
            for l in 0..layers {
                let lp = net.layer(l)?;
                let (wl, bl) = params[lp.offset..][..lp.len()].split_at(lp.inputs * lp.outputs);
                let shape = MatShape {
                    m: b,
                    k: lp.inputs,
                    n: lp.outputs,
                };
                let out_len = b * lp.outputs;
                // The input (the batch's rows, or the previous hidden layer) and the output.
                let (before, after) = hidden.split_at_mut(hid_off);
                let input: &[A::Elem] = if l == 0 {
                    rows
                } else {
                    &before[before.len() - b * lp.inputs..]
                };
                let out: &mut [A::Elem] = if l + 1 == layers {
                    &mut probs[..]
                } else {
                    &mut after[..out_len]
                };
                a.matmul(input, wl, out, shape)?;
                for row in out.chunks_exact_mut(lp.outputs) {
                    for (z, &bias) in row.iter_mut().zip(bl) {
                        *z = a.elem_add(*z, bias);
                    }
                }
                if l + 1 == layers {
                    softmax(a, out, b, classes, h.profile, scratch)?;
                } else {
                    match net.hidden {
                        Hidden::Relu => {
                            let keep = &mut keeps[hid_off..][..out_len];
                            a.ltz(out, keep)?;
                            a.neg(keep);
                            a.add_int(keep, 1);
                            a.mul_unscaled(out, keep)?;
                        }
                        Hidden::Sigmoid => approx::eval(
                            a,
                            Function::Sigmoid,
                            h.profile,
                            out,
                            &Levels::Uniform(sig_level),
                            scratch,
                        )?,
                    }
                    hid_off += out_len;
                }
            }
            // ---- backward ----
            let d = &mut delta[..b * classes];
            d.copy_from_slice(probs);
            a.sub(d, targets)?;
            for l in (0..layers).rev() {
                let lp = net.layer(l)?;
                let (ni, no) = (lp.inputs, lp.outputs);
                // H_l: the rows, or hidden layer l − 1 (which ends at hid_off).
                let h_off = hid_off.saturating_sub(b * ni);
                let input: &[A::Elem] = if l == 0 {
                    rows
                } else {
                    &hidden[h_off..][..b * ni]
                };
                let ht = &mut ht[..ni * b];
                for (i, row) in input.chunks_exact(ni).enumerate() {
                    for (j, &v) in row.iter().enumerate() {
                        ht[j * b + i] = v;
                    }
                }
                let dl = &delta[..b * no];
                let (gw, gb) = grad[..lp.len()].split_at_mut(ni * no);
                a.matmul(ht, dl, gw, MatShape { m: ni, k: b, n: no })?;
                gb.fill(A::Elem::default());
                for row in dl.chunks_exact(no) {
                    for (g, &v) in gb.iter_mut().zip(row) {
                        *g = a.elem_add(*g, v);
                    }
                }
                let layer = &mut params[lp.offset..][..lp.len()];
                if l > 0 {
                    let wt = &mut wt[..no * ni];
                    for j in 0..ni {
                        for k in 0..no {
                            wt[k * ni + j] = layer[j * no + k];
                        }
                    }
                    a.matmul(dl, wt, &mut err[..b * ni], MatShape { m: b, k: no, n: ni })?;
                }
                let g = &mut grad[..lp.len()];
                a.mul_const(g, step_lr)?;
                a.sub(layer, g)?;
                if l > 0 {
                    let e = &mut err[..b * ni];
                    match net.hidden {
                        Hidden::Relu => a.mul_unscaled(e, &keeps[h_off..][..b * ni])?,
                        Hidden::Sigmoid => {
                            let hl = &hidden[h_off..][..b * ni];
                            let dv = &mut deriv[..b * ni];
                            dv.copy_from_slice(hl);
                            a.rsub_const(dv, 1.0)?;
                            a.mul(dv, hl)?;
                            a.mul(e, dv)?;
                        }
                    }
                    delta[..b * ni].copy_from_slice(e);
                    hid_off = h_off;
                }
            }
        }
    }
    Ok(())
}

pub(super) fn class_index(y: f64, classes: usize) -> bool {
    y >= 0.0 && y < classes as f64 && libm::floor(y) == y
}

/// Brings in the one-hot targets of the labels `y` (`classes` each, into `out`), the data
/// owner's input, a chunk at a time (no buffer as long as the data).
pub(super) fn input_onehot<A: Arith>(
    a: &mut A,
    y: &[f64],
    classes: usize,
    out: &mut [A::Elem],
) -> Result<()> {
    let mut chunk = [0.0f64; 64];
    for (k, out) in out.chunks_mut(chunk.len()).enumerate() {
        let vals = &mut chunk[..out.len()];
        for (j, v) in vals.iter_mut().enumerate() {
            let flat = k * 64 + j;
            *v = if y[flat / classes] as usize == flat % classes {
                1.0
            } else {
                0.0
            };
        }
        a.input(vals, out)?;
    }
    Ok(())
}

/// The exact cross-entropy `−log softmax(z)_label` (log-sum-exp, `libm`) and whether the
/// first largest logit is the label's: one sample of [`evaluate`].
pub(super) fn score(z: &[f64], label: usize) -> (f64, bool) {
    let (mut best, mut m) = (0usize, z[0]);
    for (k, &v) in z.iter().enumerate() {
        if v > m {
            best = k;
            m = v;
        }
    }
    let lse = m + libm::log(z.iter().map(|&v| libm::exp(v - m)).sum::<f64>());
    (lse - z[label], best == label)
}

/// The loss and accuracy of plaintext parameters on a data set.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Evaluation {
    /// Mean cross-entropy `−log softmax(z)_y` over the samples (exact functions, `libm`).
    pub loss: f64,
    /// Samples whose first largest logit is their label's.
    pub correct: usize,
}

/// Scratch elements [`evaluate`] needs: two of the widest layer.
pub fn eval_scratch_len(net: &Net<'_>) -> usize {
    net.widths
        .iter()
        .copied()
        .max()
        .unwrap_or(0)
        .saturating_mul(2)
}

/// Evaluates plaintext parameters (the layout of [`Net::layer`]) on `p` with the exact
/// functions (`max(0, z)`, `1/(1 + e^−z)`, log-sum-exp), one sample at a time in `scratch`
/// ([`eval_scratch_len`] elements): the reference the training's progress is read against,
/// and the loss whose central differences check the backward pass.
///
/// # Errors
/// [`Net::check`]'s; [`Error::ShapeMismatch`] for a parameter or data buffer of the wrong
/// length or a feature count other than `n_0`; [`Error::BufferTooSmall`] for a short
/// scratch; [`Error::OutOfRange`] for a label that is not a class index.
pub fn evaluate(
    net: &Net<'_>,
    params: &[f64],
    p: &Problem<'_>,
    scratch: &mut [f64],
) -> Result<Evaluation> {
    check_len(net.params_len()?, params.len())?;
    check_len(net.widths[0], p.features)?;
    check_len(mul(p.samples, p.features)?, p.x.len())?;
    check_len(p.samples, p.y.len())?;
    let widest = eval_scratch_len(net) / 2;
    approx::need(scratch.len(), 2 * widest)?;
    let classes = net.classes();
    let (cur, next) = scratch.split_at_mut(widest);
    let mut loss = 0.0;
    let mut correct = 0usize;
    for (x, &y) in p.x.chunks_exact(p.features).zip(p.y) {
        if !class_index(y, classes) {
            return Err(Error::OutOfRange {
                what: "a label is not a class index of the network",
            });
        }
        cur[..x.len()].copy_from_slice(x);
        for l in 0..net.layers() {
            let lp = net.layer(l)?;
            let (wl, bl) = params[lp.offset..][..lp.len()].split_at(lp.inputs * lp.outputs);
            for (k, o) in next[..lp.outputs].iter_mut().enumerate() {
                let mut z = bl[k];
                for j in 0..lp.inputs {
                    z += cur[j] * wl[j * lp.outputs + k];
                }
                *o = if l + 1 == net.layers() {
                    z
                } else {
                    match net.hidden {
                        Hidden::Relu => z.max(0.0),
                        Hidden::Sigmoid => 1.0 / (1.0 + libm::exp(-z)),
                    }
                };
            }
            cur[..lp.outputs].copy_from_slice(&next[..lp.outputs]);
        }
        let (l, right) = score(&cur[..classes], y as usize);
        loss += l;
        correct += usize::from(right);
    }
    Ok(Evaluation {
        loss: loss / p.samples.max(1) as f64,
        correct,
    })
}

/// Matrix products per step, `3L − 1` (see the module doc).
pub const fn matmuls_per_step(layers: usize) -> u64 {
    (layers as u64).wrapping_mul(3).wrapping_sub(1)
}

fn opening(layers: usize, step: u64, within: usize, rounds_after: u64, word: usize) -> Target {
    Target {
        protocol: "matmul",
        occurrence: step
            .wrapping_mul(matmuls_per_step(layers))
            .wrapping_add(within as u64),
        rounds_after,
        word,
    }
}

fn check_layer(layers: usize, layer: usize) -> Result<()> {
    if layer >= layers {
        return Err(Error::OutOfRange {
            what: "the layer is past the network's last",
        });
    }
    Ok(())
}

/// The corrupt party's message opening step `step`'s forward product of layer `layer` (of
/// `layers`), at word `word`: ε = `H_l − A` (example `i`'s input unit `j` at `i·n_l + j`),
/// then δ = `W_l − b`.
///
/// # Errors
/// [`Error::OutOfRange`] for `layer ≥ layers`.
pub fn forward_opening(layers: usize, step: u64, layer: usize, word: usize) -> Result<Target> {
    check_layer(layers, layer)?;
    Ok(opening(layers, step, layer, 0, word))
}

/// The corrupt party's message opening step `step`'s weight-gradient product of layer `layer`
/// (of `layers`), at word `word`: ε = `H_lᵀ − A'` (word `j·B + i`: example `i`'s input unit
/// `j`), then δ = `Δ_l − b'` ([`error_word`]).
///
/// # Errors
/// [`Error::OutOfRange`] for `layer ≥ layers`.
pub fn gradient_opening(layers: usize, step: u64, layer: usize, word: usize) -> Result<Target> {
    check_layer(layers, layer)?;
    Ok(opening(
        layers,
        step,
        layers + 2 * (layers - 1 - layer),
        0,
        word,
    ))
}

/// The dealer truncation of step `step`'s weight gradient of layer `layer` (the round after
/// [`gradient_opening`]; dealer truncation mode only), at word `j·n_{l+1} + k` (the gradient
/// of `W_l[j][k]`).
///
/// # Errors
/// [`Error::OutOfRange`] for `layer ≥ layers`.
pub fn gradient_truncation(layers: usize, step: u64, layer: usize, word: usize) -> Result<Target> {
    check_layer(layers, layer)?;
    Ok(opening(
        layers,
        step,
        layers + 2 * (layers - 1 - layer),
        1,
        word,
    ))
}

/// The corrupt party's message opening step `step`'s error product `Δ_l · W_lᵀ` of layer
/// `layer ≥ 1` (of `layers`), at word `word`: ε = `Δ_l − A''` (example `i`'s error at output
/// unit `k`: word `i·n_{l+1} + k`), then δ = `W_lᵀ − b''`.
///
/// # Errors
/// [`Error::OutOfRange`] for `layer = 0` (it has no error product) or `layer ≥ layers`.
pub fn error_opening(layers: usize, step: u64, layer: usize, word: usize) -> Result<Target> {
    check_layer(layers, layer)?;
    if layer == 0 {
        return Err(Error::OutOfRange {
            what: "the first layer has no error product",
        });
    }
    Ok(opening(
        layers,
        step,
        layers + 2 * (layers - 1 - layer) + 1,
        0,
        word,
    ))
}

/// The word of [`gradient_opening`]'s message that holds example `example`'s error at output
/// unit `unit` of layer `layer`: `n_l·B + example·n_{l+1} + unit`. Adding `E = round(e·2^f)`
/// there computes `G_l` with `Δ_l[example][unit] + e`, so column `unit` of `W_l` moves by
/// `−(lr / B)·e·H_l[example]` (the research note's §1.5, NN form: in layer 0 the victim's
/// features are written into the weights of hidden unit `unit`).
///
/// # Errors
/// [`Error::OutOfRange`] for a layer, example or unit past its end; [`Error::InvalidShape`]
/// if the index overflows.
pub fn error_word(
    net: &Net<'_>,
    batch: usize,
    layer: usize,
    example: usize,
    unit: usize,
) -> Result<usize> {
    let lp = net.layer(layer)?;
    if example >= batch || unit >= lp.outputs {
        return Err(Error::OutOfRange {
            what: "the example or unit is past the batch or the layer",
        });
    }
    add(
        mul(lp.inputs, batch)?,
        add(mul(example, lp.outputs)?, unit)?,
    )
}

/// Comparisons (`ltz` calls, each one `"ltz.b2a"` message) of the softmax's row maximum over
/// `classes` columns: one per halving, `⌈log2 classes⌉`
/// ([`crate::protocols::maximum::max_rows`]).
const fn max_levels(classes: usize) -> u64 {
    let (mut width, mut levels) = (classes, 0u64);
    while width > 1 {
        width = width / 2 + (width & 1);
        levels += 1;
    }
    levels
}

/// The edit that **toggles** the ReLU mask bit of example `example`'s unit `unit` in hidden
/// layer `hidden` (the activation after linear layer `hidden`, `0 ≤ hidden < L − 1`) at step
/// `step`, for a batch of `batch` (primitive P2 of the research note's §1.4: XOR 1 into bit 0
/// of the corrupt party's word of the comparison's last opening, `"ltz.b2a"`).
///
/// # Method
/// With ReLU hidden units (and the default comparison, [`crate::Shared`]'s A2B `ltz`), a step
/// runs `L − 1` mask comparisons (over `Z_l`, `B × n_{l+1}`, example-major) and then the
/// softmax's `⌈log2 n_L⌉`, and no comparison backward (the masks are reused), so hidden layer
/// `h`'s comparison is the party's `"ltz.b2a"` message number
/// `t·(L − 1 + ⌈log2 n_L⌉) + h`, word `example·n_{h+1} + unit`. The toggled bit flips the
/// unit's forward output (`z` for a negative `z`, 0 for a positive one) **and** its backward
/// mask, blindly: the adversary does not learn, nor need to know, the bit.
///
/// # Errors
/// [`Error::InvalidShape`] for a sigmoid network or one without a hidden layer;
/// [`Error::OutOfRange`] for a layer, example or unit past its end.
pub fn relu_mask_toggle(
    net: &Net<'_>,
    batch: usize,
    step: u64,
    hidden: usize,
    example: usize,
    unit: usize,
) -> Result<crate::wire::additive::Edit> {
    net.check()?;
    if net.hidden != Hidden::Relu || net.layers() < 2 {
        return Err(Error::InvalidShape {
            what: "mask toggles need a ReLU network with a hidden layer",
        });
    }
    if hidden.saturating_add(1) >= net.layers()
        || example >= batch
        || unit >= net.widths[hidden + 1]
    {
        return Err(Error::OutOfRange {
            what: "the hidden layer, example or unit is past its end",
        });
    }
    let per_step = (net.layers() as u64 - 1).wrapping_add(max_levels(net.classes()));
    let word = add(mul(example, net.widths[hidden + 1])?, unit)?;
    Ok(crate::wire::additive::Edit::new(
        Target {
            protocol: "ltz.b2a",
            occurrence: step.wrapping_mul(per_step).wrapping_add(hidden as u64),
            rounds_after: 0,
            word,
        },
        1,
    ))
}
