//! The view recorder keeps exactly the words a party receives (and, asked, sends), for the
//! two computing parties and the helper alike.

use super::ViewRecorder;
use crate::wire::{Domain, Net, HELPER};

#[test]
fn the_recorder_keeps_each_partys_view() {
    for party in [0usize, 1, HELPER] {
        for sent in [false, true] {
            let mut words = [0i64; 16];
            let mut rec = ViewRecorder::new(party, &mut words);
            if sent {
                rec = rec.with_sent();
            }
            let mut net = Net::with_wire(&mut rec);
            net.exchange("t", Domain::Arithmetic, &mut [1i64, 2], &mut [3, 4])
                .unwrap();
            net.to_helper("h", Domain::Arithmetic, &mut [5], &mut [6])
                .unwrap();
            net.from_helper("h", Domain::Arithmetic, &mut [7], &mut [8])
                .unwrap();
            assert_eq!(net.cost().rounds, 3);
            assert_eq!(net.cost().bytes_sent, [24, 24]);
            assert_eq!(net.cost().helper_bytes, 16);
            let want: &[i64] = match (party, sent) {
                (0, false) => &[3, 4, 7],
                (1, false) => &[1, 2, 8],
                (0, true) => &[1, 2, 3, 4, 5, 7],
                (1, true) => &[1, 2, 3, 4, 6, 8],
                (_, false) => &[5, 6],
                (_, true) => &[5, 6, 7, 8],
            };
            assert_eq!(rec.view(), want, "party {party} sent {sent}");
        }
    }
    // Openings: the opened value in place of the received words.
    for party in [0usize, 1, HELPER] {
        let mut words = [0i64; 16];
        let mut rec = ViewRecorder::new(party, &mut words)
            .with_sent()
            .with_openings();
        let mut net = Net::with_wire(&mut rec);
        net.exchange("t", Domain::Arithmetic, &mut [1i64, 2], &mut [3, 4])
            .unwrap();
        net.exchange("b", Domain::Binary, &mut [6i64], &mut [3])
            .unwrap();
        net.to_helper("h", Domain::Arithmetic, &mut [5], &mut [6])
            .unwrap();
        net.from_helper("h", Domain::Arithmetic, &mut [7], &mut [8])
            .unwrap();
        let want: &[i64] = match party {
            0 => &[1, 2, 4, 6, 6, 5, 5, 7],
            1 => &[4, 6, 3, 4, 5, 3, 6, 8],
            _ => &[11, 7, 8],
        };
        assert_eq!(rec.view(), want, "party {party} with openings");
    }
    // A full buffer keeps the first words and counts the rest.
    let mut words = [0i64; 3];
    let mut rec = ViewRecorder::new(0, &mut words);
    rec.push(&[1, 2]);
    rec.push(&[3, 4, 5]);
    assert_eq!((rec.view(), rec.dropped()), (&[1i64, 2, 3][..], 2));
    rec.clear();
    assert!(rec.is_empty());
}

/// A whole model with a helper: the committed ReLU LeNet (`cli/models/`) deployed as CrypTen
/// deploys it, with every ReLU and max-pooling comparison through the helper. The label is the
/// A2B session's, and the helper's first message pair is the first layer's pre-activations:
/// their signs are those of the attack's folded first block (`leak::attack::FirstLayer`), up
/// to values within a few fixed-point units of 0.
#[test]
fn a_whole_relu_lenet_runs_with_the_helper_and_shows_it_the_first_layer() {
    use crate::approx::profile;
    use crate::leak::attack::{self, FirstLayer};
    use crate::nn::deploy::Deployment;
    use crate::nn::forward::{self, Config, DefaultPlan};
    use crate::nn::model::Model;
    use crate::protocols::drelu::Comparison;
    use crate::{Arith, FixedPoint, Shared};

    let bytes = include_bytes!("../../../cli/models/lenet-relu.safetensors");
    let m = Model::parse(bytes).unwrap();
    let mut img = [0.0f32; crate::digits::PIXELS];
    crate::digits::synthetic::sample(2024, 5, &mut img).unwrap();
    let raw: Vec<f64> = img.iter().map(|&p| f64::from(p)).collect();
    let x: Vec<f64> = img
        .iter()
        .map(|&u| f64::from((u - 0.1307f32) / 0.3081f32))
        .collect();
    let fp = FixedPoint::new(16).unwrap();
    let cfg = Config {
        profile: &profile::CRYPTEN,
        deploy: Deployment::Crypten,
    };
    let n = 6 * 28 * 28;
    let mut labels = Vec::new();
    let mut first_signs = Vec::new();
    for c in Comparison::ALL {
        let mut words = vec![0i64; 1 << 22];
        let mut rec = ViewRecorder::new(HELPER, &mut words);
        let mut ar = vec![0i64; forward::shared_arena_words(&m, 1)];
        let mut mpc = Shared::new(fp, 3, &mut ar)
            .with_wire(&mut rec)
            .with_comparison(c);
        let (_, total) = m.slots(cfg.deploy).unwrap();
        let mut params = vec![[0i64; 2]; total];
        m.load(&mut mpc, cfg.deploy, &mut params).unwrap();
        let mut arena = vec![[0i64; 2]; forward::arena_elems(&m, 1)];
        forward::prepare(&mut mpc, &m, &mut params, &cfg, &DefaultPlan, &mut arena).unwrap();
        let mut xi = vec![[0i64; 2]; x.len()];
        mpc.input(&x, &mut xi).unwrap();
        let mut out = vec![[0i64; 2]; 10];
        forward::forward(
            &mut mpc,
            &m,
            &params,
            &cfg,
            &DefaultPlan,
            None,
            &xi,
            1,
            &mut out,
            &mut arena,
        )
        .unwrap();
        let mut logits = [0.0; 10];
        mpc.reveal(&out, &mut logits).unwrap();
        labels.push(crate::difftest::fitness::argmax(&logits));
        assert_eq!(rec.dropped(), 0);
        if c == Comparison::Leaky {
            let mut signs = vec![0u8; n];
            assert!(attack::helper_signs(c, rec.view(), n, &mut signs).unwrap());
            first_signs = signs;
        }
        if c == Comparison::A2b {
            assert!(rec.is_empty(), "the helper took part in A2B");
        }
    }
    assert!(labels.iter().all(|&l| l == labels[0]), "labels {labels:?}");
    let layer = FirstLayer::from_model(&m, 0.1307, 0.3081).unwrap();
    let mut pre = vec![0.0; n];
    layer.forward(&raw, &mut pre).unwrap();
    let (mut agree, mut total) = (0, 0);
    for (&s, &p) in first_signs.iter().zip(&pre) {
        if p.abs() > 1e-3 {
            total += 1;
            agree += usize::from((s == 1) == (p >= 0.0));
        }
    }
    assert!(total > n / 2 && agree == total, "{agree} of {total}");
}
