//! Training under MPC beside its plaintext twin, epoch by epoch: the driver the command line's
//! `train-mpc` runs (and the page would), over the kernel's `no_std` trainers
//! ([`mpcdiff_kernel::training::logistic`], [`mpcdiff_kernel::training::backprop`]).
//!
//! # Method
//! Two sessions run side by side from the same initial parameters: the chosen arithmetic
//! (float, plaintext fixed point, or two-party shares with a chosen engine and truncation)
//! and its [`Float`] twin (the same algorithm and approximations with ideal products). After
//! every epoch each side's parameters are read (in the shared run by [`Arith::peek`], the
//! simulator's view, which is no protocol step) and evaluated in plaintext with the exact
//! functions ([`backprop::evaluate`]: mean cross-entropy and accuracy on the training set and,
//! when given, the test set), and the largest parameter difference between the sides is
//! recorded. At the end the run's parameters are **revealed** ([`Arith::reveal`]: one round in
//! the shared run, the model release of the covert-attack setting).
//!
//! Logistic regression trains on the features plus a constant-1 column (its last weight is
//! the bias); its weights `w` are reported as the equivalent two-class network with logits
//! `(0, x·w)` (softmax of those is the sigmoid of `x·w`), so one evaluator and one model file
//! layout serve both models. Parameters are in the layout of [`backprop::Net::layer`].
//!
//! # Seeds
//! `seed` draws the initial parameters ([`backprop::init`]; logistic regression starts at
//! zero) and is the shared session's seed (its dealer's and parties' streams).
//!
//! # Errors
//! [`Failure::Kernel`] for the kernel's refusals (shapes, labels, encodings);
//! [`Failure::Argument`] for an empty hidden width list of an MLP or fewer than two classes.

use mpcdiff_kernel::approx::Profile;
use mpcdiff_kernel::arith::Arith;
use mpcdiff_kernel::training::backprop::{self, Hidden, Net};
use mpcdiff_kernel::training::convnet::{self, ConvNet, Pooling, LENET5_CONVS};
use mpcdiff_kernel::training::logistic::{self, Hyper, Problem};
use mpcdiff_kernel::{Cost, Engine, Fixed, FixedPoint, Float, Shared, TruncMode};

use crate::Failure;

/// What is trained.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Model {
    /// Logistic regression (two classes), the profile's sigmoid.
    Logistic,
    /// A fully-connected network with these hidden widths and activation, softmax output.
    Mlp {
        /// Hidden widths (at least one).
        hidden: Vec<usize>,
        /// The hidden activation.
        activation: Hidden,
    },
    /// LeNet-5 on 1 × 28 × 28 images ([`mpcdiff_kernel::training::convnet::lenet5`]): ReLU
    /// with max pooling or sigmoid with average pooling, the last layer as wide as the
    /// classes.
    Lenet {
        /// The hidden activation (and so the pooling).
        activation: Hidden,
        /// With its four batch norms (MPCDiff's LeNet), or without.
        batch_norm: bool,
    },
}

/// The arithmetic of the run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arithmetic {
    /// Reals (the twin's arithmetic itself).
    Float,
    /// Plaintext fixed point.
    Fixed,
    /// Two-party additive shares.
    Shared {
        /// How the session is simulated.
        engine: Engine,
        /// The truncation after products.
        trunc: TruncMode,
    },
}

/// A training run's settings.
#[derive(Clone, Debug)]
pub struct Spec {
    /// The model.
    pub model: Model,
    /// The run's arithmetic.
    pub arith: Arithmetic,
    /// The approximations (sigmoid, softmax).
    pub profile: &'static Profile,
    /// The fixed-point format of the fixed and shared runs.
    pub fp: FixedPoint,
    /// SGD's learning rate.
    pub lr: f64,
    /// Samples per step.
    pub batch: usize,
    /// Passes over the data.
    pub epochs: u32,
    /// Initial parameters and the shared session (module doc).
    pub seed: u64,
}

/// A data set: rows of features and class indices.
#[derive(Clone, Copy, Debug)]
pub struct Data<'d> {
    /// `samples × features`, row-major.
    pub x: &'d [f64],
    /// Class indices `0 … classes − 1`.
    pub y: &'d [f64],
    /// Features per sample.
    pub features: usize,
    /// Number of classes.
    pub classes: usize,
}

impl Data<'_> {
    /// Number of samples.
    pub fn samples(&self) -> usize {
        self.y.len()
    }
    fn problem(&self) -> Problem<'_> {
        Problem {
            x: self.x,
            y: self.y,
            samples: self.samples(),
            features: self.features,
        }
    }
}

/// One side's evaluation after an epoch.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Side {
    /// Mean cross-entropy on the training set (exact functions).
    pub loss: f64,
    /// Training accuracy.
    pub accuracy: f64,
    /// Test accuracy, if a test set was given.
    pub test_accuracy: Option<f64>,
}

/// One epoch of both sides.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Epoch {
    /// 1-based.
    pub epoch: u32,
    /// The chosen arithmetic's run.
    pub run: Side,
    /// Its float twin.
    pub twin: Side,
    /// The largest |run − twin| over all parameters.
    pub max_param_diff: f64,
}

/// What a training run produced.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    /// The fully-connected widths (logistic regression: `features, 2`; LeNet: the part after
    /// the convolutions, `400, 120, 84, classes`).
    pub widths: Vec<usize>,
    /// The run's final parameters, revealed (layout of [`backprop::Net::layer`]).
    pub params: Vec<f64>,
    /// The twin's final parameters.
    pub twin: Vec<f64>,
    /// Every epoch.
    pub epochs: Vec<Epoch>,
    /// The shared session's ledger (zero for the other arithmetics), reveal included.
    pub cost: Cost,
}

impl Spec {
    /// The network's widths for data of `features` features and `classes` classes.
    ///
    /// # Errors
    /// [`Failure::Argument`] for an MLP without hidden widths, or fewer than two classes (or
    /// more than two for logistic regression).
    pub fn widths(&self, features: usize, classes: usize) -> Result<Vec<usize>, Failure> {
        match &self.model {
            Model::Logistic if classes == 2 => Ok(vec![features, 2]),
            Model::Logistic => Err(Failure::Argument {
                name: "model",
                expected: "an MLP for other than two classes",
            }),
            Model::Mlp { hidden, .. } if hidden.is_empty() => Err(Failure::Argument {
                name: "hidden",
                expected: "at least one hidden width",
            }),
            Model::Mlp { hidden, .. } => {
                let mut w = vec![features];
                w.extend(hidden);
                w.push(classes);
                Ok(w)
            }
            Model::Lenet { .. } if features != 28 * 28 => Err(Failure::Argument {
                name: "model",
                expected: "LeNet on 28 × 28 images (784 features)",
            }),
            Model::Lenet { .. } => Ok(vec![400, 120, 84, classes]),
        }
    }

    fn hyper(&self) -> Hyper<'static> {
        Hyper {
            lr: self.lr,
            batch: self.batch,
            epochs: 1,
            profile: self.profile,
        }
    }
}

/// The weights of logistic regression (features + bias) as the two-class network
/// `[features, 2]` with logits `(0, x·w + bias)`.
pub fn logistic_as_network(w: &[f64]) -> Vec<f64> {
    let d = w.len().saturating_sub(1);
    let mut out = vec![0.0; 2 * d + 2];
    for j in 0..d {
        out[2 * j + 1] = w[j];
    }
    if let Some(&b) = w.last() {
        out[2 * d + 1] = b;
    }
    out
}

/// One side's trainer state.
struct Trainer<A: Arith> {
    a: A,
    params: Vec<A::Elem>,
    work: Vec<A::Elem>,
    /// Logistic regression's buffers (data, labels, rows, z, grad, scratch).
    lr_bufs: [Vec<A::Elem>; 6],
}

/// The logistic data: features plus a constant-1 column.
fn with_bias(d: &Data<'_>) -> Vec<f64> {
    let mut x = Vec::with_capacity(d.samples() * (d.features + 1));
    for row in d.x.chunks_exact(d.features.max(1)) {
        x.extend_from_slice(row);
        x.push(1.0);
    }
    x
}

impl<A: Arith> Trainer<A> {
    fn new(mut a: A, spec: &Spec, arch: &Arch<'_>, prob: &Problem<'_>) -> Result<Self, Failure> {
        let net = &arch.net;
        let h = spec.hyper();
        match &spec.model {
            Model::Logistic => {
                let sz = logistic::Sizes::of(prob, &h)?;
                let mut params = vec![A::Elem::default(); sz.features];
                a.input_model(&vec![0.0; sz.features], &mut params)?;
                let v = |n| vec![A::Elem::default(); n];
                Ok(Trainer {
                    lr_bufs: [
                        v(sz.data),
                        v(sz.labels),
                        v(sz.rows),
                        v(sz.batch),
                        v(sz.features),
                        v(sz.scratch),
                    ],
                    a,
                    params,
                    work: Vec::new(),
                })
            }
            Model::Lenet { .. } => {
                let cnn = arch.cnn();
                let sz = convnet::Sizes::of(&cnn, prob, &h)?;
                let mut start = vec![0.0; sz.params];
                convnet::init(spec.seed, &cnn, &mut start)?;
                let mut params = vec![A::Elem::default(); sz.params];
                a.input_model(&start, &mut params)?;
                Ok(Trainer {
                    a,
                    params,
                    work: vec![A::Elem::default(); sz.work],
                    lr_bufs: Default::default(),
                })
            }
            Model::Mlp { .. } => {
                let sz = backprop::Sizes::of(net, prob, &h)?;
                let mut start = vec![0.0; sz.params];
                backprop::init(spec.seed, net, &mut start)?;
                let mut params = vec![A::Elem::default(); sz.params];
                a.input_model(&start, &mut params)?;
                Ok(Trainer {
                    a,
                    params,
                    work: vec![A::Elem::default(); sz.work],
                    lr_bufs: Default::default(),
                })
            }
        }
    }

    /// One epoch; the parameters after it (network layout), by `peek`.
    fn epoch(
        &mut self,
        spec: &Spec,
        arch: &Arch<'_>,
        prob: &Problem<'_>,
    ) -> Result<Vec<f64>, Failure> {
        let h = spec.hyper();
        match spec.model {
            Model::Logistic => {
                let [data, labels, rows_t, z, grad, scratch] = &mut self.lr_bufs;
                let mut buf = logistic::Buffers {
                    data,
                    labels,
                    rows_t,
                    z,
                    grad,
                    scratch,
                };
                logistic::train(&mut self.a, prob, &h, &mut self.params, &mut buf)?;
            }
            Model::Mlp { .. } => {
                let net = &arch.net;
                backprop::train(&mut self.a, net, prob, &h, &mut self.params, &mut self.work)?;
            }
            Model::Lenet { .. } => {
                let cnn = arch.cnn();
                convnet::train(
                    &mut self.a,
                    &cnn,
                    prob,
                    &h,
                    &mut self.params,
                    &mut self.work,
                )?;
            }
        }
        self.read(spec, false)
    }

    fn read(&mut self, spec: &Spec, reveal: bool) -> Result<Vec<f64>, Failure> {
        let mut v = vec![0.0; self.params.len()];
        if reveal {
            self.a.reveal(&self.params, &mut v)?;
        } else {
            self.a.peek(&self.params, &mut v)?;
        }
        Ok(match spec.model {
            Model::Logistic => logistic_as_network(&v),
            Model::Mlp { .. } | Model::Lenet { .. } => v,
        })
    }
}

/// Trains `spec.model` on `train` in `spec.arith` and in float, side by side, calling
/// `on_epoch` after every epoch (module doc).
///
/// # Errors
/// See the module doc.
pub fn run(
    spec: &Spec,
    train: &Data<'_>,
    test: Option<&Data<'_>>,
    on_epoch: &mut dyn FnMut(&Epoch),
) -> Result<Outcome, Failure> {
    let widths = spec.widths(train.features, train.classes)?;
    let activation = match &spec.model {
        Model::Mlp { activation, .. } | Model::Lenet { activation, .. } => *activation,
        Model::Logistic => Hidden::Relu,
    };
    let net = Net {
        widths: &widths,
        hidden: activation,
    };
    net.check()?;
    let biased;
    let prob = match spec.model {
        Model::Logistic => {
            biased = with_bias(train);
            Problem {
                x: &biased,
                y: train.y,
                samples: train.samples(),
                features: train.features + 1,
            }
        }
        Model::Mlp { .. } | Model::Lenet { .. } => train.problem(),
    };
    let arch = Arch {
        net,
        lenet: matches!(spec.model, Model::Lenet { .. }),
        batch_norm: matches!(
            spec.model,
            Model::Lenet {
                batch_norm: true,
                ..
            }
        ),
    };
    let h = spec.hyper();
    let (words, params) = match spec.model {
        Model::Logistic => {
            let sz = logistic::Sizes::of(&prob, &h)?;
            (sz.words, sz.features)
        }
        Model::Mlp { .. } => {
            let sz = backprop::Sizes::of(&arch.net, &prob, &h)?;
            (sz.words, sz.params)
        }
        Model::Lenet { .. } => {
            let sz = convnet::Sizes::of(&arch.cnn(), &prob, &h)?;
            (sz.words, sz.params)
        }
    };
    // The final reveal opens every parameter: two words each.
    let words = words.max(params.saturating_mul(2));
    let go = Go {
        spec,
        arch: &arch,
        prob: &prob,
        train,
        test,
    };
    match spec.arith {
        Arithmetic::Float => go.run(Float::new(spec.fp), |_| Cost::default(), on_epoch),
        Arithmetic::Fixed => go.run(Fixed::new(spec.fp), |_| Cost::default(), on_epoch),
        Arithmetic::Shared { engine, trunc } => {
            let mut arena = vec![0i64; words];
            let s = Shared::new(spec.fp, spec.seed, &mut arena)
                .with_truncation(trunc)
                .with_engine(engine);
            go.run(s, |s: &Shared<'_>| s.cost(), on_epoch)
        }
    }
}

/// The network being trained: the fully-connected part, and whether LeNet's convolutions
/// come first.
struct Arch<'a> {
    net: Net<'a>,
    lenet: bool,
    batch_norm: bool,
}

impl Arch<'_> {
    /// LeNet-5 without batch norm, its fully-connected part `net.widths[1..]`.
    fn cnn(&self) -> ConvNet<'_> {
        let pooling = match self.net.hidden {
            Hidden::Relu => Pooling::Max,
            Hidden::Sigmoid => Pooling::Average,
        };
        ConvNet {
            input: [1, 28, 28],
            convs: &LENET5_CONVS,
            fcs: self.net.widths.get(1..).unwrap_or(&[]),
            hidden: self.net.hidden,
            pooling,
            batch_norm: self.batch_norm,
        }
    }

    fn evaluate(&self, params: &[f64], p: &Problem<'_>) -> Result<backprop::Evaluation, Failure> {
        if self.lenet {
            let cnn = self.cnn();
            let mut scratch = vec![0.0; convnet::eval_scratch_len(&cnn)?];
            Ok(convnet::evaluate(&cnn, params, p, &mut scratch)?)
        } else {
            let mut scratch = vec![0.0; backprop::eval_scratch_len(&self.net)];
            Ok(backprop::evaluate(&self.net, params, p, &mut scratch)?)
        }
    }
}

struct Go<'a> {
    spec: &'a Spec,
    arch: &'a Arch<'a>,
    prob: &'a Problem<'a>,
    train: &'a Data<'a>,
    test: Option<&'a Data<'a>>,
}

impl Go<'_> {
    fn side(&self, params: &[f64]) -> Result<Side, Failure> {
        let e = self.arch.evaluate(params, &self.train.problem())?;
        let test_accuracy = match self.test {
            Some(t) if t.samples() > 0 => {
                let te = self.arch.evaluate(params, &t.problem())?;
                Some(te.correct as f64 / t.samples() as f64)
            }
            _ => None,
        };
        Ok(Side {
            loss: e.loss,
            accuracy: e.correct as f64 / self.train.samples().max(1) as f64,
            test_accuracy,
        })
    }

    fn run<A: Arith>(
        &self,
        a: A,
        cost: impl Fn(&A) -> Cost,
        on_epoch: &mut dyn FnMut(&Epoch),
    ) -> Result<Outcome, Failure> {
        let (spec, arch, prob) = (self.spec, self.arch, self.prob);
        let mut run = Trainer::new(a, spec, arch, prob)?;
        let mut twin = Trainer::new(Float::new(spec.fp), spec, arch, prob)?;
        let mut epochs = Vec::new();
        let mut last_twin = Vec::new();
        for e in 1..=spec.epochs {
            let pr = run.epoch(spec, arch, prob)?;
            let pt = twin.epoch(spec, arch, prob)?;
            let max_param_diff = pr
                .iter()
                .zip(&pt)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f64::max);
            let row = Epoch {
                epoch: e,
                run: self.side(&pr)?,
                twin: self.side(&pt)?,
                max_param_diff,
            };
            on_epoch(&row);
            epochs.push(row);
            last_twin = pt;
        }
        let params = run.read(spec, true)?;
        if last_twin.is_empty() {
            last_twin = twin.read(spec, false)?;
        }
        Ok(Outcome {
            widths: arch.net.widths.to_vec(),
            params,
            twin: last_twin,
            epochs,
            cost: cost(&run.a),
        })
    }
}

#[cfg(test)]
mod tests {
    //! Goal: the driver's bookkeeping — the twin of a float run is the run itself (difference
    //! 0), a shared run stays near its twin and learns, logistic weights map onto the
    //! equivalent network, and bad models are refused.

    use super::*;
    use mpcdiff_kernel::approx::profile::CRYPTEN;
    use mpcdiff_kernel::training::separable;

    fn set() -> (Vec<f64>, Vec<f64>) {
        let (n, d) = (96, 4);
        let (mut x, mut y) = (vec![0.0; n * d], vec![0.0; n]);
        separable(5, n, d, &mut x, &mut y).unwrap();
        (x, y)
    }

    fn spec(model: Model, arith: Arithmetic) -> Spec {
        Spec {
            model,
            arith,
            profile: &CRYPTEN,
            fp: FixedPoint::CRYPTEN_DEFAULT,
            lr: 0.5,
            batch: 8,
            epochs: 3,
            seed: 9,
        }
    }

    #[test]
    fn float_runs_are_their_own_twin_and_shared_runs_follow() {
        let (x, y) = set();
        let data = Data {
            x: &x,
            y: &y,
            features: 4,
            classes: 2,
        };
        let mlp = Model::Mlp {
            hidden: vec![6],
            activation: Hidden::Relu,
        };
        for model in [Model::Logistic, mlp] {
            let f = run(
                &spec(model.clone(), Arithmetic::Float),
                &data,
                Some(&data),
                &mut |_| {},
            )
            .unwrap();
            assert!(
                f.epochs.iter().all(|e| e.max_param_diff == 0.0),
                "{model:?}"
            );
            assert_eq!(f.params, f.twin);
            let shared = Arithmetic::Shared {
                engine: Engine::Protocol,
                trunc: TruncMode::Dealer,
            };
            let mut seen = 0;
            let s = run(&spec(model.clone(), shared), &data, None, &mut |_| {
                seen += 1
            })
            .unwrap();
            assert_eq!(seen, 3);
            let last = s.epochs[2];
            assert!(last.max_param_diff < 1e-2, "{model:?}: {last:?}");
            assert!(last.run.accuracy >= 0.9, "{model:?}: {last:?}");
            // Below the loss of a constant one-half prediction.
            assert!(
                last.run.loss < core::f64::consts::LN_2,
                "{model:?}: {last:?}"
            );
            assert!(s.cost.matrix_triples > 0 && s.cost.rounds > 0);
            assert_eq!(
                f.twin, s.twin,
                "{model:?}: the twin does not depend on the run"
            );
        }
    }

    #[test]
    fn lenet_trains_under_mpc_near_its_twin_and_refuses_other_images() {
        // 16 synthetic 28 × 28 images of two classes (the separable set, reshaped).
        let (n, d) = (16, 784);
        let (mut x, mut y) = (vec![0.0; n * d], vec![0.0; n]);
        separable(8, n, d, &mut x, &mut y).unwrap();
        let data = Data {
            x: &x,
            y: &y,
            features: d,
            classes: 2,
        };
        let mut sp = spec(
            Model::Lenet {
                activation: Hidden::Relu,
                batch_norm: false,
            },
            Arithmetic::Shared {
                engine: Engine::Ideal,
                trunc: TruncMode::Local,
            },
        );
        sp.epochs = 1;
        sp.lr = 0.1;
        let s = run(&sp, &data, None, &mut |_| {}).unwrap();
        assert_eq!(s.widths, vec![400, 120, 84, 2]);
        assert_eq!(s.params.len(), 61_706 - 850 + 84 * 2 + 2);
        let e = s.epochs[0];
        assert!(e.max_param_diff < 1e-2, "{e:?}");
        // Two steps: per step 5 convolution products (3·2 − 1) and 9 matrix products (3·3).
        assert_eq!(s.cost.matrix_triples, 2 * (5 + 9));
        // With the batch norms: 4 · (6 + 16 + 120 + 84) more parameters.
        sp.model = Model::Lenet {
            activation: Hidden::Relu,
            batch_norm: true,
        };
        let s = run(&sp, &data, None, &mut |_| {}).unwrap();
        assert_eq!(s.params.len(), 61_706 - 850 + 84 * 2 + 2 + 904);
        // Batch statistics over 8 examples amplify the fixed-point error (measured 1.3e−2).
        assert!(s.epochs[0].max_param_diff < 5e-2, "{:?}", s.epochs[0]);
        let bad = Data {
            features: 783,
            x: &x[..n * 783],
            ..data
        };
        assert!(matches!(
            run(&sp, &bad, None, &mut |_| {}),
            Err(Failure::Argument { .. })
        ));
    }

    #[test]
    fn logistic_weights_map_onto_the_two_class_network() {
        assert_eq!(
            logistic_as_network(&[1.0, -2.0, 0.5]),
            vec![0.0, 1.0, 0.0, -2.0, 0.0, 0.5]
        );
    }

    #[test]
    fn bad_models_are_refused() {
        let s = spec(
            Model::Mlp {
                hidden: vec![],
                activation: Hidden::Sigmoid,
            },
            Arithmetic::Float,
        );
        assert!(matches!(s.widths(4, 2), Err(Failure::Argument { .. })));
        let s = spec(Model::Logistic, Arithmetic::Float);
        assert!(matches!(s.widths(4, 3), Err(Failure::Argument { .. })));
    }
}
