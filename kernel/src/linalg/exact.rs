//! Ring products through exact `f64` arithmetic: the same `i64` results as
//! [`matmul_acc`](super::matmul_acc) and [`conv2d_acc`](super::conv2d_acc) on the ring, faster
//! where `i64` products have no vector multiply (the x86-64 baseline, wasm32 without SIMD).
//!
//! # Why the results are the same bits
//! Each output is a sum of `K` products `a·b` of ring words (`K` = the inner dimension, or
//! `in_ch·kh·kw` for a convolution). Let `A` and `B` bound the operands' magnitudes. When
//! `A < 2^53`, `B < 2^53` and `K·A·B < 2^53`:
//! * every operand converts to `f64` exactly (an integer below 2^53);
//! * every product is an integer of magnitude at most `A·B < 2^53`, so IEEE multiplication
//!   (correctly rounded) returns it exactly;
//! * every partial sum, *in whatever order the terms are added*, is an integer of magnitude at
//!   most `K·A·B < 2^53`, so each IEEE addition returns it exactly;
//! * the total converts back to the same `i64`, and since it never left `(−2^53, 2^53)` the
//!   ring's wrapping sum of the same terms is that very integer.
//!
//! No rounding ever happens, so the result does not depend on the summation order, the
//! rounding mode, the vector width or the target (x86-64 SSE2, wasm32, soft-float Cortex-M):
//! the blocked loops below may reorder freely. The bound is checked per call by one scan of
//! the operands ([`max_abs`], [`exact`]); when it fails, or the caller's scratch is too small
//! for the `f64` copies, the caller runs the ring kernel instead (same result, slower).
//!
//! The `f64` values live in the caller's `i64` scratch as their bit patterns
//! (`f64::to_bits`), since the kernel has no allocator and no `unsafe` to reinterpret slices.

use super::{Conv2dShape, MatShape};

/// 2^53: below it every integer is an `f64`.
const EXACT: u64 = 1 << 53;

/// Output rows (or channels) and columns per register block: 4×4 accumulators, 8 SSE2
/// registers.
const R: usize = 4;
const C: usize = 4;
// Columns go in pairs (`conv_block`).
const _: () = assert!(C.is_multiple_of(2));

/// The largest magnitude in `v` (`2^63` for `i64::MIN`).
pub fn max_abs(v: &[i64]) -> u64 {
    v.iter().fold(0u64, |m, &x| m.max(x.unsigned_abs()))
}

/// Whether sums of `terms` products of words bounded by `a` and `b` stay exact in `f64`: `a`,
/// `b` and `terms·a·b` all below 2^53 (module doc).
pub fn exact(terms: usize, a: u64, b: u64) -> bool {
    a < EXACT
        && b < EXACT
        && (terms as u128)
            .checked_mul(u128::from(a))
            .and_then(|p| p.checked_mul(u128::from(b)))
            .is_some_and(|p| p < u128::from(EXACT))
}

#[inline(always)]
fn f(v: i64) -> f64 {
    f64::from_bits(v as u64)
}

/// `dst[i] ← src[i]` as `f64` bits (exact for `|src[i]| < 2^53`).
fn to_f64_bits(src: &[i64], dst: &mut [i64]) {
    for (d, &s) in dst.iter_mut().zip(src) {
        *d = (s as f64).to_bits() as i64;
    }
}

/// Adds an exact `f64` sum to a ring word.
#[inline(always)]
fn add_to(o: &mut i64, v: f64) {
    // `v` is an integer of magnitude below 2^53 (module doc), so the cast is exact.
    *o = o.wrapping_add(v as i64);
}

/// `out += a·b` over the ring, as [`super::matmul_acc`]`::<i64>` (the shape already checked),
/// through exact `f64`. Returns `false`, having written nothing, when the operands fail the
/// bound or `scratch` holds fewer than `a.len() + b.len()` words.
pub fn matmul(a: &[i64], b: &[i64], out: &mut [i64], s: MatShape, scratch: &mut [i64]) -> bool {
    let (na, nb) = (a.len(), b.len());
    if s.check(na, nb, out.len()).is_err()
        || out.is_empty()
        || scratch.len() < na.saturating_add(nb)
    {
        return false;
    }
    if !exact(s.k, max_abs(a), max_abs(b)) {
        return false;
    }
    let (fa, rest) = scratch.split_at_mut(na);
    let fb = &mut rest[..nb];
    to_f64_bits(a, fa);
    to_f64_bits(b, fb);
    let (k, n) = (s.k, s.n);
    let rows = s.m / R * R;
    let cols = n / C * C;
    for i in (0..rows).step_by(R) {
        let ar: [&[i64]; R] = core::array::from_fn(|r| &fa[(i + r) * k..][..k]);
        for j in (0..cols).step_by(C) {
            let mut acc = [[0.0f64; C]; R];
            for p in 0..k {
                let bv = &fb[p * n + j..][..C];
                let bx: [f64; C] = core::array::from_fn(|c| f(bv[c]));
                for r in 0..R {
                    let av = f(ar[r][p]);
                    for c in 0..C {
                        acc[r][c] += av * bx[c];
                    }
                }
            }
            for (r, accr) in acc.iter().enumerate() {
                let o = &mut out[(i + r) * n + j..][..C];
                for (o, &v) in o.iter_mut().zip(accr) {
                    add_to(o, v);
                }
            }
        }
        for j in cols..n {
            for (r, row) in ar.iter().enumerate() {
                let mut acc = 0.0;
                for (p, &av) in row.iter().enumerate() {
                    acc += f(av) * f(fb[p * n + j]);
                }
                add_to(&mut out[(i + r) * n + j], acc);
            }
        }
    }
    for i in rows..s.m {
        let row = &fa[i * k..][..k];
        let o = &mut out[i * n..][..n];
        for (p, &av) in row.iter().enumerate() {
            let av = f(av);
            let brow = &fb[p * n..][..n];
            // Exact partial sums: accumulating in the output's `f64` twin would need scratch;
            // per term into the ring word is exact too (each term is an integer below 2^53).
            for (o, &bv) in o.iter_mut().zip(brow) {
                add_to(o, av * f(bv));
            }
        }
    }
    true
}

/// `out += conv2d(x, w)` over the ring, as [`super::conv2d_acc`]`::<i64>` (the shape already
/// checked), through exact `f64`. Returns `false`, having written nothing, when the operands
/// fail the bound or `scratch` cannot hold the `f64` weights (packed `R` channels at a time)
/// and one zero-padded image.
pub fn conv2d(x: &[i64], w: &[i64], out: &mut [i64], s: &Conv2dShape, scratch: &mut [i64]) -> bool {
    let Ok((oh, ow)) = s.out_hw() else {
        return false;
    };
    if s.check(x.len(), w.len(), out.len()).is_err()
        || out.is_empty()
        || x.is_empty()
        || w.is_empty()
    {
        return false;
    }
    let st = s.stride;
    // Terms per output (`w.len() / out_ch`: fits). The padded image: rows `h + 2·pad`,
    // columns enough for every block of `C` outputs (the last block may run past `ow`: those
    // sums are computed and dropped).
    let q = s.in_ch * s.kh * s.kw;
    let ph = s.h + 2 * s.pad; // fits: `out_hw` checked it.
    let blocks = ow.div_ceil(C);
    let Some(pw) = (blocks * C - 1)
        .checked_mul(st)
        .and_then(|v| v.checked_add(s.kw))
        .map(|v| v.max(s.w + 2 * s.pad))
    else {
        return false;
    };
    let Some(img) = ph.checked_mul(pw).and_then(|v| v.checked_mul(s.in_ch)) else {
        return false;
    };
    // The weights, `R` output channels at a time, term-major: `[block][term][R]`, the last
    // block's missing channels zero.
    let oc_blocks = s.out_ch.div_ceil(R);
    let Some(packed) = oc_blocks.checked_mul(R * q) else {
        return false;
    };
    if scratch.len() < packed.saturating_add(img) {
        return false;
    }
    if !exact(q, max_abs(x), max_abs(w)) {
        return false;
    }
    let (wp, rest) = scratch.split_at_mut(packed);
    let xp = &mut rest[..img];
    let zero = 0.0f64.to_bits() as i64;
    wp.fill(zero);
    for (oc, wrow) in w.chunks_exact(q).enumerate() {
        let block = &mut wp[oc / R * R * q..][..R * q];
        for (t, &v) in wrow.iter().enumerate() {
            block[t * R + oc % R] = (v as f64).to_bits() as i64;
        }
    }
    let plane = s.h * s.w;
    let g = Geom { s, ph, pw, oh, ow };
    for b in 0..s.batch {
        // The image, zero-padded, as `f64` bits.
        xp.fill(zero);
        for ic in 0..s.in_ch {
            let src = &x[(b * s.in_ch + ic) * plane..][..plane];
            for y in 0..s.h {
                let dst = &mut xp[(ic * ph + y + s.pad) * pw + s.pad..][..s.w];
                to_f64_bits(&src[y * s.w..][..s.w], dst);
            }
        }
        let o = &mut out[b * s.out_ch * oh * ow..][..s.out_ch * oh * ow];
        for (ob, wb) in wp.chunks_exact(R * q).enumerate() {
            let rows = R.min(s.out_ch - ob * R);
            if st == 1 {
                conv_block::<true>(&g, xp, wb, o, ob * R, rows);
            } else {
                conv_block::<false>(&g, xp, wb, o, ob * R, rows);
            }
        }
    }
    true
}

struct Geom<'s> {
    s: &'s Conv2dShape,
    ph: usize,
    pw: usize,
    oh: usize,
    ow: usize,
}

/// Output channels `oc..oc + rows` of one image (`wb`: their packed weights), `C` columns at a
/// time, as pairs of columns: `acc[r][h]` holds columns `ox + 2h` and `ox + 2h + 1` of channel
/// `oc + r`, and each term multiplies a pair of adjacent inputs by one weight (SSE2's two lanes
/// on x86-64, the inputs loaded as they lie). `UNIT`: stride 1.
#[inline(always)]
fn conv_block<const UNIT: bool>(
    g: &Geom<'_>,
    xp: &[i64],
    wb: &[i64],
    out: &mut [i64],
    oc: usize,
    rows: usize,
) {
    let s = g.s;
    let st = if UNIT { 1 } else { s.stride };
    let span = (C - 1) * st + 1;
    let kwr = s.kw * R;
    for oy in 0..g.oh {
        for ox in (0..g.ow).step_by(C) {
            let mut acc = [[[0.0f64; 2]; C / 2]; R];
            for ic in 0..s.in_ch {
                for ky in 0..s.kh {
                    let row =
                        &xp[(ic * g.ph + oy * st + ky) * g.pw + ox * st..][..(s.kw - 1) + span];
                    let wrow = &wb[(ic * s.kh + ky) * kwr..][..kwr];
                    if UNIT {
                        // `kw` windows of `C` inputs, one per kernel column.
                        for (xs, wv) in row.windows(C).zip(wrow.chunks_exact(R)) {
                            let xs: [[f64; 2]; C / 2] =
                                core::array::from_fn(|h| [f(xs[2 * h]), f(xs[2 * h + 1])]);
                            mac_pairs(&mut acc, &xs, wv);
                        }
                    } else {
                        for (kx, wv) in wrow.chunks_exact(R).enumerate() {
                            let xs = &row[kx..][..span];
                            let xs: [[f64; 2]; C / 2] = core::array::from_fn(|h| {
                                [f(xs[2 * h * st]), f(xs[(2 * h + 1) * st])]
                            });
                            mac_pairs(&mut acc, &xs, wv);
                        }
                    }
                }
            }
            let cols = C.min(g.ow - ox);
            for (r, accr) in acc.iter().enumerate().take(rows) {
                let o = &mut out[((oc + r) * g.oh + oy) * g.ow + ox..][..cols];
                for (c, o) in o.iter_mut().enumerate() {
                    add_to(o, accr[c / 2][c % 2]);
                }
            }
        }
    }
}

/// `acc[r][h] += xs[h]·wv[r]`, lane by lane.
#[inline(always)]
fn mac_pairs(acc: &mut [[[f64; 2]; C / 2]; R], xs: &[[f64; 2]; C / 2], wv: &[i64]) {
    for (accr, &w) in acc.iter_mut().zip(wv) {
        let w = f(w);
        for (a, x) in accr.iter_mut().zip(xs) {
            a[0] += x[0] * w;
            a[1] += x[1] * w;
        }
    }
}

#[cfg(test)]
mod tests;
