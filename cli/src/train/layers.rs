//! The layers: forward and backward passes over a batch, generic over [`Real`].
//!
//! # Determinism
//! Every value is computed by one thread in a fixed order that depends only on the shapes:
//! sums run over their index in ascending order (or through [`dot`]'s fixed eight-lane
//! pattern), the batch is walked from the first example to the last, and batch-norm
//! statistics are summed in `f64`. There is no reduction whose order depends on scheduling,
//! so a run gives the same bits on every target with IEEE `f32`/`f64` (Rust never fuses a
//! multiply and an add on its own).
//!
//! # Layout
//! A batch of `n` examples is one row-major buffer: images are `n × C × H × W` (NCHW, as
//! PyTorch), vectors `n × F`. Parameter gradients are *overwritten* by each backward pass
//! (they are the gradient of the batch loss, not an accumulation across batches).

use mpcdiff_kernel::nn::spec::{Activation, Kind, Shape};

use super::real::{axpy, dot, Real};

/// `Σ x[i]` in ascending order, accumulated in `f64` (used where the sum is a statistic).
fn sum_f64<T: Real>(x: &[T]) -> f64 {
    let mut s = 0.0;
    for &v in x {
        s += v.to_f64();
    }
    s
}

/// `Σ x[i]` in [`dot`]'s fixed order (a sum of products with one).
fn sum<T: Real>(x: &[T]) -> T {
    let mut s = [T::ZERO; 8];
    let mut chunks = x.chunks_exact(8);
    for c in &mut chunks {
        for l in 0..8 {
            s[l] += c[l];
        }
    }
    let mut total = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
    for &v in chunks.remainder() {
        total += v;
    }
    total
}

/// A 2-D convolution (square kernel, zero padding, bias), by im2col.
#[derive(Clone, Debug)]
pub struct Conv2d<T> {
    in_c: usize,
    out_c: usize,
    k: usize,
    stride: usize,
    pad: usize,
    in_h: usize,
    in_w: usize,
    out_h: usize,
    out_w: usize,
    /// `[out_c, in_c, k, k]`.
    pub weight: Vec<T>,
    /// `[out_c]`.
    pub bias: Vec<T>,
    /// Gradient of the weight.
    pub grad_weight: Vec<T>,
    /// Gradient of the bias.
    pub grad_bias: Vec<T>,
    /// The im2col matrices of the last training batch, `n × (in_c·k·k) × (out_h·out_w)`.
    col: Vec<T>,
}

impl<T: Real> Conv2d<T> {
    fn new(kind: Kind, input: Shape, output: Shape) -> Conv2d<T> {
        let (
            Kind::Conv2d {
                in_ch: in_c,
                out_ch: out_c,
                k,
                stride,
                pad,
            },
            Shape::Image {
                h: in_h, w: in_w, ..
            },
            Shape::Image {
                h: out_h, w: out_w, ..
            },
        ) = (kind, input, output)
        else {
            unreachable!("shapes are checked by Spec::shapes")
        };
        let wlen = out_c * in_c * k * k;
        Conv2d {
            in_c,
            out_c,
            k,
            stride,
            pad,
            in_h,
            in_w,
            out_h,
            out_w,
            weight: vec![T::ZERO; wlen],
            bias: vec![T::ZERO; out_c],
            grad_weight: vec![T::ZERO; wlen],
            grad_bias: vec![T::ZERO; out_c],
            col: Vec::new(),
        }
    }

    fn rows(&self) -> usize {
        self.in_c * self.k * self.k
    }

    fn positions(&self) -> usize {
        self.out_h * self.out_w
    }

    /// Fills `col` (`rows × positions`) from one example's image `x`.
    fn im2col(&self, x: &[T], col: &mut [T]) {
        let p = self.positions();
        let mut r = 0;
        for ic in 0..self.in_c {
            let plane = &x[ic * self.in_h * self.in_w..(ic + 1) * self.in_h * self.in_w];
            for kh in 0..self.k {
                for kw in 0..self.k {
                    let row = &mut col[r * p..(r + 1) * p];
                    for oh in 0..self.out_h {
                        let ih = (oh * self.stride + kh) as isize - self.pad as isize;
                        let dst = &mut row[oh * self.out_w..(oh + 1) * self.out_w];
                        if ih < 0 || ih >= self.in_h as isize {
                            dst.fill(T::ZERO);
                            continue;
                        }
                        let src = &plane[ih as usize * self.in_w..(ih as usize + 1) * self.in_w];
                        for (ow, d) in dst.iter_mut().enumerate() {
                            let iw = (ow * self.stride + kw) as isize - self.pad as isize;
                            *d = if iw < 0 || iw >= self.in_w as isize {
                                T::ZERO
                            } else {
                                src[iw as usize]
                            };
                        }
                    }
                    r += 1;
                }
            }
        }
    }

    /// Adds `dcol` (`rows × positions`) back into one example's input gradient `dx`.
    fn col2im(&self, dcol: &[T], dx: &mut [T]) {
        let p = self.positions();
        let mut r = 0;
        for ic in 0..self.in_c {
            let plane = &mut dx[ic * self.in_h * self.in_w..(ic + 1) * self.in_h * self.in_w];
            for kh in 0..self.k {
                for kw in 0..self.k {
                    let row = &dcol[r * p..(r + 1) * p];
                    for oh in 0..self.out_h {
                        let ih = (oh * self.stride + kh) as isize - self.pad as isize;
                        if ih < 0 || ih >= self.in_h as isize {
                            continue;
                        }
                        let dst =
                            &mut plane[ih as usize * self.in_w..(ih as usize + 1) * self.in_w];
                        for ow in 0..self.out_w {
                            let iw = (ow * self.stride + kw) as isize - self.pad as isize;
                            if iw >= 0 && iw < self.in_w as isize {
                                dst[iw as usize] += row[oh * self.out_w + ow];
                            }
                        }
                    }
                    r += 1;
                }
            }
        }
    }

    fn forward(&mut self, x: &[T], n: usize, train: bool) -> Vec<T> {
        let (rows, p) = (self.rows(), self.positions());
        let in_len = self.in_c * self.in_h * self.in_w;
        let out_len = self.out_c * p;
        let mut col = std::mem::take(&mut self.col);
        let per = rows * p;
        col.resize(if train { n * per } else { per }, T::ZERO);
        let mut out = vec![T::ZERO; n * out_len];
        for b in 0..n {
            let cb = if train {
                &mut col[b * per..(b + 1) * per]
            } else {
                &mut col[..]
            };
            self.im2col(&x[b * in_len..(b + 1) * in_len], cb);
            let ob = &mut out[b * out_len..(b + 1) * out_len];
            for oc in 0..self.out_c {
                let o = &mut ob[oc * p..(oc + 1) * p];
                o.fill(self.bias[oc]);
                let w = &self.weight[oc * rows..(oc + 1) * rows];
                for r in 0..rows {
                    axpy(w[r], &cb[r * p..(r + 1) * p], o);
                }
            }
        }
        self.col = col;
        out
    }

    fn backward(&mut self, dy: &[T], n: usize, need_dx: bool) -> Vec<T> {
        let (rows, p) = (self.rows(), self.positions());
        let in_len = self.in_c * self.in_h * self.in_w;
        let out_len = self.out_c * p;
        let per = rows * p;
        self.grad_weight.fill(T::ZERO);
        self.grad_bias.fill(T::ZERO);
        let mut dx = if need_dx {
            vec![T::ZERO; n * in_len]
        } else {
            Vec::new()
        };
        let mut dcol = vec![T::ZERO; if need_dx { per } else { 0 }];
        for b in 0..n {
            let cb = &self.col[b * per..(b + 1) * per];
            let db = &dy[b * out_len..(b + 1) * out_len];
            for oc in 0..self.out_c {
                let d = &db[oc * p..(oc + 1) * p];
                self.grad_bias[oc] += sum(d);
                let gw = &mut self.grad_weight[oc * rows..(oc + 1) * rows];
                for r in 0..rows {
                    gw[r] += dot(d, &cb[r * p..(r + 1) * p]);
                }
            }
            if need_dx {
                dcol.fill(T::ZERO);
                for r in 0..rows {
                    let dr = &mut dcol[r * p..(r + 1) * p];
                    for oc in 0..self.out_c {
                        axpy(self.weight[oc * rows + r], &db[oc * p..(oc + 1) * p], dr);
                    }
                }
                self.col2im(&dcol, &mut dx[b * in_len..(b + 1) * in_len]);
            }
        }
        dx
    }
}

/// Batch normalisation (PyTorch `BatchNorm1d`/`BatchNorm2d`, momentum 0.1).
///
/// Training mode normalises with the batch mean and the *biased* batch variance (over the
/// batch and, for images, the spatial positions: `m = n·H·W` values per channel) and updates
/// `running_mean ← (1 − 0.1)·running_mean + 0.1·mean` and
/// `running_var ← (1 − 0.1)·running_var + 0.1·var·m/(m − 1)` (the *unbiased* variance, as
/// PyTorch). Evaluation mode normalises with the running statistics. The statistics and the
/// inverse standard deviation are computed in `f64` and rounded once to `T`.
#[derive(Clone, Debug)]
pub struct BatchNorm<T> {
    c: usize,
    /// Values per channel per example (H·W for images, 1 for vectors).
    spatial: usize,
    eps: f64,
    /// γ.
    pub weight: Vec<T>,
    /// β.
    pub bias: Vec<T>,
    /// The running mean.
    pub running_mean: Vec<T>,
    /// The running (unbiased) variance.
    pub running_var: Vec<T>,
    /// Gradient of γ.
    pub grad_weight: Vec<T>,
    /// Gradient of β.
    pub grad_bias: Vec<T>,
    /// x̂ of the last batch.
    xhat: Vec<T>,
    /// 1/√(var + eps) per channel, of the last batch (batch or running statistics).
    inv_std: Vec<T>,
    /// Whether the last forward pass was in training mode.
    trained: bool,
}

/// PyTorch's default batch-norm momentum.
pub const BN_MOMENTUM: f64 = 0.1;

impl<T: Real> BatchNorm<T> {
    /// `eps` is the spec's, in millionths; it is used as the `f32` nearest to it (as PyTorch's
    /// `f32` parameter), widened to `f64`: `10` gives `f64::from(1e-5f32)`.
    fn new(c: usize, eps_micro: u32, input: Shape) -> BatchNorm<T> {
        let spatial = match input {
            Shape::Image { h, w, .. } => h * w,
            Shape::Vector(_) => 1,
        };
        BatchNorm {
            c,
            spatial,
            // Both operands are exact in `f32` and the division rounds once: the nearest `f32`.
            eps: f64::from(eps_micro as f32 / 1e6),
            weight: vec![T::ONE; c],
            bias: vec![T::ZERO; c],
            running_mean: vec![T::ZERO; c],
            running_var: vec![T::ONE; c],
            grad_weight: vec![T::ZERO; c],
            grad_bias: vec![T::ZERO; c],
            xhat: Vec::new(),
            inv_std: vec![T::ZERO; c],
            trained: false,
        }
    }

    fn forward(&mut self, x: &[T], n: usize, train: bool) -> Vec<T> {
        let (c, s) = (self.c, self.spatial);
        let mut out = vec![T::ZERO; x.len()];
        self.xhat.resize(x.len(), T::ZERO);
        self.trained = train;
        for ch in 0..c {
            let (mean, inv_std) = if train {
                let m = (n * s) as f64;
                let mut total = 0.0;
                for b in 0..n {
                    total += sum_f64(&x[(b * c + ch) * s..(b * c + ch + 1) * s]);
                }
                let mean = total / m;
                let mut sq = 0.0;
                for b in 0..n {
                    for &v in &x[(b * c + ch) * s..(b * c + ch + 1) * s] {
                        let d = v.to_f64() - mean;
                        sq += d * d;
                    }
                }
                let var = sq / m;
                let unbiased = if m > 1.0 { sq / (m - 1.0) } else { var };
                let rm = self.running_mean[ch].to_f64();
                let rv = self.running_var[ch].to_f64();
                self.running_mean[ch] = T::from_f64((1.0 - BN_MOMENTUM) * rm + BN_MOMENTUM * mean);
                self.running_var[ch] =
                    T::from_f64((1.0 - BN_MOMENTUM) * rv + BN_MOMENTUM * unbiased);
                (mean, 1.0 / libm::sqrt(var + self.eps))
            } else {
                let rv = self.running_var[ch].to_f64();
                (
                    self.running_mean[ch].to_f64(),
                    1.0 / libm::sqrt(rv + self.eps),
                )
            };
            let (mean, inv_std) = (T::from_f64(mean), T::from_f64(inv_std));
            self.inv_std[ch] = inv_std;
            let (g, be) = (self.weight[ch], self.bias[ch]);
            for b in 0..n {
                let r = (b * c + ch) * s..(b * c + ch + 1) * s;
                for ((o, xh), &v) in out[r.clone()]
                    .iter_mut()
                    .zip(&mut self.xhat[r.clone()])
                    .zip(&x[r])
                {
                    *xh = (v - mean) * inv_std;
                    *o = *xh * g + be;
                }
            }
        }
        out
    }

    fn backward(&mut self, dy: &[T], n: usize) -> Vec<T> {
        let (c, s) = (self.c, self.spatial);
        let mut dx = vec![T::ZERO; dy.len()];
        let m = (n * s) as f64;
        for ch in 0..c {
            let (mut sdy, mut sdyx) = (0.0, 0.0);
            for b in 0..n {
                let r = (b * c + ch) * s..(b * c + ch + 1) * s;
                for (&d, &xh) in dy[r.clone()].iter().zip(&self.xhat[r]) {
                    sdy += d.to_f64();
                    sdyx += d.to_f64() * xh.to_f64();
                }
            }
            self.grad_weight[ch] = T::from_f64(sdyx);
            self.grad_bias[ch] = T::from_f64(sdy);
            let g = self.weight[ch];
            let inv_std = self.inv_std[ch];
            if self.trained {
                // dx = γ/σ · (dy − mean(dy) − x̂ · mean(dy · x̂))
                let scale = g * inv_std;
                let (mdy, mdyx) = (T::from_f64(sdy / m), T::from_f64(sdyx / m));
                for b in 0..n {
                    let r = (b * c + ch) * s..(b * c + ch + 1) * s;
                    for ((o, &d), &xh) in dx[r.clone()]
                        .iter_mut()
                        .zip(&dy[r.clone()])
                        .zip(&self.xhat[r])
                    {
                        *o = scale * (d - mdy - xh * mdyx);
                    }
                }
            } else {
                let scale = g * inv_std;
                for b in 0..n {
                    let r = (b * c + ch) * s..(b * c + ch + 1) * s;
                    for (o, &d) in dx[r.clone()].iter_mut().zip(&dy[r]) {
                        *o = scale * d;
                    }
                }
            }
        }
        dx
    }
}

/// `1/√2`.
const FRAC_1_SQRT_2: f64 = std::f64::consts::FRAC_1_SQRT_2;
/// `1/√(2π)`.
const FRAC_1_SQRT_2PI: f64 = 0.398_942_280_401_432_7;

/// The activation `a` of one value (ReLU's derivative at 0 is 0, as PyTorch's).
/// [`Layer::new`] rejects `gelu_tanh`, which the trainer does not implement.
fn activate<T: Real>(a: Activation, x: T) -> T {
    match a {
        Activation::Sigmoid => T::ONE / (T::ONE + (-x).exp()),
        Activation::Relu => {
            if x > T::ZERO {
                x
            } else {
                T::ZERO
            }
        }
        Activation::Tanh => x.tanh(),
        Activation::GeluErf => {
            T::from_f64(0.5) * x * (T::ONE + (x * T::from_f64(FRAC_1_SQRT_2)).erf())
        }
        Activation::GeluTanh => unreachable!("Layer::new rejects gelu_tanh"),
    }
}

/// The derivative of the activation `a` at input `x` with output `y`.
fn derivative<T: Real>(a: Activation, x: T, y: T) -> T {
    match a {
        Activation::Sigmoid => y * (T::ONE - y),
        Activation::Relu => {
            if x > T::ZERO {
                T::ONE
            } else {
                T::ZERO
            }
        }
        Activation::Tanh => T::ONE - y * y,
        Activation::GeluErf => {
            let cdf = T::from_f64(0.5) * (T::ONE + (x * T::from_f64(FRAC_1_SQRT_2)).erf());
            let pdf = T::from_f64(FRAC_1_SQRT_2PI) * (T::from_f64(-0.5) * x * x).exp();
            cdf + x * pdf
        }
        Activation::GeluTanh => unreachable!("Layer::new rejects gelu_tanh"),
    }
}

/// Pooling (average or max), square window, no padding, floor mode.
#[derive(Clone, Debug)]
pub struct Pool {
    max: bool,
    k: usize,
    stride: usize,
    c: usize,
    in_h: usize,
    in_w: usize,
    out_h: usize,
    out_w: usize,
    /// Max pooling: the flat input index (within the example) of each output's maximum.
    argmax: Vec<u32>,
}

impl Pool {
    fn new(max: bool, k: usize, stride: usize, input: Shape, output: Shape) -> Pool {
        let (
            Shape::Image {
                c,
                h: in_h,
                w: in_w,
            },
            Shape::Image {
                h: out_h, w: out_w, ..
            },
        ) = (input, output)
        else {
            unreachable!("shapes are checked by Spec::shapes")
        };
        Pool {
            max,
            k,
            stride,
            c,
            in_h,
            in_w,
            out_h,
            out_w,
            argmax: Vec::new(),
        }
    }

    fn forward<T: Real>(&mut self, x: &[T], n: usize) -> Vec<T> {
        let (in_plane, out_plane) = (self.in_h * self.in_w, self.out_h * self.out_w);
        let mut out = vec![T::ZERO; n * self.c * out_plane];
        if self.max {
            self.argmax.resize(out.len(), 0);
        }
        let inv_area = T::from_f64(1.0 / (self.k * self.k) as f64);
        for bc in 0..n * self.c {
            let plane = &x[bc * in_plane..(bc + 1) * in_plane];
            for oh in 0..self.out_h {
                for ow in 0..self.out_w {
                    let o = bc * out_plane + oh * self.out_w + ow;
                    let (h0, w0) = (oh * self.stride, ow * self.stride);
                    if self.max {
                        // The first maximum in row-major window order (PyTorch keeps the
                        // first one too: it replaces only on `>`).
                        let mut best = h0 * self.in_w + w0;
                        for kh in 0..self.k {
                            for kw in 0..self.k {
                                let i = (h0 + kh) * self.in_w + w0 + kw;
                                if plane[i] > plane[best] {
                                    best = i;
                                }
                            }
                        }
                        out[o] = plane[best];
                        self.argmax[o] = (bc % self.c * in_plane + best) as u32;
                    } else {
                        let mut s = T::ZERO;
                        for kh in 0..self.k {
                            for kw in 0..self.k {
                                s += plane[(h0 + kh) * self.in_w + w0 + kw];
                            }
                        }
                        out[o] = s * inv_area;
                    }
                }
            }
        }
        out
    }

    fn backward<T: Real>(&self, dy: &[T], n: usize) -> Vec<T> {
        let (in_plane, out_plane) = (self.in_h * self.in_w, self.out_h * self.out_w);
        let in_len = self.c * in_plane;
        let mut dx = vec![T::ZERO; n * in_len];
        let inv_area = T::from_f64(1.0 / (self.k * self.k) as f64);
        for bc in 0..n * self.c {
            let b = bc / self.c;
            for oh in 0..self.out_h {
                for ow in 0..self.out_w {
                    let o = bc * out_plane + oh * self.out_w + ow;
                    if self.max {
                        dx[b * in_len + self.argmax[o] as usize] += dy[o];
                    } else {
                        let g = dy[o] * inv_area;
                        let (h0, w0) = (oh * self.stride, ow * self.stride);
                        for kh in 0..self.k {
                            for kw in 0..self.k {
                                dx[bc * in_plane + (h0 + kh) * self.in_w + w0 + kw] += g;
                            }
                        }
                    }
                }
            }
        }
        dx
    }
}

/// A fully connected layer `y = W·x + b`.
#[derive(Clone, Debug)]
pub struct Linear<T> {
    inp: usize,
    out: usize,
    /// `[out, in]`.
    pub weight: Vec<T>,
    /// `[out]`.
    pub bias: Vec<T>,
    /// Gradient of the weight.
    pub grad_weight: Vec<T>,
    /// Gradient of the bias.
    pub grad_bias: Vec<T>,
    /// The input of the last batch.
    x: Vec<T>,
}

impl<T: Real> Linear<T> {
    fn new(inp: usize, out: usize) -> Linear<T> {
        Linear {
            inp,
            out,
            weight: vec![T::ZERO; inp * out],
            bias: vec![T::ZERO; out],
            grad_weight: vec![T::ZERO; inp * out],
            grad_bias: vec![T::ZERO; out],
            x: Vec::new(),
        }
    }

    fn forward(&mut self, x: &[T], n: usize, train: bool) -> Vec<T> {
        let mut y = vec![T::ZERO; n * self.out];
        for b in 0..n {
            let xb = &x[b * self.inp..(b + 1) * self.inp];
            for o in 0..self.out {
                y[b * self.out + o] =
                    dot(&self.weight[o * self.inp..(o + 1) * self.inp], xb) + self.bias[o];
            }
        }
        if train {
            self.x.clear();
            self.x.extend_from_slice(x);
        }
        y
    }

    fn backward(&mut self, dy: &[T], n: usize, need_dx: bool) -> Vec<T> {
        self.grad_weight.fill(T::ZERO);
        self.grad_bias.fill(T::ZERO);
        let mut dx = if need_dx {
            vec![T::ZERO; n * self.inp]
        } else {
            Vec::new()
        };
        for b in 0..n {
            let xb = &self.x[b * self.inp..(b + 1) * self.inp];
            for o in 0..self.out {
                let d = dy[b * self.out + o];
                self.grad_bias[o] += d;
                let w = o * self.inp..(o + 1) * self.inp;
                axpy(d, xb, &mut self.grad_weight[w.clone()]);
                if need_dx {
                    axpy(
                        d,
                        &self.weight[w],
                        &mut dx[b * self.inp..(b + 1) * self.inp],
                    );
                }
            }
        }
        dx
    }
}

/// One layer with its parameters and the caches of its last forward pass.
#[derive(Clone, Debug)]
pub enum Layer<T> {
    /// Convolution.
    Conv2d(Conv2d<T>),
    /// Batch normalisation.
    BatchNorm(BatchNorm<T>),
    /// Elementwise activation, with its last input and output.
    Act(Activation, Vec<T>, Vec<T>),
    /// Average or max pooling.
    Pool(Pool),
    /// Image to vector (no change to the buffer).
    Flatten,
    /// Fully connected.
    Linear(Linear<T>),
}

impl<T: Real> Layer<T> {
    /// A zero-initialised layer of `kind` between shapes `input` and `output` (checked by
    /// `Spec::shapes`). Fails on what the trainer cannot train: `gelu_tanh`, and a batch norm
    /// whose `eps` is 0.
    pub fn new(kind: Kind, input: Shape, output: Shape) -> Result<Layer<T>, String> {
        Ok(match kind {
            Kind::Conv2d { .. } => Layer::Conv2d(Conv2d::new(kind, input, output)),
            Kind::BatchNorm { eps_micro: 0, .. } => {
                return Err("batchnorm eps must be positive".into())
            }
            Kind::BatchNorm {
                channels,
                eps_micro,
            } => Layer::BatchNorm(BatchNorm::new(channels, eps_micro, input)),
            Kind::Act(Activation::GeluTanh) => {
                return Err(
                    "gelu_tanh cannot be trained (the trainer has only the erf GELU)".into(),
                )
            }
            Kind::Act(a) => Layer::Act(a, Vec::new(), Vec::new()),
            Kind::AvgPool { k, stride } => Layer::Pool(Pool::new(false, k, stride, input, output)),
            Kind::MaxPool { k, stride } => Layer::Pool(Pool::new(true, k, stride, input, output)),
            Kind::Flatten => Layer::Flatten,
            Kind::Linear { inputs, outputs } => Layer::Linear(Linear::new(inputs, outputs)),
        })
    }

    /// The forward pass over `n` examples. `train` selects batch statistics in batch norm
    /// and keeps what [`Layer::backward`] needs.
    pub fn forward(&mut self, x: &[T], n: usize, train: bool) -> Vec<T> {
        match self {
            Layer::Conv2d(l) => l.forward(x, n, train),
            Layer::BatchNorm(l) => l.forward(x, n, train),
            Layer::Act(a, xs, ys) => {
                let y: Vec<T> = x.iter().map(|&v| activate(*a, v)).collect();
                if train {
                    xs.clear();
                    xs.extend_from_slice(x);
                    ys.clear();
                    ys.extend_from_slice(&y);
                }
                y
            }
            Layer::Pool(p) => p.forward(x, n),
            Layer::Flatten => x.to_vec(),
            Layer::Linear(l) => l.forward(x, n, train),
        }
    }

    /// The backward pass of the last forward pass: sets the parameter gradients and returns
    /// the input gradient (empty when `need_dx` is false and the layer can skip it).
    pub fn backward(&mut self, dy: &[T], n: usize, need_dx: bool) -> Vec<T> {
        match self {
            Layer::Conv2d(l) => l.backward(dy, n, need_dx),
            Layer::BatchNorm(l) => l.backward(dy, n),
            Layer::Act(a, xs, ys) => dy
                .iter()
                .zip(xs.iter().zip(ys.iter()))
                .map(|(&d, (&x, &y))| d * derivative(*a, x, y))
                .collect(),
            Layer::Pool(p) => p.backward(dy, n),
            Layer::Flatten => dy.to_vec(),
            Layer::Linear(l) => l.backward(dy, n, need_dx),
        }
    }

    /// The trainable parameters with their gradients, in tensor order (weight, bias).
    pub fn params(&mut self) -> Vec<(&mut Vec<T>, &Vec<T>)> {
        match self {
            Layer::Conv2d(Conv2d {
                weight,
                bias,
                grad_weight,
                grad_bias,
                ..
            })
            | Layer::Linear(Linear {
                weight,
                bias,
                grad_weight,
                grad_bias,
                ..
            })
            | Layer::BatchNorm(BatchNorm {
                weight,
                bias,
                grad_weight,
                grad_bias,
                ..
            }) => vec![(weight, &*grad_weight), (bias, &*grad_bias)],
            _ => Vec::new(),
        }
    }

    /// Every stored tensor by its suffix (`.weight`, `.bias`, `.running_mean`, `.running_var`,
    /// as `Model::tensor` takes them).
    pub fn tensors(&self) -> Vec<(&'static str, &Vec<T>)> {
        match self {
            Layer::Conv2d(Conv2d { weight, bias, .. })
            | Layer::Linear(Linear { weight, bias, .. }) => {
                vec![(".weight", weight), (".bias", bias)]
            }
            Layer::BatchNorm(l) => vec![
                (".weight", &l.weight),
                (".bias", &l.bias),
                (".running_mean", &l.running_mean),
                (".running_var", &l.running_var),
            ],
            _ => Vec::new(),
        }
    }

    /// Mutable access to the stored tensors, in the order of [`Layer::tensors`].
    pub fn tensors_mut(&mut self) -> Vec<(&'static str, &mut Vec<T>)> {
        match self {
            Layer::Conv2d(Conv2d { weight, bias, .. })
            | Layer::Linear(Linear { weight, bias, .. }) => {
                vec![(".weight", weight), (".bias", bias)]
            }
            Layer::BatchNorm(BatchNorm {
                weight,
                bias,
                running_mean,
                running_var,
                ..
            }) => vec![
                (".weight", weight),
                (".bias", bias),
                (".running_mean", running_mean),
                (".running_var", running_var),
            ],
            _ => Vec::new(),
        }
    }
}
