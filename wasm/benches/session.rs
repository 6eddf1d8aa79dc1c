//! The web demo's prediction, natively: `Session::predict` (plaintext and MPC LeNet with
//! neuron taps, the weights shared afresh in each call's MPC session), the same function the
//! browser runs compiled to wasm32. `web/bench.mjs` times it in headless Chromium; the two
//! medians together are the browser-vs-native row of BENCHMARKS.md.
//!
//! Also the page's deviation search (`Search::step`, 10 mutants a step: each one
//! plaintext and one MPC inference plus the mutation), in mutants/s.
//!
//! Run: `cargo bench -p mpcdiff-wasm --bench session`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use mpcdiff_host::search::{Options, Search};
use mpcdiff_host::session::{synthetic_digit, Session, Settings};

fn bench_predict(c: &mut Criterion) {
    // Synthetic digits 0..16 of seed 7, as web/bench.mjs uses.
    let digits: Vec<Vec<f32>> = (0..16).map(|i| synthetic_digit(7, i).unwrap().1).collect();
    let mut g = c.benchmark_group("session");
    g.throughput(Throughput::Elements(1));
    for model in ["lenet", "lenet-relu"] {
        let mut s = Session::new(model, Settings::default()).unwrap();
        let mut i = 0;
        g.bench_function(format!("predict/{model}"), |b| {
            b.iter(|| {
                i = (i + 1) % digits.len();
                black_box(s.predict(black_box(&digits[i])).unwrap())
            })
        });
    }
    g.finish();
}

fn bench_search(c: &mut Criterion) {
    // The page's deviation search from synthetic digit 0 of seed 1 (no deviation within
    // reach: every step spends its mutants), 10 mutants per step, as the worker runs it;
    // web/bench.mjs times the same search in Chromium.
    let (_, px) = synthetic_digit(1, 0).unwrap();
    let mut g = c.benchmark_group("session");
    g.throughput(Throughput::Elements(10));
    let mut s = Session::new("lenet", Settings::default()).unwrap();
    let o = Options {
        mutations: 1_000_000,
        ..Options::default()
    };
    let mut search = Search::start(&mut s, &px, o).unwrap();
    g.bench_function("search/lenet/10-mutants", |b| {
        b.iter(|| black_box(search.step(&mut s, 10).unwrap()))
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(4));
    targets = bench_predict, bench_search
}
criterion_main!(benches);
