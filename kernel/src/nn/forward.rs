//! The forward pass, written once against [`Arith`].
//!
//! The same text gives the plaintext model (in [`crate::Float`] with exact activations), the
//! plaintext fixed-point model, and the MPC model (in [`crate::Shared`] with the profile's
//! approximations), so their outputs differ only by arithmetic and approximation: the
//! premise of differential testing.
//!
//! Per nonlinear layer, a [`Plan`] may give per-neuron [`Level`]s (a repair plan: MPCDiff's
//! per-neuron approximation levels, attached to the layer's *name*), or ask for the exact
//! activation (an oracle used for attribution: "does the deviation disappear if this layer
//! were exact?"; not an MPC protocol, it costs nothing in the ledger). A [`Tap`] sees every
//! nonlinear layer's outputs (the simulator's view, free).
//!
//! # Layout
//! Activations are batch-major: sample `b`'s values are contiguous, images in CHW order.
//! The input is `batch × input.len()` elements; the output `batch × classes`.

use super::deploy::{BatchNormRun, Deployment};
use super::model::{Model, Slot};
use super::pooling::{avg_pool2d, max_pool2d};
use super::spec::{Activation, Kind, Shape, Spec};
use crate::approx::profile::{GeluImpl, Profile};
use crate::approx::{self, Function, Level, Levels};
use crate::arith::Arith;
use crate::error::{check_len, Error, Result};
use crate::linalg::{MatShape, Pool2dShape};
use crate::protocols::maximum::scratch_elems_max;

/// How a nonlinear layer (an activation, or the inverse square root of a batch norm evaluated
/// under MPC, [`BatchNormRun::Mpc`]) runs.
#[derive(Clone, Copy, Debug)]
pub enum LayerMode<'l> {
    /// The profile's approximation at its default level.
    Default,
    /// The profile's approximation with one level per neuron (repeated over the batch).
    Levels(&'l [Level]),
    /// The exact function (an oracle: the values are peeked, computed in `f64` and brought
    /// back in; no protocol, no cost).
    Exact,
}

/// Per-layer choices for a forward pass, by layer name.
pub trait Plan {
    /// How the layer called `name` (an activation or a batch norm) runs.
    fn mode(&self, name: &str) -> LayerMode<'_>;
}

/// Every layer at its default.
#[derive(Clone, Copy, Debug, Default)]
pub struct DefaultPlan;

impl Plan for DefaultPlan {
    fn mode(&self, _name: &str) -> LayerMode<'_> {
        LayerMode::Default
    }
}

/// Every nonlinear layer exact: the plaintext model.
#[derive(Clone, Copy, Debug, Default)]
pub struct ExactPlan;

impl Plan for ExactPlan {
    fn mode(&self, _name: &str) -> LayerMode<'_> {
        LayerMode::Exact
    }
}

/// An observer of the nonlinear layers' outputs.
pub trait Tap {
    /// Called after the activation layer `layer` (index `index`) with its outputs as reals,
    /// in chunks: `values` are the elements `offset..offset + values.len()` of the layer's
    /// batch-major output, and the calls of one layer cover it in order. (Chunks keep the
    /// kernel's stack small, whatever the layer's size.)
    fn activation(&mut self, index: usize, layer: &str, offset: usize, values: &[f64]);

    /// Whether [`Tap::layer`] wants every layer's output (peeking costs time; off by default).
    fn wants_layers(&self) -> bool {
        false
    }

    /// Called after *every* layer (when [`Tap::wants_layers`]) with its outputs, in chunks as
    /// [`Tap::activation`]: for comparing a model prefix by prefix with a framework's per-node
    /// outputs. A layer the deployment fuses away shows its input unchanged.
    fn layer(&mut self, index: usize, layer: &str, offset: usize, values: &[f64]) {
        let _ = (index, layer, offset, values);
    }
}

/// The settings of a forward pass.
#[derive(Clone, Copy, Debug)]
pub struct Config<'p> {
    /// Approximation parameters.
    pub profile: &'p Profile,
    /// What the framework runs (must match how the parameters were loaded).
    pub deploy: Deployment,
}

/// The widest activation of one sample (input included).
fn widest(m: &Model<'_>) -> usize {
    m.shapes
        .iter()
        .map(Shape::len)
        .chain(core::iter::once(m.input.len()))
        .max()
        .unwrap_or(0)
}

/// Elements of arena [`forward`] needs for `batch` samples (saturating at `usize::MAX`, a
/// size no buffer has, when that overflows).
pub fn arena_elems(m: &Model<'_>, batch: usize) -> usize {
    let n = batch.saturating_mul(widest(m));
    // Two activation buffers, then the larger of: the approximations' scratch, the pooling
    // scratch, batch norm's broadcast buffers, the oracle's f64 round trip (done in chunks).
    let pool = n.saturating_mul(2).saturating_add(scratch_elems_max(n, 4));
    // A batch norm under MPC takes its channels' inverse standard deviations and their
    // inverse square root's scratch: within the approximations' bound, except for channels
    // of empty images (c×0×0), which are no wider than the layer's channel count.
    let bn = m
        .spec
        .layers
        .iter()
        .map(|l| match l.kind {
            Kind::BatchNorm { channels, .. } => {
                channels.saturating_add(approx::sqrt::scratch_elems(channels))
            }
            _ => 0,
        })
        .max()
        .unwrap_or(0);
    n.saturating_mul(4)
        .saturating_add(approx::scratch_elems(n).max(pool).max(bn))
        .saturating_add(64)
}

/// Words of the [`crate::Shared`] session arena [`forward`] needs for `batch` samples
/// (saturating at `usize::MAX`).
pub fn shared_arena_words(m: &Model<'_>, batch: usize) -> usize {
    let n = batch.saturating_mul(widest(m));
    let mut need = crate::Shared::scratch_words_elementwise(n.saturating_mul(8));
    for (i, layer) in m.spec.layers.iter().enumerate() {
        let words = match layer.kind {
            Kind::Linear { inputs, outputs } => crate::Shared::scratch_words_matmul(MatShape {
                m: batch,
                k: inputs,
                n: outputs,
            }),
            kind => kind
                .conv2d_shape(m.input_shape(i), batch)
                .and_then(|s| crate::Shared::scratch_words_conv2d(&s).ok())
                .unwrap_or(0),
        };
        need = need.max(words);
    }
    need
}

/// `out = model(x)` for `batch` samples.
///
/// # Errors
/// [`Error::OutOfRange`] for a batch of 0; [`Model::slots`]'s (a model whose public fields
/// no longer agree); [`Error::ShapeMismatch`] unless `x` holds `batch` inputs, `out`
/// `batch` logit rows and `params` the deployment's parameters; [`Error::BufferTooSmall`] if
/// `arena` is shorter than [`arena_elems`]; then the arithmetic's and the approximations'.
#[allow(clippy::too_many_arguments)]
pub fn forward<A: Arith>(
    a: &mut A,
    m: &Model<'_>,
    params: &[A::Elem],
    cfg: &Config<'_>,
    plan: &dyn Plan,
    mut tap: Option<&mut dyn Tap>,
    x: &[A::Elem],
    batch: usize,
    out: &mut [A::Elem],
    arena: &mut [A::Elem],
) -> Result<()> {
    if batch == 0 {
        return Err(Error::OutOfRange {
            what: "a forward pass needs a batch of at least 1",
        });
    }
    let (slots, total) = m.slots(cfg.deploy)?;
    check_len(batch.saturating_mul(m.input.len()), x.len())?;
    check_len(batch.saturating_mul(m.classes), out.len())?;
    check_len(total, params.len())?;
    let needed = arena_elems(m, batch);
    if arena.len() < needed {
        return Err(Error::BufferTooSmall {
            needed,
            got: arena.len(),
        });
    }
    let wide = batch * widest(m);
    let (mut cur, rest) = arena.split_at_mut(wide);
    let (mut nxt, scratch) = rest.split_at_mut(wide);
    cur[..x.len()].copy_from_slice(x);
    let mut len = x.len();
    for (i, layer) in m.spec.layers.iter().enumerate() {
        let s: Slot = slots[i];
        let shape_in = m.input_shape(i);
        let out_len = batch * m.shapes[i].len();
        let name = layer.name.as_str();
        match layer.kind {
            Kind::Linear { inputs, outputs } => {
                let sh = MatShape {
                    m: batch,
                    k: inputs,
                    n: outputs,
                };
                a.matmul(
                    &cur[..len],
                    &params[s.weight..s.weight + inputs * outputs],
                    &mut nxt[..out_len],
                    sh,
                )?;
                let bias = &mut scratch[..outputs];
                bias.copy_from_slice(&params[s.bias..s.bias + outputs]);
                if cfg.deploy.gemm() {
                    // ONNX Gemm as CrypTen evaluates it: `a.matmul(b).mul(alpha)` and
                    // `c.mul(beta)`, two public products by 1.0, each truncated.
                    a.mul_const(&mut nxt[..out_len], GEMM_ALPHA)?;
                    a.mul_const(bias, GEMM_BETA)?;
                }
                if outputs > 0 {
                    for row in nxt[..out_len].chunks_mut(outputs) {
                        a.add(row, bias)?;
                    }
                }
                core::mem::swap(&mut cur, &mut nxt);
            }
            Kind::Conv2d {
                in_ch, out_ch, k, ..
            } => {
                let sh = layer
                    .kind
                    .conv2d_shape(shape_in, batch)
                    .ok_or(Error::InvalidShape {
                        what: "conv2d on an input that is not an image of its channels",
                    })?;
                a.conv2d(
                    &cur[..len],
                    &params[s.weight..s.weight + out_ch * in_ch * k * k],
                    &mut nxt[..out_len],
                    &sh,
                )?;
                // Zero channels (a spec changed after parsing) have no plane to add a bias to.
                let planes = batch.saturating_mul(out_ch);
                let plane = out_len.checked_div(planes).unwrap_or(0);
                if plane > 0 {
                    for (q, chunk) in nxt[..out_len].chunks_mut(plane).enumerate() {
                        let b = params[s.bias + q % out_ch];
                        for v in chunk.iter_mut() {
                            *v = a.elem_add(*v, b);
                        }
                    }
                }
                core::mem::swap(&mut cur, &mut nxt);
            }
            Kind::BatchNorm {
                channels: c,
                eps_micro,
            } => {
                let run = cfg.deploy.batch_norm(&m.spec, i)?;
                let hw = match shape_in {
                    Shape::Image { h, w, .. } => h.saturating_mul(w),
                    Shape::Vector(_) => 1,
                };
                if run == Some(BatchNormRun::Public) {
                    let bn = &params[s.bn..s.bn + 4 * c];
                    batch_norm(a, &mut cur[..len], bn, &[&bn[..c], &bn[3 * c..]], hw)?;
                }
                if let Some(BatchNormRun::Mpc { per_pass }) = run {
                    let bn_params = &params[s.bn..s.bn + 4 * c];
                    if scratch.len() < c {
                        return Err(Error::BufferTooSmall {
                            needed: c,
                            got: scratch.len(),
                        });
                    }
                    let (inv, scratch) = scratch.split_at_mut(c);
                    inv.copy_from_slice(&bn_params[3 * c..]);
                    if per_pass {
                        let eps = f64::from(eps_micro) * 1e-6;
                        inv_std(a, inv, eps, cfg.profile, plan.mode(name), scratch)?;
                    }
                    if cfg.deploy.batch_norm_scale_first() {
                        // flax: (x − μ)·(γ·inv) + β
                        a.mul(inv, &bn_params[..c])?;
                        batch_norm(a, &mut cur[..len], bn_params, &[inv], hw)?;
                    } else {
                        let gamma = &bn_params[..c];
                        batch_norm(a, &mut cur[..len], bn_params, &[inv, gamma], hw)?;
                    }
                }
                // Fused or folded: already in the previous layer's weights.
            }
            Kind::Act(act) => {
                let v = &mut cur[..len];
                match plan.mode(name) {
                    LayerMode::Exact => oracle(a, v, function_of(act))?,
                    LayerMode::Default => activation(a, act, cfg, v, None, scratch)?,
                    LayerMode::Levels(l) => activation(a, act, cfg, v, Some(l), scratch)?,
                }
                if let Some(t) = tap.as_deref_mut() {
                    tap_values(a, t, i, name, v)?;
                }
            }
            Kind::AvgPool { k, stride } | Kind::MaxPool { k, stride } => {
                let Shape::Image { c, h, w } = shape_in else {
                    return Err(Error::InvalidShape {
                        what: "pooling on a vector",
                    });
                };
                let p = Pool2dShape {
                    planes: batch.saturating_mul(c),
                    h,
                    w,
                    k,
                    stride,
                };
                if matches!(layer.kind, Kind::AvgPool { .. }) {
                    let by_constant = cfg.deploy.avg_pool_by_constant();
                    avg_pool2d(a, &cur[..len], &mut nxt[..out_len], &p, by_constant)?;
                } else {
                    max_pool2d(a, &cur[..len], &mut nxt[..out_len], &p, scratch)?;
                }
                core::mem::swap(&mut cur, &mut nxt);
            }
            Kind::Flatten => {}
        }
        len = out_len;
        if let Some(t) = tap.as_deref_mut().filter(|t| t.wants_layers()) {
            peek_chunks(a, &cur[..len], |offset, b| t.layer(i, name, offset, b))?;
        }
    }
    out.copy_from_slice(&cur[..len]);
    Ok(())
}

/// The level the layer at `index` runs at by default under `p` and `dep` (`None` for a layer
/// with no approximation under MPC: linear layers, and batch norms the deployment fuses or
/// folds away): what a repair plan's levels are relative to.
pub fn default_level(spec: &Spec, index: usize, p: &Profile, dep: Deployment) -> Option<Level> {
    match spec.layers.get(index)?.kind {
        Kind::Act(act) => Some(mpc_function(act, p).default_level(p)),
        Kind::BatchNorm { .. } if dep.nonlinear_in_mpc(spec, index) => {
            Some(approx::sqrt::default_level(&p.inv_sqrt))
        }
        _ => None,
    }
}

/// The public factors of CrypTen's `Gemm` (`torch.onnx.export` writes `alpha = beta = 1.0`).
const GEMM_ALPHA: f64 = 1.0;
/// See [`GEMM_ALPHA`].
const GEMM_BETA: f64 = 1.0;

/// The function an activation runs under MPC: an erf-form GELU runs as the profile says (the
/// artifact's tanh form, or ours).
fn mpc_function(act: Activation, p: &Profile) -> Function {
    match (act, p.gelu) {
        (
            Activation::GeluErf,
            GeluImpl::TanhForm | GeluImpl::TanhFactored { .. } | GeluImpl::TanhJax,
        ) => Function::GeluTanh,
        _ => function_of(act),
    }
}

fn activation<A: Arith>(
    a: &mut A,
    act: Activation,
    cfg: &Config<'_>,
    v: &mut [A::Elem],
    levels: Option<&[Level]>,
    scratch: &mut [A::Elem],
) -> Result<()> {
    let p = cfg.profile;
    if act == Activation::GeluErf && cfg.deploy.gelu_graph() {
        return approx::gelu::gelu_erf_graph(a, v, &p.erf, scratch);
    }
    let f = mpc_function(act, p);
    let levels = match levels {
        Some(l) => Levels::Cyclic(l),
        None => Levels::Uniform(f.default_level(p)),
    };
    approx::eval(a, f, p, v, &levels, scratch)
}

/// The function the activation layers of `model` compute (that of the first one), if it has
/// any.
pub fn activation_function(model: &Model<'_>) -> Option<Function> {
    model.spec.layers.iter().find_map(|l| match l.kind {
        Kind::Act(a) => Some(function_of(a)),
        _ => None,
    })
}

/// The function an activation layer computes.
pub fn function_of(act: Activation) -> Function {
    match act {
        Activation::Sigmoid => Function::Sigmoid,
        Activation::Tanh => Function::Tanh,
        Activation::Relu => Function::Relu,
        Activation::GeluErf => Function::GeluErf,
        Activation::GeluTanh => Function::GeluTanh,
    }
}

/// Peeks and brings values back in 64 at a time, so the stack stays small.
const CHUNK: usize = 64;

/// The oracle: peek, apply the exact `f` in `f64`, bring the results back in (no protocol,
/// no cost).
fn oracle<A: Arith>(a: &mut A, v: &mut [A::Elem], f: Function) -> Result<()> {
    let mut buf = [0.0f64; CHUNK];
    for chunk in v.chunks_mut(CHUNK) {
        let b = &mut buf[..chunk.len()];
        a.peek(chunk, b)?;
        for x in b.iter_mut() {
            *x = f.exact(*x);
        }
        a.input(b, chunk)?;
    }
    Ok(())
}

/// Shows a layer's values to the tap, peeked chunk by chunk.
fn tap_values<A: Arith>(
    a: &A,
    t: &mut dyn Tap,
    index: usize,
    name: &str,
    v: &[A::Elem],
) -> Result<()> {
    peek_chunks(a, v, |offset, b| t.activation(index, name, offset, b))
}

/// Peeks `v` chunk by chunk and hands each chunk, with its offset, to `f`.
fn peek_chunks<A: Arith>(a: &A, v: &[A::Elem], mut f: impl FnMut(usize, &[f64])) -> Result<()> {
    let mut buf = [0.0f64; CHUNK];
    for (q, chunk) in v.chunks(CHUNK).enumerate() {
        let b = &mut buf[..chunk.len()];
        a.peek(chunk, b)?;
        f(q * CHUNK, b);
    }
    Ok(())
}

/// `inv ← inv_sqrt(inv + eps)` for a batch norm's running variance, as the layer's mode says
/// (the profile's approximation at its default level or the plan's levels, or exact).
fn inv_std<A: Arith>(
    a: &mut A,
    inv: &mut [A::Elem],
    eps: f64,
    p: &Profile,
    mode: LayerMode<'_>,
    scratch: &mut [A::Elem],
) -> Result<()> {
    a.add_const(inv, eps)?;
    match mode {
        LayerMode::Exact => oracle(a, inv, Function::InvSqrt),
        LayerMode::Levels(l) => {
            approx::sqrt::inv_sqrt(a, inv, &p.inv_sqrt, &Levels::Cyclic(l), scratch)
        }
        LayerMode::Default => approx::sqrt::inv_sqrt(
            a,
            inv,
            &p.inv_sqrt,
            &Levels::Uniform(approx::sqrt::default_level(&p.inv_sqrt)),
            scratch,
        ),
    }
}

/// Makes loaded parameters ready for [`forward`]: computes, once, the inverse standard
/// deviations of the batch norms the deployment evaluates with a cached `inv_var`
/// ([`BatchNormRun::Mpc`] with `per_pass` false: a `crypten.nn` model put in eval mode),
/// in place of their running variances. A no-op for the other deployments. Its cost is the
/// model's setup, not an inference's (call it before taking the ledger's snapshot).
///
/// # Errors
/// Slot, shape and approximation errors.
pub fn prepare<A: Arith>(
    a: &mut A,
    m: &Model<'_>,
    params: &mut [A::Elem],
    cfg: &Config<'_>,
    plan: &dyn Plan,
    scratch: &mut [A::Elem],
) -> Result<()> {
    let (slots, total) = m.slots(cfg.deploy)?;
    check_len(total, params.len())?;
    for (i, layer) in m.spec.layers.iter().enumerate() {
        let Kind::BatchNorm {
            channels: c,
            eps_micro,
        } = layer.kind
        else {
            continue;
        };
        if cfg.deploy.batch_norm(&m.spec, i)? == Some(BatchNormRun::Mpc { per_pass: false }) {
            let at = slots[i].bn + 3 * c;
            let eps = f64::from(eps_micro) * 1e-6;
            let inv = &mut params[at..at + c];
            inv_std(
                a,
                inv,
                eps,
                cfg.profile,
                plan.mode(layer.name.as_str()),
                scratch,
            )?;
        }
    }
    Ok(())
}

/// An evaluation-mode batch norm `y = (x − mean)·f₁·f₂… + β`, per channel over the batch-major
/// `[batch, c, hw]` layout (`hw` = 1 for feature vectors): one truncated broadcasting product
/// per factor, in order. `bn` holds `[γ, β, mean, ·]`. The deployments differ only in their
/// factors:
/// * CrypTen (`AutogradBatchNorm.forward`): `((x − mean)·inv)·γ`, factors `[inv, γ]`;
/// * TF-Encrypted's Keras layer (public parameters): `(γ·(x − mean))·denom`, factors
///   `[γ, denom]` (broadcasting products with the public values' encodings: the same values;
///   TF-Encrypted multiplies by a public tensor locally, then truncates);
/// * flax (SPU): `(x − mean)·(γ·inv)`, one factor `[γ·inv]`.
fn batch_norm<A: Arith>(
    a: &mut A,
    x: &mut [A::Elem],
    bn: &[A::Elem],
    factors: &[&[A::Elem]],
    hw: usize,
) -> Result<()> {
    let c = bn.len() / 4;
    let beta = &bn[c..2 * c];
    let mean = &bn[2 * c..3 * c];
    let channel = |i: usize| (i / hw) % c;
    for (i, v) in x.iter_mut().enumerate() {
        *v = a.elem_sub(*v, mean[channel(i)]);
    }
    for f in factors {
        a.mul_bcast(x, f, hw)?;
    }
    for (i, v) in x.iter_mut().enumerate() {
        *v = a.elem_add(*v, beta[channel(i)]);
    }
    Ok(())
}
