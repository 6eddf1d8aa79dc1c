//! `mpcdiff slice`: the decision-boundary slice around an input, plaintext vs MPC labels, as
//! SVG (the MPCDiff paper's Figures 3 and 7; the web page's "Decision boundary" panel).
//!
//! `mpcdiff slice [--model M] [--input FILE | --digit N [--synthetic-seed S]]
//! [--direction-seed D] [--radius R] [--steps K] [--plan FILE] [--mpc-seed S]
//! [target flags] [--out FILE.svg] [--json]`
//!
//! The grid is `K × K` points `input + a·d₁ + b·d₂` in the input's raw space (pixel
//! intensities for MNIST models, raw features for tables), `a` and `b` evenly spaced over
//! `[−R, R]`, the directions two seeded random orthonormal vectors; each point then gets the
//! model's preprocessing, as `mpcdiff predict` applies it. The kernel's
//! [`slice`](mpcdiff_kernel::difftest::slice) labels every point with the plaintext model and
//! with the MPC model (all in one session seeded `--mpc-seed`, in chunks of 8): the web
//! page's slice, bit for bit, for the same settings. The SVG shows the plaintext labels, the
//! MPC labels and where they differ (red).
//!
//! # JSON (`--json`), schema `mpcdiff.slice/1`
//! `{schema, command, version, model, input, profile, frac_bits, trunc, deploy, mpc_seed,
//! direction_seed, radius, steps, offsets, plaintext: [labels, row-major], mpc: [...],
//! disagreements, cost: {rounds, multiplications, bytes_per_party}, svg, replay}`.

use std::fmt::Write as _;
use std::path::PathBuf;

use clap::Args;
use mpcdiff_kernel::difftest::evaluator::{Evaluator, Footprint};
use mpcdiff_kernel::difftest::slice;
use mpcdiff_kernel::{digits, Share};
use serde::Serialize;

use super::predict::{model_input, preprocessing_of, read_input};
use crate::engine::plan::{OwnedPlan, PlanFile};
use crate::engine::target::{Setup, TargetArgs};
use crate::error::usage;
use crate::output;

/// Options of `slice`.
#[derive(Clone, Debug, Args)]
pub struct SliceArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// The input before normalisation: numbers separated by white space or commas (as
    /// `mpcdiff predict --input`).
    #[arg(long, value_name = "FILE", conflicts_with = "digit")]
    pub input: Option<PathBuf>,
    /// Without --input: synthetic digit N of --synthetic-seed (MNIST models).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub digit: u64,
    /// Seed of the synthetic digits.
    #[arg(long, value_name = "S", default_value_t = 2024)]
    pub synthetic_seed: u64,
    /// Seed of the two directions.
    #[arg(long, value_name = "D", default_value_t = 1)]
    pub direction_seed: u64,
    /// Half the side of the plane, in the input's raw units (pixel L2 for images).
    #[arg(long, value_name = "R", default_value_t = 20.0)]
    pub radius: f64,
    /// Grid points per side (2..=41).
    #[arg(long, value_name = "K", default_value_t = 15)]
    pub steps: usize,
    /// A repair plan the MPC model runs with (`mpcdiff repair`'s plan.json).
    #[arg(long, value_name = "FILE")]
    pub plan: Option<PathBuf>,
    /// Seed of the MPC session.
    #[arg(long, value_name = "S", default_value_t = 42)]
    pub mpc_seed: u64,
    /// Where to write the SVG.
    #[arg(long, value_name = "FILE", default_value = "slice.svg")]
    pub out: PathBuf,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// The class colours of the page (`web/js/plots.js`), so the figures match.
const CLASS_COLORS: [&str; 10] = [
    "#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442", "#7f7f7f",
    "#8c564b", "#17becf",
];

#[derive(Serialize)]
struct CostJson {
    rounds: u64,
    multiplications: u64,
    bytes_per_party: u64,
}

#[derive(Serialize)]
struct SliceJson {
    schema: &'static str,
    command: &'static str,
    version: &'static str,
    model: String,
    input: String,
    profile: String,
    frac_bits: u32,
    trunc: &'static str,
    deploy: &'static str,
    /// How the shared arithmetic was simulated (`protocol` or `ideal`).
    engine: &'static str,
    mpc_seed: u64,
    direction_seed: u64,
    radius: f64,
    steps: usize,
    offsets: Vec<f64>,
    plaintext: Vec<u8>,
    mpc: Vec<u8>,
    disagreements: usize,
    cost: CostJson,
    svg: String,
    replay: String,
}

/// Runs `slice`.
pub fn run(a: &SliceArgs) -> anyhow::Result<()> {
    let setup = Setup::new(&a.target)?;
    let features = setup.model.input.len();
    let (raw, input) = match &a.input {
        Some(path) => (read_input(path, features)?, path.display().to_string()),
        None => {
            if setup.dataset != Some("mnist") {
                return Err(usage!(
                    "--model {}: synthetic digits are inputs of MNIST models only; give --input",
                    a.target.model
                )
                .into());
            }
            let mut img = [0.0f32; digits::PIXELS];
            digits::synthetic::sample(a.synthetic_seed, a.digit, &mut img)
                .map_err(|e| usage!("--digit {}: {e}", a.digit))?;
            let raw = img.iter().map(|&u| f64::from(u)).collect();
            (
                raw,
                format!("synthetic digit {} of seed {}", a.digit, a.synthetic_seed),
            )
        }
    };
    let plan = match &a.plan {
        Some(p) => OwnedPlan::load(p, &setup)?,
        None => OwnedPlan::default(),
    };
    let steps = a.steps;
    let mut offsets = vec![0.0; steps];
    slice::offsets(a.radius, &mut offsets).map_err(|e| usage!("--radius/--steps: {e}"))?;
    let (mut d1, mut d2) = (vec![0.0; features], vec![0.0; features]);
    slice::directions(a.direction_seed, &mut d1, &mut d2)
        .map_err(|e| usage!("--model {}: {e}", a.target.model))?;
    let preprocessing = preprocessing_of(&setup, &a.target.model)?;
    let n = steps * steps;
    let mut grid = vec![0.0; n * features];
    slice::grid(&raw, &d1, &d2, &offsets, &mut grid)?;
    let x: Vec<f64> = grid
        .chunks(features)
        .flat_map(|point| model_input(&preprocessing, point))
        .collect();
    const CHUNK: usize = 8;
    let t = setup.target();
    let f = Footprint::of(&t, CHUNK)?;
    let (mut floats, mut ints) = (vec![0.0; f.floats], vec![0i64; f.ints]);
    let mut shares = vec![Share::default(); f.shares];
    let (mut ints128, mut shares128) = (vec![0i128; f.ints128], vec![[0i128; 2]; f.shares128]);
    let mut ev = Evaluator::new(
        t,
        CHUNK,
        &mut floats,
        &mut ints,
        &mut shares,
        Default::default(),
    )?
    .with_z128(&mut ints128, &mut shares128)?;
    let (mut plaintext, mut mpc) = (vec![0u8; n], vec![0u8; n]);
    let mut logits = vec![0.0; n * setup.model.classes];
    let cost = slice::label(
        &mut ev,
        &plan,
        &x,
        n,
        a.mpc_seed,
        &mut plaintext,
        &mut mpc,
        &mut logits,
    )?;
    let disagreements = plaintext.iter().zip(&mpc).filter(|(p, m)| p != m).count();
    let title = format!(
        "{} ({}), {}, {} fractional bits, {} truncation, deploy {}, MPC seed {}",
        a.target.model,
        input,
        setup.profile.name,
        setup.fp.frac_bits(),
        setup.trunc.name(),
        setup.deploy.name(),
        a.mpc_seed
    );
    let svg = svg(&title, steps, a.radius, a.direction_seed, &plaintext, &mpc);
    output::write_atomic(&a.out, &svg)?;
    let replay = format!(
        "mpcdiff slice {}{} --direction-seed {} --radius {} --steps {} --mpc-seed {}{} --out {}",
        setup.flags(),
        match &a.input {
            Some(p) => format!(" --input {}", p.display()),
            None => format!(" --digit {} --synthetic-seed {}", a.digit, a.synthetic_seed),
        },
        a.direction_seed,
        a.radius,
        steps,
        a.mpc_seed,
        a.plan
            .as_ref()
            .map(|p| format!(" --plan {}", p.display()))
            .unwrap_or_default(),
        a.out.display()
    );
    if a.json {
        let j = SliceJson {
            schema: "mpcdiff.slice/1",
            command: "slice",
            version: mpcdiff_kernel::VERSION,
            model: a.target.model.clone(),
            input,
            profile: setup.profile.name.to_string(),
            frac_bits: setup.fp.frac_bits(),
            trunc: setup.trunc.name(),
            deploy: setup.deploy.name(),
            engine: setup.args.engine.engine().name(),
            mpc_seed: a.mpc_seed,
            direction_seed: a.direction_seed,
            radius: a.radius,
            steps,
            offsets,
            plaintext,
            mpc,
            disagreements,
            cost: CostJson {
                rounds: cost.rounds,
                multiplications: cost.multiplications(),
                bytes_per_party: cost.bytes_sent[0],
            },
            svg: a.out.display().to_string(),
            replay,
        };
        return output::emit(&(serde_json::to_string_pretty(&j)? + "\n"));
    }
    output::emit(&format!(
        "{title}\n  {steps}×{steps} grid over [−{r}, {r}]², direction seed {}\n  plaintext and MPC labels differ at {disagreements} of {n} points\n  MPC cost of the grid: {} rounds, {} multiplications\n  svg    {}\n  replay {replay}\n",
        a.direction_seed,
        cost.rounds,
        cost.multiplications(),
        a.out.display(),
        r = a.radius,
    ))
}

/// The three label maps side by side: plaintext, MPC, and where they differ.
fn svg(title: &str, steps: usize, radius: f64, seed: u64, plain: &[u8], mpc: &[u8]) -> String {
    let cell = (300 / steps).max(4);
    let side = cell * steps;
    let (gap, top) = (40, 70);
    let width = 3 * side + 4 * gap;
    let height = top + side + 90;
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" font-family=\"sans-serif\" font-size=\"12\">\n<title>decision-boundary slice: {}</title>\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n<text x=\"{gap}\" y=\"20\" font-size=\"14\">Decision-boundary slice: plaintext vs MPC labels</text>\n<text x=\"{gap}\" y=\"38\">{}</text>\n",
        escape(title),
        escape(title)
    );
    let panels: [(&str, &dyn Fn(usize) -> &'static str); 3] = [
        ("plaintext labels", &|i| {
            CLASS_COLORS[usize::from(plain[i]) % 10]
        }),
        ("MPC labels", &|i| CLASS_COLORS[usize::from(mpc[i]) % 10]),
        ("where they differ (red)", &|i| {
            if plain[i] == mpc[i] {
                "#d9dde3"
            } else {
                "#c62828"
            }
        }),
    ];
    for (p, (name, color)) in panels.iter().enumerate() {
        let x0 = gap + p * (side + gap);
        let _ = writeln!(s, "<text x=\"{x0}\" y=\"{}\">{name}</text>", top - 8);
        for i in 0..steps * steps {
            // Row r is offset r along the second direction: drawn bottom-up, as a plot's y.
            let (r, c) = (i / steps, i % steps);
            let (x, y) = (x0 + c * cell, top + (steps - 1 - r) * cell);
            let _ = writeln!(
                s,
                "<rect x=\"{x}\" y=\"{y}\" width=\"{cell}\" height=\"{cell}\" fill=\"{}\"/>",
                color(i)
            );
        }
        let mid = x0 + side / 2;
        let _ = writeln!(
            s,
            "<circle cx=\"{mid}\" cy=\"{}\" r=\"3\" fill=\"none\" stroke=\"black\"><title>the input</title></circle>",
            top + side / 2
        );
    }
    let _ = writeln!(
        s,
        "<text x=\"{gap}\" y=\"{}\">Columns: a ∈ [−{radius}, {radius}] along d₁ (left to right); rows: b along d₂ (bottom to top); direction seed {seed}; the circle is the input.</text>",
        top + side + 20
    );
    let mut lx = gap;
    let ly = top + side + 50;
    for (k, c) in CLASS_COLORS.iter().enumerate() {
        let _ = writeln!(
            s,
            "<rect x=\"{lx}\" y=\"{}\" width=\"12\" height=\"12\" fill=\"{c}\"/><text x=\"{}\" y=\"{ly}\">{k}</text>",
            ly - 10,
            lx + 16
        );
        lx += 44;
    }
    s += "</svg>\n";
    s
}

fn escape(t: &str) -> String {
    t.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
