//! A network (a chain of [`Layer`]s), its initialisation, the loss and the optimiser.

use std::collections::BTreeMap;

use mpcdiff_kernel::nn::model::Model;
use mpcdiff_kernel::nn::spec::{Kind, Shape, Spec};
use mpcdiff_kernel::seed::{self, StreamId};

use super::format::Tensor;
use super::layers::Layer;
use super::real::Real;

/// The shapes between the layers of `spec`: `input`, then the output of each layer in turn
/// ([`Spec::shapes`]).
pub fn shapes(input: Shape, spec: &Spec) -> Result<Vec<Shape>, String> {
    let mut out = vec![input; spec.layers.len() + 1];
    spec.shapes(input, &mut out[1..])
        .map_err(|e| format!("the layers do not chain from the input {input:?}: {e}"))?;
    Ok(out)
}

/// A chain of layers with the shapes between them.
#[derive(Clone, Debug)]
pub struct Network<T> {
    spec: Spec,
    shapes: Vec<Shape>,
    layers: Vec<Layer<T>>,
}

impl<T: Real> Network<T> {
    /// A network with every tensor zero (batch norm: γ = 1, β = 0, running mean 0, running
    /// variance 1). Fails if the layers do not chain from `input` (see [`shapes`]) or one
    /// cannot be trained (see [`Layer::new`]).
    pub fn zeros(input: Shape, spec: &Spec) -> Result<Network<T>, String> {
        let shapes = shapes(input, spec)?;
        let layers = spec
            .layers
            .iter()
            .enumerate()
            .map(|(i, l)| {
                Layer::new(l.kind, shapes[i], shapes[i + 1])
                    .map_err(|e| format!("layer {:?}: {e}", l.name.as_str()))
            })
            .collect::<Result<_, _>>()?;
        Ok(Network {
            spec: spec.clone(),
            shapes,
            layers,
        })
    }

    /// A network initialised from `seed` as the MPCDiff artifact's `weigth_init`
    /// (`PySyft/train_plaintext.py`), every draw from one stream,
    /// `seed::stream(seed, StreamId::WeightInit)`, layer by layer in order, each tensor in
    /// row-major order, weight before bias:
    /// * conv2d: weight Xavier-uniform, `a·(2u − 1)` with `a = √(6 / (fan_in + fan_out))`,
    ///   `fan_in = in·k²`, `fan_out = out·k²`, `u = seed::unit_f64` (computed in `f64`, rounded
    ///   once); bias 0.1 (no draw);
    /// * linear: weight then bias `0.1 · seed::normal` (standard normal by Box–Muller);
    /// * batch norm: γ = 1, β = 0, running mean 0, running variance 1 (no draw).
    pub fn init(input: Shape, spec: &Spec, seed: u64) -> Result<Network<T>, String> {
        let mut net = Network::zeros(input, spec)?;
        let mut rng = seed::stream(seed, StreamId::WeightInit);
        for (l, layer) in net.spec.layers.iter().zip(&mut net.layers) {
            match l.kind {
                Kind::Conv2d {
                    in_ch, out_ch, k, ..
                } => {
                    let bound = libm::sqrt(6.0 / ((in_ch * k * k + out_ch * k * k) as f64));
                    let mut t = layer.tensors_mut();
                    for w in t[0].1.iter_mut() {
                        *w = T::from_f64(bound * (2.0 * seed::unit_f64(&mut rng) - 1.0));
                    }
                    t[1].1.fill(T::from_f64(0.1));
                }
                Kind::Linear { .. } => {
                    for (_, t) in layer.tensors_mut() {
                        for w in t.iter_mut() {
                            *w = T::from_f64(0.1 * seed::normal(&mut rng));
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(net)
    }

    /// The input shape of one example.
    pub fn input(&self) -> Shape {
        self.shapes[0]
    }

    /// The output length of one example.
    pub fn outputs(&self) -> usize {
        self.shapes.last().map_or(0, Shape::len)
    }

    /// The layers, mutably (tests set parameters through it).
    #[cfg(test)]
    pub fn layers_mut(&mut self) -> &mut [Layer<T>] {
        &mut self.layers
    }

    /// The forward pass over `n` examples (`x` is `n × input`), returning the `n × outputs`
    /// logits. `train` uses batch statistics, updates the running ones and keeps the caches
    /// [`Network::backward`] needs.
    pub fn forward(&mut self, x: &[T], n: usize, train: bool) -> Vec<T> {
        debug_assert_eq!(x.len(), n * self.input().len());
        let mut a = x.to_vec();
        for l in &mut self.layers {
            a = l.forward(&a, n, train);
        }
        a
    }

    /// The backward pass of the last training forward pass, from the gradient of the loss
    /// with respect to the logits. Sets every parameter gradient; returns the gradient with
    /// respect to the input if `input_grad` (else an empty vector).
    pub fn backward(&mut self, dlogits: &[T], n: usize, input_grad: bool) -> Vec<T> {
        let mut d = dlogits.to_vec();
        for (i, l) in self.layers.iter_mut().enumerate().rev() {
            d = l.backward(&d, n, input_grad || i > 0);
        }
        d
    }

    /// Every trainable parameter tensor with its gradient, layer by layer (weight, bias).
    pub fn params(&mut self) -> Vec<(&mut Vec<T>, &Vec<T>)> {
        self.layers.iter_mut().flat_map(Layer::params).collect()
    }

    /// Every stored tensor by its file name (`<layer>.<suffix>`), as `f32`, with PyTorch's
    /// shapes: conv and linear weights `[out, in, k, k]` and `[out, in]`, the others vectors.
    pub fn to_tensors(&self) -> BTreeMap<String, Tensor> {
        let mut out = BTreeMap::new();
        for (l, layer) in self.spec.layers.iter().zip(&self.layers) {
            let weight = match l.kind {
                Kind::Conv2d {
                    in_ch, out_ch, k, ..
                } => vec![out_ch, in_ch, k, k],
                Kind::Linear { inputs, outputs } => vec![outputs, inputs],
                _ => Vec::new(),
            };
            for (suffix, data) in layer.tensors() {
                let shape = if suffix == ".weight" && !weight.is_empty() {
                    weight.clone()
                } else {
                    vec![data.len()]
                };
                let data = data.iter().map(|v| v.to_f64() as f32).collect();
                out.insert(format!("{}{suffix}", l.name), Tensor { shape, data });
            }
        }
        out
    }

    /// A network from a model file the kernel has read ([`Model::parse`] has checked the
    /// tensors against the layers). Fails on a layer the trainer cannot train and on a weight
    /// that is NaN or infinite.
    pub fn from_model(model: &Model<'_>) -> Result<Network<T>, String> {
        let mut net = Network::zeros(model.input, &model.spec)?;
        for (l, layer) in net.spec.layers.iter().zip(&mut net.layers) {
            let name = l.name.as_str();
            for (suffix, data) in layer.tensors_mut() {
                let t = model
                    .tensor(name, suffix)
                    .ok_or_else(|| format!("tensor {name}{suffix} is missing"))?;
                debug_assert_eq!(t.len(), data.len(), "{name}{suffix}");
                for (i, (d, v)) in data.iter_mut().zip(t.values()).enumerate() {
                    if !v.is_finite() {
                        return Err(format!(
                            "tensor {name}{suffix} holds a non-finite value at index {i}"
                        ));
                    }
                    *d = T::from_f64(f64::from(v));
                }
            }
        }
        Ok(net)
    }
}

/// The mean softmax cross-entropy of `n` rows of logits against `labels`, its gradient with
/// respect to the logits, and the number of rows whose arg-max (the first, on ties) is the
/// label.
///
/// Per row: `m = max l`, `s = Σ e^(l_j − m)` (ascending `j`), loss `m + ln s − l_y`,
/// gradient `(e^(l_j − m)/s − [j = y]) / n`. The loss is summed in `f64`.
pub fn cross_entropy<T: Real>(logits: &[T], labels: &[u8], classes: usize) -> (f64, Vec<T>, usize) {
    let n = labels.len();
    debug_assert_eq!(logits.len(), n * classes);
    let mut grad = vec![T::ZERO; logits.len()];
    let mut loss = 0.0;
    let mut correct = 0;
    let inv_n = T::from_f64(1.0 / n as f64);
    for (b, &y) in labels.iter().enumerate() {
        let row = &logits[b * classes..(b + 1) * classes];
        let g = &mut grad[b * classes..(b + 1) * classes];
        let arg = argmax(row);
        if arg == usize::from(y) {
            correct += 1;
        }
        let m = row[arg];
        let mut s = T::ZERO;
        for (gj, &l) in g.iter_mut().zip(row) {
            *gj = (l - m).exp();
            s += *gj;
        }
        loss += (m + s.ln() - row[usize::from(y)]).to_f64();
        for (j, gj) in g.iter_mut().enumerate() {
            let p = *gj / s;
            *gj = (if j == usize::from(y) { p - T::ONE } else { p }) * inv_n;
        }
    }
    (loss / n as f64, grad, correct)
}

/// The index of the first maximum of `row`.
pub fn argmax<T: Real>(row: &[T]) -> usize {
    let mut best = 0;
    for (j, &v) in row.iter().enumerate() {
        if v > row[best] {
            best = j;
        }
    }
    best
}

/// Adam as PyTorch's (`torch.optim.Adam`, single-tensor path, `amsgrad=False`), per element:
/// ```text
/// g ← g + weight_decay · p                 (if weight_decay ≠ 0)
/// m ← m + (1 − β1) · (g − m)               (torch: exp_avg.lerp_(g, 1 − β1))
/// v ← β2 · v + (1 − β2) · g · g
/// p ← p − (lr / (1 − β1^t)) · m / (√v / √(1 − β2^t) + eps)
/// ```
/// with `t` the step number from 1; the bias corrections and the step size are computed in
/// `f64` (torch computes them as Python floats) and rounded once to `T`.
#[derive(Clone, Debug)]
pub struct Adam<T> {
    /// β1.
    pub beta1: f64,
    /// β2.
    pub beta2: f64,
    /// The denominator offset.
    pub eps: f64,
    /// L2 penalty added to the gradient.
    pub weight_decay: f64,
    step: u64,
    m: Vec<Vec<T>>,
    v: Vec<Vec<T>>,
}

impl<T: Real> Adam<T> {
    /// Adam with β1 0.9, β2 0.999, eps 1e-8 and the given weight decay.
    pub fn new(weight_decay: f64) -> Adam<T> {
        Adam {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay,
            step: 0,
            m: Vec::new(),
            v: Vec::new(),
        }
    }

    /// One step at learning rate `lr` over `params` (always the same tensors in the same
    /// order).
    pub fn step(&mut self, lr: f64, params: Vec<(&mut Vec<T>, &Vec<T>)>) {
        if self.m.is_empty() {
            self.m = params.iter().map(|(p, _)| vec![T::ZERO; p.len()]).collect();
            self.v = self.m.clone();
        }
        debug_assert_eq!(self.m.len(), params.len());
        self.step += 1;
        let t = self.step as f64;
        let bc1 = 1.0 - libm::pow(self.beta1, t);
        let bc2 = 1.0 - libm::pow(self.beta2, t);
        let step_size = T::from_f64(lr / bc1);
        let bc2_sqrt = T::from_f64(libm::sqrt(bc2));
        let (one_b1, b2, one_b2) = (
            T::from_f64(1.0 - self.beta1),
            T::from_f64(self.beta2),
            T::from_f64(1.0 - self.beta2),
        );
        let (eps, wd) = (T::from_f64(self.eps), T::from_f64(self.weight_decay));
        for ((p, g), (m, v)) in params.into_iter().zip(self.m.iter_mut().zip(&mut self.v)) {
            for i in 0..p.len() {
                let mut gi = g[i];
                if self.weight_decay != 0.0 {
                    gi += wd * p[i];
                }
                let mi = m[i] + one_b1 * (gi - m[i]);
                let vi = b2 * v[i] + one_b2 * gi * gi;
                m[i] = mi;
                v[i] = vi;
                let denom = vi.sqrt() / bc2_sqrt + eps;
                p[i] -= step_size * (mi / denom);
            }
        }
    }
}
