//! Training under MPC, written once against [`crate::Arith`]: the same SGD runs in
//! [`crate::Float`] (the plaintext twin), [`crate::Fixed`] and [`crate::Shared`] (two parties,
//! where an active adversary at the message seam can tamper with it:
//! [`crate::wire::additive`]).
//!
//! * [`logistic`]: mini-batch SGD for logistic regression, with the profile's sigmoid.
//! * [`backprop`]: mini-batch SGD by backpropagation for a fully-connected ReLU or sigmoid
//!   network with a softmax cross-entropy output (the Credit MLP's kind), every weight
//!   gradient a distinct, targetable matrix product.
//! * [`convnet`]: the same for convolutional networks of LeNet's kind (LeNet-5 as MPCDiff
//!   defines it, batch norms included), the convolutions' backward as convolutions.
//! * [`covert`]: the gradient shifting, scaling and zeroing attacks of Jagielski, Escudero,
//!   Rachuri and Scholl (arXiv 2505.17092) on that training, as edits of single message words.
//! * [`separable`]: a seeded, linearly separable synthetic data set to train on.
//! * The covert-attack experiments, each the same seeded training run honestly and attacked
//!   ([`adversary`]: the harness and the released model's metrics):
//!   [`reconstruction`] (a victim's example read back from the model: error, cosine, PSNR,
//!   SSIM), [`poisoning`] (a backdoor: clean accuracy and attack success rate per scale; a
//!   targeted misclassification: the chosen input's margin) and [`membership`] (the
//!   loss-threshold attack's advantage over many trainings).
//!
//! * [`toggles`]: comparison toggles (primitive P2 of the research note's §1.4,
//!   [`backprop::relu_mask_toggle`]) on MLP training, a sabotage the passive protocol does
//!   not see (test accuracy against toggled units), and the same training under
//!   [`crate::arith::Authenticated`], whose comparisons are MAC'd, aborting.
//!
//! What is not here: *blind* gradient zeroing. A toggle inverts a ReLU mask rather than
//! clearing it (an example's active units stop contributing, its inactive ones start), so it
//! zeroes nothing it does not know; zeroing is realised with a known operand
//! ([`covert::gradient_zero`]). The research note's §1.4 says the same (derived).

pub mod adversary;
pub mod backprop;
pub mod convnet;
pub mod covert;
pub mod logistic;
pub mod membership;
pub mod poisoning;
pub mod reconstruction;
pub mod toggles;

use crate::error::{Error, Result};
use crate::seed::{self, StreamId};

/// Fills `x` (`samples × features`, row-major) and `y` (`samples`, labels 0 or 1) with a
/// linearly separable data set drawn from `seed`.
///
/// # Method
/// From the stream [`StreamId::TrainingData`] of `seed`: 64 standard normal draws
/// ([`seed::normal`]) as the true weights `w*` (feature `j` uses `w*[j mod 64]`), then per
/// sample `features − 1` standard normal features followed by a constant 1 (the bias column,
/// so a model's last weight is its bias). The label is `[x · w* > 0]`, with the bias weight 0: every data set is
/// separable by a hyperplane through the origin of the non-bias features.
///
/// # Errors
/// [`Error::InvalidShape`] if `features < 2` or `samples · features` overflows;
/// [`Error::ShapeMismatch`] unless `x` and `y` have those lengths.
pub fn separable(
    seed: u64,
    samples: usize,
    features: usize,
    x: &mut [f64],
    y: &mut [f64],
) -> Result<()> {
    if features < 2 {
        return Err(Error::InvalidShape {
            what: "a separable data set needs a feature besides the bias",
        });
    }
    let len = samples.checked_mul(features).ok_or(Error::InvalidShape {
        what: "samples × features overflows",
    })?;
    crate::error::check_len(len, x.len())?;
    crate::error::check_len(samples, y.len())?;
    let mut rng = seed::stream(seed, StreamId::TrainingData);
    // At most this many true weights are drawn; more features reuse them cyclically.
    let mut w = [0.0f64; 64];
    for v in w.iter_mut() {
        *v = seed::normal(&mut rng);
    }
    for (row, label) in x.chunks_exact_mut(features).zip(y.iter_mut()) {
        let (feats, bias) = row.split_at_mut(features - 1);
        let mut dot = 0.0;
        for (j, v) in feats.iter_mut().enumerate() {
            *v = seed::normal(&mut rng);
            dot += *v * w[j % w.len()];
        }
        bias[0] = 1.0;
        *label = if dot > 0.0 { 1.0 } else { 0.0 };
    }
    Ok(())
}

#[cfg(test)]
mod backprop_tests;
#[cfg(test)]
mod convnet_tests;
#[cfg(test)]
mod experiment_tests;
#[cfg(test)]
mod tests;
