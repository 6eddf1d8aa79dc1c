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
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] for a per-element plan not `n` long or a cyclic plan that is
    /// empty or does not divide `n`; [`Error::OutOfRange`] for more than [`ITERS_EXP_MAX`]
    /// squarings.
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

    /// Element `i`'s level. Past the end of a per-element plan, or in an empty cyclic one
    /// (which [`Levels::check`] rejects), level 0/0.
    #[inline]
    pub fn at(&self, i: usize) -> Level {
        let none = Level::new(0, 0);
        match self {
            Levels::Uniform(l) => *l,
            Levels::PerElement(ls) => ls.get(i).copied().unwrap_or(none),
            Levels::Cyclic(ls) => i
                .checked_rem(ls.len())
                .and_then(|j| ls.get(j))
                .copied()
                .unwrap_or(none),
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

#[cfg(test)]
mod tests {
    //! Per-element levels: a mixed run equals uniform runs element by element, and its cost is the
    //! deepest level's rounds with the sum of the multiplications.

    use crate::approx::{self, profile, Function, Level, Levels};
    use crate::testing as support;
    use crate::{Arith, Cost, Fixed, FixedPoint, Float, Shared};

    const LEVELS: [Level; 3] = [Level::new(9, 9), Level::new(6, 6), Level::new(3, 3)];

    fn inputs(seed: u64, n: usize) -> Vec<f64> {
        let mut rng = support::rng(seed);
        (0..n)
            .map(|_| support::int_in(&mut rng, -12_000, 12_000) as f64 / 1000.0)
            .collect()
    }

    fn per_element(n: usize, seed: u64) -> Vec<Level> {
        let mut rng = support::rng(seed ^ 0x5eed);
        (0..n)
            .map(|_| LEVELS[support::usize_in(&mut rng, 0, 2)])
            .collect()
    }

    fn run<A: Arith>(a: &mut A, f: Function, x: &[f64], levels: &Levels<'_>) -> Vec<A::Elem> {
        let mut v = vec![A::Elem::default(); x.len()];
        a.input(x, &mut v).unwrap();
        let mut s = vec![A::Elem::default(); approx::scratch_elems(x.len())];
        approx::eval(a, f, &profile::MPCDIFF, &mut v, levels, &mut s).unwrap();
        v
    }

    /// `Levels::at` is public: past the end of a per-element plan, or in an empty cyclic one,
    /// it used to index out of bounds (or divide by zero).
    #[test]
    fn levels_at_past_the_plan_is_level_zero() {
        let plan = [Level::new(1, 2), Level::new(3, 4)];
        assert_eq!(Levels::PerElement(&plan).at(1), Level::new(3, 4));
        assert_eq!(Levels::PerElement(&plan).at(2), Level::new(0, 0));
        assert_eq!(Levels::Cyclic(&plan).at(usize::MAX), Level::new(3, 4));
        assert_eq!(Levels::Cyclic(&[]).at(0), Level::new(0, 0));
        assert!(Levels::Cyclic(&[]).check(0).is_err());
    }

    /// `reciprocal_pos` is public and did not check its levels (the callers in the kernel
    /// did): a short per-element plan read past its end.
    #[test]
    fn reciprocal_pos_checks_its_levels() {
        use crate::approx::profile::RecipInit;
        use crate::approx::reciprocal::{reciprocal_pos, scratch_elems_pos};
        let mut a = Float::new(FixedPoint::new(16).unwrap());
        let d = [2.0, 4.0, 8.0];
        let mut y = [0.0; 3];
        let mut s = vec![0.0; scratch_elems_pos(3)];
        let short = [Level::new(0, 3)];
        for levels in [Levels::PerElement(&short), Levels::Cyclic(&[])] {
            for init in [RecipInit::Const(0.5), RecipInit::Crypten { iters_exp: 8 }] {
                assert!(matches!(
                    reciprocal_pos(&mut a, &d, &mut y, init, &levels, &mut s),
                    Err(crate::Error::ShapeMismatch { .. })
                ));
                assert_eq!(y, [0.0; 3]);
            }
        }
        let levels = Levels::Cyclic(&short);
        reciprocal_pos(
            &mut a,
            &d,
            &mut y,
            RecipInit::Crypten { iters_exp: 8 },
            &levels,
            &mut s,
        )
        .unwrap();
        assert!((y[0] - 0.5).abs() < 0.2, "{y:?}");
    }

    #[test]
    fn mixed_levels_equal_uniform_runs_per_element_in_fixed_and_float() {
        for f in [
            Function::Sigmoid,
            Function::Tanh,
            Function::GeluTanh,
            Function::Exp,
            Function::InvSqrt,
            Function::ReciprocalPos,
        ] {
            for seed in [3u64, 4] {
                let n = 157;
                let x: Vec<f64> = inputs(seed, n)
                    .iter()
                    .map(|v| {
                        if matches!(f, Function::InvSqrt | Function::ReciprocalPos) {
                            v.abs() / 1.3 + 0.2
                        } else {
                            *v
                        }
                    })
                    .collect();
                let plan = per_element(n, seed);
                let fp = FixedPoint::new(16).unwrap();
                let mixed_fixed = run(&mut Fixed::new(fp), f, &x, &Levels::PerElement(&plan));
                let mixed_float = run(&mut Float::new(fp), f, &x, &Levels::PerElement(&plan));
                for level in LEVELS {
                    let uni_fixed = run(&mut Fixed::new(fp), f, &x, &Levels::Uniform(level));
                    let uni_float = run(&mut Float::new(fp), f, &x, &Levels::Uniform(level));
                    for i in (0..n).filter(|&i| plan[i] == level) {
                        assert_eq!(
                            mixed_fixed[i],
                            uni_fixed[i],
                            "{} fixed, seed {seed}, element {i} at {level:?}",
                            f.name()
                        );
                        assert_eq!(
                            mixed_float[i].to_bits(),
                            uni_float[i].to_bits(),
                            "{} float, seed {seed}, element {i} at {level:?}",
                            f.name()
                        );
                    }
                }
            }
        }
    }

    fn shared_cost(f: Function, x: &[f64], levels: &Levels<'_>) -> Cost {
        let mut arena = vec![0i64; Shared::scratch_words_elementwise(8 * x.len())];
        let mut a = Shared::new(FixedPoint::new(16).unwrap(), 9, &mut arena);
        run(&mut a, f, x, levels);
        a.cost()
    }

    #[test]
    fn mixed_levels_cost_the_deepest_rounds_and_the_summed_multiplications() {
        let n = 90;
        let x = inputs(11, n);
        // A third of the elements at each level, interleaved.
        let plan: Vec<Level> = (0..n).map(|i| LEVELS[i % 3]).collect();
        let mixed = shared_cost(Function::Sigmoid, &x, &Levels::PerElement(&plan));
        let deepest = shared_cost(Function::Sigmoid, &x, &Levels::Uniform(LEVELS[0]));
        assert_eq!(
            mixed.rounds, deepest.rounds,
            "rounds must be the deepest level's"
        );
        // Sigmoid at (E, R): E square pairs and 2(R−1) products per element, plus |x| (n products)
        // and CrypTen's `where` (2n products) shared by all.
        let sq: u64 = plan
            .iter()
            .map(|l| u64::from(l.iters_exp) + (u64::from(l.iters_nr) - 1))
            .sum();
        let mul: u64 = plan.iter().map(|l| u64::from(l.iters_nr) - 1).sum::<u64>() + 3 * n as u64;
        assert_eq!(mixed.square_pairs, sq);
        assert_eq!(mixed.mul_triples, mul);
        // The sequential alternative (the MPCDiff artifact's) would pay the sum of the three depths.
        let sum_rounds: u64 = LEVELS
            .iter()
            .map(|&l| shared_cost(Function::Sigmoid, &x[..3], &Levels::Uniform(l)).rounds)
            .sum();
        assert!(mixed.rounds < sum_rounds);
    }

    #[test]
    fn shared_mixed_levels_stay_close_to_fixed_per_element() {
        let n = 120;
        let x = inputs(21, n);
        let plan = per_element(n, 21);
        let fp = FixedPoint::new(16).unwrap();
        let fixed = run(
            &mut Fixed::new(fp),
            Function::Sigmoid,
            &x,
            &Levels::PerElement(&plan),
        );
        let mut arena = vec![0i64; Shared::scratch_words_elementwise(8 * n)];
        let shared = run(
            &mut Shared::new(fp, 5, &mut arena),
            Function::Sigmoid,
            &x,
            &Levels::PerElement(&plan),
        );
        for i in 0..n {
            let d = shared[i][0]
                .wrapping_add(shared[i][1])
                .wrapping_sub(fixed[i])
                .unsigned_abs();
            assert!(
                d <= 300,
                "element {i} at {:?}: shared − fixed = {d} ring units",
                plan[i]
            );
        }
    }
}
