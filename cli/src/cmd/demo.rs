//! `mpcdiff demo`: the project's main job, run by the README's first command.
//!
//! The whole MPCDiff pipeline on the embedded LeNet, in under a minute on two cores (40 s measured):
//! 1. **fuzz**: 200 synthetic digits (or the first 200 MNIST test images with `--data`),
//!    4000 mutations, the margin fitness and the mpcdiff mutator (the `fuzz` defaults);
//! 2. **localize**: votes, per-layer attribution and error sources of the deviations found;
//! 3. **repair**: a quick level search under a 1.5× multiplication budget;
//! 4. **report**: accuracy, known deviations fixed, a new campaign against the repaired
//!    model with the same budget, cost.
//!
//! Files go to `--out DIR` (kept) or a temporary folder (removed). `--json` prints one
//! `mpcdiff.demo/1` object (with `deviations_found`) and nothing else on stdout; same
//! `--seed` ⇒ same bytes, whatever `--threads`.

use crate::engine::plan::PlanFile;
use std::path::PathBuf;

use clap::Args;
use serde::Serialize;

use super::fuzz::{CampaignArgs, FitnessArg, GuideArg, MutatorArg, ScheduleArg};
use super::report::ReportJson;
use crate::engine::fuzzing::{self, RunOptions, Summary};
use crate::engine::localization::Sources;
use crate::engine::pool::Pool;
use crate::engine::target::{Setup, TargetArgs};
use crate::flags::{DeployArg, TruncArg};
use crate::output;

/// Options of `demo`.
#[derive(Clone, Debug, Args)]
pub struct DemoArgs {
    /// Seed of the campaign (scheduling and mutations).
    #[arg(long, value_name = "S", default_value_t = 1)]
    pub seed: u64,
    /// The folder holding mnist/ (e.g. ../shared/data): seeds are MNIST test images instead
    /// of synthetic digits.
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Keep the campaign's files here (default: a temporary folder, removed at the end).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Worker threads (results do not depend on it).
    #[arg(long, value_name = "T")]
    pub threads: Option<usize>,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// Seeds of the demo campaign.
const SEEDS: usize = 200;
/// Its mutation budget.
const MUTATIONS: u64 = 4000;
/// Check inputs of the repair search and the report.
const CHECK: usize = 200;

#[derive(Serialize)]
struct LayerLine {
    name: String,
    neurons: usize,
    fixed_when_exact: usize,
    top_neurons: Vec<u32>,
}

#[derive(Serialize)]
struct DemoJson {
    schema: &'static str,
    version: &'static str,
    seed: u64,
    model: String,
    profile: String,
    frac_bits: u32,
    corpus: String,
    deviations_found: usize,
    campaign: Summary,
    layers: Vec<LayerLine>,
    sources: Sources,
    repair: String,
    repair_meets_target: bool,
    report: ReportJson,
    replay: String,
}

/// Runs the demo.
pub fn run(a: &DemoArgs) -> anyhow::Result<()> {
    let threads = super::fuzz::threads(a.threads)?;
    let target = TargetArgs {
        model: "lenet".into(),
        profile: "crypten".into(),
        frac_bits: 16,
        trunc: TruncArg::Local,
        deploy: DeployArg::Crypten,
        arch: None,
        input_shape: None,
        engine: Default::default(),
    };
    let campaign = CampaignArgs {
        data: a.data.clone(),
        corpus: None,
        synthetic_seed: 2024,
        seeds: SEEDS,
        mutations: Some(MUTATIONS),
        time: None,
        seed: a.seed,
        mpc_seed: 42,
        round: 20,
        threshold: Some(50),
        schedule: ScheduleArg::Energy,
        guide: GuideArg::Err,
        fitness: FitnessArg::Margin,
        mutator: MutatorArg::Mpcdiff,
        sigma: None,
        linf: None,
        l2: None,
        repeats: 8,
        plan: None,
    };
    let replay = format!(
        "mpcdiff demo --seed {}{}",
        a.seed,
        a.data
            .as_ref()
            .map(|d| format!(" --data {}", d.display()))
            .unwrap_or_default()
    );
    crate::output::say!(
        "mpcdiff {}  demo  seed {}  replay: {replay}",
        mpcdiff_kernel::VERSION,
        a.seed
    );
    let setup = Setup::new(&target)?;
    let (spec, corpus, plan) = super::fuzz::spec_of(&campaign, &setup)?;
    let temp = a.out.is_none().then(|| {
        std::env::temp_dir().join(format!("mpcdiff-demo-{}-{}", std::process::id(), a.seed))
    });
    let dir = a.out.clone().or_else(|| temp.clone()).unwrap_or_default();
    let result = (|| -> anyhow::Result<DemoJson> {
        let pool = Pool::new(&setup, threads)?;
        crate::output::say!(
            "[1/4] fuzz: {} seeds, {} mutations",
            corpus.len(),
            spec.mutations
        );
        fuzzing::run(
            &spec,
            &corpus,
            &plan,
            &pool,
            &RunOptions {
                out: Some(&dir),
                resume: false,
                time: None,
                progress: !a.json,
            },
        )?;
        drop(pool);
        let loaded = fuzzing::load(&dir, threads)?;
        let pool = Pool::new(&loaded.setup, threads)?;
        let found = loaded.deviations.len();
        crate::output::say!("[2/4] localize {found} deviations");
        if found == 0 {
            anyhow::bail!("the demo campaign found no deviation to localize and repair (seed {}); try another --seed", a.seed);
        }
        let (layers, sources, repair, meets, report) = {
            let loc = super::repair::localization_of(&dir, &loaded, &pool)?;
            crate::output::say!("[3/4] repair search");
            let r = super::repair::search(&dir, &loaded, CHECK, 1.5, true, &pool, !a.json)?;
            let chosen = &r.tried[r.chosen];
            let plan =
                crate::engine::plan::OwnedPlan::from_json(&r.plan, &loaded.setup, "repair plan")?;
            crate::output::write_atomic(
                &dir.join("plan.json"),
                &(serde_json::to_string_pretty(&r.plan.sealed(&dir)?)? + "\n"),
            )?;
            crate::output::say!("[4/4] report: accuracy, known deviations, a new campaign against the repaired model");
            let report = super::report::build(&dir, &loaded, &plan, CHECK, false, &pool, !a.json)?;
            let layers = loc
                .layers
                .iter()
                .map(|l| LayerLine {
                    name: l.name.clone(),
                    neurons: l.neurons,
                    fixed_when_exact: l.fixed_when_exact,
                    top_neurons: l.top.iter().take(5).map(|n| n.neuron).collect(),
                })
                .collect();
            (
                layers,
                loc.sources,
                chosen.name.clone(),
                chosen.meets_target,
                report,
            )
        };
        Ok(DemoJson {
            schema: "mpcdiff.demo/1",
            version: mpcdiff_kernel::VERSION,
            seed: a.seed,
            model: "lenet".into(),
            profile: setup.profile.name.into(),
            frac_bits: 16,
            corpus: super::fuzz::corpus_name(&spec.corpus),
            deviations_found: found,
            campaign: loaded.campaign.summary.clone(),
            layers,
            sources,
            repair,
            repair_meets_target: meets,
            report,
            replay: replay.clone(),
        })
    })();
    if let Some(t) = &temp {
        let _ = std::fs::remove_dir_all(t);
    }
    let d = result?;
    if a.json {
        return output::emit(&(serde_json::to_string(&d)? + "\n"));
    }
    output::emit(&text(&d, a.out.as_ref()))
}

fn text(d: &DemoJson, out: Option<&PathBuf>) -> String {
    let c = &d.campaign;
    let mut t = format!(
        "MPCDiff demo: LeNet (sigmoid) under two-party MPC, CrypTen's approximations, {} fractional bits\n\n",
        d.frac_bits
    );
    t += &format!(
        "1. Differential testing on {}: {} seeds, {} mutants\n   {} deviation-triggering inputs (MPC label ≠ correct plaintext label), {} of them found by mutation;\n   mean L2 distance to the original {}, mean probability over {} MPC seeds {}\n\n",
        d.corpus,
        c.seeds,
        c.mutants,
        d.deviations_found,
        c.found_by_mutation,
        c.mean_l2.map_or("–".into(), |v| format!("{v:.2}")),
        8,
        c.mean_probability.map_or("–".into(), |v| format!("{v:.2}")),
    );
    t += &format!(
        "2. Localization: error sources: approximation {}, fixed-point {}, share randomness {}\n   deviations removed when one layer is exact:\n",
        d.sources.approximation, d.sources.fixed_point, d.sources.share_randomness
    );
    for l in &d.layers {
        t += &format!(
            "     {:<6} {:>5} neurons  {:>4} / {}{}\n",
            l.name,
            l.neurons,
            l.fixed_when_exact,
            d.deviations_found,
            if l.top_neurons.is_empty() {
                String::new()
            } else {
                format!("   most blamed neurons {:?}", l.top_neurons)
            }
        );
    }
    t += &format!(
        "\n3. Repair: {}{}\n\n4. Before / after:\n{}",
        d.repair,
        if d.repair_meets_target {
            ""
        } else {
            " (best found; the target of fixing all was not met)"
        },
        super::report::text(&d.report)
    );
    t += &match out {
        Some(o) => format!("\nFiles in {}: campaign.json, deviations.jsonl, localize.json, heatmap-*.svg, plan.json, repaired/\n", o.display()),
        None => "\nKeep the files with --out DIR; run the steps yourself with mpcdiff fuzz / localize / repair / report.\n".into(),
    };
    t += &format!("replay: {}\n", d.replay);
    t
}
