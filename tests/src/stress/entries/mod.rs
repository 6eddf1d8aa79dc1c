//! The registry of entry points, one module per part of the kernel.

mod approx;
mod arith;
mod base;
mod difftest;
mod leak;
mod models;
mod nn;
mod protocols;
mod training;

use super::{Entry, Gen, Res};
use mpcdiff_kernel::share::Share;
use mpcdiff_kernel::Result;

/// Every entry point, in a fixed order.
pub fn all() -> Vec<Entry> {
    let mut v = Vec::new();
    v.extend(base::entries());
    v.extend(arith::entries());
    v.extend(protocols::entries());
    v.extend(approx::entries());
    v.extend(nn::entries());
    v.extend(difftest::entries());
    v.extend(leak::entries());
    v.extend(training::entries());
    let mut names: Vec<&str> = v.iter().map(|e| e.name).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), v.len(), "two entry points share a name");
    v
}

/// An entry point.
pub(crate) fn e(name: &'static str, run: fn(&mut Gen) -> Res) -> Entry {
    Entry { name, run }
}

/// A kernel result as an entry point's outcome.
pub(crate) fn ok<T>(r: Result<T>) -> Res {
    r.map(|_| ())
}

/// Elements an arithmetic's operands are drawn as.
pub(crate) trait Draw: Copy + Default {
    /// One hostile element.
    fn draw(g: &mut Gen) -> Self;
}

impl Draw for f64 {
    fn draw(g: &mut Gen) -> f64 {
        g.mostly_real()
    }
}

impl Draw for i64 {
    fn draw(g: &mut Gen) -> i64 {
        g.ring()
    }
}

impl Draw for Share {
    fn draw(g: &mut Gen) -> Share {
        [g.ring(), g.ring()]
    }
}

impl Draw for i128 {
    fn draw(g: &mut Gen) -> i128 {
        let hi = i128::from(g.ring());
        if g.bool() {
            hi
        } else {
            hi << 64 | i128::from(g.u64())
        }
    }
}

impl Draw for [i128; 2] {
    fn draw(g: &mut Gen) -> [i128; 2] {
        [i128::draw(g), i128::draw(g)]
    }
}

impl Draw for mpcdiff_kernel::arith::authenticated::Auth {
    fn draw(g: &mut Gen) -> Self {
        mpcdiff_kernel::arith::authenticated::Auth {
            x: <[i128; 2]>::draw(g),
            m: <[i128; 2]>::draw(g),
        }
    }
}

impl Gen {
    /// `n` hostile elements.
    pub(crate) fn elems<E: Draw>(&mut self, n: usize) -> Vec<E> {
        (0..n).map(|_| E::draw(self)).collect()
    }

    /// An operand length for `rows × cols` elements: right, off by one, or anything.
    pub(crate) fn len_of(&mut self, rows: usize, cols: usize) -> usize {
        self.len(rows.saturating_mul(cols))
    }
}
