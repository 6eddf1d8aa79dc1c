//! A model: its spec, its input shape and its weights, checked against each other.
//!
//! The file format is mpcdiff's model file (`format` = `mpcdiff-model/1` in the safetensors
//! metadata, written by `mpcdiff train`): metadata `architecture`, `layers` (the [`Spec`]),
//! `input` (`CxHxW` or `N`), `classes`; PyTorch-named F32 tensors (`conv1.weight`
//! `[out, in, k, k]`, `fc1.weight` `[out, in]`, `bn1.running_var` `[c]`, …). [`Model::parse`] accepts
//! a file only if every tensor the spec needs is there with the right shape and no other
//! tensor is.

use super::deploy::{fuse_conv_bn_f32, BatchNormRun, Deployment};
use super::safetensors::{File, Tensor};
use super::spec::{Kind, Shape, Spec, LAYERS_MAX};
use crate::arith::Arith;
use crate::error::{Error, Result};

/// Where one layer's parameters sit in the loaded parameter slice.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Slot {
    /// Start of the weights (linear weights are stored transposed, `[in, out]`).
    pub weight: usize,
    /// Start of the bias.
    pub bias: usize,
    /// Start of `[γ, β, mean, var]` (each `c` long) for a batch norm evaluated under MPC
    /// ([`BatchNormRun::Mpc`]); after [`crate::nn::forward::prepare`] with an inverse square
    /// root computed once, `var` holds `inv_sqrt(var + eps)`.
    pub bn: usize,
}

/// A parsed, checked model borrowing its bytes.
#[derive(Clone, Debug)]
pub struct Model<'a> {
    /// The architecture's name.
    pub architecture: &'a str,
    /// The layers.
    pub spec: Spec,
    /// One sample's input shape.
    pub input: Shape,
    /// Number of output classes.
    pub classes: usize,
    /// Each layer's output shape for one sample.
    pub shapes: heapless::Vec<Shape, LAYERS_MAX>,
    file: File<'a>,
}

fn tensor_name<'n>(buf: &'n mut heapless::String<48>, layer: &str, suffix: &str) -> &'n str {
    buf.clear();
    let _ = buf.push_str(layer);
    let _ = buf.push_str(suffix);
    buf.as_str()
}

impl<'a> Model<'a> {
    /// Parses and checks a model file.
    ///
    /// # Errors
    /// [`Error::Malformed`] naming what is wrong with the file (its safetensors structure,
    /// metadata, tensors), [`Spec::parse`]'s and [`Spec::shapes`]'s.
    pub fn parse(bytes: &'a [u8]) -> Result<Model<'a>> {
        let file = File::parse(bytes)?;
        let missing = |what| Error::Malformed { what };
        if file.metadata("format")? != Some("mpcdiff-model/1") {
            return Err(missing(
                "not an mpcdiff model file (metadata format is not mpcdiff-model/1)",
            ));
        }
        let architecture = file
            .metadata("architecture")?
            .ok_or(missing("model metadata lacks architecture"))?;
        let spec = Spec::parse(
            file.metadata("layers")?
                .ok_or(missing("model metadata lacks layers"))?,
        )?;
        let input = Shape::parse(
            file.metadata("input")?
                .ok_or(missing("model metadata lacks input"))?,
        )?;
        let classes: usize = file
            .metadata("classes")?
            .ok_or(missing("model metadata lacks classes"))?
            .parse()
            .map_err(|_| missing("model metadata classes is not a number"))?;
        let mut shapes = heapless::Vec::new();
        shapes
            .resize(spec.layers.len(), Shape::Vector(0))
            .map_err(|_| missing("too many layers"))?;
        spec.shapes(input, &mut shapes)?;
        let model = Model {
            architecture,
            spec,
            input,
            classes,
            shapes,
            file,
        };
        model.check()?;
        Ok(model)
    }

    /// Checks that the model's parts agree, as [`Model::parse`] left them: `shapes` are what
    /// the spec makes of `input` (no size overflows), the last is `classes` wide, and the file
    /// holds exactly the tensors the layers need, with their shapes. The public fields can be
    /// changed after parsing; every function that sizes or indexes by them ([`Model::slots`],
    /// [`Model::load`], the forward pass and the oracles through them) checks them first.
    ///
    /// # Errors
    /// [`Spec::shapes`]'s, and [`Error::Malformed`] naming the disagreement.
    pub fn check(&self) -> Result<()> {
        let missing = |what| Error::Malformed { what };
        let mut shapes: heapless::Vec<Shape, LAYERS_MAX> = heapless::Vec::new();
        shapes
            .resize(self.spec.layers.len(), Shape::Vector(0))
            .map_err(|_| missing("too many layers"))?;
        self.spec.shapes(self.input, &mut shapes)?;
        if shapes != self.shapes {
            return Err(missing(
                "the model's layer shapes disagree with its layers and input",
            ));
        }
        if shapes.last().map(Shape::len) != Some(self.classes) {
            return Err(missing(
                "the last layer's width is not the number of classes",
            ));
        }
        let model = self;
        // Every tensor the spec needs, with its shape; and nothing else.
        let mut needed = 0usize;
        let mut name = heapless::String::<48>::new();
        for layer in &model.spec.layers {
            let l = layer.name.as_str();
            let want: &[(&str, [usize; 4], usize)] = match layer.kind {
                Kind::Conv2d {
                    in_ch, out_ch, k, ..
                } => &[
                    (".weight", [out_ch, in_ch, k, k], 4),
                    (".bias", [out_ch, 0, 0, 0], 1),
                ],
                Kind::Linear { inputs, outputs } => &[
                    (".weight", [outputs, inputs, 0, 0], 2),
                    (".bias", [outputs, 0, 0, 0], 1),
                ],
                Kind::BatchNorm { channels: c, .. } => &[
                    (".weight", [c, 0, 0, 0], 1),
                    (".bias", [c, 0, 0, 0], 1),
                    (".running_mean", [c, 0, 0, 0], 1),
                    (".running_var", [c, 0, 0, 0], 1),
                ],
                _ => &[],
            };
            for &(suffix, dims, rank) in want {
                let t = model
                    .file
                    .tensor(tensor_name(&mut name, l, suffix))
                    .ok_or(missing("a tensor the layers need is missing"))?;
                if t.shape.as_slice() != &dims[..rank] {
                    return Err(missing("a tensor's shape disagrees with its layer"));
                }
                needed += 1;
            }
        }
        if needed != model.file.tensors().len() {
            return Err(missing("the file holds tensors no layer uses"));
        }
        Ok(())
    }

    /// The tensor `layer` + `suffix` (e.g. `"fc1"`, `".weight"`); present after [`Model::parse`].
    pub fn tensor(&self, layer: &str, suffix: &str) -> Option<&Tensor<'a>> {
        let mut name = heapless::String::<48>::new();
        self.file.tensor(tensor_name(&mut name, layer, suffix))
    }

    /// The raw metadata value of `key` (JSON-escaped; e.g. `preprocessing`, `training`).
    pub fn metadata_raw(&self, key: &str) -> Option<&'a str> {
        self.file.metadata_raw(key)
    }

    /// Each layer's input shape (the model input, then the previous layer's output; an empty
    /// vector past the last layer).
    pub fn input_shape(&self, layer: usize) -> Shape {
        match layer.checked_sub(1) {
            None => self.input,
            Some(prev) => self.shapes.get(prev).copied().unwrap_or(Shape::Vector(0)),
        }
    }

    /// Where each layer's parameters go under deployment `dep`, and the total length.
    ///
    /// # Errors
    /// [`Model::check`]'s, and the deployment's batch-norm errors
    /// ([`Deployment::batch_norm`]).
    pub fn slots(&self, dep: Deployment) -> Result<(heapless::Vec<Slot, LAYERS_MAX>, usize)> {
        self.check()?;
        let mut slots = heapless::Vec::new();
        let mut at = 0usize;
        // Sizes come from tensors the file holds (checked above), so they cannot overflow;
        // checked all the same.
        let overflow = Error::InvalidShape {
            what: "parameter count overflows",
        };
        let add = |at: &mut usize, n: Option<usize>| -> Result<()> {
            *at = n.and_then(|n| at.checked_add(n)).ok_or(overflow)?;
            Ok(())
        };
        for (i, layer) in self.spec.layers.iter().enumerate() {
            let mut s = Slot::default();
            match layer.kind {
                Kind::Conv2d {
                    in_ch, out_ch, k, ..
                } => {
                    s.weight = at;
                    let per = in_ch.checked_mul(k).and_then(|v| v.checked_mul(k));
                    add(&mut at, per.and_then(|v| v.checked_mul(out_ch)))?;
                    s.bias = at;
                    add(&mut at, Some(out_ch))?;
                }
                Kind::Linear { inputs, outputs } => {
                    s.weight = at;
                    add(&mut at, inputs.checked_mul(outputs))?;
                    s.bias = at;
                    add(&mut at, Some(outputs))?;
                }
                Kind::BatchNorm { channels, .. } => {
                    if let Some(BatchNormRun::Mpc { .. } | BatchNormRun::Public) =
                        dep.batch_norm(&self.spec, i)?
                    {
                        s.bn = at;
                        add(&mut at, channels.checked_mul(4))?;
                    }
                }
                _ => {}
            }
            slots.push(s).map_err(|_| Error::InvalidShape {
                what: "too many layers",
            })?;
        }
        Ok((slots, at))
    }

    /// Loads the parameters into `out` (length from [`Model::slots`]) as the model owner's
    /// private values, as deployment `dep` has them: batch norms fused (in `f32`, as torch's
    /// exporter) or folded (in `f64`) into the preceding layer, or kept for evaluation under
    /// MPC; linear weights transposed.
    ///
    /// # Errors
    /// Slot and encoding errors.
    pub fn load<A: Arith>(&self, a: &mut A, dep: Deployment, out: &mut [A::Elem]) -> Result<()> {
        let (slots, total) = self.slots(dep)?;
        crate::error::check_len(total, out.len())?;
        let layers = &self.spec.layers;
        let mut buf = [0.0f64; 256];
        for (i, layer) in layers.iter().enumerate() {
            let s = slots[i];
            let l = layer.name.as_str();
            let folded = match (dep.batch_norm(&self.spec, i + 1)?, layers.get(i + 1)) {
                (Some(run @ (BatchNormRun::FusedF32 | BatchNormRun::FoldedF64)), Some(next)) => {
                    let Kind::BatchNorm { eps_micro, .. } = next.kind else {
                        return Err(Error::Malformed {
                            what: "batch norm expected",
                        });
                    };
                    Some((run, next.name.as_str(), eps_micro))
                }
                _ => None,
            };
            // Per output channel: the weights' scale and the bias's value (identity without
            // a batch norm to fold).
            let fold = |o: usize, bias: f32| -> (f64, f64) {
                let Some((run, bn_name, eps_micro)) = folded else {
                    return (1.0, f64::from(bias));
                };
                let t = |suffix| {
                    self.tensor(bn_name, suffix)
                        .map(|t| t.get(o))
                        .unwrap_or(0.0)
                };
                let (gamma, beta, mean, var) = (
                    t(".weight"),
                    t(".bias"),
                    t(".running_mean"),
                    t(".running_var"),
                );
                let eps = f64::from(eps_micro) * 1e-6;
                if run == BatchNormRun::FusedF32 {
                    let (scale, shift) = fuse_conv_bn_f32(gamma, beta, mean, var, eps as f32, bias);
                    (f64::from(scale), f64::from(shift))
                } else {
                    let scale = f64::from(gamma) / libm::sqrt(f64::from(var) + eps);
                    (
                        scale,
                        (f64::from(bias) - f64::from(mean)) * scale + f64::from(beta),
                    )
                }
            };
            // The folded weight: `f32` product for torch's fusion, `f64` otherwise.
            let scaled = |w: f32, scale: f64| -> f64 {
                match folded {
                    Some((BatchNormRun::FusedF32, _, _)) => f64::from(w * scale as f32),
                    _ => f64::from(w) * scale,
                }
            };
            match layer.kind {
                Kind::Conv2d {
                    in_ch, out_ch, k, ..
                } => {
                    let w = self.tensor(l, ".weight").ok_or(Error::Malformed {
                        what: "missing weight",
                    })?;
                    let per = in_ch * k * k;
                    for o in 0..out_ch {
                        let (scale, _) = fold(o, 0.0);
                        load_chunks(
                            a,
                            per,
                            |j| scaled(w.get(o * per + j), scale),
                            &mut out[s.weight + o * per..s.weight + (o + 1) * per],
                            &mut buf,
                        )?;
                    }
                }
                Kind::Linear { inputs, outputs } => {
                    let w = self.tensor(l, ".weight").ok_or(Error::Malformed {
                        what: "missing weight",
                    })?;
                    // Stored transposed: element (j, o) at j·outputs + o.
                    load_chunks(
                        a,
                        inputs * outputs,
                        |idx| {
                            let (j, o) = (idx / outputs, idx % outputs);
                            scaled(w.get(o * inputs + j), fold(o, 0.0).0)
                        },
                        &mut out[s.weight..s.weight + inputs * outputs],
                        &mut buf,
                    )?;
                }
                Kind::BatchNorm {
                    channels: c,
                    eps_micro,
                } => {
                    let run = dep.batch_norm(&self.spec, i)?;
                    if !matches!(run, Some(BatchNormRun::Mpc { .. } | BatchNormRun::Public)) {
                        continue;
                    }
                    // A public batch norm's fourth slot holds `denom`, computed in the clear
                    // as TF-Encrypted's `set_weights` does: the encoded variance plus the
                    // encoded ε, decoded (float64), `1/√·`, encoded again when brought in.
                    // Exact in `Float`.
                    let fp = a.fixed_point();
                    let exact = a.kind() == crate::arith::ArithKind::Float;
                    let eps = f64::from(eps_micro) * 1e-6;
                    let denom = |var: f32| -> f64 {
                        let v = f64::from(var);
                        if exact {
                            return 1.0 / libm::sqrt(v + eps);
                        }
                        let sum = match (fp.encode_data_at(v, 0), fp.encode(eps)) {
                            (Ok(x), Ok(e)) => fp.decode(x.wrapping_add(e)),
                            _ => v + eps,
                        };
                        1.0 / libm::sqrt(sum)
                    };
                    let public = run == Some(BatchNormRun::Public);
                    for (q, suffix) in [".weight", ".bias", ".running_mean", ".running_var"]
                        .iter()
                        .enumerate()
                    {
                        let t = self.tensor(l, suffix).ok_or(Error::Malformed {
                            what: "missing batch-norm tensor",
                        })?;
                        let at = s.bn + q * c;
                        load_chunks(
                            a,
                            c,
                            |j| {
                                if public && q == 3 {
                                    denom(t.get(j))
                                } else {
                                    f64::from(t.get(j))
                                }
                            },
                            &mut out[at..at + c],
                            &mut buf,
                        )?;
                    }
                }
                _ => {}
            }
            // Conv and linear biases, with the folded batch norm's shift (identity without).
            let outs = match layer.kind {
                Kind::Conv2d { out_ch, .. } => out_ch,
                Kind::Linear { outputs, .. } => outputs,
                _ => continue,
            };
            let b = self.tensor(l, ".bias").ok_or(Error::Malformed {
                what: "missing bias",
            })?;
            let shift = |o: usize| fold(o, b.get(o)).1;
            load_chunks(a, outs, shift, &mut out[s.bias..s.bias + outs], &mut buf)?;
        }
        Ok(())
    }
}

/// Brings `n` values given by `value(i)` in as model-owned inputs, 256 at a time.
fn load_chunks<A: Arith>(
    a: &mut A,
    n: usize,
    value: impl Fn(usize) -> f64,
    out: &mut [A::Elem],
    buf: &mut [f64; 256],
) -> Result<()> {
    let mut i = 0;
    while i < n {
        let m = (n - i).min(buf.len());
        for (j, b) in buf[..m].iter_mut().enumerate() {
            *b = value(i + j);
        }
        a.input_model(&buf[..m], &mut out[i..i + m])?;
        i += m;
    }
    Ok(())
}
