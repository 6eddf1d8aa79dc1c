//! `mpcdiff approx`: where an approximation's error comes from.
//!
//! # Modes
//! * default: for `--points` inputs spread over `--range`, run the function exactly (`libm`),
//!   as an algorithm in ideal math (float), in plaintext fixed point and on two-party shares
//!   (kernel `approx::attribution`), print the largest and mean error each stage adds, the
//!   shared cost per element, and write an SVG plot of |error| vs x per stage (the MPCDiff
//!   slides' Figure 2).
//! * `--encoding`: the relative error of fixed-point encoding alone vs x, for several
//!   `frac_bits` (Figure 1).
//! * `--raw-in FILE --arith fixed|shared`: read ring integers (signed decimal, one per line;
//!   two columns for `--fn mul`), print the output ring integers one per line and nothing
//!   else, for bit-level comparison with other frameworks.
//!
//! # JSON (`--json`), schema 1
//! Default mode: `{schema, command: "approx", version, seed, function, profile, frac_bits,
//! level: {iters_exp, iters_nr}, trunc, range: [lo, hi], points, plot, stages:
//! {approximation, encoding, shares, total}: {max_abs, mean_abs, max_rel, x_at_max},
//! cost_per_element: {rounds, mul_triples, square_pairs, and_triples, bytes_per_party,
//! truncations}, samples: [{x, exact, float, fixed, shared}]}`. Encoding mode:
//! `{schema, command: "approx-encoding", version, frac_bits: [..], series: [{frac_bits,
//! samples: [[x, rel_err], ..]}]}`. Non-finite numbers are `null`.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, ValueEnum};
use mpcdiff_kernel::approx::attribution::{Probe, Stages};
use mpcdiff_kernel::approx::profile::Profile;
use mpcdiff_kernel::approx::{self, Function, Level, Levels};
use mpcdiff_kernel::{Fixed, FixedPoint, RingArith, Shared, TruncMode};
use serde::Serialize;

use crate::error::{usage, UsageError};
use crate::flags::{parse_profile, TruncArg};
use crate::output;
use crate::output::write_atomic;
use crate::svg::{Chart, Scale, Series, PALETTE};

/// The largest `--points`.
pub const POINTS_MAX: usize = 10_001;

/// Which arithmetic `--raw-in` runs in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ArithArg {
    /// Plaintext fixed point (CrypTen one-party; no randomness).
    Fixed,
    /// Two-party shares, seeded with `--seed`.
    Shared,
}

/// Options of `approx`. Syntax only: [`Plan::from_args`] checks values.
#[derive(Clone, Debug, Args)]
pub struct ApproxArgs {
    /// The function: exp, reciprocal, reciprocal-pos, inv-sqrt, sqrt, log, sigmoid, tanh, erf,
    /// erf-bounded, gelu-tanh, gelu-erf, relu, ltz, sign (and mul with --raw-in).
    #[arg(long = "fn", value_name = "NAME")]
    pub function: Option<String>,
    /// The approximation profile: crypten, mpcdiff, crypten-chebyshev, tfe, tfe-mpcdiff, pysyft,
    /// pysyft-mpcdiff, spu, spu-fm128 (another framework's profile brings its format, ring and
    /// truncation unless
    /// --frac-bits and --trunc say otherwise).
    #[arg(long, default_value = "crypten")]
    pub profile: String,
    /// Fractional bits of the fixed-point encoding (0..=40).
    #[arg(long, default_value_t = 16)]
    pub frac_bits: u32,
    /// The input range LO:HI (default: a range suited to the function).
    #[arg(long, value_name = "LO:HI", allow_hyphen_values = true)]
    pub range: Option<String>,
    /// Number of evenly spaced inputs (2..=10001).
    #[arg(long, default_value_t = 401)]
    pub points: usize,
    /// Approximation level: E/R (exp squarings / Newton steps), or high, medium, low from the
    /// profile's repair levels. Default: the profile's level for the function.
    #[arg(long, value_name = "E/R|high|medium|low")]
    pub level: Option<String>,
    /// MPC seed of the shared run.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Truncation protocol of the shared arithmetic.
    #[arg(long, value_enum, default_value = "local")]
    pub trunc: TruncArg,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Where to write the SVG plot (default: approx-<fn>-<profile>-f<bits>.svg, or
    /// approx-encoding.svg).
    #[arg(long, value_name = "FILE")]
    pub plot: Option<PathBuf>,
    /// Do not write a plot.
    #[arg(long, conflicts_with = "plot")]
    pub no_plot: bool,
    /// Show the relative error of fixed-point encoding vs x for several frac_bits (Figure 1).
    #[arg(long, conflicts_with_all = ["raw_in", "function"])]
    pub encoding: bool,
    /// Read raw ring integers from FILE and print raw outputs (needs --fn and --arith).
    #[arg(long, value_name = "FILE", requires = "arith")]
    pub raw_in: Option<PathBuf>,
    /// Arithmetic for --raw-in.
    #[arg(long, value_enum, requires = "raw_in")]
    pub arith: Option<ArithArg>,
}

/// What to compute: a function, or the binary `mul` (raw mode only).
#[derive(Clone, Copy, Debug)]
enum Op {
    Unary(Function),
    Mul,
}

/// The checked plan.
struct Plan {
    op: Op,
    profile: &'static Profile,
    fp: FixedPoint,
    level: Level,
    lo: f64,
    hi: f64,
    points: usize,
    seed: u64,
    trunc: TruncMode,
    json: bool,
    plot: Option<PathBuf>,
}

fn default_range(f: Function) -> (f64, f64) {
    use Function::*;
    match f {
        Exp => (-10.0, 10.0),
        Reciprocal | ReciprocalPos => (0.05, 50.0),
        InvSqrt | Sqrt => (0.05, 100.0),
        Log => (0.01, 100.0),
        Tanh => (-5.0, 5.0),
        Erf => (-2.0, 2.0),
        ErfBounded => (-5.0, 5.0),
        GeluTanh | GeluErf => (-8.0, 8.0),
        _ => (-10.0, 10.0),
    }
}

fn parse_op(name: &str) -> Result<Op, UsageError> {
    if name == "mul" {
        return Ok(Op::Mul);
    }
    Function::by_name(name).map(Op::Unary).ok_or_else(|| {
        let names: Vec<&str> = Function::ALL.iter().map(|f| f.name()).collect();
        usage!(
            "--fn {name:?} is not a known function (one of: {}, mul)",
            names.join(", ")
        )
    })
}

pub(crate) fn parse_level(s: &str, p: &Profile) -> Result<Level, UsageError> {
    match s {
        "high" => return Ok(p.repair.high),
        "medium" => return Ok(p.repair.medium),
        "low" => return Ok(p.repair.low),
        _ => {}
    }
    let bad =
        || usage!("--level {s:?} must be E/R (e.g. 9/9, E ≤ 40, R ≤ 255) or high, medium, low");
    let (e, r) = s.split_once('/').ok_or_else(bad)?;
    let e: u8 = e.trim().parse().map_err(|_| bad())?;
    let r: u8 = r.trim().parse().map_err(|_| bad())?;
    if e > approx::levels::ITERS_EXP_MAX {
        return Err(bad());
    }
    Ok(Level::new(e, r))
}

fn parse_range(s: &str) -> Result<(f64, f64), UsageError> {
    let bad = || usage!("--range {s:?} must be LO:HI with finite LO < HI");
    let (a, b) = s.split_once(':').ok_or_else(bad)?;
    let lo: f64 = a.trim().parse().map_err(|_| bad())?;
    let hi: f64 = b.trim().parse().map_err(|_| bad())?;
    if !(lo.is_finite() && hi.is_finite() && lo < hi) {
        return Err(bad());
    }
    Ok((lo, hi))
}

impl Plan {
    fn from_args(a: &ApproxArgs) -> Result<Plan, UsageError> {
        let profile = parse_profile(&a.profile)?;
        let frac_bits = profile.resolve_digits(a.frac_bits);
        let fp = crate::flags::format(profile, frac_bits)?;
        let name = a
            .function
            .as_deref()
            .ok_or_else(|| usage!("--fn is required (or use --encoding)"))?;
        let op = parse_op(name)?;
        let f = match op {
            Op::Unary(f) => Some(f),
            Op::Mul if a.raw_in.is_none() => {
                return Err(usage!("--fn mul is only available with --raw-in"))
            }
            Op::Mul => None,
        };
        let level = match (&a.level, f) {
            (Some(s), _) => parse_level(s, profile)?,
            (None, Some(f)) => f.default_level(profile),
            (None, None) => Level::new(0, 0),
        };
        let (lo, hi) = match (&a.range, f) {
            (Some(s), _) => parse_range(s)?,
            (None, Some(f)) => default_range(f),
            (None, None) => (0.0, 1.0),
        };
        if !(2..=POINTS_MAX).contains(&a.points) {
            return Err(usage!(
                "--points {} must be between 2 and {POINTS_MAX}",
                a.points
            ));
        }
        for v in [lo, hi] {
            fp.encode(v).map_err(|_| {
                usage!("--range: {v} does not fit the fixed-point ring at --frac-bits {frac_bits}")
            })?;
        }
        let plot = if a.no_plot || a.raw_in.is_some() {
            None
        } else {
            Some(a.plot.clone().unwrap_or_else(|| {
                PathBuf::from(format!("approx-{name}-{}-f{frac_bits}.svg", profile.name))
            }))
        };
        Ok(Plan {
            op,
            profile,
            fp,
            level,
            lo,
            hi,
            points: a.points,
            seed: a.seed,
            trunc: crate::flags::resolve_trunc(profile, a.trunc).mode(),
            json: a.json,
            plot,
        })
    }
}

/// Runs `approx`.
pub fn run(args: &ApproxArgs) -> anyhow::Result<()> {
    if args.encoding {
        let fp = FixedPoint::new(args.frac_bits).map_err(|e| usage!("--frac-bits: {e}"))?;
        let plot = if args.no_plot {
            None
        } else {
            Some(
                args.plot
                    .clone()
                    .unwrap_or_else(|| PathBuf::from("approx-encoding.svg")),
            )
        };
        return encoding(fp, args.json, plot.as_deref());
    }
    let plan = Plan::from_args(args)?;
    if let Some(path) = &args.raw_in {
        return raw(&plan, path, args.arith.unwrap_or(ArithArg::Fixed));
    }
    attribution(&plan)
}

#[derive(Serialize)]
struct StageSummary {
    max_abs: f64,
    mean_abs: f64,
    max_rel: f64,
    x_at_max: f64,
}

fn summarize(
    x: &[f64],
    err: impl Fn(usize) -> f64,
    reference: impl Fn(usize) -> f64,
) -> StageSummary {
    let mut s = StageSummary {
        max_abs: 0.0,
        mean_abs: 0.0,
        max_rel: 0.0,
        x_at_max: x[0],
    };
    let mut count = 0usize;
    for (i, &xi) in x.iter().enumerate() {
        let e = err(i).abs();
        if !e.is_finite() {
            continue;
        }
        count += 1;
        s.mean_abs += e;
        if e > s.max_abs {
            s.max_abs = e;
            s.x_at_max = xi;
        }
        let r = reference(i).abs();
        if r > 0.0 && r.is_finite() {
            s.max_rel = s.max_rel.max(e / r);
        }
    }
    s.mean_abs /= count.max(1) as f64;
    s
}

#[derive(Serialize)]
struct Sample {
    x: f64,
    exact: f64,
    float: f64,
    fixed: f64,
    shared: f64,
}

#[derive(Serialize)]
struct CostPerElement {
    rounds: u64,
    mul_triples: f64,
    square_pairs: f64,
    and_triples: f64,
    bytes_per_party: f64,
    truncations: f64,
}

#[derive(Serialize)]
struct LevelJson {
    iters_exp: u8,
    iters_nr: u8,
}

#[derive(Serialize)]
struct Report<'a> {
    schema: u32,
    command: &'static str,
    version: &'static str,
    seed: u64,
    function: &'static str,
    profile: &'static str,
    frac_bits: u32,
    level: LevelJson,
    trunc: &'static str,
    range: [f64; 2],
    points: usize,
    plot: Option<String>,
    stages: std::collections::BTreeMap<&'static str, StageSummary>,
    cost_per_element: CostPerElement,
    samples: &'a [Sample],
}

fn replay(plan: &Plan, f: Function) -> String {
    format!(
        "mpcdiff approx --fn {} --profile {} --frac-bits {} --range {}:{} --points {} --level {}/{} --seed {} --trunc {}",
        f.name(),
        plan.profile.name,
        plan.fp.frac_bits(),
        plan.lo,
        plan.hi,
        plan.points,
        plan.level.iters_exp,
        plan.level.iters_nr,
        plan.seed,
        plan.trunc.name()
    )
}

fn attribution(plan: &Plan) -> anyhow::Result<()> {
    let Op::Unary(f) = plan.op else {
        unreachable!("checked in the plan")
    };
    let n = plan.points;
    let probe = Probe {
        function: f,
        profile: plan.profile,
        fp: plan.fp,
        trunc: plan.trunc,
        seed: plan.seed,
    };
    let range = (plan.lo, plan.hi);
    let levels = Levels::Uniform(plan.level);
    let (x, out, cost) = mpcdiff_host::memory::attribution_curve(&probe, range, &levels, n)
        .context("the kernel rejected the attribution run")?;

    let per = |v: u64| v as f64 / n as f64;
    let cost_per_element = CostPerElement {
        rounds: cost.rounds,
        mul_triples: per(cost.mul_triples),
        square_pairs: per(cost.square_pairs),
        and_triples: per(cost.and_triples),
        bytes_per_party: per(cost.bytes_sent[0]),
        truncations: per(cost.truncations),
    };

    let mut stages = std::collections::BTreeMap::new();
    stages.insert(
        "approximation",
        summarize(&x, |i| out[i].approximation_error(), |i| out[i].exact),
    );
    stages.insert(
        "encoding",
        summarize(&x, |i| out[i].encoding_error(), |i| out[i].exact),
    );
    stages.insert(
        "shares",
        summarize(&x, |i| out[i].share_error(), |i| out[i].exact),
    );
    stages.insert(
        "total",
        summarize(&x, |i| out[i].total_error(), |i| out[i].exact),
    );

    let title = format!(
        "{} ({}, exp {} / NR {}, f = {}): |error| by stage",
        f.name(),
        plan.profile.name,
        plan.level.iters_exp,
        plan.level.iters_nr,
        plan.fp.frac_bits()
    );
    if let Some(path) = &plan.plot {
        let series = |label: &str, color, dashed, e: &dyn Fn(&Stages) -> f64| Series {
            label: label.to_string(),
            points: x
                .iter()
                .zip(&out)
                .map(|(&xi, o)| (xi, e(o).abs()))
                .collect(),
            color,
            dashed,
        };
        let chart = Chart {
            title: title.clone(),
            x_label: "x".into(),
            y_label: "|error| (log scale)".into(),
            x_scale: Scale::Linear,
            y_scale: Scale::Log,
            series: vec![
                series("float approx − exact", PALETTE[0], false, &|o| {
                    o.approximation_error()
                }),
                series("fixed − exact", PALETTE[1], false, &|o| o.fixed - o.exact),
                series("shared − exact", PALETTE[2], false, &|o| o.total_error()),
                series("shared − fixed", PALETTE[3], true, &|o| o.share_error()),
            ],
        };
        write_atomic(path, chart.render())?;
    }

    let samples: Vec<Sample> = x
        .iter()
        .zip(&out)
        .map(|(&x, o)| Sample {
            x,
            exact: o.exact,
            float: o.float,
            fixed: o.fixed,
            shared: o.shared,
        })
        .collect();
    if plan.json {
        let report = Report {
            schema: 1,
            command: "approx",
            version: mpcdiff_kernel::VERSION,
            seed: plan.seed,
            function: f.name(),
            profile: plan.profile.name,
            frac_bits: plan.fp.frac_bits(),
            level: LevelJson {
                iters_exp: plan.level.iters_exp,
                iters_nr: plan.level.iters_nr,
            },
            trunc: plan.trunc.name(),
            range: [plan.lo, plan.hi],
            points: n,
            plot: plan.plot.as_ref().map(|p| p.display().to_string()),
            stages,
            cost_per_element,
            samples: &samples,
        };
        let mut text = serde_json::to_string(&report)?;
        text.push('\n');
        return output::emit(&text);
    }

    let mut t = String::new();
    use std::fmt::Write;
    writeln!(
        t,
        "mpcdiff {} approx (seed {})",
        mpcdiff_kernel::VERSION,
        plan.seed
    )?;
    writeln!(t, "replay: {}", replay(plan, f))?;
    writeln!(t, "profile {}: {}", plan.profile.name, plan.profile.about)?;
    writeln!(t, "{}", title)?;
    writeln!(
        t,
        "{} points on [{}, {}], MPC truncation {}",
        n,
        plan.lo,
        plan.hi,
        plan.trunc.name()
    )?;
    writeln!(t)?;
    writeln!(
        t,
        "{:<38} {:>12} {:>12} {:>12} {:>10}",
        "stage", "max |err|", "mean |err|", "max rel", "at x"
    )?;
    for (key, label) in [
        ("approximation", "approximation (float − exact)"),
        ("encoding", "encoding + rounding (fixed − float)"),
        ("shares", "share randomness (shared − fixed)"),
        ("total", "total (shared − exact)"),
    ] {
        let s = &stages[key];
        writeln!(
            t,
            "{:<38} {:>12.3e} {:>12.3e} {:>12.3e} {:>10.4}",
            label, s.max_abs, s.mean_abs, s.max_rel, s.x_at_max
        )?;
    }
    let c = &cost_per_element;
    writeln!(t)?;
    writeln!(
        t,
        "shared cost: {} rounds; per element {:.2} mul triples, {:.2} square pairs, {:.2} AND words, {:.1} bytes sent per party, {:.2} truncations",
        c.rounds, c.mul_triples, c.square_pairs, c.and_triples, c.bytes_per_party, c.truncations
    )?;
    if let Some(p) = &plan.plot {
        writeln!(t, "plot: {}", p.display())?;
    }
    output::emit(&t)
}

fn encoding(fp: FixedPoint, json: bool, plot: Option<&Path>) -> anyhow::Result<()> {
    let mut bits: Vec<u32> = vec![8, 12, 16, 20, 24];
    if !bits.contains(&fp.frac_bits()) {
        bits.push(fp.frac_bits());
        bits.sort_unstable();
    }
    // Log-spaced x from 1e-6 to 1e6, 25 points per decade.
    let xs: Vec<f64> = (0..=300)
        .map(|i| libm::pow(10.0, -6.0 + i as f64 / 25.0))
        .collect();
    #[derive(Serialize)]
    struct SeriesJson {
        frac_bits: u32,
        samples: Vec<[f64; 2]>,
    }
    let mut all = Vec::new();
    for &b in &bits {
        let f = FixedPoint::new(b)?;
        let samples: Vec<[f64; 2]> = xs
            .iter()
            .map(|&x| match f.encoding_error(x) {
                Ok(e) => [x, e.abs() / x],
                Err(_) => [x, f64::NAN],
            })
            .collect();
        all.push(SeriesJson {
            frac_bits: b,
            samples,
        });
    }
    if let Some(path) = plot {
        let chart = Chart {
            title: "Relative error of fixed-point encoding (truncation toward zero)".into(),
            x_label: "x (log scale)".into(),
            y_label: "|decode(encode(x)) − x| / x".into(),
            x_scale: Scale::Log,
            y_scale: Scale::Log,
            series: all
                .iter()
                .enumerate()
                .map(|(i, s)| Series {
                    label: format!("frac_bits = {}", s.frac_bits),
                    points: s.samples.iter().map(|p| (p[0], p[1])).collect(),
                    color: PALETTE[i % PALETTE.len()],
                    dashed: false,
                })
                .collect(),
        };
        write_atomic(path, chart.render())?;
    }
    if json {
        #[derive(Serialize)]
        struct Enc<'a> {
            schema: u32,
            command: &'static str,
            version: &'static str,
            frac_bits: &'a [u32],
            series: &'a [SeriesJson],
        }
        let mut text = serde_json::to_string(&Enc {
            schema: 1,
            command: "approx-encoding",
            version: mpcdiff_kernel::VERSION,
            frac_bits: &bits,
            series: &all,
        })?;
        text.push('\n');
        return output::emit(&text);
    }
    use std::fmt::Write;
    let mut t = String::new();
    writeln!(t, "mpcdiff {} approx --encoding", mpcdiff_kernel::VERSION)?;
    writeln!(t, "relative error of encoding x as trunc(x·2^f)/2^f (values below 2^-f encode to 0: error 100 %)")?;
    writeln!(t)?;
    write!(t, "{:>10}", "x")?;
    for b in &bits {
        write!(t, "{:>12}", format!("f = {b}"))?;
    }
    writeln!(t)?;
    for &x in &[
        1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 0.1, 0.3, 1.1, 3.3, 12.3, 123.4,
    ] {
        write!(t, "{:>10}", format!("{x}"))?;
        for &b in &bits {
            let f = FixedPoint::new(b)?;
            let r = f.encoding_error(x).map(|e| e.abs() / x).unwrap_or(f64::NAN);
            write!(t, "{:>12.2e}", r)?;
        }
        writeln!(t)?;
    }
    if let Some(p) = plot {
        writeln!(t, "\nplot: {}", p.display())?;
    }
    output::emit(&t)
}

/// Parses the raw-integer file: `cols` signed decimal integers per non-empty line (separated
/// by spaces, tabs or a comma); `#` starts a comment line.
fn read_raw(path: &Path, cols: usize) -> anyhow::Result<Vec<Vec<i64>>> {
    let text = crate::files::read_to_string(path)
        .map_err(|e| usage!("--raw-in {}: {e}", path.display()))?;
    let mut columns = vec![Vec::new(); cols];
    for (no, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|s| !s.is_empty())
            .collect();
        if fields.len() != cols {
            return Err(usage!(
                "--raw-in {} line {}: expected {cols} integer column(s), found {}",
                path.display(),
                no + 1,
                fields.len()
            )
            .into());
        }
        for (c, field) in fields.iter().enumerate() {
            let v: i64 = field.parse().map_err(|_| {
                usage!(
                    "--raw-in {} line {}: {field:?} is not a signed 64-bit integer",
                    path.display(),
                    no + 1
                )
            })?;
            columns[c].push(v);
        }
    }
    if columns[0].is_empty() {
        return Err(usage!(
            "--raw-in {}: no values (every line is empty or a comment)",
            path.display()
        )
        .into());
    }
    Ok(columns)
}

fn raw(plan: &Plan, path: &Path, arith: ArithArg) -> anyhow::Result<()> {
    if plan.fp.ring() != mpcdiff_kernel::encoding::RingWidth::Z64 {
        return Err(usage!(
            "--raw-in takes 64-bit ring integers; profile {} runs in Z_2^128 (drop --raw-in, or choose a 64-bit profile)",
            plan.profile.name
        )
        .into());
    }
    let cols = if matches!(plan.op, Op::Mul) { 2 } else { 1 };
    let input = read_raw(path, cols)?;
    let n = input[0].len();
    let out = match arith {
        ArithArg::Fixed => {
            let mut a = Fixed::new(plan.fp).with_sign_test(plan.profile.numerics.sign);
            raw_run(&mut a, plan, &input)?
        }
        ArithArg::Shared => {
            let mut arena = vec![0i64; Shared::scratch_words_elementwise(8 * n.max(1))];
            let mut a = Shared::new(plan.fp, plan.seed, &mut arena)
                .with_truncation(plan.trunc)
                .with_sign_test(plan.profile.numerics.sign);
            raw_run(&mut a, plan, &input)?
        }
    };
    let mut text = String::with_capacity(out.len() * 12);
    for v in out {
        text.push_str(&v.to_string());
        text.push('\n');
    }
    output::emit(&text)
}

fn raw_run<A: RingArith<Word = i64>>(
    a: &mut A,
    plan: &Plan,
    input: &[Vec<i64>],
) -> anyhow::Result<Vec<i64>> {
    let n = input[0].len();
    let mut x = vec![A::Elem::default(); n];
    a.input_ring(&input[0], &mut x)?;
    match plan.op {
        Op::Mul => {
            let mut y = vec![A::Elem::default(); n];
            a.input_ring(&input[1], &mut y)?;
            a.mul(&mut x, &y)?;
        }
        Op::Unary(f) => {
            let mut scratch = vec![A::Elem::default(); approx::scratch_elems(n)];
            approx::eval(
                a,
                f,
                plan.profile,
                &mut x,
                &Levels::Uniform(plan.level),
                &mut scratch,
            )?;
        }
    }
    let mut out = vec![0i64; n];
    a.reveal_ring(&x, &mut out)?;
    Ok(out)
}
