//! The differential-testing engine (mutation, fitness, campaigns, oracles, the evaluator, the
//! fuzzer, localization, repair, the decision-boundary slice, voting), the synthetic digits
//! and the determinism probe.

use super::approx::profile;
use super::models::{model_bytes, tamper};
use super::nn::{batch, deployment, plan, Counting};
use super::{e, ok};
use crate::stress::{Entry, Gen, Res};
use mpcdiff_kernel::approx::profile::Profile;
use mpcdiff_kernel::approx::Level;
use mpcdiff_kernel::cost::Cost;
use mpcdiff_kernel::difftest::campaign::{
    self, Campaign, Entry as CorpusEntry, Evaluation, Event, Guide, Proposal, Round, Schedule,
    Settings, Status,
};
use mpcdiff_kernel::difftest::evaluator::{Evaluator, Footprint, Loaded, Runs};
use mpcdiff_kernel::difftest::fitness::{self, Fitness};
use mpcdiff_kernel::difftest::fuzzer::{Deviation, Fuzzer, Judge, Judged, Sink, Step, Trial};
use mpcdiff_kernel::difftest::localization::{self, Suspect, Tally};
use mpcdiff_kernel::difftest::mutation::{
    self, Budget, Descent, Domain, Feature, Mutator, Operator, Projection,
};
use mpcdiff_kernel::difftest::oracle::{self, Buffers, Sizes, Stage, Target};
use mpcdiff_kernel::difftest::plan::{self as lplan, LevelPlan};
use mpcdiff_kernel::difftest::recorder::{LayerRecorder, Recorder};
use mpcdiff_kernel::difftest::repair::{self, Assessment, Candidate, LayerFacts, Score};
use mpcdiff_kernel::difftest::slice;
use mpcdiff_kernel::difftest::voting::{self, Thresholds};
use mpcdiff_kernel::digits::{framing, synthetic, PIXELS};
use mpcdiff_kernel::nn::forward::{Config, DefaultPlan, Plan, Tap};
use mpcdiff_kernel::nn::model::Model;
use mpcdiff_kernel::{nn, selfcheck, Engine, Error, TruncMode};

pub(super) fn entries() -> Vec<Entry> {
    vec![
        e(
            "difftest::mutation::{Mutator::apply,Mutator::choose,Mutator::step_to_boundary,project}",
            mutation_apply,
        ),
        e(
            "difftest::mutation::{Domain::*,distance,Operator::*}",
            mutation_domain,
        ),
        e("difftest::fitness::*", fitness_entry),
        e(
            "difftest::campaign::Campaign::{new,admit,propose,tell}",
            campaign_rounds,
        ),
        e("difftest::campaign::Campaign::step", campaign_step),
        e(
            "difftest::campaign::{evaluation_seed,repeat_seed,Settings,Proposal,names}",
            campaign_misc,
        ),
        e(
            "difftest::oracle::{run,plaintext,mpc,stage,Sizes::of}",
            oracle_entry,
        ),
        e(
            "difftest::evaluator::{Footprint::of,Evaluator::*}",
            evaluator_entry,
        ),
        e(
            "difftest::fuzzer::Fuzzer::{new,admit,round,run}+Judged",
            fuzzer_entry,
        ),
        e(
            "difftest::localization::{examine,layer_errors,source,breakdown,Tally::*,Localized::*}",
            localization_entry,
        ),
        e(
            "difftest::{recorder::{Recorder,LayerRecorder},plan::*}",
            recorder_plan,
        ),
        e("difftest::repair::*", repair_entry),
        e(
            "difftest::slice::{directions,offsets,point,grid,label}",
            slice_entry,
        ),
        e("difftest::voting::*", voting_entry),
        e("difftest::stepwise::*", stepwise_entry),
        e(
            "digits::normalize_into+FixedPoint::encoding_curve+LevelPlan::write_json",
            page_helpers,
        ),
        e("digits::framing::mnist_center", digits_center),
        e("digits::framing::ink_size", digits_ink_size),
        e("digits::synthetic::{digit,sample}", digits_synthetic),
        e("selfcheck::determinism_digest", selfcheck_entry),
    ]
}

/// A domain, its features kept alive in `store` (and their codes in `codes`).
fn domain<'s>(g: &mut Gen, store: &'s mut Vec<Feature<'s>>, codes: &'s [f64]) -> Domain<'s> {
    if g.bool() {
        let (lo, hi) = if g.one_in(16) {
            (g.f64(), g.f64())
        } else {
            (-1.0, 2.0)
        };
        let (channels, height, width) = if g.one_in(12) {
            (g.size(), g.size(), g.size())
        } else {
            (1 + g.small(1), 1 + g.small(4), 1 + g.small(4))
        };
        Domain::Image {
            channels,
            height,
            width,
            lo,
            hi,
        }
    } else {
        let features = if g.one_in(12) { 0 } else { 1 + g.small(5) };
        *store = (0..features)
            .map(|_| {
                if g.bool() {
                    let (lo, hi) = if g.one_in(24) {
                        (g.f64(), g.f64())
                    } else {
                        (0.0, 1.0)
                    };
                    Feature::Continuous { lo, hi }
                } else {
                    let k = if g.one_in(24) {
                        0
                    } else {
                        1 + g.small(codes.len() - 1)
                    };
                    Feature::Categorical {
                        values: &codes[..k],
                    }
                }
            })
            .collect();
        Domain::Table { features: store }
    }
}

/// Category codes: ordinary or hostile.
fn codes(g: &mut Gen) -> Vec<f64> {
    (0..4)
        .map(|i| if g.one_in(30) { g.f64() } else { f64::from(i) })
        .collect()
}

fn mutator(g: &mut Gen, d: &Domain<'_>) -> Mutator {
    let mut m = if g.bool() {
        Mutator::artifact(d)
    } else {
        Mutator::mpcdiff(d)
    };
    if g.one_in(10) {
        m.sigma = g.f64();
    }
    if g.one_in(6) {
        m.weights = [g.u32(), g.u32(), g.u32(), g.u32(), g.u32(), g.u32()];
    }
    if g.one_in(4) {
        m.budget = Budget {
            linf: g.bool().then(|| g.real().abs()),
            l2: g
                .bool()
                .then(|| if g.one_in(6) { g.f64() } else { g.real().abs() }),
        };
    }
    if g.one_in(4) {
        m.projection = Projection::Rescale;
    }
    let _ = m.name();
    m
}

/// An input for a domain of `n` elements, inside it mostly.
fn input(g: &mut Gen, n: usize) -> Vec<f64> {
    (0..g.len(n))
        .map(|_| if g.one_in(64) { g.f64() } else { g.unit() })
        .collect()
}

fn mutation_apply(g: &mut Gen) -> Res {
    let c = codes(g);
    let mut store = Vec::new();
    let d = domain(g, &mut store, &c);
    let m = mutator(g, &d);
    let n = d.len();
    let (original, current) = (input(g, n), input(g, n));
    let mut out = vec![0.0; g.len(n)];
    let mut rng =
        mpcdiff_kernel::seed::substream(g.u64(), mpcdiff_kernel::seed::StreamId::Mutation, g.u64());
    let op = match m.choose(&d, &mut rng) {
        Ok(op) if g.bool() => op,
        _ => g.pick(&Operator::ALL),
    };
    let r = if op == Operator::Gradient && g.bool() {
        // Whatever `out` holds is the gradient; any margin.
        m.step_to_boundary(&d, &original, &current, g.real(), &mut out, &mut rng)
    } else {
        m.apply(op, &d, &original, &current, &mut out, &mut rng)
    };
    let mut x = input(g, n);
    let proj = if g.bool() {
        Projection::Clip
    } else {
        Projection::Rescale
    };
    r.and(mutation::project(&d, proj, &mut x))
}

fn mutation_domain(g: &mut Gen) -> Res {
    let c = codes(g);
    let mut store = Vec::new();
    let d = domain(g, &mut store, &c);
    let _ = (d.len(), d.is_empty(), d.checked_len());
    let x = input(g, d.len());
    let _ = d.contains(&x);
    let _ = mutation::distance(&x, &input(g, d.len()));
    let op = g.pick(&Operator::ALL);
    let _ = (op.name(), op.applies_to(&d), Operator::by_name(&g.text(2)));
    d.check()
}

fn fitness_entry(g: &mut Gen) -> Res {
    let n = g.small(6);
    let len = g.len(n);
    let (a, b) = (g.f64s(n), g.f64s(len));
    let _ = fitness::argmax(&a);
    let mut out = vec![0.0; g.len(n)];
    fitness::softmax(&a, &mut out);
    let _ = fitness::logit_l2(&a, &b);
    let _ = fitness::is_deviation(&a, &b, g.size());
    let f = if g.bool() {
        Fitness::LogitL2
    } else {
        Fitness::Margin
    };
    let _ = (f.score(&a, &b), f.name(), Fitness::by_name(&g.text(2)));
    Ok(())
}

fn settings(g: &mut Gen, d: &Domain<'_>) -> Settings {
    Settings {
        seed: g.u64(),
        mpc_seed: g.u64(),
        round_size: if g.one_in(6) {
            g.size()
        } else {
            1 + g.small(4)
        },
        threshold: if g.one_in(4) {
            g.u32()
        } else {
            1 + g.small(4) as u32
        },
        schedule: if g.bool() {
            Schedule::Uniform
        } else {
            Schedule::Energy
        },
        guide: if g.bool() { Guide::Err } else { Guide::Random },
        fitness: if g.bool() {
            Fitness::LogitL2
        } else {
            Fitness::Margin
        },
        mutator: mutator(g, d),
    }
}

fn corpus(g: &mut Gen, k: usize) -> Vec<CorpusEntry> {
    (0..k)
        .map(|i| {
            let mut e = CorpusEntry::new(i as u32, g.below(3) as u16);
            if g.one_in(6) {
                e.mutations = g.u32();
                e.accepted = g.u32();
                e.fitness = g.f64();
                e.picked = g.u64_edge();
                e.status = g.pick(&[
                    Status::Active,
                    Status::Found,
                    Status::Dropped,
                    Status::Skipped,
                ]);
            }
            e
        })
        .collect()
}

/// Logits of `k` mutants with `classes` classes.
fn logits(g: &mut Gen, k: usize, classes: usize) -> Vec<f64> {
    (0..g.len_of(k, classes))
        .map(|_| if g.one_in(20) { g.f64() } else { g.real() })
        .collect()
}

fn campaign_rounds(g: &mut Gen) -> Res {
    let c = codes(g);
    let mut store = Vec::new();
    let d = domain(g, &mut store, &c);
    let s = settings(g, &d);
    let k = g.small(5);
    let n = d.len();
    let mut entries = corpus(g, k);
    let original = input(g, k.saturating_mul(n));
    let mut current = original.clone();
    if g.one_in(6) {
        current.push(0.0);
    }
    let mut camp = Campaign::new(s, d, &mut entries, &mut current, &original)?;
    if g.one_in(4) {
        camp.resume(g.u64_edge(), g.u64_edge(), g.u64());
    }
    let classes = 2 + g.small(2);
    for i in 0..k {
        let (p, m) = (logits(g, 1, classes), logits(g, 1, classes));
        let _ = camp.admit(if g.one_in(8) { g.size() } else { i }, &p, &m);
    }
    let _ = (
        camp.current(g.size()),
        camp.original(g.small(6)),
        camp.active(),
    );
    let _ = (
        camp.settings(),
        camp.domain(),
        camp.rounds(),
        camp.mutants(),
        camp.digest(),
    );
    for _ in 0..1 + g.small(3) {
        let mut proposals = vec![Proposal::default(); g.small(5)];
        let mut inputs = vec![0.0; g.len(proposals.len().saturating_mul(n))];
        let limit = g.u64_edge();
        let got = camp.propose(limit, &mut proposals, &mut inputs)?;
        let mut ps = proposals[..got].to_vec();
        if g.one_in(6) && !ps.is_empty() {
            ps[0].entry = g.u32();
        }
        let (p, m) = (logits(g, got, classes), logits(g, got, classes));
        let used = got.saturating_mul(n).min(inputs.len());
        camp.tell(&ps, &inputs[..used], &p, &m, &mut |_, ev| {
            let _ = ev.name();
        })?;
    }
    Ok(())
}

fn campaign_step(g: &mut Gen) -> Res {
    let c = codes(g);
    let mut store = Vec::new();
    let d = domain(g, &mut store, &c);
    let s = settings(g, &d);
    let k = g.small(5);
    let n = d.len();
    let mut entries = corpus(g, k);
    let original = input(g, k.saturating_mul(n));
    let mut current = original.clone();
    let mut camp = Campaign::new(s, d, &mut entries, &mut current, &original)?;
    let classes = if g.one_in(8) {
        g.size()
    } else {
        2 + g.small(2)
    };
    let round = 1 + g.small(4);
    let mut proposals = vec![Proposal::default(); g.len(round)];
    let mut inputs = vec![0.0; g.len(round.saturating_mul(n))];
    let mut plain = vec![0.0; g.len(round.saturating_mul(classes))];
    let mut mpc = vec![0.0; g.len(round.saturating_mul(classes))];
    let mut r = Round {
        proposals: &mut proposals,
        inputs: &mut inputs,
        plain: &mut plain,
        mpc: &mut mpc,
    };
    let flip = g.u64();
    let mut eval =
        |p: &Proposal, x: &[f64], pl: &mut [f64], mp: &mut [f64]| -> mpcdiff_kernel::Result<()> {
            for (j, v) in pl.iter_mut().enumerate() {
                *v = x.get(j).copied().unwrap_or(0.5) + j as f64;
            }
            for (j, v) in mp.iter_mut().enumerate() {
                *v = if (flip ^ p.mutant).is_multiple_of(5) {
                    -(j as f64)
                } else {
                    j as f64
                };
            }
            Ok(())
        };
    for _ in 0..1 + g.small(3) {
        camp.step(g.u64_edge(), classes, &mut r, &mut eval, &mut |_, _| {})?;
    }
    Ok(())
}

fn campaign_misc(g: &mut Gen) -> Res {
    let _ = campaign::evaluation_seed(g.u64(), Evaluation::Seed(g.u64_edge()));
    let _ = campaign::evaluation_seed(g.u64(), Evaluation::Mutant(g.u64_edge()));
    let _ = campaign::repeat_seed(g.u64(), g.u64_edge());
    let p = Proposal {
        entry: g.u32(),
        mutant: g.u64(),
        op: g.u8(),
        mpc_seed: g.u64(),
    };
    let _ = p.operator();
    let c = codes(g);
    let mut store = Vec::new();
    let d = domain(g, &mut store, &c);
    let s = settings(g, &d);
    let mut text = String::new();
    let _ = s.write_flags(g.size(), g.u64_edge(), g.u32(), &mut text);
    let _ = (
        Status::by_name(&g.text(2)),
        Schedule::by_name(&g.text(2)),
        Guide::by_name(&g.text(2)),
        Status::Found.name(),
        Event::Dropped.name(),
    );
    Ok(())
}

/// A parsed (possibly tampered) model and a target over it, passed to `f`.
fn with_target(g: &mut Gen, f: impl FnOnce(&Target<'_, '_>, &mut Gen) -> Res) -> Res {
    let bytes = model_bytes(g);
    let mut m = Model::parse(&bytes)?;
    tamper(g, &mut m);
    let p: Profile = profile(g);
    let t = Target {
        model: &m,
        profile: &p,
        fp: super::base::fp(g),
        trunc: if g.bool() {
            TruncMode::Local
        } else {
            TruncMode::Dealer
        },
        deploy: deployment(g),
        engine: if g.bool() {
            Engine::Protocol
        } else {
            Engine::Ideal
        },
        comparison: Default::default(),
    };
    let mut flags = String::new();
    let _ = t.write_flags("stress", &mut flags);
    f(&t, g)
}

fn buffers_len(g: &mut Gen, s: &Sizes) -> [usize; 4] {
    [
        g.scratch(s.params),
        g.scratch(s.input),
        g.scratch(s.out),
        g.scratch(s.arena),
    ]
}

fn oracle_entry(g: &mut Gen) -> Res {
    with_target(g, |t, g| {
        let b = batch(g);
        let sizes = Sizes::of(t.model, t.deploy, b.min(4)).unwrap_or(Sizes {
            params: 0,
            input: 0,
            out: 0,
            arena: 0,
            words: 0,
        });
        let x = input(g, b.saturating_mul(t.model.input.len()));
        let mut logits = vec![0.0; g.len(b.saturating_mul(t.model.classes))];
        let pl = plan(g);
        let mut tap = Counting(0, g.bool());
        let tap: Option<&mut dyn Tap> = if g.bool() { Some(&mut tap) } else { None };
        let _ = Sizes::of(t.model, t.deploy, g.size());
        match g.below(3) {
            0 => {
                let [p, i, o, a] = buffers_len(g, &sizes);
                let (mut p, mut i, mut o, mut a) =
                    (vec![0.0; p], vec![0.0; i], vec![0.0; o], vec![0.0; a]);
                let mut buf = Buffers {
                    params: &mut p,
                    input: &mut i,
                    out: &mut o,
                    arena: &mut a,
                };
                if g.bool() {
                    oracle::plaintext(t, tap, &x, b, &mut logits, &mut buf, true)
                } else {
                    let cfg = Config {
                        profile: t.profile,
                        deploy: t.deploy,
                    };
                    let mut a = mpcdiff_kernel::Float::new(t.fp);
                    oracle::run(
                        &mut a,
                        t.model,
                        &cfg,
                        &pl,
                        tap,
                        &x,
                        b,
                        &mut logits,
                        &mut buf,
                        true,
                    )
                }
            }
            1 => {
                let [p, i, o, a] = buffers_len(g, &sizes);
                let (mut p, mut i, mut o, mut a) = (
                    vec![[0i64; 2]; p],
                    vec![[0i64; 2]; i],
                    vec![[0i64; 2]; o],
                    vec![[0i64; 2]; a],
                );
                let mut buf = Buffers {
                    params: &mut p,
                    input: &mut i,
                    out: &mut o,
                    arena: &mut a,
                };
                let mut words = vec![0i64; g.scratch(sizes.words)];
                ok(oracle::mpc(
                    t,
                    &pl,
                    tap,
                    g.u64(),
                    &x,
                    b,
                    &mut logits,
                    &mut buf,
                    &mut words,
                ))
            }
            _ => {
                let one = Sizes::of(t.model, t.deploy, 1).unwrap_or(sizes);
                let [p, i, o, a] = buffers_len(g, &one);
                let (mut fp_, mut fi, mut fo, mut fa) =
                    (vec![0.0; p], vec![0.0; i], vec![0.0; o], vec![0.0; a]);
                let (mut rp, mut ri, mut ro, mut ra) =
                    (vec![0i64; p], vec![0i64; i], vec![0i64; o], vec![0i64; a]);
                let (mut sp, mut si, mut so, mut sa) = (
                    vec![[0i64; 2]; p],
                    vec![[0i64; 2]; i],
                    vec![[0i64; 2]; o],
                    vec![[0i64; 2]; a],
                );
                let mut words = vec![0i64; g.scratch(one.words)];
                let stage = g.pick(&[
                    Stage::Plaintext,
                    Stage::Approximation,
                    Stage::FixedPoint,
                    Stage::Shared,
                ]);
                let x1 = input(g, t.model.input.len());
                let mut logits = vec![0.0; g.len(t.model.classes)];
                oracle::stage(
                    t,
                    &pl,
                    stage,
                    tap,
                    g.u64(),
                    &x1,
                    &mut logits,
                    &mut Buffers {
                        params: &mut fp_,
                        input: &mut fi,
                        out: &mut fo,
                        arena: &mut fa,
                    },
                    &mut Buffers {
                        params: &mut rp,
                        input: &mut ri,
                        out: &mut ro,
                        arena: &mut ra,
                    },
                    &mut Buffers {
                        params: &mut sp,
                        input: &mut si,
                        out: &mut so,
                        arena: &mut sa,
                    },
                    &mut words,
                )
            }
        }
    })
}

/// An evaluator over a hostile target, with memory of the footprint's size (or off), passed to
/// `f`.
fn with_evaluator(g: &mut Gen, f: impl FnOnce(&mut Evaluator<'_, '_>, &mut Gen) -> Res) -> Res {
    with_target(g, |t, g| {
        let b = if g.one_in(8) {
            g.size()
        } else {
            1 + g.small(2)
        };
        let fp = Footprint::of(t, b).unwrap_or_default();
        let mut floats = vec![0.0; g.scratch(fp.floats)];
        let mut ints = vec![0i64; g.scratch(fp.ints)];
        let mut shares = vec![[0i64; 2]; g.scratch(fp.shares)];
        // What another evaluator (of batch 1) left in the same memory, or nothing.
        let mut loaded = Loaded::default();
        if g.bool() {
            if let Ok(mut other) =
                Evaluator::new(*t, 1, &mut floats, &mut ints, &mut shares, loaded)
            {
                let x = vec![0.0; t.model.input.len()];
                let mut logits = vec![0.0; t.model.classes];
                let _ = other.plaintext(&x, 1, None, &mut logits);
                let _ = other.mpc(&x, 1, &DefaultPlan, None, &mut logits);
                loaded = other.loaded();
            }
        }
        let mut ev = Evaluator::new(*t, b, &mut floats, &mut ints, &mut shares, loaded)?;
        let _ = (ev.target(), ev.loaded(), ev.batch(), ev.classes());
        f(&mut ev, g)
    })
}

fn evaluator_entry(g: &mut Gen) -> Res {
    with_evaluator(g, |ev, g| {
        let n = ev.target().model.input.len();
        let c = ev.classes();
        let pl = plan(g);
        let mut logits = vec![0.0; g.len(c)];
        let x = input(g, n);
        match g.below(6) {
            0 => {
                let b = g.small(3);
                let xb = input(g, b.saturating_mul(n));
                let mut lb = vec![0.0; g.len(b.saturating_mul(c))];
                ev.plaintext(&xb, b, None, &mut lb)
            }
            1 => ok(ev.mpc(&x, g.u64(), &pl, None, &mut logits)),
            2 => {
                let st = g.pick(&[
                    Stage::Plaintext,
                    Stage::Approximation,
                    Stage::FixedPoint,
                    Stage::Shared,
                ]);
                ok(ev.stage(st, &x, g.u64(), &pl, None, &mut logits))
            }
            3 => ok(ev.runs(
                &x,
                g.u64(),
                g.size(),
                g.small(3) as u32,
                &pl,
                None,
                &mut logits,
            )),
            4 => {
                let s = g.small(4);
                let xs = input(g, s.saturating_mul(n));
                let mut ls = vec![0.0; g.len(s.saturating_mul(c))];
                ok(ev.mpc_chunked(&xs, s, g.u64(), &pl, &mut ls))
            }
            _ => {
                let mut m = vec![0.0; g.len(c)];
                let r = ev.judge_one(
                    &x,
                    g.u64(),
                    g.u32() as u16,
                    g.small(3) as u32,
                    &pl,
                    &mut logits,
                    &mut m,
                )?;
                let _ = r.probability();
                Ok(())
            }
        }
    })
}

/// A sink that keeps counts, and sometimes stops the run.
struct Counter(usize, usize);

impl Sink for Counter {
    type Error = Error;
    fn accepted(&mut self, entry: usize, step: Step) -> Result<(), Error> {
        self.0 = self.0.wrapping_add(entry).wrapping_add(step.op as usize);
        Ok(())
    }
    fn deviation(&mut self, d: &Deviation<'_>) -> Result<(), Error> {
        self.0 = self.0.wrapping_add(d.entry).wrapping_add(d.input.len());
        Ok(())
    }
    fn proceed(&mut self, c: &Campaign<'_>) -> Result<bool, Error> {
        self.1 += 1;
        Ok(self.1 < 4 || c.active() == 0)
    }
}

/// A judge that writes made-up logits (sometimes hostile) without a model.
struct Made(u64);

impl Judge for Made {
    fn judge(
        &mut self,
        inputs: &[f64],
        trials: &mut [Trial],
        repeats: u32,
        plain: &mut [f64],
        mpc: &mut [f64],
    ) -> mpcdiff_kernel::Result<()> {
        for (j, v) in plain.iter_mut().enumerate() {
            *v = inputs.get(j).copied().unwrap_or(0.0) + (j % 3) as f64;
        }
        for (j, v) in mpc.iter_mut().enumerate() {
            self.0 = mpcdiff_kernel::seed::splitmix64(self.0 ^ j as u64);
            *v = if self.0.is_multiple_of(7) {
                f64::NAN
            } else {
                (self.0 % 5) as f64
            };
        }
        for t in trials.iter_mut() {
            t.runs = Runs {
                flips: (self.0 % 3) as u32,
                runs: repeats,
            };
        }
        Ok(())
    }
}

fn fuzzer_entry(g: &mut Gen) -> Res {
    let real = g.one_in(3);
    let c = codes(g);
    let mut store = Vec::new();
    let d = domain(g, &mut store, &c);
    let mut s = settings(g, &d);
    s.round_size = s.round_size.min(8);
    let k = g.small(4);
    let n = d.len();
    let mut entries = corpus(g, k);
    let original = input(g, k.saturating_mul(n));
    let mut current = original.clone();
    let mut camp = Campaign::new(s, d, &mut entries, &mut current, &original)?;
    let classes = if g.one_in(8) {
        g.small(3)
    } else {
        2 + g.small(2)
    };
    let round = s.round_size;
    let mut proposals = vec![Proposal::default(); g.len(round)];
    let mut trials = vec![
        Trial::default();
        if g.bool() {
            g.len(round)
        } else {
            round + g.small(4)
        }
    ];
    let mut floats = vec![0.0; g.scratch(Fuzzer::floats(round, n, classes))];
    let mut fz = Fuzzer::new(
        &mut camp,
        classes,
        g.u32() % 4,
        &mut proposals,
        &mut trials,
        &mut floats,
    )?;
    let _ = fz.campaign();
    let mut sink = Counter(0, 0);
    let budget = g.small(12) as u64;
    if real {
        // Judged by a real evaluator over a model whose input may not fit the domain.
        return with_evaluator(g, |ev, g| {
            let pl = plan(g);
            // Sometimes with the plaintext gradient (over memory that may be too small).
            let model = ev.target().model;
            let mut params = vec![0.0; g.scratch(nn::gradient::params_len(model).unwrap_or(0))];
            let _ = nn::gradient::Plain::load(model, &mut params);
            let mut tape = vec![0.0; g.scratch(nn::gradient::tape_elems(model))];
            let mut descent = nn::gradient::Plain::new(model, &params, &mut tape);
            let mut judge = Judged {
                evaluator: ev,
                plan: &pl,
                descent: g.bool().then_some(&mut descent as &mut dyn Descent),
            };
            fz.admit(&mut judge, &mut sink)?;
            fz.run(budget, &mut judge, &mut sink).map(|_| ())
        });
    }
    let mut judge = Made(g.u64());
    fz.admit(&mut judge, &mut sink)?;
    if g.bool() {
        fz.round(g.u64_edge(), &mut judge, &mut sink).map(|_| ())
    } else {
        fz.run(budget, &mut judge, &mut sink).map(|_| ())
    }
}

fn localization_entry(g: &mut Gen) -> Res {
    with_target(g, |t, g| {
        let th = Thresholds {
            high: if g.one_in(10) {
                g.f64()
            } else {
                g.unit() / 2.0
            },
            low: if g.one_in(10) {
                g.f64()
            } else {
                g.unit() / 2.0
            },
        };
        let (cn, fnn) = localization::tally_sizes(t.model, t.deploy);
        let mut counts = vec![0u32; g.scratch(cn)];
        let mut errs = vec![0.0; g.scratch(fnn)];
        let _ = localization::examine_floats(t.model);
        let mut tally = Tally::new(t.model, t.deploy, th, &mut counts, &mut errs)?;
        let layers = tally.layers().count();
        let elen = Recorder::len(t.model, 1);
        let errors = input(g, elen);
        let fixed: Vec<bool> = (0..g.len(layers)).map(|_| g.bool()).collect();
        let st = g.pick(&[
            Stage::Plaintext,
            Stage::Approximation,
            Stage::FixedPoint,
            Stage::Shared,
        ]);
        let r = tally.add(&errors, &fixed, st);
        let k = g.small(layers + 1);
        let _ = (tally.deviations(), tally.thresholds(), tally.sources());
        let _ = tally.votes(k);
        let mut out = vec![0.0; g.small(8)];
        let _ = tally.mean_errors(k, &mut out);
        let _ = tally.sets(k).map(|_| ());
        let _ = tally.ranked(k).map(|_| ());
        if g.one_in(3) {
            // examine/source on a real evaluator (the costliest path).
            let b = 1;
            let fp = Footprint::of(t, b).unwrap_or_default();
            let mut floats = vec![0.0; g.scratch(fp.floats)];
            let mut ints = vec![0i64; g.scratch(fp.ints)];
            let mut shares = vec![[0i64; 2]; g.scratch(fp.shares)];
            let mut ev = Evaluator::new(
                *t,
                b,
                &mut floats,
                &mut ints,
                &mut shares,
                Loaded::default(),
            )?;
            let x = input(g, t.model.input.len());
            let plain = input(g, t.model.classes);
            let d = Suspect {
                input: &x,
                mpc_seed: g.u64(),
                label: g.small(4),
                plaintext: &plain,
            };
            let pl = plan(g);
            let mut ef = vec![0.0; g.scratch(localization::examine_floats(t.model))];
            let mut fx = vec![false; g.len(layers)];
            return match g.small(5) {
                0 => ok(localization::examine(&mut ev, &pl, &d, &mut ef, &mut fx)),
                1 => {
                    let n = localization::layer_errors_floats(t.model, t.deploy);
                    let mut lf = vec![0.0; g.scratch(n)];
                    ok(localization::layer_errors(&mut ev, &pl, &d, &mut lf))
                }
                2 => ok(localization::source(&mut ev, &pl, &d)),
                3 => {
                    let (len, rows) = localization::breakdown_sizes(t.model);
                    let mut taps = vec![0.0; g.scratch(len)];
                    let mut gaps = vec![[0.0; 3]; g.scratch(rows)];
                    let mut logits = vec![0.0; g.scratch(4 * t.model.classes)];
                    let (lg, gp) = (&mut logits, &mut gaps);
                    ok(localization::breakdown(
                        &mut ev, &pl, &x, d.mpc_seed, &mut taps, lg, gp,
                    ))
                }
                _ => {
                    let (f, c) = localization::localized_sizes(t.model, t.deploy);
                    let (mut lf, mut lc) = (vec![0.0; g.scratch(f)], vec![0u32; g.scratch(c)]);
                    let mut l = localization::Localized::new(&mut ev, &pl, &d, &mut lf, &mut lc)?;
                    let _ = l.source();
                    ok(l.layer(g.small(layers + 1)))
                }
            };
        }
        r
    })
}

fn recorder_plan(g: &mut Gen) -> Res {
    let bytes = model_bytes(g);
    let mut m = Model::parse(&bytes)?;
    tamper(g, &mut m);
    let b = g.size();
    let _ = Recorder::len(&m, b);
    let b = g.small(3);
    let mut buf = vec![0.0; g.scratch(Recorder::len(&m, b))];
    let mut rec = Recorder::new(&m, b, &mut buf)?;
    let len = g.small(8);
    let v = g.f64s(len);
    rec.activation(g.size(), "x", g.size(), &v);
    rec.activation(g.small(4), "x", g.small(4), &v);
    let dep = deployment(g);
    let _ = LayerRecorder::len(&m, dep, g.size());
    let mut lbuf = vec![0.0; g.scratch(LayerRecorder::len(&m, dep, b))];
    if let Ok(mut lr) = LayerRecorder::new(&m, dep, b, &mut lbuf) {
        let _ = lr.wants_layers();
        lr.layer(g.size(), "x", g.size(), &v);
        lr.layer(g.small(4), "x", g.small(4), &v);
        lr.activation(g.small(4), "x", g.small(4), &v);
    }
    let layers: Vec<_> = lplan::nonlinear_layers(&m, deployment(g)).collect();
    let lv: Vec<(String, Vec<Level>)> = layers
        .iter()
        .map(|l| {
            (
                l.name.to_string(),
                vec![Level::new(g.u8(), g.u8()); g.small(3)],
            )
        })
        .collect();
    let lp = LevelPlan { layers: &lv[..] };
    let name = layers.first().map_or("none", |l| l.name);
    let _ = (lp.levels(name), lp.is_default(), lp.mode(name));
    let ex = lplan::Exact {
        plan: &lp,
        layer: name,
    };
    let _ = ex.mode(name);
    let mut out = vec![Level::new(0, 0); g.small(8)];
    let hi: Vec<u32> = (0..g.small(4)).map(|_| g.u32()).collect();
    lplan::assign(
        &mut out,
        Level::new(1, 1),
        (&hi, Level::new(2, 2)),
        (&hi, Level::new(3, 3)),
    );
    Ok(())
}

fn score(g: &mut Gen) -> Score {
    Score {
        fixed: g.size(),
        known: g.size(),
        flips: g.u32(),
        mpc_correct: g.size(),
        multiplications: g.u64_edge(),
        rounds: g.u64_edge(),
    }
}

fn repair_entry(g: &mut Gen) -> Res {
    let steps: Vec<(u8, u8)> = (0..g.small(4)).map(|_| (g.u8(), g.u8())).collect();
    let blamed = if g.one_in(4) { g.size() } else { g.small(3) };
    let cands: Vec<Candidate> = repair::candidates(blamed, &steps).take(64).collect();
    let _ = repair::raise(Level::new(g.u8(), g.u8()), (g.u8(), g.u8()));
    let base = score(g);
    let tried: Vec<Score> = (0..g.small(4)).map(|_| score(g)).collect();
    let budget = g.f64();
    let _ = (
        repair::limit(&base, budget),
        repair::choose(&tried, &base, budget),
    );
    let _ = tried.first().map(|s| repair::meets(s, &base, budget));
    let _ = tried.first().map(|s| repair::improves(s, &base));
    let mut a = Assessment {
        known: g.size(),
        flips: g.u32(),
        runs: g.u32(),
        check: g.size(),
        wrap_events: g.u64_edge(),
        ..Assessment::default()
    };
    let cost = Cost {
        wrap_events: g.u64_edge(),
        rounds: g.u64_edge(),
        ..Cost::default()
    };
    a.add_known(
        Runs {
            flips: g.u32(),
            runs: g.u32(),
        },
        &cost,
    );
    a.add_check(g.size(), g.size(), g.size(), &cost);
    let _ = (a.mpc_accuracy(), a.score());
    let bytes = model_bytes(g);
    let mut m = Model::parse(&bytes)?;
    tamper(g, &mut m);
    let p = profile(g);
    let votes: Vec<u32> = (0..g.small(6)).map(|_| g.u32()).collect();
    let layer = |k: usize| (&votes[..], &votes[..k.min(votes.len())], k);
    let facts: Vec<LayerFacts<'_>> =
        repair::layer_facts(&m, deployment(g), &p, &DefaultPlan, &layer)?.to_vec();
    let _ = repair::blamed(&facts);
    let mut scratch = vec![Level::new(0, 0); g.small(16)];
    for c in cands.iter().take(8) {
        let _ = c.applies(&facts);
        let mut text = String::new();
        let _ = c.describe(&facts, &mut text);
        if let Some(f) = facts.first() {
            let mut out = vec![Level::new(0, 0); g.small(8)];
            let _ = c.levels(f, &mut out);
        }
        c.expand(&facts, &mut scratch, &mut |_, _| {})?;
    }
    Ok(())
}

fn slice_entry(g: &mut Gen) -> Res {
    let n = if g.one_in(8) {
        g.small(2)
    } else {
        2 + g.small(6)
    };
    let (mut d1, mut d2) = (vec![0.0; n], vec![0.0; g.len(n)]);
    let r = slice::directions(g.u64(), &mut d1, &mut d2);
    let mut offs = vec![0.0; g.small(45)];
    let radius = if g.one_in(4) {
        g.f64()
    } else {
        1.0 + g.unit() * 10.0
    };
    let r2 = slice::offsets(radius, &mut offs);
    let center = input(g, n);
    let mut out = vec![0.0; g.len(n)];
    slice::point(&center, &d1, &d2, g.f64(), g.f64(), &mut out);
    let mut grid = vec![0.0; g.len(offs.len().saturating_mul(offs.len()).saturating_mul(n))];
    let r3 = slice::grid(&center, &d1, &d2, &offs, &mut grid);
    if g.one_in(3) {
        return with_evaluator(g, |ev, g| {
            let (n, c) = (ev.target().model.input.len(), ev.classes());
            let s = g.small(3);
            let x = input(g, s.saturating_mul(n));
            let (mut pl, mut mp) = (vec![0u8; g.len(s)], vec![0u8; g.len(s)]);
            let mut logits = vec![0.0; g.len(s.saturating_mul(c))];
            let p = plan(g);
            ok(slice::label(
                ev,
                &p,
                &x,
                s,
                g.u64(),
                &mut pl,
                &mut mp,
                &mut logits,
            ))
        });
    }
    r.and(r2).and(r3)
}

fn voting_entry(g: &mut Gen) -> Res {
    let n = g.small(10);
    let err = g.f64s(n);
    let th = Thresholds {
        high: if g.one_in(6) { g.f64() } else { g.unit() / 2.0 },
        low: if g.one_in(6) { g.f64() } else { g.unit() / 2.0 },
    };
    let _ = Thresholds::count(g.f64(), g.size());
    let mut order = vec![0u32; g.len(n)];
    let mut high: Vec<u32> = (0..g.len(n)).map(|_| g.u32()).collect();
    let mut low: Vec<u32> = (0..g.len(n)).map(|_| g.u32()).collect();
    let r = voting::vote(&err, th, &mut order, &mut high, &mut low);
    let mut o2 = vec![0u32; g.len(high.len())];
    let _ = voting::select(&high, g.f64(), &mut o2).map(|_| ());
    let mut o3 = vec![0u32; g.len(low.len())];
    let mut o4 = vec![0u32; g.len(high.len())];
    let _ = voting::sets(&high, &low, th, &mut o4, &mut o3).map(|_| ());
    let _ = voting::rank_signed(&high, &low, &mut order);
    r
}

fn digits_center(g: &mut Gen) -> Res {
    let (w, h) = if g.one_in(10) {
        (g.size(), g.size())
    } else {
        (1 + g.small(12), 1 + g.small(8))
    };
    let n = g.len(w.saturating_mul(h));
    let src: Vec<f32> = (0..n)
        .map(|_| {
            if g.one_in(30) {
                g.f64() as f32
            } else {
                g.unit() as f32 - 0.3
            }
        })
        .collect();
    let mut out = [0.0f32; PIXELS];
    framing::mnist_center(&src, w, h, &mut out)
}

fn digits_ink_size(g: &mut Gen) -> Res {
    let (w, h) = if g.one_in(10) {
        (g.size(), g.size())
    } else {
        (1 + g.small(12), 1 + g.small(8))
    };
    let n = g.len(w.saturating_mul(h));
    let src: Vec<f32> = (0..n)
        .map(|_| {
            if g.one_in(30) {
                g.f64() as f32
            } else {
                g.unit() as f32 - 0.3
            }
        })
        .collect();
    framing::ink_size(&src, w, h).map(|_| ())
}

fn digits_synthetic(g: &mut Gen) -> Res {
    let mut out = [0.0f32; PIXELS];
    if g.bool() {
        let label = if g.one_in(6) {
            g.u8()
        } else {
            g.below(10) as u8
        };
        synthetic::digit(g.u64(), g.u64_edge(), label, &mut out)
    } else {
        ok(synthetic::sample(g.u64(), g.u64_edge(), &mut out))
    }
}

fn selfcheck_entry(g: &mut Gen) -> Res {
    // The probe runs a fixed workload: run it rarely at full size, mostly on short arenas.
    let words = if g.one_in(8) {
        selfcheck::SELFCHECK_ARENA_WORDS + g.small(2)
    } else {
        g.small(selfcheck::SELFCHECK_ARENA_WORDS - 1)
    };
    let mut arena = vec![0i64; words];
    ok(selfcheck::determinism_digest(g.u64(), &mut arena))
}

/// A campaign over one input started and stepped with hostile options, inputs and memory.
fn stepwise_entry(g: &mut Gen) -> Res {
    use mpcdiff_kernel::difftest::stepwise::{self, Footprint as Needs, Memory, Options, Stepwise};
    struct Drop;
    impl Sink for Drop {
        type Error = Error;
        fn deviation(&mut self, _d: &Deviation<'_>) -> Result<(), Error> {
            Ok(())
        }
    }
    with_evaluator(g, |ev, g| {
        let model = ev.target().model;
        let n = model.input.len();
        let domain = if g.bool() {
            stepwise::mnist_domain()
        } else {
            Domain::Image {
                channels: 1,
                height: 1,
                width: n,
                lo: -1.0,
                hi: 2.0,
            }
        };
        let name = g.pick(&["mpcdiff", "artifact", "gradient"]);
        let mutator =
            Mutator::by_name(name, &domain).ok_or(Error::OutOfRange { what: "mutator" })?;
        let o = Options {
            seed: g.u64(),
            mutations: if g.one_in(4) {
                g.u64()
            } else {
                1 + g.small(6) as u64
            },
            fitness: g.pick(&[Fitness::Margin, Fitness::LogitL2]),
            mutator,
            repeats: if g.one_in(4) {
                g.u32()
            } else {
                1 + g.small(2) as u32
            },
            mpc_seed: g.u64(),
        };
        let need = Needs::of(model, &mutator)?;
        let mut inputs = vec![0.0; g.scratch(need.inputs)];
        let mut proposals = vec![Proposal::default(); g.scratch(need.round)];
        let mut trials = vec![Trial::default(); g.scratch(need.round)];
        let mut floats = vec![0.0; g.scratch(need.floats)];
        let xn = g.len(n);
        let x = input(g, xn);
        let plan = plan(g);
        let mem = Memory {
            inputs: &mut inputs,
            proposals: &mut proposals,
            trials: &mut trials,
            floats: &mut floats,
        };
        let mut s = Stepwise::start(ev, &plan, domain, o, &x, mem, &mut Drop)?;
        let _ = (s.progress(), s.label(), s.settings());
        let mut line = String::new();
        let _ = s.write_corpus_line(&x, &mut line);
        let _ = s.write_command(&ev.target().clone(), "m", g.bool(), &mut line);
        let mem = Memory {
            inputs: &mut inputs,
            proposals: &mut proposals,
            trials: &mut trials,
            floats: &mut floats,
        };
        ok(s.step(ev, &plan, g.small(4) as u64, mem, &mut Drop))
    })
}

/// The page's helpers: normalising an image, the encoding curve, a plan file.
fn page_helpers(g: &mut Gen) -> Res {
    let px: Vec<f32> = (0..g.small(6)).map(|_| g.f64() as f32).collect();
    let mut x = vec![0.0; g.len(px.len())];
    let r = mpcdiff_kernel::digits::normalize_into(&px, &mut x);
    let fp = mpcdiff_kernel::FixedPoint::new(g.small(45) as u32);
    let n = g.small(6);
    let (mut xs, mut rel) = (vec![0.0; n], vec![0.0; g.len(n)]);
    let r2 = fp.and_then(|fp| fp.encoding_curve(&mut xs, &mut rel));
    let bytes = model_bytes(g);
    let mut m = Model::parse(&bytes)?;
    tamper(g, &mut m);
    let levels: Vec<Level> = (0..g.small(5))
        .map(|_| Level::new(g.below(12) as u8, g.below(12) as u8))
        .collect();
    let names: Vec<&str> = m.spec.layers.iter().map(|l| l.name.as_str()).collect();
    let layers: Vec<(&str, &[Level])> = names.iter().map(|&n| (n, &levels[..])).collect();
    let mut json = String::new();
    let _ = LevelPlan {
        layers: &layers[..],
    }
    .write_json(&m, deployment(g), "p", &mut json);
    r.and(r2)
}
