//! Kernel benchmarks: what the shared arithmetic costs in simulation time next to the
//! plaintext fixed point it is checked against.
//!
//! Each group runs the same operation on the same seeded inputs in [`Fixed`] and in
//! [`Shared`] with each engine (protocol and ideal), or, for truncation, in the two
//! truncation modes, so the figure to read is the ratio of medians within a group. Inputs are prepared outside the timed routine; every
//! iteration starts from a fresh copy of them (`iter_batched_ref`), so values never drift.
//! The shared session is created once per benchmark and keeps drawing from its dealer, as a
//! long run does.
//!
//! Run: `cargo bench -p mpcdiff-tests --bench kernel` (results in BENCHMARKS.md). Budget:
//! 10 samples, 1 s warm-up and 3 s of measurement per benchmark, about a minute in all.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use mpcdiff_kernel::seed::{stream, unit_f64, StreamId};
use mpcdiff_kernel::{Arith, Engine, Fixed, FixedPoint, MatShape, Shared, TruncMode};

const SEED: u64 = 0x6d70_6364_6966_6621;
const N: usize = 4096;
const MATMUL: MatShape = MatShape {
    m: 64,
    k: 400,
    n: 120,
};

/// `n` seeded reals uniform in [-half_width, half_width) (stream `Synthetic`, sub-sequence
/// `offset` draws in).
fn reals(n: usize, half_width: f64, offset: usize) -> Vec<f64> {
    let mut rng = stream(SEED, StreamId::Synthetic);
    for _ in 0..offset {
        unit_f64(&mut rng);
    }
    (0..n)
        .map(|_| (2.0 * unit_f64(&mut rng) - 1.0) * half_width)
        .collect()
}

fn fp() -> FixedPoint {
    FixedPoint::CRYPTEN_DEFAULT
}

fn bench_mul(c: &mut Criterion) {
    let (xs, ys) = (reals(N, 8.0, 0), reals(N, 8.0, N));
    let mut g = c.benchmark_group("mul_4096");

    let mut fixed = Fixed::new(fp());
    let (mut x0, mut y) = (vec![0i64; N], vec![0i64; N]);
    fixed.input(&xs, &mut x0).unwrap();
    fixed.input(&ys, &mut y).unwrap();
    g.bench_function("fixed", |b| {
        b.iter_batched_ref(
            || x0.clone(),
            |x| fixed.mul(black_box(x), &y).unwrap(),
            BatchSize::SmallInput,
        )
    });

    let mut arena = vec![0i64; Shared::scratch_words_elementwise(N)];
    let mut mpc = Shared::new(fp(), SEED, &mut arena);
    let (mut s0, mut t) = (vec![[0i64; 2]; N], vec![[0i64; 2]; N]);
    mpc.input(&xs, &mut s0).unwrap();
    mpc.input(&ys, &mut t).unwrap();
    g.bench_function("shared", |b| {
        b.iter_batched_ref(
            || s0.clone(),
            |x| mpc.mul(black_box(x), &t).unwrap(),
            BatchSize::SmallInput,
        )
    });

    let mut iarena = vec![0i64; Shared::scratch_words_elementwise(N)];
    let mut ideal = Shared::new(fp(), SEED, &mut iarena).with_engine(Engine::Ideal);
    g.bench_function("ideal", |b| {
        b.iter_batched_ref(
            || s0.clone(),
            |x| ideal.mul(black_box(x), &t).unwrap(),
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

fn bench_matmul(c: &mut Criterion) {
    let s = MATMUL;
    let (xs, ws) = (reals(s.m * s.k, 1.0, 0), reals(s.k * s.n, 0.1, s.m * s.k));
    let mut g = c.benchmark_group("matmul_64x400x120");

    let mut fixed = Fixed::new(fp());
    let (mut a, mut w) = (vec![0i64; xs.len()], vec![0i64; ws.len()]);
    fixed.input(&xs, &mut a).unwrap();
    fixed.input(&ws, &mut w).unwrap();
    let mut out = vec![0i64; s.m * s.n];
    g.bench_function("fixed", |b| {
        b.iter(|| fixed.matmul(black_box(&a), &w, &mut out, s).unwrap())
    });

    let mut arena = vec![0i64; Shared::scratch_words_matmul(s)];
    let mut mpc = Shared::new(fp(), SEED, &mut arena);
    let (mut sa, mut sw) = (vec![[0i64; 2]; xs.len()], vec![[0i64; 2]; ws.len()]);
    mpc.input(&xs, &mut sa).unwrap();
    mpc.input(&ws, &mut sw).unwrap();
    let mut sout = vec![[0i64; 2]; s.m * s.n];
    g.bench_function("shared", |b| {
        b.iter(|| mpc.matmul(black_box(&sa), &sw, &mut sout, s).unwrap())
    });

    let mut iarena = vec![0i64; Shared::scratch_words_matmul(s)];
    let mut ideal = Shared::new(fp(), SEED, &mut iarena).with_engine(Engine::Ideal);
    g.bench_function("ideal", |b| {
        b.iter(|| ideal.matmul(black_box(&sa), &sw, &mut sout, s).unwrap())
    });
    g.finish();
}

fn bench_ltz(c: &mut Criterion) {
    let xs = reals(N, 8.0, 0);
    let mut g = c.benchmark_group("ltz_4096");

    let mut fixed = Fixed::new(fp());
    let mut x = vec![0i64; N];
    fixed.input(&xs, &mut x).unwrap();
    let mut out = vec![0i64; N];
    g.bench_function("fixed", |b| {
        b.iter(|| fixed.ltz(black_box(&x), &mut out).unwrap())
    });

    let mut arena = vec![0i64; Shared::scratch_words_elementwise(N)];
    let mut mpc = Shared::new(fp(), SEED, &mut arena);
    let mut sx = vec![[0i64; 2]; N];
    mpc.input(&xs, &mut sx).unwrap();
    let mut sout = vec![[0i64; 2]; N];
    g.bench_function("shared", |b| {
        b.iter(|| mpc.ltz(black_box(&sx), &mut sout).unwrap())
    });

    let mut iarena = vec![0i64; Shared::scratch_words_elementwise(N)];
    let mut ideal = Shared::new(fp(), SEED, &mut iarena).with_engine(Engine::Ideal);
    g.bench_function("ideal", |b| {
        b.iter(|| ideal.ltz(black_box(&sx), &mut sout).unwrap())
    });
    g.finish();
}

fn bench_truncation(c: &mut Criterion) {
    // Products at scale 2^32, as after a multiplication: truncate by 2^16.
    let xs = reals(N, 64.0, 0);
    let d = 1u64 << fp().frac_bits();
    let mut g = c.benchmark_group("trunc_4096");
    for (name, mode) in [("local", TruncMode::Local), ("dealer", TruncMode::Dealer)] {
        let mut arena = vec![0i64; Shared::scratch_words_elementwise(N)];
        let mut mpc = Shared::new(fp(), SEED, &mut arena).with_truncation(mode);
        let mut s0 = vec![[0i64; 2]; N];
        mpc.input(&xs, &mut s0).unwrap();
        mpc.mul_int(&mut s0, fp().scale());
        g.bench_function(name, |b| {
            b.iter_batched_ref(
                || s0.clone(),
                |x| mpc.div_int(black_box(x), d).unwrap(),
                BatchSize::SmallInput,
            )
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = bench_mul, bench_matmul, bench_ltz, bench_truncation
}
criterion_main!(benches);
