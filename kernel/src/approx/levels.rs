//! Per-element approximation levels, run side by side.
//!
//! A *level* is how hard an iterative approximation works on one element: the number of
//! limit-exp squarings and of Newton–Raphson steps. MPCDiff's repair gives each neuron its own
//! level. Here the elements of all levels run in the **same** rounds: iteration `j` is one
//! vectorised operation on the elements whose level asks for more than `j` iterations (gathered
//! into the scratch, computed, scattered back). So a mixed run costs
//! `rounds = the deepest level's`, `multiplications = the sum over elements`, where the MPCDiff
//! artifact evaluated its three groups one after another (about 3× the rounds).
//!
//! Because every element goes through exactly the operations of its level, in the same order,
//! a mixed run gives each element the same value as a uniform run at that element's level in
//! [`Float`](crate::Float) and [`Fixed`](crate::Fixed), bit for bit (the shared arithmetic
//! differs only by its share randomness).

use crate::arith::Arith;
use crate::error::{check_len, Error, Result};

/// One element's approximation level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Level {
    /// Squarings of the limit exponential `(1 + x/2^n)^(2^n)`.
    pub iters_exp: u8,
    /// Newton–Raphson iterations (reciprocal or inverse square root).
    pub iters_nr: u8,
}

impl Level {
    /// A level with `iters_exp` squarings and `iters_nr` Newton steps.
    pub const fn new(iters_exp: u8, iters_nr: u8) -> Self {
        Level {
            iters_exp,
            iters_nr,
        }
    }
}

/// The levels of a call: one for all elements, or one per element.
#[derive(Clone, Copy, Debug)]
pub enum Levels<'l> {
    /// Every element at this level.
    Uniform(Level),
    /// Element `i` at `levels[i]` (length must equal the input's).
    PerElement(&'l [Level]),
    /// Element `i` at `levels[i % levels.len()]`: one plan per sample, repeated over a batch
    /// (the input's length must be a multiple of the plan's).
    Cyclic(&'l [Level]),
}

/// The largest supported number of exp squarings (2^n must stay far below the ring).
pub const ITERS_EXP_MAX: u8 = 40;

impl Levels<'_> {
    /// Checks lengths and ranges against an input of `n` elements.
    pub fn check(&self, n: usize) -> Result<()> {
        let ok = |l: &Level| l.iters_exp <= ITERS_EXP_MAX;
        let all = match self {
            Levels::Uniform(l) => ok(l),
            Levels::PerElement(ls) => {
                check_len(n, ls.len())?;
                ls.iter().all(ok)
            }
            Levels::Cyclic(ls) => {
                if ls.is_empty() || !n.is_multiple_of(ls.len()) {
                    return Err(Error::ShapeMismatch {
                        expected: ls.len(),
                        got: n,
                    });
                }
                ls.iter().all(ok)
            }
        };
        if all {
            Ok(())
        } else {
            Err(Error::OutOfRange {
                what: "iters_exp above 40",
            })
        }
    }

    /// Element `i`'s level.
    #[inline]
    pub fn at(&self, i: usize) -> Level {
        match self {
            Levels::Uniform(l) => *l,
            Levels::PerElement(ls) => ls[i],
            Levels::Cyclic(ls) => ls[i % ls.len()],
        }
    }

    /// The deepest exp and Newton counts.
    pub fn max(&self) -> Level {
        match self {
            Levels::Uniform(l) => *l,
            Levels::PerElement(ls) | Levels::Cyclic(ls) => {
                ls.iter().fold(Level::new(0, 0), |m, l| {
                    Level::new(m.iters_exp.max(l.iters_exp), m.iters_nr.max(l.iters_nr))
                })
            }
        }
    }
}

/// Which count of a [`Level`] a masked step reads.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Count {
    Exp,
    Nr,
}

impl Count {
    #[inline]
    pub(crate) fn of(self, l: Level) -> u8 {
        match self {
            Count::Exp => l.iters_exp,
            Count::Nr => l.iters_nr,
        }
    }
}

/// Runs `step` on the elements `i` with `count(levels[i]) > j`. With `x` and `aux` (same length
/// as `x`, or empty) gathered into the scratch when only some elements are active, and computed
/// in place when all are. `aux` is read-only context (e.g. the input `d` of a Newton step).
#[allow(clippy::too_many_arguments)]
pub(crate) fn masked_step<A: Arith>(
    a: &mut A,
    levels: &Levels<'_>,
    count: Count,
    j: u8,
    x: &mut [A::Elem],
    aux: &[A::Elem],
    scratch: &mut [A::Elem],
    mut step: impl FnMut(&mut A, &mut [A::Elem], &[A::Elem], &mut [A::Elem]) -> Result<()>,
) -> Result<()> {
    let n = x.len();
    let active = |i: usize| count.of(levels.at(i)) > j;
    let k = match levels {
        Levels::Uniform(l) => {
            if count.of(*l) > j {
                n
            } else {
                0
            }
        }
        Levels::PerElement(_) | Levels::Cyclic(_) => (0..n).filter(|&i| active(i)).count(),
    };
    if k == 0 {
        return Ok(());
    }
    if k == n {
        return step(a, x, aux, scratch);
    }
    let has_aux = !aux.is_empty();
    let need = if has_aux { 2 * k } else { k };
    if scratch.len() < need {
        return Err(Error::BufferTooSmall {
            needed: need,
            got: scratch.len(),
        });
    }
    let (gx, rest) = scratch.split_at_mut(k);
    let (gaux, rest) = rest.split_at_mut(if has_aux { k } else { 0 });
    let mut q = 0;
    for i in 0..n {
        if active(i) {
            gx[q] = x[i];
            if has_aux {
                gaux[q] = aux[i];
            }
            q += 1;
        }
    }
    step(a, gx, gaux, rest)?;
    let mut q = 0;
    for (i, xi) in x.iter_mut().enumerate() {
        if active(i) {
            *xi = gx[q];
            q += 1;
        }
    }
    Ok(())
}

/// Splits `n` elements off the front of `scratch`, or says how much is missing.
pub(crate) fn take<'s, E>(scratch: &mut &'s mut [E], n: usize) -> Result<&'s mut [E]> {
    if scratch.len() < n {
        return Err(Error::BufferTooSmall {
            needed: n,
            got: scratch.len(),
        });
    }
    let s = core::mem::take(scratch);
    let (head, tail) = s.split_at_mut(n);
    *scratch = tail;
    Ok(head)
}
