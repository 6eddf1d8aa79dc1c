//! Sigmoid and tanh: CrypTen's reciprocal method (with per-element levels) and its Chebyshev
//! method.
//!
//! # Method (reciprocal)
//! `b = [x < 0]`, `s = 1 − 2b`, `d = exp(−x·s) + 1` (so `d ∈ [1, 2]`), `p = 1/d` by Newton
//! from the constant `nr_init` (CrypTen: 0.75), and the result is `1 − p` where `x < 0`, else
//! `p`. Each element's level gives the exp squarings and Newton steps. `tanh(x) = 2σ(2x) − 1`.
//!
//! # Method (Chebyshev)
//! `tanh(x) ≈ Σ c_{2j+1} T_{2j+1}(x)` with the coefficients of `chebyshev_series(tanh, 1,
//! terms)` (fitted on [−1, 1]), combined with one truncation, then clipped to [−1, 1] by
//! `relu(t + 1) − relu(t − 1) − 1`; `σ(x) = tanh(x/2)/2 + 1/2`.
//!
//! # Cost
//! Reciprocal: 8 (ltz) + 1 (|x|) + `iters_exp` + 2·(`iters_nr` − 1) + 2 (CrypTen's `where`:
//! two products) rounds: stock (8/3) 23, MPCDiff baseline (6/6) 27, repair high (9/9) 36;
//! one fewer with the one-product select (`crypten_where` off). Chebyshev (32 terms): 25.
//!
//! # Error
//! Reciprocal, algorithm: Newton from 0.75 after `R` steps leaves `(1 − 0.75d)^(2^R)` relative;
//! the exp leaves ≈ x²/2^(E+1) relative on `e^−|x|`. Max |error| vs σ: 2.0e−3 (8/3), 3.5e−3
//! (6/6), 4.3e−4 (9/9), 2.9e−2 (3/3, and divergence for |x| ≥ 2^(E+1) = 16). Fixed point at
//! f = 16 adds ≤ a few LSB; the limit exp diverges for |x| > 2^(E+1) (512 for E = 8), tanh
//! at half that. Chebyshev: ≤ 2.6e−5 on |x| ≤ 1, unreliable for |x| ≥ 3 (polynomial fitted on
//! [−1, 1], then T9 overflows).
//!
//! # Reference
//! CrypTen `approximations.py: sigmoid, tanh, _chebyshev_polynomials`, `common/util.py:
//! chebyshev_series`, `mpc.py: hardtanh`; MPCDiff `approximations.py: sigmoid` (the per-neuron
//! levels).

use super::levels::{take, Level, Levels};
use super::profile::{ExpDivide, RecipInit, SigmoidMethod};
use crate::arith::Arith;
use crate::error::{Error, Result};

/// Scratch elements [`sigmoid`] and [`tanh`] need for `n` inputs.
pub const fn scratch_elems(n: usize) -> usize {
    // Chebyshev (up to 64 terms): the series' scratch; reciprocal: 5n + reciprocal_pos.
    let cheb = super::chebyshev::scratch_elems(n, 32);
    let recip = n.saturating_mul(9);
    if cheb > recip {
        cheb
    } else {
        recip
    }
}

/// `x ← σ(x)`.
///
/// # Errors
/// [`Levels::check`]'s; [`Error::BufferTooSmall`] if `scratch` is shorter than
/// [`scratch_elems`]; [`Error::OutOfRange`] for a Chebyshev method whose terms are not even in
/// 6..=64; then the arithmetic's (a [`crate::Shared`] arena too small, an encoding overflow).
pub fn sigmoid<A: Arith>(
    a: &mut A,
    x: &mut [A::Elem],
    method: SigmoidMethod,
    levels: &Levels<'_>,
    scratch: &mut [A::Elem],
) -> Result<()> {
    levels.check(x.len())?;
    super::need(scratch.len(), scratch_elems(x.len()))?;
    match method {
        SigmoidMethod::Reciprocal {
            nr_init,
            crypten_where,
        } => {
            // Elementwise, and its interactive steps are `ltz`, `mul_unscaled`, `square` and
            // `mul` (at most 4 + exp squarings + 2 per Newton step of them): the arithmetic may
            // run it in chunks. The constants it encodes are checked first, so that an encoding
            // error is the single call's.
            if let Levels::Uniform(l) = levels {
                let consts = [1.0, nr_init, nr_init * nr_init, 2.0 * nr_init];
                if consts.iter().all(|&c| a.elem_const(c).is_ok()) {
                    let ops = 4 + usize::from(l.iters_exp) + 2 * usize::from(l.iters_nr);
                    let levels = *levels;
                    return a.elementwise_chunks(x.len(), ops, &mut |a, lo, hi| {
                        sigmoid_reciprocal(
                            a,
                            &mut x[lo..hi],
                            Recipe::crypten(nr_init, crypten_where),
                            &levels,
                            &mut scratch[..],
                        )
                    });
                }
            }
            sigmoid_reciprocal(
                a,
                x,
                Recipe::crypten(nr_init, crypten_where),
                levels,
                scratch,
            )
        }
        SigmoidMethod::Limit { divide, init } => {
            let recipe = Recipe {
                divide,
                init,
                crypten_where: false,
            };
            if let (Levels::Uniform(l), ExpDivide::Truncate) = (levels, divide) {
                // As above: elementwise, interactive steps `ltz`, `mul_unscaled`, `square`,
                // `mul` (and the start's exp squarings).
                let ops = 6 + 2 * usize::from(l.iters_exp) + 2 * usize::from(l.iters_nr);
                let levels = *levels;
                return a.elementwise_chunks(x.len(), ops, &mut |a, lo, hi| {
                    sigmoid_reciprocal(a, &mut x[lo..hi], recipe, &levels, &mut scratch[..])
                });
            }
            sigmoid_reciprocal(a, x, recipe, levels, scratch)
        }
        SigmoidMethod::Pond => pond(a, x, &POND_SIGMOID, scratch),
        SigmoidMethod::Logistic => logistic(a, x, levels, scratch),
        SigmoidMethod::PySyftChebyshev => {
            a.div_int(x, 2)?;
            tanh_pysyft(a, x, scratch)?;
            a.div_int(x, 2)?;
            a.add_const(x, 0.5)
        }
        SigmoidMethod::Chebyshev { terms } => {
            a.div_int(x, 2)?;
            tanh_chebyshev(a, x, terms, scratch)?;
            a.div_int(x, 2)?;
            a.add_const(x, 0.5)
        }
    }
}

/// `x ← tanh(x)`.
///
/// # Errors
/// As [`sigmoid`].
pub fn tanh<A: Arith>(
    a: &mut A,
    x: &mut [A::Elem],
    method: SigmoidMethod,
    levels: &Levels<'_>,
    scratch: &mut [A::Elem],
) -> Result<()> {
    levels.check(x.len())?;
    super::need(scratch.len(), scratch_elems(x.len()))?;
    match method {
        SigmoidMethod::Reciprocal {
            nr_init,
            crypten_where,
        } => {
            a.mul_int(x, 2);
            sigmoid_reciprocal(
                a,
                x,
                Recipe::crypten(nr_init, crypten_where),
                levels,
                scratch,
            )?;
            a.mul_int(x, 2);
            a.add_const(x, -1.0)
        }
        SigmoidMethod::Limit { divide, init } => {
            // MPCDiff's `tanh_nn`: `sigmoid(z·2.0)·2.0 − 1.0` (both products by 2.0 exact).
            a.mul_int(x, 2);
            let recipe = Recipe {
                divide,
                init,
                crypten_where: false,
            };
            sigmoid_reciprocal(a, x, recipe, levels, scratch)?;
            a.mul_int(x, 2);
            a.add_const(x, -1.0)
        }
        SigmoidMethod::Chebyshev { terms } => tanh_chebyshev(a, x, terms, scratch),
        SigmoidMethod::Pond => pond(a, x, &POND_TANH, scratch),
        SigmoidMethod::Logistic => tanh_spu(a, x, scratch),
        SigmoidMethod::PySyftChebyshev => tanh_pysyft(a, x, scratch),
    }
}

/// `σ(x) = 1/(1 + exp(−x))` as SPU runs `jax.nn.sigmoid`: negate, the limit exp (by a
/// truncation), add 1, the Goldschmidt reciprocal.
fn logistic<A: Arith>(
    a: &mut A,
    x: &mut [A::Elem],
    levels: &Levels<'_>,
    scratch: &mut [A::Elem],
) -> Result<()> {
    let n = x.len();
    let mut s = scratch;
    let d = take(&mut s, n)?;
    d.copy_from_slice(x);
    a.neg(d);
    super::exp::exp_dividing(a, d, levels, ExpDivide::Truncate, s)?;
    a.add_const(d, 1.0)?;
    super::reciprocal::reciprocal_goldschmidt(a, d, x, levels, s)
}

/// SPU 0.9.5's `f_tanh` Chebyshev coefficients (degree 17 on [−5, 5]; `frameworks.md` §3.5),
/// as SPU holds them: a `std::array<float, 9>`, so each is the float32 nearest the printed
/// value (visible at FM128's 2^26, not at FM64's 2^18).
#[allow(clippy::excessive_precision)]
const SPU_TANH: [f64; 9] = [
    1.2514045938932097_f32 as f64,
    -0.3655987797163166_f32 as f64,
    0.17253141478140663_f32 as f64,
    -0.08943445792774211_f32 as f64,
    0.047703017901250824_f32 as f64,
    -0.025830290571688078_f32 as f64,
    0.014338801903468182_f32 as f64,
    -0.008541730970059077_f32 as f64,
    0.0061230685785789475_f32 as f64,
];

/// SPU's `f_tanh` (≥ 0.5.0): `x` clamped to [−5, 5] (`relu(x + 5) − relu(x − 5) − 5`, exact),
/// scaled by the encoded `0.2F` (float32, as SPU writes it), the odd Chebyshev series by CrypTen's recurrence combined in one
/// truncation (SPU's `f_mmul` with the coefficients).
fn tanh_spu<A: Arith>(a: &mut A, x: &mut [A::Elem], scratch: &mut [A::Elem]) -> Result<()> {
    const CLAMP: f64 = 5.0;
    let n = x.len();
    let mut s = scratch;
    let both = take(&mut s, 2 * n)?;
    let bits = take(&mut s, 2 * n)?;
    both[..n].copy_from_slice(x);
    a.add_const(&mut both[..n], CLAMP)?;
    both[n..].copy_from_slice(x);
    a.add_const(&mut both[n..], -CLAMP)?;
    crate::protocols::select::relu(a, both, bits)?;
    x.copy_from_slice(&both[..n]);
    a.sub(x, &both[n..])?;
    a.add_const(x, -CLAMP)?;
    a.mul_const(x, 0.2_f32 as f64)?;
    super::chebyshev::odd_series(a, x, &SPU_TANH, s)
}

/// PySyft's `chebyshev_series(torch.tanh, 6, 32)[1::2]`, as its float32 computation gives them
/// (`frameworks.md` §2.6; the format encodes them in float32, as PySyft's tensors do).
const PYSYFT_TANH: [f64; 16] = [
    1.2582927,
    -0.38263991,
    0.1932545,
    -0.10890295,
    0.06356506,
    -0.037576448,
    0.022321191,
    -0.013284773,
    0.0079136863,
    -0.0047180224,
    0.0028172024,
    -0.0016883016,
    0.0010239184,
    -0.00063848495,
    0.00042866543,
    -0.00033663586,
];

/// PySyft's `_tanh_chebyshev(t, maxval=6, terms=32)`: `u = t / enc(6)` (shares times the
/// scale, then each share divided by the encoded 6), the odd series in `u` with one truncation,
/// then `out·(1 − up − down) + (up − down)` with the exact gates `up = [t > 6]`,
/// `down = [−t > 6]` (ring comparisons: `t − enc(6) − 1 ≥ 0`).
fn tanh_pysyft<A: Arith>(a: &mut A, x: &mut [A::Elem], scratch: &mut [A::Elem]) -> Result<()> {
    const MAXVAL: f64 = 6.0;
    let n = x.len();
    let fp = a.fixed_point();
    let mut s = scratch;
    let up = take(&mut s, n)?;
    let down = take(&mut s, n)?;
    let t = take(&mut s, n)?;
    t.copy_from_slice(x);
    // gates first (they read t): [t − 6 − 1 unit < 0] and [−t − 6 − 1 unit < 0]
    up.copy_from_slice(t);
    a.add_const(up, -MAXVAL)?;
    a.add_int(up, -1);
    down.copy_from_slice(t);
    a.neg(down);
    a.add_const(down, -MAXVAL)?;
    a.add_int(down, -1);
    let (lt_up, lt_down) = (&mut *up, &mut *down);
    // `ltz` writes into a separate buffer: reuse x as it is overwritten below.
    a.ltz(lt_up, x)?;
    lt_up.copy_from_slice(x);
    a.ltz(lt_down, x)?;
    lt_down.copy_from_slice(x);
    // up = 1 − [t − 6 − 1 < 0], down likewise
    let one = a.elem_int(1);
    for v in up.iter_mut().chain(down.iter_mut()) {
        *v = a.elem_sub(one, *v);
    }
    // u = t / enc(6)
    x.copy_from_slice(t);
    a.mul_int(x, fp.scale());
    let six = fp.encode(MAXVAL)?;
    a.div_int(x, six.unsigned_abs().max(1))?;
    super::chebyshev::odd_series(a, x, &PYSYFT_TANH, s)?;
    // keep = 1 − up − down (scale 1); sign = up − down as a value (scale S)
    for ((k, &u), &d) in t.iter_mut().zip(up.iter()).zip(down.iter()) {
        *k = a.elem_sub(a.elem_sub(one, u), d);
    }
    a.mul_unscaled(x, t)?;
    // A scale-1 integer k is the value k·S on the ring (a local, exact product); in `Float`
    // integers and values are the same reals.
    let scale = match a.kind() {
        crate::arith::ArithKind::Float => 1,
        _ => fp.scale(),
    };
    for ((o, &u), &d) in x.iter_mut().zip(up.iter()).zip(down.iter()) {
        *o = a.elem_add(*o, a.elem_mul_int(a.elem_sub(u, d), scale));
    }
    Ok(())
}

/// How the reciprocal method computes `1 / (1 + exp(−|x|))` and mirrors it.
#[derive(Clone, Copy, Debug)]
struct Recipe {
    divide: ExpDivide,
    init: RecipInit,
    crypten_where: bool,
}

impl Recipe {
    /// CrypTen's: the exp divides by a truncation, Newton starts from a constant.
    const fn crypten(nr_init: f64, crypten_where: bool) -> Recipe {
        Recipe {
            divide: ExpDivide::Truncate,
            init: RecipInit::Const(nr_init),
            crypten_where,
        }
    }
}

/// Pond's sigmoid (TF-Encrypted 0.7.0 `pond.py`): `[w0, w1, w3, w5, w7, w9]`.
const POND_SIGMOID: [f64; 6] = [
    0.5,
    0.2159198015,
    -0.0082176259,
    0.0001825597,
    -0.0000018848,
    0.0000000072,
];

/// Pond's tanh: `[w0, w1, w3, w5, w7]`.
const POND_TANH: [f64; 5] = [0.0, 0.852721056, -0.12494112, 0.010654528, -0.000423424];

/// Pond's odd polynomial `w[0] + Σ_k w[k]·x^(2k−1)`: `x² = square(x)`, each odd power `x²·`
/// the previous one (a truncated product), each term a public product truncated on its own,
/// summed from the highest power down (`z = x9·w9 + x7·w7 + … + x·w1 + w0`).
fn pond<A: Arith>(a: &mut A, x: &mut [A::Elem], w: &[f64], scratch: &mut [A::Elem]) -> Result<()> {
    let n = x.len();
    let mut s = scratch;
    let x2 = take(&mut s, n)?;
    let pow = take(&mut s, n)?;
    let term = take(&mut s, n)?;
    let acc = take(&mut s, n)?;
    // Every constant encodes before anything runs (an encoding error leaves x untouched).
    for &c in w {
        a.elem_const(c)?;
    }
    x2.copy_from_slice(x);
    a.square(x2)?;
    // The terms in ascending powers, added into `acc`; addition is exact, so the order of the
    // sum does not change the value.
    pow.copy_from_slice(x);
    acc.fill(a.elem_const(w[0])?);
    for (k, &c) in w.iter().enumerate().skip(1) {
        if k > 1 {
            a.mul(pow, x2)?;
        }
        term.copy_from_slice(pow);
        a.mul_const(term, c)?;
        a.add(acc, term)?;
    }
    x.copy_from_slice(acc);
    Ok(())
}

fn sigmoid_reciprocal<A: Arith>(
    a: &mut A,
    x: &mut [A::Elem],
    recipe: Recipe,
    levels: &Levels<'_>,
    scratch: &mut [A::Elem],
) -> Result<()> {
    let Recipe {
        divide,
        init,
        crypten_where,
    } = recipe;
    let n = x.len();
    let mut s = scratch;
    let bits = take(&mut s, n)?;
    let sgn = take(&mut s, n)?;
    let d = take(&mut s, n)?;
    let p = take(&mut s, n)?;
    let q = take(&mut s, n)?;
    a.ltz(x, bits)?;
    // The local steps are fused into single passes of the elementwise operations that
    // `mul_int`, `add_int`, `neg`, `rsub_const` and `add` apply (the same values, fewer passes
    // over memory).
    let one = a.elem_int(1);
    for (((s, &b), d), &v) in sgn
        .iter_mut()
        .zip(bits.iter())
        .zip(d.iter_mut())
        .zip(x.iter())
    {
        // sgn = 1 − 2b; d = x
        *s = a.elem_add(a.elem_mul_int(b, -2), one);
        *d = v;
    }
    a.mul_unscaled(d, sgn)?;
    a.neg(d);
    super::exp::exp_dividing(a, d, levels, divide, s)?;
    a.add_const(d, 1.0)?;
    super::reciprocal::reciprocal_pos(a, d, p, init, levels, s)?;
    let c1 = a.elem_const(1.0)?;
    if crypten_where {
        // CrypTen: `p.where(1 − b, 1 − p)` = `p·(1 − b) + (1 − p)·b`, two products.
        let keep = d;
        for (((q, &pv), k), &b) in q
            .iter_mut()
            .zip(p.iter())
            .zip(keep.iter_mut())
            .zip(bits.iter())
        {
            // q = 1 − p (rsub_const); keep = −b + 1 (neg, add_int)
            *q = a.elem_sub(c1, pv);
            *k = a.elem_add(a.elem_mul_int(b, -1), one);
        }
        a.mul_unscaled(p, keep)?;
        a.mul_unscaled(q, bits)?;
        for ((o, &pv), &qv) in x.iter_mut().zip(p.iter()).zip(q.iter()) {
            *o = a.elem_add(pv, qv);
        }
        Ok(())
    } else {
        for (q, &pv) in q.iter_mut().zip(p.iter()) {
            *q = a.elem_sub(c1, pv);
        }
        crate::protocols::select::select(a, bits, q, p, x)
    }
}

/// The odd Chebyshev coefficients `c_1, c_3, …` of `tanh` on [−1, 1] with `terms` nodes, as
/// CrypTen's `chebyshev_series(torch.tanh, 1, terms)[1::2]`. Writes `terms/2` values.
///
/// # Errors
/// [`super::chebyshev::odd_coeffs`]'s.
pub fn chebyshev_tanh_coeffs(terms: u8, out: &mut [f64]) -> Result<()> {
    super::chebyshev::odd_coeffs(libm::tanh, terms, out)
}

fn tanh_chebyshev<A: Arith>(
    a: &mut A,
    x: &mut [A::Elem],
    terms: u8,
    scratch: &mut [A::Elem],
) -> Result<()> {
    if terms as usize > super::chebyshev::TERMS_MAX {
        return Err(Error::OutOfRange {
            what: "Chebyshev terms above 64",
        });
    }
    let mut coeffs = [0.0f64; super::chebyshev::TERMS_MAX / 2];
    let m = terms as usize / 2;
    chebyshev_tanh_coeffs(terms, &mut coeffs[..m])?;
    // CrypTen evaluates the series unclamped (its weakness), then clips the result.
    super::chebyshev::odd_series(a, x, &coeffs[..m], scratch)?;
    super::chebyshev::hardtanh(a, x, scratch)
}

/// The level for the profile's sigmoid (uniform), for callers that have no per-neuron plan.
pub const fn uniform(level: Level) -> Levels<'static> {
    Levels::Uniform(level)
}

#[cfg(test)]
mod tests {
    //! The coefficients of CrypTen's Chebyshev tanh, as CrypTen encodes them. (The comparisons
    //! with recorded CrypTen outputs are in `tests/tests/approx_reference.rs`.)

    use crate::approx;

    #[test]
    fn chebyshev_coefficients_encode_as_crypten_reports() {
        // Research notes §4.5: CrypTen's 32-term tanh coefficients encode (f = 16) to
        // [53193, −3555, 296, −25, 2, 0, …, 0].
        let mut c = [0.0; 16];
        approx::sigmoid::chebyshev_tanh_coeffs(32, &mut c).unwrap();
        let fp = crate::FixedPoint::new(16).unwrap();
        let enc: Vec<i64> = c.iter().map(|&v| fp.encode(v).unwrap()).collect();
        let mut want = vec![53193, -3555, 296, -25, 2];
        want.resize(16, 0);
        assert_eq!(enc, want);
    }
}

#[cfg(test)]
mod chunk_tests {
    //! The ideal engine runs a long uniform sigmoid in chunks (`Arith::elementwise_chunks`):
    //! the same shares, ledger and dealer position as the single pass (which a cyclic plan of
    //! one level, the same computation, still takes).

    use crate::approx::levels::{Level, Levels};
    use crate::approx::profile::SigmoidMethod;
    use crate::arith::{Arith, Engine, RingArith};
    use crate::{FixedPoint, Shared};

    fn run(
        n: usize,
        level: Level,
        crypten_where: bool,
        chunked: bool,
    ) -> (Vec<[i64; 2]>, crate::Cost, Vec<i64>) {
        let fp = FixedPoint::CRYPTEN_DEFAULT;
        let mut arena = vec![0i64; Shared::scratch_words_elementwise(n)];
        let mut sh = Shared::new(fp, 77, &mut arena).with_engine(Engine::Ideal);
        let x: Vec<f64> = (0..n)
            .map(|i| ((i * 7919) % 2001) as f64 / 100.0 - 10.0)
            .collect();
        let mut s = vec![[0i64; 2]; n];
        sh.input(&x, &mut s).unwrap();
        let mut scratch = vec![[0i64; 2]; super::scratch_elems(n)];
        let one = [level];
        let levels = if chunked {
            Levels::Uniform(level)
        } else {
            Levels::Cyclic(&one)
        };
        let method = SigmoidMethod::Reciprocal {
            nr_init: 0.75,
            crypten_where,
        };
        super::sigmoid(&mut sh, &mut s, method, &levels, &mut scratch).unwrap();
        // Where the dealer stands: the next product's shares.
        let mut after = vec![[3i64, 4]; 5];
        sh.square(&mut after).unwrap();
        let mut ring = vec![0i64; n];
        sh.peek_ring(&s, &mut ring).unwrap();
        let mut shares: Vec<[i64; 2]> = s;
        shares.extend(after);
        (shares, sh.cost(), ring)
    }

    #[test]
    fn chunked_sigmoid_is_the_single_pass() {
        for n in [1024, 1025, 3000, 4096] {
            for level in [
                Level::new(8, 3),
                Level::new(6, 6),
                Level::new(3, 0),
                Level::new(0, 1),
            ] {
                for crypten_where in [true, false] {
                    let a = run(n, level, crypten_where, true);
                    let b = run(n, level, crypten_where, false);
                    assert_eq!(a.1, b.1, "ledger, n {n} {level:?} {crypten_where}");
                    assert!(a.0 == b.0, "shares, n {n} {level:?} {crypten_where}");
                    assert!(a.2 == b.2);
                }
            }
        }
    }
}
