//! The web demo's prediction, natively: `Session::predict` (plaintext and MPC LeNet with
//! neuron taps, the weights shared afresh in each call's MPC session), the same function the
//! browser runs compiled to wasm32. `web/bench.mjs` times it in headless Chromium; the two
//! medians together are the browser-vs-native row of BENCHMARKS.md.
//!
//! Run: `cargo bench -p mpcdiff-wasm --bench session`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use mpcdiff_wasm::session::{synthetic_digit, Session, Settings};

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

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(4));
    targets = bench_predict
}
criterion_main!(benches);
