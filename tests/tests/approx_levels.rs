//! Per-element levels: a mixed run equals uniform runs element by element, and its cost is the
//! deepest level's rounds with the sum of the multiplications.

use mpcdiff_kernel::approx::{self, profile, Function, Level, Levels};
use mpcdiff_kernel::{Arith, Cost, Fixed, FixedPoint, Float, Shared};
use mpcdiff_tests::support;

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
