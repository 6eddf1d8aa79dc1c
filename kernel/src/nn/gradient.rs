//! The gradient of the plaintext model's decision margin with respect to its input, by
//! reverse-mode differentiation: what a search that walks seeds towards the plaintext decision
//! boundary steps along ([`Operator::Gradient`](crate::difftest::mutation::Operator)).
//!
//! # Method
//! One forward pass of the plaintext model (`f64`, exact activations, the parameters loaded
//! as [`Deployment::Folded`]: batch norms folded into the preceding layer) records every
//! layer's output on a tape; the backward pass then carries `∂margin/∂output` from the logits
//! to the input, layer by layer: transposed products for linear and conv2d layers, the
//! activation's derivative at its recorded input, the window's share for average pooling, the
//! window's (first) maximum for max pooling, the identity for flatten and folded batch norms.
//!
//! The margin of label `y` is `z_y − max_{j ≠ y} z_j` (positive exactly when the model
//! predicts `y`); its gradient is `∇z_y − ∇z_r` with `r` the best other class (the first of
//! equals).
//!
//! # Cost
//! About three plaintext forward passes; no MPC, no ledger.
//!
//! # Error
//! Exact to rounding where the margin is differentiable (not at ties of `r`, ReLU kinks or
//! max-pool ties, where it gives one one-sided derivative). Checked against central finite
//! differences in the tests.
//!
//! # Errors
//! Shape and buffer errors, never a panic.

use super::deploy::Deployment;
use super::model::Model;
use super::spec::{Activation, Kind, Shape};
use crate::error::{check_len, Error, Result};
use crate::linalg::{conv2d_acc, matmul_acc, MatShape, Pool2dShape};

/// Elements of the tape [`margin_gradient`] needs for `m`: the input and every layer's output
/// (the forward tape), and two buffers of the widest activation for the backward pass
/// (saturating at `usize::MAX`).
pub fn tape_elems(m: &Model<'_>) -> usize {
    let widest = m
        .shapes
        .iter()
        .map(Shape::len)
        .chain(core::iter::once(m.input.len()))
        .max()
        .unwrap_or(0);
    m.shapes
        .iter()
        .map(Shape::len)
        .fold(m.input.len(), usize::saturating_add)
        .saturating_add(widest.saturating_mul(2))
}

/// Elements of the plaintext parameters [`margin_gradient`] takes: `m.slots(Folded)`'s total.
///
/// # Errors
/// [`Model::slots`]'s.
pub fn params_len(m: &Model<'_>) -> Result<usize> {
    Ok(m.slots(Deployment::Folded)?.1)
}

/// The plaintext model's margin gradient over caller memory, as the search's
/// [`Descent`](crate::difftest::mutation::Descent): the model, its parameters loaded as
/// [`Deployment::Folded`] ([`Plain::load`]), and a tape of [`tape_elems`] values. The CLI's
/// judge and the browser's search hold one each, so both step along the same gradient.
#[derive(Debug)]
pub struct Plain<'m, 'b> {
    model: &'m Model<'m>,
    params: &'b [f64],
    tape: &'b mut [f64],
}

impl<'m, 'b> Plain<'m, 'b> {
    /// Loads `model`'s parameters as the gradient takes them (in `f64`, batch norms folded)
    /// into `params` ([`params_len`] long).
    ///
    /// # Errors
    /// [`Model::load`]'s.
    pub fn load(model: &Model<'_>, params: &mut [f64]) -> Result<()> {
        let fp = crate::fixed::FixedPoint::CRYPTEN_DEFAULT;
        model.load(
            &mut crate::arith::Float::new(fp),
            Deployment::Folded,
            params,
        )
    }

    /// The gradient of `model` with `params` (from [`Plain::load`]) over `tape`.
    pub fn new(model: &'m Model<'m>, params: &'b [f64], tape: &'b mut [f64]) -> Self {
        Plain {
            model,
            params,
            tape,
        }
    }
}

impl crate::difftest::mutation::Descent for Plain<'_, '_> {
    fn margin_gradient(&mut self, x: &[f64], label: usize, grad: &mut [f64]) -> Result<f64> {
        margin_gradient(self.model, self.params, x, label, grad, self.tape)
    }
}

/// The derivative of an activation at `z`.
fn derivative(act: Activation, z: f64) -> f64 {
    match act {
        Activation::Sigmoid => {
            let s = if z >= 0.0 {
                1.0 / (1.0 + libm::exp(-z))
            } else {
                let e = libm::exp(z);
                e / (1.0 + e)
            };
            s * (1.0 - s)
        }
        Activation::Tanh => {
            let t = libm::tanh(z);
            1.0 - t * t
        }
        Activation::Relu => {
            if z > 0.0 {
                1.0
            } else {
                0.0
            }
        }
        Activation::GeluErf => {
            let cdf = 0.5 * (1.0 + libm::erf(z * core::f64::consts::FRAC_1_SQRT_2));
            let pdf = libm::exp(-0.5 * z * z) * 0.5 * core::f64::consts::FRAC_2_SQRT_PI
                / core::f64::consts::SQRT_2;
            cdf + z * pdf
        }
        Activation::GeluTanh => {
            // The same constant as the forward pass (`Function::exact`).
            let c = 0.797_884_560_8;
            let u = c * (z + 0.044715 * z * z * z);
            let t = libm::tanh(u);
            0.5 * (1.0 + t) + 0.5 * z * (1.0 - t * t) * c * (1.0 + 3.0 * 0.044715 * z * z)
        }
    }
}

/// The value of an activation at `z` (as the plaintext model computes it).
fn value(act: Activation, z: f64) -> f64 {
    use crate::approx::Function;
    let f = match act {
        Activation::Sigmoid => Function::Sigmoid,
        Activation::Tanh => Function::Tanh,
        Activation::Relu => Function::Relu,
        Activation::GeluErf => Function::GeluErf,
        Activation::GeluTanh => Function::GeluTanh,
    };
    f.exact(z)
}

/// The pooling geometry of a layer over `shape`.
fn pool_shape(shape: Shape, k: usize, stride: usize) -> Result<Pool2dShape> {
    let Shape::Image { c, h, w } = shape else {
        return Err(Error::InvalidShape {
            what: "pooling on a vector",
        });
    };
    Ok(Pool2dShape {
        planes: c,
        h,
        w,
        k,
        stride,
    })
}

/// The plaintext margin of `label` at input `x`, with its gradient written to `grad`
/// (module doc). `params` are the model's parameters loaded by [`Model::load`] with
/// [`Deployment::Folded`] in [`crate::Float`]; `tape` holds at least [`tape_elems`] elements.
///
/// # Errors
/// [`Model::slots`]'s; [`Error::ShapeMismatch`] unless `x` and `grad` are one input long and
/// `params` [`params_len`] long; [`Error::BufferTooSmall`] for a short tape;
/// [`Error::OutOfRange`] for a label that is not a class of a model of at least two;
/// [`Error::InvalidShape`] for a layer whose geometry does not fit its input.
pub fn margin_gradient(
    m: &Model<'_>,
    params: &[f64],
    x: &[f64],
    label: usize,
    grad: &mut [f64],
    tape: &mut [f64],
) -> Result<f64> {
    let (slots, total) = m.slots(Deployment::Folded)?;
    let n = m.input.len();
    check_len(n, x.len())?;
    check_len(n, grad.len())?;
    check_len(total, params.len())?;
    let needed = tape_elems(m);
    if tape.len() < needed {
        return Err(Error::BufferTooSmall {
            needed,
            got: tape.len(),
        });
    }
    if m.classes < 2 || label >= m.classes {
        return Err(Error::OutOfRange {
            what: "the margin's label must be a class of a model of at least two classes",
        });
    }
    let layers = &m.spec.layers;
    // Offsets of the tape: `at[i]` is where layer i's input starts, `at[i + 1]` its output.
    let mut at: heapless::Vec<usize, { super::spec::LAYERS_MAX + 1 }> = heapless::Vec::new();
    let mut end = 0usize;
    let _ = at.push(0);
    end += n;
    for s in m.shapes.iter() {
        let _ = at.push(end);
        end += s.len();
    }
    let (fwd, back) = tape.split_at_mut(end);
    fwd[..n].copy_from_slice(x);

    // Forward.
    for (i, layer) in layers.iter().enumerate() {
        let (head, tail) = fwd.split_at_mut(at[i + 1]);
        let input = &head[at[i]..];
        let out = &mut tail[..m.shapes[i].len()];
        let s = slots[i];
        match layer.kind {
            Kind::Linear { inputs, outputs } => {
                out.fill(0.0);
                matmul_acc(
                    input,
                    &params[s.weight..s.weight + inputs * outputs],
                    out,
                    MatShape {
                        m: 1,
                        k: inputs,
                        n: outputs,
                    },
                )?;
                for (o, b) in out.iter_mut().zip(&params[s.bias..s.bias + outputs]) {
                    *o += *b;
                }
            }
            Kind::Conv2d {
                in_ch, out_ch, k, ..
            } => {
                let sh =
                    layer
                        .kind
                        .conv2d_shape(m.input_shape(i), 1)
                        .ok_or(Error::InvalidShape {
                            what: "conv2d on an input that is not an image of its channels",
                        })?;
                out.fill(0.0);
                conv2d_acc(
                    input,
                    &params[s.weight..s.weight + out_ch * in_ch * k * k],
                    out,
                    &sh,
                )?;
                let plane = out.len().checked_div(out_ch).unwrap_or(0);
                if plane > 0 {
                    for (q, chunk) in out.chunks_mut(plane).enumerate() {
                        let b = params[s.bias + q % out_ch];
                        for v in chunk.iter_mut() {
                            *v += b;
                        }
                    }
                }
            }
            Kind::Act(act) => {
                for (o, &z) in out.iter_mut().zip(input) {
                    *o = value(act, z);
                }
            }
            Kind::AvgPool { k, stride } | Kind::MaxPool { k, stride } => {
                let p = pool_shape(m.input_shape(i), k, stride)?;
                check_len(p.output_len()?, out.len())?;
                let avg = matches!(layer.kind, Kind::AvgPool { .. });
                if avg {
                    out.fill(0.0);
                } else {
                    out.fill(f64::NEG_INFINITY);
                }
                p.for_each_cell(|o, _, j| {
                    if avg {
                        out[o] += input[j];
                    } else if input[j] > out[o] {
                        out[o] = input[j];
                    }
                });
                if avg {
                    let w = p.window() as f64;
                    for v in out.iter_mut() {
                        *v /= w;
                    }
                }
            }
            // Folded into the previous layer (Deployment::Folded), or a reshape.
            Kind::BatchNorm { .. } | Kind::Flatten => {
                check_len(input.len(), out.len())?;
                out.copy_from_slice(input);
            }
        }
    }

    // The margin and its gradient with respect to the logits.
    let logits = &fwd[end - m.classes..end];
    let mut rival = if label == 0 { 1 } else { 0 };
    for (j, &v) in logits.iter().enumerate() {
        if j != label && v > logits[rival] {
            rival = j;
        }
    }
    let margin = logits[label] - logits[rival];
    let wide = back.len() / 2;
    let (mut gout, mut gin) = back.split_at_mut(wide);
    gout[..m.classes].fill(0.0);
    gout[label] = 1.0;
    gout[rival] = -1.0;

    // Backward: `gout` holds ∂margin/∂(layer i's output), `gin` receives ∂margin/∂(its input).
    for (i, layer) in layers.iter().enumerate().rev() {
        let input = &fwd[at[i]..at[i + 1]];
        let (li, lo) = (input.len(), m.shapes[i].len());
        let go = &gout[..lo];
        let gi = &mut gin[..li];
        let s = slots[i];
        match layer.kind {
            Kind::Linear { inputs, outputs } => {
                let w = &params[s.weight..s.weight + inputs * outputs];
                for (j, g) in gi.iter_mut().enumerate() {
                    let row = &w[j * outputs..(j + 1) * outputs];
                    *g = row.iter().zip(go).map(|(a, b)| a * b).sum();
                }
            }
            Kind::Conv2d {
                in_ch,
                out_ch,
                k,
                stride,
                pad,
            } => {
                let Shape::Image { h, w, .. } = m.input_shape(i) else {
                    return Err(Error::InvalidShape {
                        what: "conv2d on a vector",
                    });
                };
                let Shape::Image { h: oh, w: ow, .. } = m.shapes[i] else {
                    return Err(Error::InvalidShape {
                        what: "conv2d output is not an image",
                    });
                };
                let wt = &params[s.weight..s.weight + out_ch * in_ch * k * k];
                gi.fill(0.0);
                for oc in 0..out_ch {
                    for ic in 0..in_ch {
                        let wbase = (oc * in_ch + ic) * k * k;
                        for ky in 0..k {
                            for kx in 0..k {
                                let wv = wt[wbase + ky * k + kx];
                                for oy in 0..oh {
                                    let iy = oy * stride + ky;
                                    if iy < pad || iy - pad >= h {
                                        continue;
                                    }
                                    let iy = iy - pad;
                                    for ox in 0..ow {
                                        let ix = ox * stride + kx;
                                        if ix < pad || ix - pad >= w {
                                            continue;
                                        }
                                        gi[(ic * h + iy) * w + ix - pad] +=
                                            wv * go[(oc * oh + oy) * ow + ox];
                                    }
                                }
                            }
                        }
                    }
                }
            }
            Kind::Act(act) => {
                for ((g, &z), &d) in gi.iter_mut().zip(input).zip(go) {
                    *g = d * derivative(act, z);
                }
            }
            Kind::AvgPool { k, stride } => {
                let p = pool_shape(m.input_shape(i), k, stride)?;
                let w = p.window() as f64;
                gi.fill(0.0);
                p.for_each_cell(|o, _, j| gi[j] += go[o] / w);
            }
            Kind::MaxPool { k, stride } => {
                let p = pool_shape(m.input_shape(i), k, stride)?;
                let out = &fwd[at[i + 1]..at[i + 1] + lo];
                gi.fill(0.0);
                // The first cell holding the window's maximum takes the gradient.
                let mut last = usize::MAX;
                let mut done = false;
                p.for_each_cell(|o, _, j| {
                    if o != last {
                        last = o;
                        done = false;
                    }
                    if !done && input[j] == out[o] {
                        gi[j] += go[o];
                        done = true;
                    }
                });
            }
            Kind::BatchNorm { .. } | Kind::Flatten => gi.copy_from_slice(go),
        }
        core::mem::swap(&mut gout, &mut gin);
    }
    grad.copy_from_slice(&gout[..n]);
    Ok(margin)
}

#[cfg(test)]
mod tests {
    use super::{derivative, value};
    use crate::nn::spec::Activation;

    /// Every activation's derivative (tanh and the tanh-form GELU are on no built-in model)
    /// matches central differences of the value the plaintext model computes.
    #[test]
    fn activation_derivatives_match_finite_differences() {
        let h = 1e-6;
        for act in [
            Activation::Sigmoid,
            Activation::Tanh,
            Activation::Relu,
            Activation::GeluErf,
            Activation::GeluTanh,
        ] {
            for k in -40..=40 {
                let z = f64::from(k) * 0.1 + 0.013;
                let fd = (value(act, z + h) - value(act, z - h)) / (2.0 * h);
                let d = derivative(act, z);
                assert!((fd - d).abs() < 1e-7, "{act:?} at {z}: {d} vs {fd}");
            }
        }
    }
}
