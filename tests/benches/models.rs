//! Model benchmarks: MPC inference throughput of LeNet next to its plaintext forward pass.
//!
//! For `lenet` and `lenet-relu` (the committed trained models) at batch 1 and 64: the
//! plaintext model (Float, exact activations, folded batch norm) and the MPC model (Shared,
//! `crypten` profile, deployed as `crypten.nn.from_pytorch` deploys it, local truncation). Inputs are
//! synthetic digits (no data folder needed). Read inferences/s = batch / median time, and the
//! MPC/plaintext ratio within a row.
//!
//! Run: `cargo bench -p mpcdiff-tests --bench models` (results in BENCHMARKS.md).

use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use mpcdiff_kernel::approx::profile;
use mpcdiff_kernel::digits::synthetic;
use mpcdiff_kernel::nn::deploy::Deployment;
use mpcdiff_kernel::nn::forward::{self, Config, DefaultPlan, ExactPlan};
use mpcdiff_kernel::nn::model::Model;
use mpcdiff_kernel::{Arith, Engine, FixedPoint, Float, Shared};

fn inputs(batch: usize) -> Vec<f64> {
    let mut x = Vec::with_capacity(batch * 784);
    let mut img = [0.0f32; 784];
    for i in 0..batch {
        synthetic::sample(7, i as u64, &mut img).unwrap();
        x.extend(img.iter().map(|&p| (f64::from(p) - 0.1307) / 0.3081));
    }
    x
}

fn bench_models(c: &mut Criterion) {
    for name in ["lenet", "lenet-relu"] {
        let bytes = std::fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../cli/models/{name}.safetensors")),
        )
        .unwrap();
        let m = Model::parse(&bytes).unwrap();
        let mut g = c.benchmark_group(name);
        for batch in [1usize, 64] {
            g.throughput(Throughput::Elements(batch as u64));
            let x = inputs(batch);

            let mut fl = Float::default();
            let (_, total) = m.slots(Deployment::Folded).unwrap();
            let mut params = vec![0.0; total];
            m.load(&mut fl, Deployment::Folded, &mut params).unwrap();
            let mut xin = vec![0.0; x.len()];
            fl.input(&x, &mut xin).unwrap();
            let mut out = vec![0.0; batch * 10];
            let mut arena = vec![0.0; forward::arena_elems(&m, batch)];
            let cfg = Config {
                profile: &profile::CRYPTEN,
                deploy: Deployment::Folded,
            };
            g.bench_function(format!("plaintext/batch{batch}"), |b| {
                b.iter(|| {
                    forward::forward(
                        &mut fl,
                        &m,
                        &params,
                        &cfg,
                        &ExactPlan,
                        None,
                        black_box(&xin),
                        batch,
                        &mut out,
                        &mut arena,
                    )
                    .unwrap()
                })
            });

            let mut words = vec![0i64; forward::shared_arena_words(&m, batch)];
            let mut sh = Shared::new(FixedPoint::CRYPTEN_DEFAULT, 1, &mut words);
            let (_, total) = m.slots(Deployment::Crypten).unwrap();
            let mut sparams = vec![[0i64; 2]; total];
            m.load(&mut sh, Deployment::Crypten, &mut sparams).unwrap();
            let mut sx = vec![[0i64; 2]; x.len()];
            sh.input(&x, &mut sx).unwrap();
            let mut sout = vec![[0i64; 2]; batch * 10];
            let mut sarena = vec![[0i64; 2]; forward::arena_elems(&m, batch)];
            let scfg = Config {
                profile: &profile::CRYPTEN,
                deploy: Deployment::Crypten,
            };
            g.bench_function(format!("mpc/batch{batch}"), |b| {
                b.iter(|| {
                    forward::forward(
                        &mut sh,
                        &m,
                        &sparams,
                        &scfg,
                        &DefaultPlan,
                        None,
                        black_box(&sx),
                        batch,
                        &mut sout,
                        &mut sarena,
                    )
                    .unwrap()
                })
            });

            let mut iwords = vec![0i64; forward::shared_arena_words(&m, batch)];
            let mut id =
                Shared::new(FixedPoint::CRYPTEN_DEFAULT, 1, &mut iwords).with_engine(Engine::Ideal);
            let mut iparams = vec![[0i64; 2]; total];
            m.load(&mut id, Deployment::Crypten, &mut iparams).unwrap();
            let mut ix = vec![[0i64; 2]; x.len()];
            id.input(&x, &mut ix).unwrap();
            g.bench_function(format!("mpc-ideal/batch{batch}"), |b| {
                b.iter(|| {
                    forward::forward(
                        &mut id,
                        &m,
                        &iparams,
                        &scfg,
                        &DefaultPlan,
                        None,
                        black_box(&ix),
                        batch,
                        &mut sout,
                        &mut sarena,
                    )
                    .unwrap()
                })
            });
        }
        g.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(4));
    targets = bench_models
}
criterion_main!(benches);
