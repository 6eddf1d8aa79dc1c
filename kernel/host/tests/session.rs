//! The page's session natively (`mpcdiff-host`, which the wasm adapter exports): every number
//! the page shows comes from the kernel unchanged, is reproducible from the settings and the
//! seed, and means what its name says.

use mpcdiff_host::models::{load, load_tabular, TABULAR};
use mpcdiff_host::repair::{replay, Investigation};
use mpcdiff_host::search::{fitness_arg, mutator_arg, Found, Options, Progress, Search};
use mpcdiff_host::session::*;
use mpcdiff_host::Failure;
use mpcdiff_kernel::approx::profile;
use mpcdiff_kernel::approx::{Function, Level};
use mpcdiff_kernel::difftest::campaign::Status;
use mpcdiff_kernel::difftest::oracle::Stage;

// ---- models ----

// Goal: both embedded image models load, anything else is refused by name (the tabular
// models only as tabular ones), and the normalisation is MNIST's in f32.

#[test]
fn embedded_models_take_mnist_images() {
    for name in ["lenet", "lenet-relu"] {
        let m = load(name).expect("embedded model loads");
        assert_eq!(m.input.len(), 784);
        assert_eq!(m.classes, 10);
    }
    for bad in ["credit-mlp", "bank-mlp", "LeNet", ""] {
        assert!(
            matches!(load(bad), Err(Failure::Argument { name: "model", .. })),
            "{bad}"
        );
    }
    for t in &TABULAR {
        let m = load_tabular(t.model).expect("embedded tabular model loads");
        assert_eq!(m.input.len(), t.features.len(), "{}", t.model);
        assert_eq!(m.classes, 2);
    }
    for bad in ["lenet", "lenet-relu", "credit", ""] {
        assert!(
            matches!(
                load_tabular(bad),
                Err(Failure::Argument { name: "model", .. })
            ),
            "{bad}"
        );
    }
}

#[test]
fn normalisation_is_computed_in_f32() {
    // 0 and 1 map to the ends of MNIST's input range, [−0.4242, 2.8215].
    let normalize = |u: f32| f64::from(mpcdiff_kernel::digits::normalize(u));
    assert!((normalize(0.0) - -0.424_213).abs() < 1e-5);
    assert!((normalize(1.0) - 2.821_487).abs() < 1e-5);
    // f32 rounding, not f64: the value is exactly representable as f32.
    let v = normalize(0.5);
    assert_eq!(v, f64::from(v as f32));
}

// ---- session ----

// Goal: every number the page shows comes from the kernel unchanged, is reproducible from
// the settings and the seed, and means what its name says. References are independent
// recomputations (the last linear layer applied to the tapped activations, the
// truncation bound of the encoding) or the synthetic digits' own labels.

fn digit(index: u64) -> (u8, Vec<f32>) {
    synthetic_digit(7, index).expect("digit draws")
}

fn session(model: &str) -> Session {
    Session::new(model, Settings::default()).expect("embedded model")
}

#[test]
fn both_models_classify_synthetic_digits() {
    for model in ["lenet", "lenet-relu"] {
        let mut s = session(model);
        let (mut plain_ok, mut agree) = (0, 0);
        for i in 0..20 {
            let (label, px) = digit(i);
            let p = s.predict(&px).expect("predict");
            plain_ok += usize::from(p.plaintext.label == usize::from(label));
            agree += usize::from(p.plaintext.label == p.mpc.label);
            assert!(
                p.deviation_max < 0.5,
                "{model} digit {i}: MPC logits {:?} far from plaintext {:?}",
                p.mpc.logits,
                p.plaintext.logits
            );
        }
        assert!(
            plain_ok >= 17,
            "{model}: only {plain_ok}/20 synthetic digits right"
        );
        assert!(agree >= 19, "{model}: MPC agrees on only {agree}/20");
    }
}

#[test]
fn predictions_replay_from_the_seed_and_depend_on_it() {
    let (_, px) = digit(3);
    let mut s = session("lenet");
    let a = s.predict(&px).unwrap();
    let b = s.predict(&px).unwrap();
    assert_eq!(a, b, "same settings and seed, same bits");
    s.settings_mut().mpc_seed = 43;
    let c = s.predict(&px).unwrap();
    assert_eq!(a.plaintext, c.plaintext, "the plaintext model has no seed");
    assert_ne!(
        a.mpc.logits, c.mpc.logits,
        "share randomness follows the seed"
    );
    // A fresh session computes the same as a reused one (the buffers carry nothing over).
    let mut fresh = Session::new(
        "lenet",
        Settings {
            mpc_seed: 43,
            ..Settings::default()
        },
    )
    .unwrap();
    assert_eq!(fresh.predict(&px).unwrap(), c);
}

#[test]
fn probabilities_are_the_softmax_of_the_logits() {
    let (_, px) = digit(5);
    let p = session("lenet").predict(&px).unwrap();
    for side in [&p.plaintext, &p.mpc] {
        let sum: f64 = side.probabilities.iter().sum();
        assert!((sum - 1.0).abs() < 1e-12, "{sum}");
        let best = argmax(&side.probabilities);
        assert_eq!(best, side.label, "softmax keeps the order");
        for (i, (&pi, &li)) in side.probabilities.iter().zip(&side.logits).enumerate() {
            let ratio = pi / side.probabilities[best];
            let want = libm::exp(li - side.logits[best]);
            assert!((ratio - want).abs() < 1e-12, "class {i}");
        }
    }
    assert_eq!(argmax(&[1.0, 3.0, 3.0]), 1, "ties go to the first");
}

#[test]
fn taps_are_the_activations_that_make_the_logits() {
    let (_, px) = digit(1);
    let s = &mut session("lenet");
    let p = s.predict(&px).unwrap();
    let names: Vec<&str> = p.taps.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["act1", "act2", "act3", "act4"]);
    for t in &p.taps {
        assert_eq!(t.plaintext.len(), t.shape.len(), "{}", t.name);
        assert_eq!(t.mpc.len(), t.shape.len(), "{}", t.name);
        assert!(
            t.plaintext.iter().all(|v| (0.0..=1.0).contains(v)),
            "sigmoid outputs"
        );
    }
    // fc3 applied by hand to the last tap gives the plaintext logits.
    let m = s.model();
    let w = m.tensor("fc3", ".weight").unwrap();
    let b = m.tensor("fc3", ".bias").unwrap();
    let act4 = &p.taps[3].plaintext;
    for o in 0..10 {
        let mut y = f64::from(b.get(o));
        for (j, &a) in act4.iter().enumerate() {
            y += f64::from(w.get(o * act4.len() + j)) * a;
        }
        assert!((y - p.plaintext.logits[o]).abs() < 1e-9, "logit {o}");
    }
}

#[test]
fn breakdown_runs_the_same_models_as_predict_and_names_the_gaps() {
    let (_, px) = digit(2);
    let mut s = session("lenet");
    let p = s.predict(&px).unwrap();
    let b = s.breakdown(&px).unwrap();
    for (stage, side) in [(&b.stages[0], &p.plaintext), (&b.stages[3], &p.mpc)] {
        assert_eq!((&stage.logits, stage.label), (&side.logits, side.label));
    }
    let names: Vec<&str> = b.stages.iter().map(|s| s.name).collect();
    assert_eq!(names, ["plaintext", "float", "fixed", "mpc"]);
    let rows: Vec<&str> = b.gaps.iter().map(|g| g.layer.as_str()).collect();
    assert_eq!(rows, ["act1", "act2", "act3", "act4", "logits"]);
    let logits = b.gaps.last().unwrap().values;
    for (k, gap) in logits.iter().enumerate() {
        assert_eq!(
            *gap,
            max_abs_gap(&b.stages[k + 1].logits, &b.stages[k].logits)
        );
        // Sigmoid by exp and Newton steps, 16-bit truncations, share-local truncation:
        // each stage changes the logits, and none by much on a clean digit.
        assert!(*gap > 0.0 && *gap < 0.5, "{} gap {gap}", b.gap_names[k]);
    }
}

#[test]
fn a_level_override_reaches_the_activations_only() {
    let (_, px) = digit(4);
    let mut s = session("lenet");
    let base = s.predict(&px).unwrap();
    let default = Function::Sigmoid.default_level(&profile::CRYPTEN);
    s.set_level(Some(default)).unwrap();
    assert_eq!(
        s.predict(&px).unwrap(),
        base,
        "the default level, given explicitly, changes nothing"
    );
    s.set_level(Some(Level::new(3, 3))).unwrap();
    let low = s.predict(&px).unwrap();
    assert_eq!(low.plaintext, base.plaintext);
    assert_ne!(low.mpc.logits, base.mpc.logits);
    assert_eq!(
        s.error_curve(Function::Sigmoid, -1.0, 1.0, 3)
            .unwrap()
            .level,
        Level::new(3, 3)
    );
    assert_eq!(
        s.error_curve(Function::InvSqrt, 0.5, 1.0, 3).unwrap().level,
        Function::InvSqrt.default_level(&profile::CRYPTEN)
    );
    assert!(
        s.set_level(Some(Level::new(41, 3))).is_err(),
        "iters_exp above 40"
    );
    s.set_level(None).unwrap();
    assert_eq!(s.predict(&px).unwrap(), base);
}

#[test]
fn one_layer_can_take_its_own_level() {
    let (_, px) = digit(4);
    let mut s = session("lenet");
    assert_eq!(
        s.leveled_layers(),
        ["act1", "act2", "bn3", "act3", "bn4", "act4"],
        "bn1 and bn2 are fused into their convolutions by the deployment"
    );
    let base = s.predict(&px).unwrap();
    for layer in ["act4", "bn3"] {
        s.set_layer_level(layer, Some(Level::new(3, 1))).unwrap();
        let p = s.predict(&px).unwrap();
        assert_eq!(p.plaintext, base.plaintext);
        assert_ne!(p.mpc.logits, base.mpc.logits, "{layer} at 3/1");
        // Only the layer's own outputs and what follows change: act1 comes before act4.
        if layer == "act4" {
            assert_eq!(p.taps[0].mpc, base.taps[0].mpc);
        }
        s.set_layer_level(layer, None).unwrap();
        assert_eq!(s.predict(&px).unwrap(), base, "{layer} cleared");
    }
    for bad in ["fc1", "pool1", "nope"] {
        assert!(
            matches!(
                s.set_layer_level(bad, Some(Level::new(3, 3))),
                Err(Failure::Argument { name: "layer", .. })
            ),
            "{bad}"
        );
    }
    assert!(s.plan().layers.is_empty());
}

#[test]
fn error_curves_attribute_by_stage() {
    let s = session("lenet");
    let c = s.error_curve(Function::Sigmoid, -20.0, 20.0, 401).unwrap();
    assert_eq!(c.x.len(), 401);
    assert_eq!((c.x[0], c.x[400]), (-20.0, 20.0));
    // The budget table (kernel approx/mod.rs): sigmoid 8/3, f = 16.
    let approx = max_abs_gap(&c.float, &c.exact);
    let enc = max_abs_gap(&c.fixed, &c.float);
    assert!((1e-4..1e-2).contains(&approx), "approximation {approx}");
    assert!((1e-5..1e-2).contains(&enc), "encoding {enc}");
    assert!(c.cost.rounds > 0 && c.cost.multiplications() > 0);
    for bad in [(1.0, 1.0, 3), (0.0, 1.0, 1), (f64::NAN, 1.0, 3)] {
        assert!(
            s.error_curve(Function::Sigmoid, bad.0, bad.1, bad.2)
                .is_err(),
            "{bad:?}"
        );
    }
}

#[test]
fn encoding_error_stays_below_one_unit_in_the_last_place() {
    let (x, rel) = encoding_curve(16, 121).unwrap();
    let ulp = 1.0 / 65536.0;
    for (&x, &r) in x.iter().zip(&rel) {
        assert!(r * x < ulp * (1.0 + 1e-12), "x {x}: rel {r}");
    }
    assert_eq!(rel[0], 1.0, "1e-6 is below 2^-16 and encodes to 0");
    assert!(encoding_curve(41, 10).is_err());
}

#[test]
fn slices_label_a_grid_around_the_input() {
    let (_, px) = digit(6);
    let mut s = session("lenet");
    let p = s.predict(&px).unwrap();
    let sl = s.slice(&px, 11, 4.0, 5).unwrap();
    assert_eq!(sl.offsets, [-4.0, -2.0, 0.0, 2.0, 4.0]);
    assert_eq!((sl.plaintext.len(), sl.mpc.len()), (25, 25));
    assert_eq!(
        usize::from(sl.plaintext[12]),
        p.plaintext.label,
        "the centre is the input"
    );
    assert!(sl.disagreements <= 25);
    assert!(sl.cost.rounds > 0);
    assert_eq!(s.slice(&px, 11, 4.0, 5).unwrap(), sl, "replays");
    assert_eq!(
        s.predict(&px).unwrap(),
        p,
        "the slice's larger buffers change nothing"
    );
    assert_ne!(s.slice(&px, 12, 40.0, 5).unwrap().plaintext, sl.plaintext);
    assert!(s.slice(&px, 11, 0.0, 5).is_err());
    assert!(s.slice(&px, 11, 1.0, 42).is_err());
}

#[test]
fn rasterize_centres_the_ink_and_refuses_empty_drawings() {
    // A bar in the top-left corner of a 100×60 canvas ends up centred.
    let (w, h) = (100, 60);
    let mut d = vec![0.0f32; w * h];
    for y in 5..30 {
        for x in 5..12 {
            d[y * w + x] = 1.0;
        }
    }
    let img = rasterize(&d, w, h).unwrap();
    let mass: f64 = img.iter().map(|&v| f64::from(v)).sum();
    let com = |f: &dyn Fn(usize) -> usize| -> f64 {
        img.iter()
            .enumerate()
            .map(|(i, &v)| f(i) as f64 * f64::from(v))
            .sum::<f64>()
            / mass
    };
    let (cx, cy) = (com(&|i| i % 28), com(&|i| i / 28));
    assert!(
        (13.5..14.5).contains(&cx) && (13.5..14.5).contains(&cy),
        "{cx}, {cy}"
    );
    let tall = (0..28)
        .filter(|&r| (0..28).any(|c| img[r * 28 + c] > 0.0))
        .count();
    assert_eq!(tall, 20, "the larger side spans the 20-pixel box");
    assert!(rasterize(&vec![0.0; w * h], w, h).is_err(), "no ink");
    assert!(rasterize(&d, w, h + 1).is_err(), "size mismatch");
}

#[test]
fn bad_inputs_are_refused_with_the_kernels_words() {
    let mut s = session("lenet");
    let e = s.predict(&[0.0; 783]).unwrap_err();
    assert_eq!(
        e,
        Failure::Kernel(mpcdiff_kernel::Error::ShapeMismatch {
            expected: 784,
            got: 783
        })
    );
    let mut px = vec![0.0f32; 784];
    px[9] = f32::NAN;
    assert_eq!(
        s.predict(&px).unwrap_err(),
        Failure::Kernel(mpcdiff_kernel::Error::NonFinite { index: 9 })
    );
    assert!(profile_arg("pytorch").is_err());
    assert!(trunc_arg("floor").is_err());
}

// ---- search ----

fn run_search(seed: u64, index: u64, o: Options) -> (Session, Search, Progress) {
    let mut s = Session::new("lenet", Settings::default()).unwrap();
    let (_, px) = synthetic_digit(seed, index).unwrap();
    let mut search = Search::start(&mut s, &px, o).unwrap();
    let mut p = search.step(&mut s, 0).unwrap();
    while !p.done {
        p = search.step(&mut s, 7).unwrap();
    }
    (s, search, p)
}

// Goal: a search is a pure function of its settings, whatever the step sizes, and a
// found input really deviates when replayed with its recorded seed.
#[test]
fn searches_replay_and_what_they_find_deviates() {
    let o = Options {
        mutations: 300,
        ..Options::default()
    };
    // Digit 0 of seed 4 is one the CLI's campaign found a deviation from (README).
    let (mut a, sa, pa) = run_search(4, 0, o);
    let mut b = Session::new("lenet", Settings::default()).unwrap();
    let (_, px) = synthetic_digit(4, 0).unwrap();
    let mut sb = Search::start(&mut b, &px, o).unwrap();
    let pb = sb.step(&mut b, u64::MAX).unwrap();
    assert_eq!(pa, pb, "one call or many, the same campaign");
    assert_eq!(pa.status, Status::Found);
    let f = sa.found().unwrap().clone();
    assert_eq!(&f, sb.found().unwrap());
    let (plain, _) = a.stage(Stage::Plaintext, &f.input, 0, None).unwrap();
    assert_eq!(plain, f.plaintext);
    let (mpc, _) = a.stage(Stage::Shared, &f.input, f.mpc_seed, None).unwrap();
    assert_eq!(mpc, f.mpc);
    assert!(mpcdiff_kernel::difftest::fitness::is_deviation(
        &plain, &mpc, f.label
    ));
    assert!(f.flips >= 1 && f.flips <= f.runs && f.runs == 8);
    assert_eq!(f.path.last().map(|s| s.mutant), f.mutant);
    assert!(f.l2 > 0.0 && f.linf > 0.0 && f.linf <= f.l2);
    assert!(f.pixels.iter().all(|p| (-1e-6..=1.0 + 1e-6).contains(p)));
}

// Goal: without a deviation in reach the search spends exactly its budget; other seeds
// give other campaigns.
#[test]
fn a_search_stops_at_its_budget_and_follows_its_seed() {
    let o = Options {
        mutations: 40,
        seed: 9,
        ..Options::default()
    };
    let (_, _, p) = run_search(1, 0, o);
    assert_eq!(p.status, Status::Active);
    assert_eq!((p.mutants, p.rounds), (40, 40));
    let (_, _, q) = run_search(1, 0, Options { seed: 10, ..o });
    assert_ne!(p.digest, q.digest);
}

#[test]
fn bad_search_arguments_are_refused() {
    let mut s = Session::new("lenet", Settings::default()).unwrap();
    let px = vec![0.0f32; 784];
    let zero = Options {
        mutations: 0,
        ..Options::default()
    };
    assert!(Search::start(&mut s, &px, zero).is_err());
    assert!(Search::start(&mut s, &px[..10], Options::default()).is_err());
    assert!(mutator_arg("gaussian").is_err());
    assert!(fitness_arg("l1").is_err());
}

// ---- repair ----

fn found() -> (Session, Found) {
    let mut s = Session::new("lenet", Settings::default()).unwrap();
    let (_, px) = synthetic_digit(4, 0).unwrap();
    let o = Options {
        mutations: 300,
        ..Options::default()
    };
    let mut search = Search::start(&mut s, &px, o).unwrap();
    assert_eq!(search.step(&mut s, u64::MAX).unwrap().status, Status::Found);
    let f = search.found().unwrap().clone();
    (s, f)
}

// Goal: the localization covers every nonlinear layer CrypTen runs for LeNet, votes a
// third of each layer, blames at least one layer, and the repair it leads
// to removes the deviation from every MPC run without losing check accuracy, at a cost
// within the budget; replaying under the chosen plan shows the deviation gone.
#[test]
fn localize_repair_apply_removes_the_deviation() {
    let (mut s, f) = found();
    let before = replay(&mut s, &f).unwrap();
    assert!(before.flips >= 1);
    let mut inv = Investigation::localize(&mut s, &f).unwrap();
    let loc = inv.localization();
    let names: Vec<&str> = loc.layers.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(
        names,
        ["act1", "act2", "bn3", "act3", "bn4", "act4"],
        "every layer under MPC, none that the deployment fuses away"
    );
    // The batch norms (BatchNorm1d under `from_pytorch`): an error per channel, finite,
    // not all zero (their inverse square root is approximated), and no votes.
    for l in loc.layers.iter().filter(|l| !l.activation) {
        assert_eq!(l.error.len(), l.shape.len(), "{}", l.name);
        assert!(l.error.iter().all(|e| e.is_finite() && *e >= 0.0));
        assert!(l.error.iter().any(|e| *e > 0.0), "{}", l.name);
        assert!(l.high.is_empty() && l.low.is_empty());
    }
    for l in loc.layers.iter().filter(|l| l.activation) {
        let n = l.shape.len();
        assert_eq!(l.error.len(), n);
        assert_eq!(l.high.len(), n / 3, "{}", l.name);
        let min_high = l
            .high
            .iter()
            .map(|&j| l.error[j as usize])
            .fold(f64::MAX, f64::min);
        let max_low = l
            .low
            .iter()
            .map(|&j| l.error[j as usize])
            .fold(0.0, f64::max);
        assert!(
            min_high >= max_low,
            "{}: high votes go to the largest errors",
            l.name
        );
    }
    assert!(loc.layers.iter().any(|l| l.fixed_when_exact));
    let n = inv.start(&mut s, &f, 6, 1.5).unwrap();
    assert!(n >= 4);
    let mut r = inv.step(&mut s, &f).unwrap();
    while r.chosen.is_none() {
        r = inv.step(&mut s, &f).unwrap();
    }
    assert_eq!(r.tried.len(), n);
    assert!(r.baseline.flips >= 1);
    let chosen = &r.tried[r.chosen.unwrap()];
    assert!(chosen.meets, "{r:#?}");
    assert_eq!(chosen.flips, 0);
    assert!(chosen.mpc_correct >= r.baseline.mpc_correct);
    assert!(chosen.cost.multiplications() as f64 <= 1.5 * r.baseline.cost.multiplications() as f64);
    s.set_plan(inv.chosen().unwrap().clone());
    let after = replay(&mut s, &f).unwrap();
    assert_eq!(after.flips, 0);
    assert_eq!(after.prediction.mpc.label, after.prediction.plaintext.label);
    assert_eq!(after.prediction.cost, chosen.cost);
}

#[test]
fn bad_repair_arguments_and_early_steps_are_refused() {
    let (mut s, f) = found();
    let mut inv = Investigation::localize(&mut s, &f).unwrap();
    assert!(inv.step(&mut s, &f).is_err(), "not started");
    assert!(inv.chosen().is_err(), "no choice yet");
    assert!(inv.start(&mut s, &f, 10, 0.5).is_err(), "budget below 1");
    assert!(inv.start(&mut s, &f, 501, 1.5).is_err());
}

/// `max |a − b|` elementwise.
fn max_abs_gap(a: &[f64], b: &[f64]) -> f64 {
    let d = a.iter().zip(b).map(|(x, y)| (x - y).abs());
    d.fold(0.0, f64::max)
}

/// Another framework's profile brings its format, truncation and deployment while the asked
/// ones are CrypTen's defaults (16, local), as `mpcdiff eval --profile` resolves them; asked
/// values other than those are kept.
#[test]
fn a_framework_profile_resolves_its_numerics() {
    use mpcdiff_kernel::nn::deploy::Deployment;
    use mpcdiff_kernel::TruncMode;
    let s = Settings::new(&profile::TFE_MPCDIFF, 16, TruncMode::Local, 42).unwrap();
    assert_eq!((s.fp.base(), s.fp.frac_bits(), s.fp.scale()), (3, 5, 243));
    assert_eq!(s.trunc.name(), "sr");
    assert_eq!(s.deploy, Deployment::TfEncrypted);
    let asked = Settings::new(&profile::TFE_MPCDIFF, 8, TruncMode::Dealer, 42).unwrap();
    assert_eq!((asked.fp.scale(), asked.trunc), (6561, TruncMode::Dealer));
    let crypten = Settings::new(&profile::CRYPTEN, 12, TruncMode::Local, 42).unwrap();
    assert_eq!(
        (crypten.fp.scale(), crypten.deploy),
        (4096, Deployment::Crypten)
    );
    let (_, px) = digit(7);
    let mut sess = Session::new("lenet", s).unwrap();
    assert_eq!(sess.deployment(), Deployment::TfEncrypted);
    let p = sess.predict(&px).unwrap();
    assert_eq!(
        p.plaintext.label, p.mpc.label,
        "a clean 7 keeps its label under TF-Encrypted"
    );
}
