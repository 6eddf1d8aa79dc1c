//! The kernel's differential-testing engine: mutation, budgets, voting, plans, the campaign.
//!
//! Goals: every operator keeps inputs in their domain (categorical codes included) and within
//! any budget around the original; a campaign is a pure function of its settings, whether its
//! rounds run in one call or are proposed, evaluated out of order and told; voting counts
//! exactly ⌊n·τ⌋ neurons per input; in a plan a neuron in both sets is raised.

use crate::approx::Level;
use crate::difftest::campaign::{
    Campaign, Entry, Event, Guide, Proposal, Round, Schedule, Settings, Status,
};
use crate::difftest::fitness::Fitness;
use crate::difftest::mutation::{
    distance, Budget, Descent, Domain, Feature, Mutator, Operator, Projection,
};
use crate::difftest::plan::assign;
use crate::difftest::voting::{self, Thresholds};
use crate::seed::{self, StreamId};

const IMAGE: Domain<'static> = Domain::Image {
    channels: 1,
    height: 8,
    width: 8,
    lo: -0.5,
    hi: 2.5,
};

fn image_input(k: u64) -> Vec<f64> {
    let mut r = seed::substream(7, StreamId::Synthetic, k);
    (0..64)
        .map(|_| -0.5 + 3.0 * seed::unit_f64(&mut r))
        .collect()
}

#[test]
fn every_operator_keeps_inputs_in_the_domain_and_the_budget() {
    let codes = [0.0, 0.25, 1.0];
    let features = [
        Feature::Continuous { lo: 0.0, hi: 1.0 },
        Feature::Categorical { values: &codes },
        Feature::Continuous { lo: -1.0, hi: 1.0 },
        Feature::Categorical { values: &codes },
    ];
    let table = Domain::Table {
        features: &features,
    };
    for budget in [
        Budget::default(),
        Budget {
            linf: Some(0.1),
            l2: None,
        },
        Budget {
            linf: None,
            l2: Some(0.3),
        },
        Budget {
            linf: Some(0.2),
            l2: Some(0.25),
        },
    ] {
        for (domain, orig) in [(IMAGE, image_input(1)), (table, vec![0.5, 0.25, 0.0, 1.0])] {
            for projection in [Projection::Clip, Projection::Rescale] {
                let m = Mutator {
                    sigma: 0.3,
                    projection,
                    weights: [1, 1, 1, 1, 1, 1],
                    budget,
                };
                let mut cur = orig.clone();
                let mut out = vec![0.0; orig.len()];
                for k in 0..300 {
                    let mut rng = seed::substream(3, StreamId::Mutation, k);
                    let op = m.choose(&domain, &mut rng).unwrap();
                    assert!(op.applies_to(&domain));
                    if op == Operator::Gradient {
                        // Some gradient of some margin, either sign.
                        for g in out.iter_mut() {
                            *g = seed::normal(&mut rng);
                        }
                        let margin = seed::normal(&mut rng);
                        m.step_to_boundary(&domain, &orig, &cur, margin, &mut out, &mut rng)
                            .unwrap();
                    } else {
                        m.apply(op, &domain, &orig, &cur, &mut out, &mut rng)
                            .unwrap();
                    }
                    assert!(domain.contains(&out), "{op:?} left the domain: {out:?}");
                    let (l2, linf) = distance(&out, &orig);
                    if let Some(e) = budget.linf {
                        assert!(linf <= e + 1e-12, "{op:?}: L∞ {linf} > {e}");
                    }
                    if let Some(e) = budget.l2 {
                        assert!(l2 <= e + 1e-12, "{op:?}: L2 {l2} > {e}");
                    }
                    cur.copy_from_slice(&out);
                }
            }
        }
    }
}

#[test]
fn operators_that_do_not_apply_are_refused() {
    let m = Mutator::artifact(&IMAGE);
    let x = image_input(2);
    let mut out = vec![0.0; 64];
    let mut rng = seed::stream(1, StreamId::Mutation);
    assert!(m
        .apply(Operator::FeatureStep, &IMAGE, &x, &x, &mut out, &mut rng)
        .is_err());
    let only_steps = Mutator {
        weights: [0, 0, 0, 0, 1, 0],
        ..m
    };
    assert!(only_steps.choose(&IMAGE, &mut rng).is_err());
    assert!(m
        .apply(Operator::Gaussian, &IMAGE, &x[..10], &x, &mut out, &mut rng)
        .is_err());
}

#[test]
fn the_artifact_projection_restretches_to_the_full_range() {
    let m = Mutator::artifact(&IMAGE);
    let x = vec![1.0; 64];
    let mut out = vec![0.0; 64];
    let mut rng = seed::stream(5, StreamId::Mutation);
    m.apply(Operator::Gaussian, &IMAGE, &x, &x, &mut out, &mut rng)
        .unwrap();
    let min = out.iter().copied().fold(f64::INFINITY, f64::min);
    let max = out.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    assert_eq!((min, max), (-0.5, 2.5));
}

/// A toy "model pair": plaintext logits from the input's mean, MPC logits perturbed by the
/// input's first pixel (so some mutants deviate).
fn toy(x: &[f64], plain: &mut [f64], mpc: &mut [f64]) {
    let m = x.iter().sum::<f64>() / x.len() as f64;
    plain[0] = m;
    plain[1] = 1.0 - m;
    mpc[0] = m - 0.6 * x[0];
    mpc[1] = 1.0 - m;
}

fn settings(schedule: Schedule) -> Settings {
    Settings {
        seed: 11,
        mpc_seed: 5,
        round_size: 4,
        threshold: 3,
        schedule,
        guide: Guide::Err,
        fitness: Fitness::LogitL2,
        mutator: Mutator::mpcdiff(&IMAGE),
    }
}

/// Runs a campaign of `seeds` inputs for `budget` mutants with `step` and returns its entries
/// and digest.
fn campaign(schedule: Schedule, budget: u64, reversed: bool) -> (Vec<Entry>, u64, Vec<f64>) {
    let n = 8;
    let original: Vec<f64> = (0..n).flat_map(|k| image_input(k as u64)).collect();
    let mut current = original.clone();
    let mut entries: Vec<Entry> = (0..n).map(|i| Entry::new(i as u32, 0)).collect();
    let mut c = Campaign::new(
        settings(schedule),
        IMAGE,
        &mut entries,
        &mut current,
        &original,
    )
    .unwrap();
    for i in 0..n {
        let (mut p, mut m) = ([0.0; 2], [0.0; 2]);
        toy(&original[i * 64..(i + 1) * 64], &mut p, &mut m);
        c.admit(i, &p, &m).unwrap();
    }
    let mut proposals = [Proposal::default(); 4];
    let mut inputs = vec![0.0; 4 * 64];
    while c.mutants() < budget && c.active() > 0 {
        let k = c
            .propose(budget - c.mutants(), &mut proposals, &mut inputs)
            .unwrap();
        let (mut plain, mut mpc) = (vec![0.0; 2 * k], vec![0.0; 2 * k]);
        // Evaluate in reverse order when asked: the order of evaluation must not matter.
        let order: Vec<usize> = if reversed {
            (0..k).rev().collect()
        } else {
            (0..k).collect()
        };
        for j in order {
            let (p, m) = (&mut plain[2 * j..2 * j + 2], &mut mpc[2 * j..2 * j + 2]);
            toy(&inputs[j * 64..(j + 1) * 64], p, m);
        }
        c.tell(
            &proposals[..k],
            &inputs[..k * 64],
            &plain,
            &mpc,
            &mut |_, _| {},
        )
        .unwrap();
    }
    let digest = c.digest();
    (entries, digest, current)
}

#[test]
fn a_campaign_is_a_function_of_its_settings() {
    for schedule in [Schedule::Energy, Schedule::Uniform] {
        let a = campaign(schedule, 40, false);
        let b = campaign(schedule, 40, true);
        assert_eq!(a.1, b.1);
        assert_eq!(a.0, b.0);
        assert_eq!(a.2, b.2);
    }
    assert_ne!(
        campaign(Schedule::Energy, 40, false).1,
        campaign(Schedule::Uniform, 40, false).1
    );
}

#[test]
fn tell_follows_the_artifacts_rules() {
    let (entries, _, _) = campaign(Schedule::Energy, 200, false);
    for e in &entries {
        match e.status {
            // Dropped only after the threshold, at a non-improving mutation.
            Status::Dropped => assert!(e.mutations >= 3, "{e:?}"),
            Status::Active => assert!(e.mutations < 3 || e.accepted > 0, "{e:?}"),
            Status::Found | Status::Skipped => {}
        }
        assert!(e.accepted <= e.mutations);
    }
    assert!(
        entries.iter().any(|e| e.status == Status::Found),
        "the toy pair deviates somewhere"
    );
}

#[test]
fn step_equals_propose_evaluate_tell() {
    let n = 4;
    let original: Vec<f64> = (0..n).flat_map(|k| image_input(k as u64)).collect();
    let run = |use_step: bool| {
        let mut current = original.clone();
        let mut entries: Vec<Entry> = (0..n).map(|i| Entry::new(i as u32, 0)).collect();
        let mut c = Campaign::new(
            settings(Schedule::Energy),
            IMAGE,
            &mut entries,
            &mut current,
            &original,
        )
        .unwrap();
        for i in 0..n {
            let (mut p, mut m) = ([0.0; 2], [0.0; 2]);
            toy(&original[i * 64..(i + 1) * 64], &mut p, &mut m);
            c.admit(i, &p, &m).unwrap();
        }
        let mut events = Vec::new();
        let mut proposals = [Proposal::default(); 4];
        let mut inputs = vec![0.0; 4 * 64];
        let (mut plain, mut mpc) = (vec![0.0; 8], vec![0.0; 8]);
        for _ in 0..5 {
            if use_step {
                let mut round = Round {
                    proposals: &mut proposals,
                    inputs: &mut inputs,
                    plain: &mut plain,
                    mpc: &mut mpc,
                };
                c.step(
                    100,
                    2,
                    &mut round,
                    &mut |_, x, p, m| {
                        toy(x, p, m);
                        Ok(())
                    },
                    &mut |j, e: Event| events.push((j, e)),
                )
                .unwrap();
            } else {
                let k = c.propose(100, &mut proposals, &mut inputs).unwrap();
                for j in 0..k {
                    let (p, m) = (&mut plain[2 * j..2 * j + 2], &mut mpc[2 * j..2 * j + 2]);
                    toy(&inputs[j * 64..(j + 1) * 64], p, m);
                }
                c.tell(
                    &proposals[..k],
                    &inputs[..k * 64],
                    &plain[..2 * k],
                    &mpc[..2 * k],
                    &mut |j, e| events.push((j, e)),
                )
                .unwrap();
            }
        }
        (c.digest(), events)
    };
    assert_eq!(run(true), run(false));
}

#[test]
fn voting_counts_floor_n_tau_per_input_and_high_wins_in_plans() {
    let err = [0.5, 0.1, 0.9, 0.3, 0.7, 0.2, 0.8];
    let (mut order, mut high, mut low) = ([0u32; 7], [0u32; 7], [0u32; 7]);
    voting::vote(&err, Thresholds::ARTIFACT, &mut order, &mut high, &mut low).unwrap();
    assert_eq!(high, [0, 0, 1, 0, 0, 0, 1]); // ⌊7/3⌋ = 2 largest: 0.9, 0.8
    assert_eq!(low, [0, 1, 0, 0, 0, 1, 0]); // 2 smallest: 0.1, 0.2
    let bad = Thresholds {
        high: 0.7,
        low: 0.5,
    };
    assert!(voting::vote(&err, bad, &mut order, &mut high, &mut low).is_err());
    let sel = voting::select(&[3, 1, 3, 0], 0.5, &mut [0u32; 4])
        .unwrap()
        .to_vec();
    assert_eq!(sel, vec![0, 2]); // ties by index
                                 // Neuron 2 tops both tallies: it stays in the high set only; the low set keeps its order.
    let (mut ho, mut lo) = ([0u32; 6], [0u32; 6]);
    let (hs, ls) = voting::sets(
        &[4, 0, 5, 1, 0, 0],
        &[0, 3, 6, 2, 1, 0],
        Thresholds::ARTIFACT,
        &mut ho,
        &mut lo,
    )
    .unwrap();
    assert_eq!((hs, ls), (&[2u32, 0][..], &[1u32][..]));
    let mut levels = [Level::new(0, 0); 4];
    assign(
        &mut levels,
        Level::new(6, 6),
        (&[1, 2], Level::new(9, 9)),
        (&[2, 3], Level::new(3, 3)),
    );
    assert_eq!(
        levels,
        [
            Level::new(6, 6),
            Level::new(9, 9),
            Level::new(9, 9),
            Level::new(3, 3)
        ]
    );
}

// ---- Regressions: hostile domains, counters and buffers are typed errors, never panics ----

/// K3 (reliability probe): an image domain whose `channels × height × width` overflows used to
/// wrap to a small `len`, pass the length checks, and index rows of `usize::MAX` pixels.
#[test]
fn mutator_rejects_an_image_domain_whose_size_overflows() {
    let d = Domain::Image {
        channels: 2,
        height: usize::MAX,
        width: usize::MAX,
        lo: 0.0,
        hi: 1.0,
    };
    assert_eq!(d.checked_len(), None);
    assert_eq!(d.len(), usize::MAX, "len saturates, it does not wrap");
    assert!(!d.contains(&[0.5; 2]));
    let overflow = crate::Error::InvalidShape {
        what: "domain: channels × height × width overflows",
    };
    assert_eq!(d.check(), Err(overflow));
    let m = Mutator::mpcdiff(&d);
    let mut rng = seed::stream(1, StreamId::Mutation);
    for op in Operator::ALL {
        let mut out = [0.0; 2];
        assert_eq!(
            m.apply(op, &d, &[0.5; 2], &[0.5; 2], &mut out, &mut rng),
            Err(overflow),
            "{op:?}"
        );
        assert_eq!(out, [0.0; 2], "{op:?} wrote into its output");
    }
    assert_eq!(m.choose(&d, &mut rng), Err(overflow));
    // A campaign over such a domain is refused up front, so `propose` never sees it.
    let mut entries = [Entry::new(0, 0)];
    let (original, mut current) = ([0.5; 2], [0.5; 2]);
    let s = Settings {
        mutator: m,
        ..settings(Schedule::Uniform)
    };
    assert_eq!(
        Campaign::new(s, d, &mut entries, &mut current, &original).err(),
        Some(overflow)
    );
}

/// K4: `project` is public, and used to index `values[0]` of an empty categorical feature and
/// call `f64::clamp` with `lo > hi` or NaN bounds (both panics).
#[test]
fn project_rejects_bad_domains() {
    use crate::difftest::mutation::project;
    use crate::Error;
    let empty: [f64; 0] = [];
    let bad_tables: [&[Feature<'_>]; 5] = [
        &[Feature::Categorical { values: &empty }],
        &[Feature::Continuous { lo: 2.0, hi: 1.0 }],
        &[Feature::Continuous {
            lo: f64::NAN,
            hi: 1.0,
        }],
        &[Feature::Categorical {
            values: &[0.0, f64::INFINITY],
        }],
        &[],
    ];
    for features in bad_tables {
        let d = Domain::Table { features };
        let mut x = vec![0.3; features.len()];
        let before = x.clone();
        assert!(
            matches!(
                project(&d, Projection::Clip, &mut x),
                Err(Error::OutOfRange { .. })
            ),
            "{features:?}"
        );
        assert_eq!(x, before, "{features:?}: x changed");
    }
    for (lo, hi) in [(1.0, 0.0), (f64::NAN, 1.0), (0.0, f64::INFINITY)] {
        let d = Domain::Image {
            channels: 1,
            height: 1,
            width: 2,
            lo,
            hi,
        };
        for p in [Projection::Clip, Projection::Rescale] {
            assert!(project(&d, p, &mut [0.3, 0.7]).is_err(), "{lo} {hi} {p:?}");
        }
    }
    // A slice of the wrong length is a shape error; a good call still projects.
    assert_eq!(
        project(&IMAGE, Projection::Clip, &mut [0.0; 3]),
        Err(Error::ShapeMismatch {
            expected: 64,
            got: 3
        })
    );
    let mut x = vec![9.0; 64];
    project(&IMAGE, Projection::Clip, &mut x).unwrap();
    assert!(x.iter().all(|&v| v == 2.5));
}

/// D8: a stored entry with `mutations = u32::MAX` (a hand-edited `state.json`) used to
/// overflow the counter in `tell` under overflow checks.
#[test]
fn campaign_mutation_counters_saturate_at_u32_max() {
    let original: Vec<f64> = image_input(0);
    let mut current = original.clone();
    let mut entries = [Entry {
        mutations: u32::MAX,
        accepted: u32::MAX,
        ..Entry::new(0, 0)
    }];
    let mut s = settings(Schedule::Uniform);
    s.guide = Guide::Random;
    let mut c = Campaign::new(s, IMAGE, &mut entries, &mut current, &original).unwrap();
    let mut proposals = [Proposal::default(); 1];
    let mut inputs = vec![0.0; 64];
    assert_eq!(c.propose(1, &mut proposals, &mut inputs), Ok(1));
    let (plain, mpc) = ([0.9, 0.1], [0.8, 0.2]);
    let mut events = Vec::new();
    c.tell(&proposals, &inputs, &plain, &mpc, &mut |_, e| {
        events.push(e)
    })
    .unwrap();
    assert_eq!(events, [Event::Accepted]);
    let e = c.entries()[0];
    assert_eq!((e.mutations, e.accepted), (u32::MAX, u32::MAX));
    assert_eq!(e.status, Status::Dropped, "past any threshold");
}

/// D8: counters resumed at `u64::MAX` used to overflow in `propose` (`rounds + 1`) and `tell`
/// (`mutants += k`); now both refuse, and change nothing.
#[test]
fn campaign_counters_at_u64_max_are_an_error() {
    use crate::Error;
    let original: Vec<f64> = image_input(0);
    for (rounds, mutants) in [(u64::MAX, 0), (0, u64::MAX), (u64::MAX, u64::MAX)] {
        let mut current = original.clone();
        let mut entries = [Entry::new(0, 0)];
        let mut c = Campaign::new(
            settings(Schedule::Uniform),
            IMAGE,
            &mut entries,
            &mut current,
            &original,
        )
        .unwrap();
        c.resume(rounds, mutants, 7);
        let mut proposals = [Proposal::default(); 1];
        let mut inputs = vec![0.0; 64];
        assert!(
            matches!(
                c.propose(1, &mut proposals, &mut inputs),
                Err(Error::OutOfRange { .. })
            ),
            "propose at ({rounds}, {mutants})"
        );
        let p = [Proposal::default()];
        assert!(
            matches!(
                c.tell(&p, &inputs, &[0.9, 0.1], &[0.8, 0.2], &mut |_, _| {}),
                Err(Error::OutOfRange { .. })
            ),
            "tell at ({rounds}, {mutants})"
        );
        assert_eq!((c.rounds(), c.mutants(), c.digest()), (rounds, mutants, 7));
        assert_eq!(c.entries()[0].mutations, 0, "tell applied an outcome");
    }
}

/// `current(i)` and `original(i)` are public and used to slice past the end for `i` beyond
/// the entries (or `i·n` beyond `usize`).
#[test]
fn campaign_rows_past_the_end_are_empty() {
    let original: Vec<f64> = image_input(0);
    let mut current = original.clone();
    let mut entries = [Entry::new(0, 0)];
    let c = Campaign::new(
        settings(Schedule::Uniform),
        IMAGE,
        &mut entries,
        &mut current,
        &original,
    )
    .unwrap();
    assert_eq!(c.current(0), &original[..]);
    for i in [1, 2, usize::MAX / 64 + 1, usize::MAX] {
        assert!(
            c.current(i).is_empty() && c.original(i).is_empty(),
            "row {i}"
        );
    }
}

/// A fuzzer given more trials than its round memory holds used to carve `trials.len()` inputs
/// out of `floats` sized for the round (a slice panic in `admit` and `round`).
#[test]
fn fuzzer_works_in_the_round_memory_it_was_given() {
    use crate::difftest::fuzzer::{Deviation, Fuzzer, Judge, Sink, Trial};
    struct Toy;
    impl Judge for Toy {
        fn judge(
            &mut self,
            inputs: &[f64],
            trials: &mut [Trial],
            _repeats: u32,
            plain: &mut [f64],
            mpc: &mut [f64],
        ) -> crate::Result<()> {
            for j in 0..trials.len() {
                let x = &inputs[j * 64..(j + 1) * 64];
                toy(x, &mut plain[2 * j..2 * j + 2], &mut mpc[2 * j..2 * j + 2]);
            }
            Ok(())
        }
    }
    struct Count(usize);
    impl Sink for Count {
        type Error = crate::Error;
        fn deviation(&mut self, _: &Deviation<'_>) -> crate::Result<()> {
            self.0 += 1;
            Ok(())
        }
    }
    let n = 6;
    let original: Vec<f64> = (0..n).flat_map(|k| image_input(k as u64)).collect();
    let mut current = original.clone();
    let mut entries: Vec<Entry> = (0..n).map(|i| Entry::new(i as u32, 0)).collect();
    let s = Settings {
        round_size: 2,
        ..settings(Schedule::Uniform)
    };
    let mut c = Campaign::new(s, IMAGE, &mut entries, &mut current, &original).unwrap();
    let mut proposals = [Proposal::default(); 2];
    // Five trials, but round memory for the round size (2) only.
    let mut trials = [Trial::default(); 5];
    let mut floats = vec![0.0; Fuzzer::floats(2, 64, 2)];
    let mut f = Fuzzer::new(&mut c, 2, 1, &mut proposals, &mut trials, &mut floats).unwrap();
    let mut sink = Count(0);
    f.admit(&mut Toy, &mut sink).unwrap();
    f.run(20, &mut Toy, &mut sink).unwrap();
    assert!(c.mutants() > 0 && c.mutants() <= 20);
    // The sizing function saturates instead of overflowing.
    assert_eq!(Fuzzer::floats(2, usize::MAX, 2), usize::MAX);
    assert_eq!(Fuzzer::floats(usize::MAX, 1, usize::MAX), usize::MAX);
}

/// Vote tallies are public `u32` slices; a tally at `u32::MAX` used to overflow in `vote`.
#[test]
fn votes_saturate_at_u32_max() {
    let err = [3.0, 2.0, 1.0];
    let (mut order, mut high, mut low) = ([0u32; 3], [u32::MAX; 3], [u32::MAX; 3]);
    voting::vote(&err, Thresholds::ARTIFACT, &mut order, &mut high, &mut low).unwrap();
    assert_eq!((high, low), ([u32::MAX; 3], [u32::MAX; 3]));
}

/// A recorder is a public `Tap`: a call with an offset past its buffer (or past `usize`)
/// used to overflow `start + offset`.
#[test]
fn recorder_ignores_offsets_past_its_buffer() {
    use crate::difftest::recorder::Recorder;
    use crate::nn::forward::Tap;
    use crate::nn::model::Model;
    let bytes = crate::nn::tests::model_file("credit-mlp", 1);
    let m = Model::parse(&bytes).unwrap();
    let mut buf = vec![0.0; Recorder::len(&m, 1)];
    let mut r = Recorder::new(&m, 1, &mut buf).unwrap();
    r.activation(1, "act1", usize::MAX, &[1.0, 2.0]);
    r.activation(1, "act1", usize::MAX - 1, &[1.0, 2.0]);
    r.activation(1, "act1", 119, &[1.0, 2.0]);
    r.activation(usize::MAX, "act1", 0, &[1.0]);
    r.activation(1, "act1", 118, &[1.0, 2.0]);
    assert_eq!(&buf[118..], &[1.0, 2.0]);
    assert!(buf[..118].iter().all(|&v| v == 0.0));
}

/// The sizing functions of the engine read a model's public fields: with a shape changed to
/// `usize::MAX` wide they used to overflow (`examine_floats`, `Recorder::len`, the arenas).
#[test]
fn engine_sizes_of_a_changed_model_saturate() {
    use crate::difftest::localization::{examine_floats, tally_sizes};
    use crate::difftest::oracle::Sizes;
    use crate::difftest::recorder::Recorder;
    use crate::nn::deploy::Deployment;
    use crate::nn::forward;
    use crate::nn::model::Model;
    use crate::nn::spec::Shape;
    let bytes = crate::nn::tests::model_file("credit-mlp", 1);
    let mut m = Model::parse(&bytes).unwrap();
    m.shapes[1] = Shape::Vector(usize::MAX);
    assert_eq!(Recorder::len(&m, 2), usize::MAX);
    assert_eq!(examine_floats(&m), usize::MAX);
    assert_eq!(tally_sizes(&m, Deployment::Folded).0, usize::MAX);
    assert_eq!(forward::arena_elems(&m, 3), usize::MAX);
    assert_eq!(forward::shared_arena_words(&m, 3), usize::MAX);
    assert!(Sizes::of(&m, Deployment::Folded, 1).is_err());
    let m = Model::parse(&bytes).unwrap();
    assert!(Sizes::of(&m, Deployment::Folded, usize::MAX).is_err());
    assert_eq!(forward::arena_elems(&m, usize::MAX), usize::MAX);
}

/// A plaintext margin that is linear in the input, `w·x − b`, for the gradient operator.
struct LinearMargin {
    w: Vec<f64>,
    b: f64,
}

impl Descent for LinearMargin {
    fn margin_gradient(
        &mut self,
        x: &[f64],
        _label: usize,
        grad: &mut [f64],
    ) -> crate::Result<f64> {
        grad.copy_from_slice(&self.w);
        Ok(self.w.iter().zip(x).map(|(w, x)| w * x).sum::<f64>() - self.b)
    }
}

/// The gradient operator lands a linear margin on a random fraction `[0, ½)` of its size, on
/// the label's side, from either side; its steps are at most `σ·√n` long; it never leaves the
/// domain; and it is refused without the plaintext model's gradient.
#[test]
fn the_gradient_operator_steps_towards_the_plaintext_boundary() {
    let n = 64;
    let mut r = seed::stream(3, StreamId::Synthetic);
    let w: Vec<f64> = (0..n).map(|_| seed::unit_f64(&mut r) - 0.5).collect();
    let x = vec![1.0; n];
    let wx: f64 = w.iter().sum();
    let m = Mutator {
        sigma: 10.0,
        ..Mutator::gradient(&IMAGE)
    };
    assert_eq!(m.name(), "gradient");
    let mut out = vec![0.0; n];
    for (margin, k) in [(0.2, 0u64), (-0.2, 1), (3.0, 2)] {
        let mut d = LinearMargin {
            w: w.clone(),
            b: wx - margin,
        };
        for draw in 0..50 {
            let mut rng = seed::substream(9, StreamId::Mutation, k * 100 + draw);
            let got = d.margin_gradient(&x, 0, &mut out).unwrap();
            assert!((got - margin).abs() < 1e-12);
            m.step_to_boundary(&IMAGE, &x, &x, got, &mut out, &mut rng)
                .unwrap();
            let after = d
                .margin_gradient(&out.clone(), 0, &mut vec![0.0; n])
                .unwrap();
            assert!(
                (-1e-12..0.5 * margin.abs() + 1e-12).contains(&after),
                "margin {margin} stepped to {after}"
            );
            assert!(IMAGE.contains(&out));
        }
    }
    // A short σ caps the step's length.
    let short = Mutator {
        sigma: 0.001,
        ..Mutator::gradient(&IMAGE)
    };
    let mut d = LinearMargin {
        w: w.clone(),
        b: wx - 3.0,
    };
    let mut rng = seed::stream(4, StreamId::Mutation);
    let got = d.margin_gradient(&x, 0, &mut out).unwrap();
    short
        .step_to_boundary(&IMAGE, &x, &x, got, &mut out, &mut rng)
        .unwrap();
    assert!(distance(&out, &x).0 <= 0.001 * 8.0 + 1e-12);
    // Pixels at the bottom of the range are not pushed below it: every one of them is
    // masked here, so the step falls back to Gaussian noise, still in the domain.
    let lo = vec![-0.5; n];
    let mut d = LinearMargin {
        w: vec![1.0; n],
        b: -64.0 * 0.5 - 1.0,
    };
    let got = d.margin_gradient(&lo, 0, &mut out).unwrap();
    assert_eq!(got, 1.0);
    Mutator::gradient(&IMAGE)
        .step_to_boundary(&IMAGE, &lo, &lo, got, &mut out, &mut rng)
        .unwrap();
    assert!(IMAGE.contains(&out));
    // Refused without the gradient: by `apply`, and by a campaign without a descent.
    assert!(m
        .apply(Operator::Gradient, &IMAGE, &x, &x, &mut out, &mut rng)
        .is_err());
    let original = image_input(5);
    let (mut current, mut entries) = (original.clone(), [Entry::new(0, 0)]);
    let s = Settings {
        mutator: Mutator::gradient(&IMAGE),
        ..settings(Schedule::Uniform)
    };
    let mut c = Campaign::new(s, IMAGE, &mut entries, &mut current, &original).unwrap();
    let mut proposals = [Proposal::default(); 4];
    let mut inputs = vec![0.0; 4 * 64];
    assert!(matches!(
        c.propose(10, &mut proposals, &mut inputs),
        Err(crate::Error::OutOfRange { .. })
    ));
}

/// The toy pair's plaintext margin for label 0 (`2·mean − 1`) and its gradient.
struct ToyMargin;

impl Descent for ToyMargin {
    fn margin_gradient(
        &mut self,
        x: &[f64],
        _label: usize,
        grad: &mut [f64],
    ) -> crate::Result<f64> {
        let n = x.len() as f64;
        grad.fill(2.0 / n);
        Ok(2.0 * x.iter().sum::<f64>() / n - 1.0)
    }
}

/// A campaign with the gradient operator walks the toy pair's seeds to its plaintext
/// boundary, where the MPC side flips: it finds deviations that Gaussian mutation does not
/// within the same budget, and whatever the order of evaluation it is the same campaign.
#[test]
fn a_gradient_campaign_finds_the_toy_deviations() {
    let run = |mutator: Mutator, reversed: bool| {
        let n = 8;
        // Seeds the plaintext side gets right (mean above ½) but the MPC side does not flip.
        let original: Vec<f64> = (0..n)
            .flat_map(|k| image_input(k as u64).into_iter().map(|v| 0.3 * v + 0.9))
            .collect();
        let mut current = original.clone();
        let mut entries: Vec<Entry> = (0..n).map(|i| Entry::new(i as u32, 0)).collect();
        let s = Settings {
            mutator,
            fitness: Fitness::Margin,
            threshold: 20,
            ..settings(Schedule::Uniform)
        };
        let mut c = Campaign::new(s, IMAGE, &mut entries, &mut current, &original).unwrap();
        for i in 0..n {
            let (mut p, mut m) = ([0.0; 2], [0.0; 2]);
            toy(&original[i * 64..(i + 1) * 64], &mut p, &mut m);
            assert_eq!(c.admit(i, &p, &m).unwrap(), Status::Active);
        }
        let mut proposals = [Proposal::default(); 4];
        let mut inputs = vec![0.0; 4 * 64];
        let budget = 60;
        while c.mutants() < budget && c.active() > 0 {
            let k = c
                .propose_with(
                    budget - c.mutants(),
                    &mut proposals,
                    &mut inputs,
                    Some(&mut ToyMargin),
                )
                .unwrap();
            let (mut plain, mut mpc) = (vec![0.0; 2 * k], vec![0.0; 2 * k]);
            let order: Vec<usize> = if reversed {
                (0..k).rev().collect()
            } else {
                (0..k).collect()
            };
            for j in order {
                let (p, m) = (&mut plain[2 * j..2 * j + 2], &mut mpc[2 * j..2 * j + 2]);
                toy(&inputs[j * 64..(j + 1) * 64], p, m);
            }
            c.tell(
                &proposals[..k],
                &inputs[..k * 64],
                &plain,
                &mpc,
                &mut |_, _| {},
            )
            .unwrap();
        }
        let found = c
            .entries()
            .iter()
            .filter(|e| e.status == Status::Found)
            .count();
        (found, c.digest())
    };
    // Steps up to σ·√n = 4 long: the toy's seeds are far from its boundary.
    let gradient = Mutator {
        sigma: 0.5,
        ..Mutator::gradient(&IMAGE)
    };
    let (found, digest) = run(gradient, false);
    assert_eq!(run(gradient, true), (found, digest));
    let (gaussian, _) = run(
        Mutator {
            projection: Projection::Clip,
            ..Mutator::artifact(&IMAGE)
        },
        false,
    );
    assert!(
        found >= 4 && found > gaussian,
        "gradient {found}, gaussian {gaussian}"
    );
}

// Goal: a plan file lists the layers a plan names in model order, a uniform layer as its
// default and a per-neuron one as groups by increasing level, and leaves out names the model
// does not address (what `mpcdiff fuzz --plan` reads back).
#[test]
fn plan_files_group_neurons_by_level() {
    use crate::difftest::plan::LevelPlan;
    use crate::nn::deploy::Deployment;
    let m = crate::nn::model::Model::parse(crate::nn::builtin::model("lenet").unwrap()).unwrap();
    let (lo, hi) = (Level::new(3, 3), Level::new(9, 9));
    let act4: Vec<Level> = (0..84).map(|j| if j % 2 == 0 { hi } else { lo }).collect();
    let layers = [
        ("act4", act4.as_slice()),
        ("nope", &[lo][..]),
        ("act1", &[hi][..]),
    ];
    let plan = LevelPlan {
        layers: &layers[..],
    };
    let mut s = String::new();
    plan.write_json(&m, Deployment::Crypten, "crypten", &mut s)
        .unwrap();
    let odd: Vec<String> = (1..84).step_by(2).map(|j| j.to_string()).collect();
    let even: Vec<String> = (0..84).step_by(2).map(|j| j.to_string()).collect();
    let want = format!(
        "{{\"schema\":\"mpcdiff.plan/1\",\"architecture\":\"lenet\",\"profile\":\"crypten\",\
         \"layers\":[{{\"name\":\"act1\",\"neurons\":4704,\"default\":{{\"exp\":9,\"nr\":9}},\
         \"groups\":[]}},{{\"name\":\"act4\",\"neurons\":84,\"groups\":[\
         {{\"level\":{{\"exp\":3,\"nr\":3}},\"neurons\":[{}]}},\
         {{\"level\":{{\"exp\":9,\"nr\":9}},\"neurons\":[{}]}}]}}]}}",
        odd.join(","),
        even.join(",")
    );
    assert_eq!(s, want);
}

// Goal: the slice's grid is its points, row-major; images normalise as MNIST's loader does,
// refusing NaN and a wrong size.
#[test]
fn slice_grids_and_normalised_images() {
    use crate::difftest::slice;
    let (c, d1, d2) = ([1.0, 2.0], [1.0, 0.0], [0.0, 1.0]);
    let offsets = [-1.0, 0.0, 1.0];
    let mut g = vec![0.0; 18];
    slice::grid(&c, &d1, &d2, &offsets, &mut g).unwrap();
    assert_eq!(&g[..6], &[0.0, 1.0, 1.0, 1.0, 2.0, 1.0]);
    assert_eq!(&g[12..], &[0.0, 3.0, 1.0, 3.0, 2.0, 3.0]);
    assert!(slice::grid(&c, &d1, &d2, &offsets, &mut g[1..]).is_err());
    let mut x = [0.0; 2];
    crate::digits::normalize_into(&[0.0, 1.0], &mut x).unwrap();
    assert_eq!(x[1], f64::from((1.0f32 - 0.1307) / 0.3081));
    let nan = crate::digits::normalize_into(&[0.0, f32::NAN], &mut x);
    assert_eq!(nan, Err(crate::Error::NonFinite { index: 1 }));
    assert!(crate::digits::normalize_into(&[0.0], &mut x).is_err());
}

// Goal: a one-input campaign is a function of its settings whatever the slices it is driven
// in, its memory carries it between calls, and it stops at its budget.
#[test]
fn a_stepwise_campaign_ignores_how_it_is_sliced() {
    use crate::difftest::evaluator::{Evaluator, Footprint as Needs, Loaded};
    use crate::difftest::fuzzer::{Deviation, Sink, Trial};
    use crate::difftest::oracle::Target;
    use crate::difftest::stepwise::{self, Footprint, Memory, Options, Stepwise};
    use crate::nn::forward::DefaultPlan;
    struct Count(usize);
    impl Sink for Count {
        type Error = crate::Error;
        fn deviation(&mut self, _: &Deviation<'_>) -> crate::Result<()> {
            self.0 += 1;
            Ok(())
        }
    }
    let m = crate::nn::model::Model::parse(crate::nn::builtin::model("lenet").unwrap()).unwrap();
    let t = Target {
        model: &m,
        profile: &crate::approx::profile::CRYPTEN,
        fp: crate::FixedPoint::CRYPTEN_DEFAULT,
        trunc: crate::TruncMode::Local,
        deploy: crate::nn::deploy::Deployment::Crypten,
        engine: crate::Engine::Protocol,
        comparison: Default::default(),
    };
    let mut px = [0.0f32; crate::digits::PIXELS];
    crate::digits::synthetic::sample(1, 0, &mut px).unwrap();
    let mut x = vec![0.0; px.len()];
    crate::digits::normalize_into(&px, &mut x).unwrap();
    let domain = stepwise::mnist_domain();
    let o = Options {
        seed: 9,
        mutations: 6,
        fitness: Fitness::Margin,
        mutator: Mutator::by_name("mpcdiff", &domain).unwrap(),
        repeats: 2,
        mpc_seed: 42,
    };
    let run = |slices: &[u64]| {
        let need = Needs::of(&t, 1).unwrap();
        let (mut f, mut i) = (vec![0.0; need.floats], vec![0i64; need.ints]);
        let mut s = vec![[0i64; 2]; need.shares];
        let mut ev = Evaluator::new(t, 1, &mut f, &mut i, &mut s, Loaded::default()).unwrap();
        let fp = Footprint::of(&m, &o.mutator).unwrap();
        let mut inputs = vec![0.0; fp.inputs];
        let (mut p, mut tr) = (
            vec![Proposal::default(); fp.round],
            vec![Trial::default(); fp.round],
        );
        let mut floats = vec![0.0; fp.floats];
        macro_rules! mem {
            () => {
                Memory {
                    inputs: &mut inputs,
                    proposals: &mut p,
                    trials: &mut tr,
                    floats: &mut floats,
                }
            };
        }
        let mut sink = Count(0);
        let mut c =
            Stepwise::start(&mut ev, &DefaultPlan, domain, o, &x, mem!(), &mut sink).unwrap();
        let mut last = c.progress();
        for &k in slices {
            last = c.step(&mut ev, &DefaultPlan, k, mem!(), &mut sink).unwrap();
        }
        (last, sink.0)
    };
    let (one, found) = run(&[100]);
    assert_eq!(run(&[1, 2, 0, 3]), (one, found));
    assert!(one.done && one.mutants <= 6);
    assert_eq!(one.status == Status::Found, found == 1);
}
