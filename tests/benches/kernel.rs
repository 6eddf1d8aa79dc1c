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
//! The last groups compare two implementations of one ideal-engine step that give the same
//! words: the ring and the exact `f64` linear-algebra kernels, and the sigmoid in one pass per
//! operation or chunked.
//!
//! Run: `cargo bench -p mpcdiff-tests --bench kernel` (results in BENCHMARKS.md). Budget:
//! 10 samples, 1 s warm-up and 3 s of measurement per benchmark, about two minutes in all.

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

/// The ideal engine's linear layers: the ring kernels (`i64` products) next to the exact `f64`
/// kernels it now takes (`linalg::exact`: the same words when the operands allow), on LeNet's
/// second convolution and first linear layer at batch 64, at fixed-point magnitudes.
fn bench_exact_linalg(c: &mut Criterion) {
    use mpcdiff_kernel::linalg::{conv2d_acc, exact, matmul_acc, Conv2dShape};
    let ring = |n: usize, half: f64, off: usize| -> Vec<i64> {
        reals(n, half, off)
            .iter()
            .map(|&v| fp().encode(v).unwrap())
            .collect()
    };
    let conv = Conv2dShape {
        batch: 64,
        in_ch: 6,
        h: 14,
        w: 14,
        out_ch: 16,
        kh: 5,
        kw: 5,
        stride: 1,
        pad: 0,
    };
    let x = ring(conv.input_len().unwrap(), 4.0, 0);
    let w = ring(conv.weight_len().unwrap(), 1.0, 7);
    let mut out = vec![0i64; conv.output_len().unwrap()];
    let mut scratch = vec![0i64; x.len() + w.len()];
    let mut g = c.benchmark_group("conv2d_lenet2_batch64");
    g.bench_function("ring_i64", |b| {
        b.iter(|| conv2d_acc(black_box(&x), &w, &mut out, &conv).unwrap())
    });
    g.bench_function("exact_f64", |b| {
        b.iter(|| {
            assert!(exact::conv2d(
                black_box(&x),
                &w,
                &mut out,
                &conv,
                &mut scratch
            ))
        })
    });
    g.finish();

    let a = ring(MATMUL.m * MATMUL.k, 4.0, 3);
    let bm = ring(MATMUL.k * MATMUL.n, 1.0, 5);
    let mut out = vec![0i64; MATMUL.m * MATMUL.n];
    let mut scratch = vec![0i64; a.len() + bm.len()];
    let mut g = c.benchmark_group("matmul_64x400x120_ring");
    g.bench_function("ring_i64", |b| {
        b.iter(|| matmul_acc(black_box(&a), &bm, &mut out, MATMUL).unwrap())
    });
    g.bench_function("exact_f64", |b| {
        b.iter(|| {
            assert!(exact::matmul(
                black_box(&a),
                &bm,
                &mut out,
                MATMUL,
                &mut scratch
            ))
        })
    });
    g.finish();
}

/// The ideal engine's sigmoid (`crypten` profile, 8 squarings / 3 Newton steps) on LeNet's
/// first activation at batch 64: one pass per operation over the whole tensor (a cyclic plan
/// of the one level, which is not chunked) next to the chunked pipeline
/// (`Arith::elementwise_chunks`, uniform level) — the same words.
fn bench_sigmoid_chunks(c: &mut Criterion) {
    use mpcdiff_kernel::approx::levels::{Level, Levels};
    use mpcdiff_kernel::approx::profile::SigmoidMethod;
    use mpcdiff_kernel::approx::sigmoid;
    let n = 64 * 6 * 28 * 28;
    let xs = reals(n, 6.0, 11);
    let mut arena = vec![0i64; Shared::scratch_words_elementwise(n)];
    let mut sh = Shared::new(fp(), SEED, &mut arena).with_engine(Engine::Ideal);
    let mut x0 = vec![[0i64; 2]; n];
    sh.input(&xs, &mut x0).unwrap();
    let mut scratch = vec![[0i64; 2]; sigmoid::scratch_elems(n)];
    let level = Level::new(8, 3);
    let one = [level];
    let method = SigmoidMethod::Reciprocal {
        nr_init: 0.75,
        crypten_where: true,
    };
    let mut g = c.benchmark_group("sigmoid_ideal_301056");
    for (name, levels) in [
        ("single_pass", Levels::Cyclic(&one)),
        ("chunked", Levels::Uniform(level)),
    ] {
        g.bench_function(name, |b| {
            b.iter_batched_ref(
                || x0.clone(),
                |x| sigmoid::sigmoid(&mut sh, black_box(x), method, &levels, &mut scratch).unwrap(),
                BatchSize::LargeInput,
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
    targets = bench_mul, bench_matmul, bench_ltz, bench_truncation, bench_exact_linalg, bench_sigmoid_chunks
}
criterion_main!(benches);
