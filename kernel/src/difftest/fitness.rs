//! What the fuzzer maximises, and what counts as a deviation.

/// The index of the largest value (the first of equals; NaN never wins).
///
/// PyTorch's `argmax` also returns the first maximum, so labels agree with the artifact's.
pub fn argmax(v: &[f64]) -> usize {
    let mut best = 0;
    for (i, &x) in v.iter().enumerate() {
        if x > v[best] {
            best = i;
        }
    }
    best
}

/// `out = softmax(v)` in `f64`: `exp(v − max v)` with `libm`, normalised by their sum taken
/// in index order, so the CLI and the browser print the same probabilities on every target.
/// `out` must be as long as `v` (extra elements are left alone).
pub fn softmax(v: &[f64], out: &mut [f64]) {
    let m = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    for (o, &x) in out.iter_mut().zip(v) {
        *o = libm::exp(x - m);
    }
    let n = v.len().min(out.len());
    let sum: f64 = out[..n].iter().sum();
    for o in &mut out[..n] {
        *o /= sum;
    }
}

/// The fuzzer's feedback.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fitness {
    /// ‖plaintext logits − MPC logits‖₂: the artifact's (`torch.norm` of the raw difference).
    LogitL2,
    /// How close the MPC model is to changing its label away from the plaintext one:
    /// `max_{j ≠ p} mpc_j − mpc_p` with `p` the plaintext label (positive exactly on a
    /// deviation). Goes straight for the label flip instead of for large logit errors.
    Margin,
}

impl Fitness {
    /// The name used in result files and on the command line.
    pub const fn name(self) -> &'static str {
        match self {
            Fitness::LogitL2 => "logit-l2",
            Fitness::Margin => "margin",
        }
    }

    /// The fitness called `name`.
    pub fn by_name(name: &str) -> Option<Fitness> {
        [Fitness::LogitL2, Fitness::Margin]
            .into_iter()
            .find(|f| f.name() == name)
    }

    /// The fitness of one input from its two logit vectors (same length, at least 2).
    pub fn score(self, plain: &[f64], mpc: &[f64]) -> f64 {
        match self {
            Fitness::LogitL2 => logit_l2(plain, mpc),
            Fitness::Margin => {
                let p = argmax(plain);
                let mut other = f64::NEG_INFINITY;
                for (j, &v) in mpc.iter().enumerate() {
                    if j != p {
                        other = other.max(v);
                    }
                }
                other - mpc.get(p).copied().unwrap_or(0.0)
            }
        }
    }
}

/// ‖a − b‖₂.
pub fn logit_l2(a: &[f64], b: &[f64]) -> f64 {
    let mut sq = 0.0;
    for (&x, &y) in a.iter().zip(b) {
        sq += (x - y) * (x - y);
    }
    libm::sqrt(sq)
}

/// MPCDiff's deviation: the MPC label differs from the plaintext label **and** the plaintext
/// label is the true one (a flip away from a correct prediction).
pub fn is_deviation(plain: &[f64], mpc: &[f64], label: usize) -> bool {
    let p = argmax(plain);
    p == label && argmax(mpc) != p
}
