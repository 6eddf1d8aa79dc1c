//! Beaver multiplication, for every bilinear product at once.
//!
//! # Method
//! The dealer gives a triple `[a], [b], [c]` with `c = op(a, b)`, where `op` is the product
//! being computed: elementwise, a matrix product or a convolution (triples are
//! operation-shaped, as in CrypTen, so a matmul or conv opens only `|x| + |y|` words). The
//! parties open `ε = x − a` and `δ = y − b` in one round and set
//! `z0 = c0 + op(ε, b0 + δ) + op(a0, δ)` and `z1 = c1 + op(ε, b1) + op(a1, δ)`, which sum to
//! `op(x, y)` exactly in the ring. Squares use a pair `(r, r²)` instead: open `ε = x − r`, then
//! `z = r² + 2εr + ε²` (the `ε²` term on party 0 only).
//!
//! # Cost
//! * bilinear: 1 round; each party sends `|x| + |y|` words; elementwise and broadcast: `n`
//!   mul triples (one per product);
//!   matmul/conv: 1 matrix triple of `|x| + |y| + |z|` words.
//! * square: 1 round; each party sends `n` words; `n` square pairs.
//!
//! # Error
//! None: Beaver is exact in Z_2^64. The caller's truncation (scale 2^2f back to 2^f) is where
//! the error comes from; see [`super::truncation`].
//!
//! # Reference
//! CrypTen `crypten/mpc/primitives/beaver.py: __beaver_protocol`, `square`.

use super::{carve, need};
use crate::arith::check_bcast;
use crate::dealer::Dealer;
#[cfg(doc)]
use crate::error::Error;
use crate::error::{check_len, Result};
use crate::linalg::{conv2d_acc, matmul_acc, mul_acc, Conv2dShape, MatShape};
use crate::ring::Word;
use crate::share::Share;
use crate::wire::{Domain, Net};

/// Which bilinear product a Beaver multiplication computes.
#[derive(Clone, Copy, Debug)]
pub enum Bilinear<'s> {
    /// Elementwise product of equal-length vectors.
    Elementwise,
    /// Matrix product.
    Matmul(MatShape),
    /// 2-D convolution (input ⋆ kernel).
    Conv2d(&'s Conv2dShape),
    /// `x[i]·y[(i / inner) mod |y|]`: a per-channel vector broadcast over a batch-major
    /// `[batch, |y|, inner]` tensor, as CrypTen's broadcasting product (a batch norm's
    /// `(x − mean)·inv`): the triple is `a` of `|x|` words and `b` of `|y|`, so the opening
    /// is `|x| + |y|` words, not `2·|x|`.
    Broadcast {
        /// Elements per channel and sample (`h·w` for images, 1 for vectors).
        inner: usize,
    },
}

impl Bilinear<'_> {
    /// Checks operands of `na` and `nb` elements and `nc` outputs against the product: equal
    /// lengths (elementwise), the shape's ([`MatShape::check`], [`Conv2dShape::check`]), or
    /// `nc = na` a multiple of `nb·inner` with `nb ≥ 1`, `inner ≥ 1` (broadcast).
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] or [`Error::InvalidShape`].
    pub fn check(&self, na: usize, nb: usize, nc: usize) -> Result<()> {
        match *self {
            Bilinear::Elementwise => {
                check_len(na, nb)?;
                check_len(na, nc)
            }
            Bilinear::Matmul(s) => s.check(na, nb, nc),
            Bilinear::Conv2d(s) => s.check(na, nb, nc),
            Bilinear::Broadcast { inner } => {
                check_bcast(na, nb, inner)?;
                check_len(na, nc)
            }
        }
    }

    /// `out += op(a, b)` in the ring (the lengths have passed [`Bilinear::check`]).
    #[inline]
    fn apply<W: Word>(&self, a: &[W], b: &[W], out: &mut [W]) -> Result<()> {
        match *self {
            Bilinear::Elementwise => mul_acc(a, b, out),
            Bilinear::Matmul(s) => matmul_acc(a, b, out, s)?,
            Bilinear::Conv2d(s) => conv2d_acc(a, b, out, s)?,
            Bilinear::Broadcast { inner } => {
                check_bcast(a.len(), b.len(), inner)?;
                let c = b.len();
                for ((i, o), &x) in out.iter_mut().enumerate().zip(a) {
                    *o = o.wrapping_add(x.wrapping_mul(b[(i / inner) % c]));
                }
            }
        }
        Ok(())
    }
}

/// Scratch words [`bilinear`] needs for operands of `na`, `nb` words and `nc` outputs
/// (saturating at `usize::MAX`, a size no buffer has).
pub const fn scratch_words_bilinear(na: usize, nb: usize, nc: usize) -> usize {
    na.saturating_add(nb)
        .saturating_mul(4)
        .saturating_add(nc.saturating_mul(2))
}

/// Scratch words [`square`] needs for `n` elements (saturating at `usize::MAX`).
pub const fn scratch_words_square(n: usize) -> usize {
    n.saturating_mul(6)
}

/// `out = op(x, y)` on shares, untruncated (scale 2^2f for two fixed-point operands).
///
/// # Errors
/// [`Bilinear::check`]'s for the operand lengths, then [`Error::BufferTooSmall`] if `scratch`
/// is shorter than [`scratch_words_bilinear`]; nothing is drawn or sent when it fails.
#[allow(clippy::too_many_arguments)]
pub fn bilinear<W: Word>(
    net: &mut Net<'_>,
    dealer: &mut Dealer,
    op: Bilinear<'_>,
    protocol: &'static str,
    x: &[Share<W>],
    y: &[Share<W>],
    out: &mut [Share<W>],
    scratch: &mut [W],
) -> Result<()> {
    let nc = out.len();
    bilinear_to_scratch(net, dealer, op, protocol, x, y, nc, scratch)?;
    collect_output(&scratch[..2 * nc], out)
}

/// Writes the result [`bilinear_to_scratch`] left in `z = scratch[..2·nc]` into `out`.
///
/// # Errors
/// [`Error::ShapeMismatch`] unless `z` holds exactly `2·out.len()` words.
pub fn collect_output<W: Word>(z: &[W], out: &mut [Share<W>]) -> Result<()> {
    check_len(out.len().saturating_mul(2), z.len())?;
    let (z0, z1) = z.split_at(out.len());
    for ((o, &a), &b) in out.iter_mut().zip(z0).zip(z1) {
        *o = [a, b];
    }
    Ok(())
}

/// As [`bilinear`], but leaves party 0's output shares in `scratch[..nc]` and party 1's in
/// `scratch[nc..2·nc]`, so that the output may overwrite an operand.
///
/// # Errors
/// As [`bilinear`].
#[allow(clippy::too_many_arguments)]
pub fn bilinear_to_scratch<W: Word>(
    net: &mut Net<'_>,
    dealer: &mut Dealer,
    op: Bilinear<'_>,
    protocol: &'static str,
    x: &[Share<W>],
    y: &[Share<W>],
    nc: usize,
    scratch: &mut [W],
) -> Result<()> {
    bilinear_checked(net, dealer, op, protocol, x, y, nc, scratch, false)
}

/// Scratch words CrypTen's triple check ([`bilinear_checked`]) needs on top of
/// [`scratch_words_bilinear`] for `n` elementwise products (saturating).
pub const fn scratch_words_triple_check(n: usize) -> usize {
    n.saturating_mul(10)
}

/// [`bilinear_to_scratch`], with CrypTen's `mpc.active_security` check of the triple first when
/// `check` is set and the product is elementwise.
///
/// # Method
/// CrypTen 0.4.1 `beaver.py: __beaver_protocol` (research note `attacks-and-leakage.md` §3.1):
/// a second triple `(f, g, h)`, a random `t` opened (`"triple.t"`), then `ρ = t·a − f`
/// (`"triple.rho"`) and `σ = b − g` (`"triple.sigma"`) opened, each in its own round, then
/// `t·c − h − σ·f − ρ·g − ρ·σ` opened (`"triple.check"`), which is 0 for correct triples
/// ([`Error::TripleCheckFailed`] otherwise). It checks the *dealer's* triple and nothing of
/// the openings that follow: a party that changes its `ε` or `δ` word passes it. CrypTen's
/// formula multiplies elementwise, which a matrix or convolution triple's shapes do not fit;
/// those products run unchecked here (**derived**). `t` is drawn by the dealer here (CrypTen:
/// a PRSS sharing, no communication).
///
/// # Cost
/// Per checked product of `n` elements, on top of the product's: a second triple (`n` more
/// in [`crate::cost::Cost::mul_triples`]), 4 rounds and `4n` words per party.
///
/// # Errors
/// As [`bilinear_to_scratch`], and [`Error::BufferTooSmall`] unless `scratch` also holds
/// [`scratch_words_triple_check`] words when checking.
#[allow(clippy::too_many_arguments)]
pub fn bilinear_checked<W: Word>(
    net: &mut Net<'_>,
    dealer: &mut Dealer,
    op: Bilinear<'_>,
    protocol: &'static str,
    x: &[Share<W>],
    y: &[Share<W>],
    nc: usize,
    mut scratch: &mut [W],
    check: bool,
) -> Result<()> {
    let (na, nb) = (x.len(), y.len());
    op.check(na, nb, nc)?;
    let check = check && matches!(op, Bilinear::Elementwise);
    let extra = if check {
        scratch_words_triple_check(nc)
    } else {
        0
    };
    need(
        scratch_words_bilinear(na, nb, nc).saturating_add(extra),
        scratch.len(),
    )?;
    let c0 = carve(&mut scratch, nc);
    let c1 = carve(&mut scratch, nc);
    let a0 = carve(&mut scratch, na);
    let a1 = carve(&mut scratch, na);
    let b0 = carve(&mut scratch, nb);
    let b1 = carve(&mut scratch, nb);
    let m0 = carve(&mut scratch, na + nb);
    let m1 = carve(&mut scratch, na + nb);

    // Dealer: a, b uniform (as uniform shares), c = op(a, b) dealt as (c0 drawn, c − c0).
    // Party 1's share c1 is never formed: see the online phase.
    dealer.fill(a0);
    dealer.fill(a1);
    dealer.fill(b0);
    dealer.fill(b1);
    dealer.fill(c0);
    let cost = net.cost_mut();
    match op {
        Bilinear::Elementwise | Bilinear::Broadcast { .. } => {
            cost.mul_triples = cost.mul_triples.wrapping_add(nc as u64)
        }
        _ => {
            cost.matrix_triples = cost.matrix_triples.wrapping_add(1);
            cost.matrix_triple_words = cost.matrix_triple_words.wrapping_add((na + nb + nc) as u64);
        }
    }

    if check {
        triple_check(net, dealer, [&*a0, &*a1], [&*b0, &*b1], c0, scratch)?;
    }

    // Online: open ε = x − a and δ = y − b in one round.
    for i in 0..na {
        m0[i] = x[i][0].wrapping_sub(a0[i]);
        m1[i] = x[i][1].wrapping_sub(a1[i]);
    }
    for i in 0..nb {
        m0[na + i] = y[i][0].wrapping_sub(b0[i]);
        m1[na + i] = y[i][1].wrapping_sub(b1[i]);
    }
    net.exchange(protocol, Domain::Arithmetic, m0, m1)?;
    let (eps, delta) = m0.split_at(na);

    // Party 0: z0 = c0 + op(ε, b0 + δ) + op(a0, δ).
    for (b, &d) in b0.iter_mut().zip(delta) {
        *b = b.wrapping_add(d);
    }
    op.apply(eps, b0, c0)?;
    op.apply(a0, delta, c0)?;
    // Party 1: z1 = c1 + op(ε, b1) + op(a1, δ) with c1 = op(a, b) − c0. By bilinearity (exact
    // in the ring) z0 + z1 = op(a + ε, b + δ) for whatever ε and δ were opened, tampered
    // with or not, so z1 = op(a + ε, b + δ) − z0: the same words from one product instead of
    // three (the dealer's and party 1's two).
    for ((a, &a0), &e) in a1.iter_mut().zip(a0.iter()).zip(eps) {
        *a = a.wrapping_add(a0).wrapping_add(e);
    }
    for (b, &b0d) in b1.iter_mut().zip(b0.iter()) {
        *b = b.wrapping_add(b0d);
    }
    c1.fill(W::ZERO);
    op.apply(a1, b1, c1)?;
    for (z1, &z0) in c1.iter_mut().zip(c0.iter()) {
        *z1 = z1.wrapping_sub(z0);
    }
    Ok(())
}

/// CrypTen's sacrifice of the elementwise triple `(a, b, c)` (`c1 = a·b − c0`, formed here for
/// the check): see [`bilinear_checked`]. `scratch` holds at least 10n words.
fn triple_check<W: Word>(
    net: &mut Net<'_>,
    dealer: &mut Dealer,
    a: [&[W]; 2],
    b: [&[W]; 2],
    c0: &[W],
    mut scratch: &mut [W],
) -> Result<()> {
    let n = c0.len();
    let f0 = carve(&mut scratch, n);
    let f1 = carve(&mut scratch, n);
    let g0 = carve(&mut scratch, n);
    let g1 = carve(&mut scratch, n);
    let h0 = carve(&mut scratch, n);
    let h1 = carve(&mut scratch, n);
    let m0 = carve(&mut scratch, n);
    let m1 = carve(&mut scratch, n);
    let r0 = carve(&mut scratch, n);
    let r1 = carve(&mut scratch, n);
    dealer.fill(f0);
    dealer.fill(f1);
    dealer.fill(g0);
    dealer.fill(g1);
    dealer.fill(h0);
    for i in 0..n {
        let fg = f0[i]
            .wrapping_add(f1[i])
            .wrapping_mul(g0[i].wrapping_add(g1[i]));
        h1[i] = fg.wrapping_sub(h0[i]);
    }
    let cost = net.cost_mut();
    cost.mul_triples = cost.mul_triples.wrapping_add(n as u64);
    // t, opened
    dealer.fill(m0);
    dealer.fill(m1);
    net.exchange("triple.t", Domain::Arithmetic, &mut *m0, &mut *m1)?;
    // ρ = t·a − f (t in m0), then σ = b − g, each opened
    for i in 0..n {
        r0[i] = m0[i].wrapping_mul(a[0][i]).wrapping_sub(f0[i]);
        r1[i] = m0[i].wrapping_mul(a[1][i]).wrapping_sub(f1[i]);
    }
    net.exchange("triple.rho", Domain::Arithmetic, &mut *r0, &mut *r1)?;
    for i in 0..n {
        m1[i] = b[0][i].wrapping_sub(g0[i]);
        f1[i] = b[1][i].wrapping_sub(g1[i]);
    }
    // σ into m1 (party 0) and f1 (party 1, f1 no longer needed after ρ)
    let (t, rho) = (&*m0, &*r0);
    // party 1's ρ·g share uses g1; keep copies of f0 for σ·f0 below
    net.exchange("triple.sigma", Domain::Arithmetic, &mut *m1, &mut *f1)?;
    let sigma = &*m1;
    // check shares: party 0 t·c0 − h0 − σ·f0 − ρ·g0 − ρ·σ; party 1 t·c1 − h1 − σ·f1 − ρ·g1,
    // with c1 = a·b − c0 and f1 recovered from the dealer's f = f0 + f1 (kept in g1's place)
    for i in 0..n {
        let ab = a[0][i]
            .wrapping_add(a[1][i])
            .wrapping_mul(b[0][i].wrapping_add(b[1][i]));
        let c1 = ab.wrapping_sub(c0[i]);
        let s = sigma[i];
        let p = rho[i];
        let z0 = t[i]
            .wrapping_mul(c0[i])
            .wrapping_sub(h0[i])
            .wrapping_sub(s.wrapping_mul(f0[i]))
            .wrapping_sub(p.wrapping_mul(g0[i]))
            .wrapping_sub(p.wrapping_mul(s));
        // party 1's f share is t·a1 − ρ1, recomputed (its slot now holds σ's message)
        let f1i = t[i].wrapping_mul(a[1][i]).wrapping_sub(r1[i]);
        let z1 = t[i]
            .wrapping_mul(c1)
            .wrapping_sub(h1[i])
            .wrapping_sub(s.wrapping_mul(f1i))
            .wrapping_sub(p.wrapping_mul(g1[i]));
        h0[i] = z0;
        h1[i] = z1;
    }
    net.exchange("triple.check", Domain::Arithmetic, &mut *h0, &mut *h1)?;
    if h0.iter().any(|&v| v != W::ZERO) {
        return Err(crate::error::Error::TripleCheckFailed {
            round: net.cost().rounds.wrapping_sub(1),
        });
    }
    Ok(())
}

/// `x ← x²` on shares, untruncated.
///
/// # Errors
/// [`Error::BufferTooSmall`] if `scratch` is shorter than [`scratch_words_square`].
pub fn square<W: Word>(
    net: &mut Net<'_>,
    dealer: &mut Dealer,
    x: &mut [Share<W>],
    mut scratch: &mut [W],
) -> Result<()> {
    let n = x.len();
    need(scratch_words_square(n), scratch.len())?;
    let r0 = carve(&mut scratch, n);
    let r1 = carve(&mut scratch, n);
    let s0 = carve(&mut scratch, n);
    let s1 = carve(&mut scratch, n);
    let m0 = carve(&mut scratch, n);
    let m1 = carve(&mut scratch, n);
    dealer.square_pairs([&mut *r0, &mut *r1], [&mut *s0, &mut *s1]);
    let cost = net.cost_mut();
    cost.square_pairs = cost.square_pairs.wrapping_add(n as u64);
    for i in 0..n {
        m0[i] = x[i][0].wrapping_sub(r0[i]);
        m1[i] = x[i][1].wrapping_sub(r1[i]);
    }
    net.exchange("square", Domain::Arithmetic, m0, m1)?;
    for i in 0..n {
        let e = m0[i];
        let z0 = s0[i]
            .wrapping_add(e.wrapping_mul(r0[i]).wrapping_mul(W::from_i64(2)))
            .wrapping_add(e.wrapping_mul(e));
        let z1 = s1[i].wrapping_add(e.wrapping_mul(r1[i]).wrapping_mul(W::from_i64(2)));
        x[i] = [z0, z1];
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    //! Regressions: `bilinear` checks its operands against the product (K6 of the reliability
    //! probe: a `pub` function whose doc only asked the caller to), before anything is drawn.

    use super::{bilinear, collect_output, scratch_words_bilinear, Bilinear};
    use crate::dealer::Dealer;
    use crate::linalg::{Conv2dShape, MatShape};
    use crate::wire::Net;
    use crate::Error;

    #[test]
    fn bilinear_rejects_operands_that_do_not_fit_the_product() {
        let conv = Conv2dShape {
            batch: 1,
            in_ch: 1,
            h: 2,
            w: 2,
            out_ch: 1,
            kh: 1,
            kw: 1,
            stride: 1,
            pad: 0,
        };
        let mat = Bilinear::Matmul(MatShape { m: 2, k: 2, n: 2 });
        let cases: [(Bilinear<'_>, usize, usize, usize); 7] = [
            (mat, 1, 1, 1),
            (mat, 4, 4, 1),
            (Bilinear::Elementwise, 2, 1, 2),
            (Bilinear::Elementwise, 2, 2, 3),
            (Bilinear::Conv2d(&conv), 3, 1, 4),
            (Bilinear::Broadcast { inner: 0 }, 4, 2, 4),
            (Bilinear::Broadcast { inner: 2 }, 6, 2, 6),
        ];
        for (op, na, nb, nc) in cases {
            let (mut net, mut dealer) = (Net::new(), Dealer::new(3));
            let (x, y) = (vec![[1i64, 2]; na], vec![[3i64, 4]; nb]);
            let mut out = vec![[9i64; 2]; nc];
            let mut scratch = vec![0i64; scratch_words_bilinear(na, nb, nc) + 64];
            let got = bilinear(
                &mut net,
                &mut dealer,
                op,
                "t",
                &x,
                &y,
                &mut out,
                &mut scratch,
            );
            assert!(
                matches!(
                    got,
                    Err(Error::ShapeMismatch { .. } | Error::InvalidShape { .. })
                ),
                "{op:?} {na} {nb} {nc}: {got:?}"
            );
            assert_eq!(out, vec![[9i64; 2]; nc], "{op:?}: out written");
            assert_eq!(net.cost().rounds, 0, "{op:?}: a round was counted");
            assert_eq!(
                dealer.ring(),
                Dealer::new(3).ring(),
                "{op:?}: the dealer drew"
            );
        }
        // `collect_output` wants exactly two words per output.
        let mut out = [[0i64; 2]; 2];
        assert!(collect_output(&[1, 2, 3], &mut out).is_err());
        collect_output(&[1, 2, 3, 4], &mut out).unwrap();
        assert_eq!(out, [[1, 3], [2, 4]]);
    }
}
