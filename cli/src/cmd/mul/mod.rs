//! `mpcdiff mul`: multiply pairs of reals in the three arithmetics and attribute the errors.
//!
//! # What it computes
//! For `count` pairs `(a, b)` (pair 0 from `--a`/`--b`, the others drawn uniformly from
//! `[-8, 8)` from the seed's `Synthetic` stream) it computes `a·b` three times:
//! * **float** ([`Float`]): `f64`, the ideal;
//! * **fixed** ([`Fixed`]): CrypTen's one-party fixed point: inputs encoded toward zero, exact
//!   ring product, truncation toward zero;
//! * **shared** ([`Shared`]): two parties and a dealer, seeded with `--seed`: inputs secret
//!   shared, one Beaver multiplication, truncation (`--trunc local` as CrypTen, or `dealer`),
//!   and one reveal.
//!
//! and splits the deviation of each stage from the one before: **encoding** (the inputs as
//! encoded vs the nominal inputs), **truncation** (fixed vs the exact product of the encoded
//! inputs), their sum **fixed vs float**, the **share randomness** (shared − fixed, an integer
//! number of ring units) and the total **shared vs float**. The shared session's cost ledger
//! is recorded per phase (input, mul, reveal).
//!
//! # Determinism
//! The output is a function of the plan alone (seed, `frac_bits`, truncation mode, `a`, `b`,
//! `count`, output format): the same command prints the same bytes on every run and machine.
//! The header's replay command spells out every option, so it stays valid if defaults change.
//!
//! The report and its JSON schema are in [`report`]; the text rendering is in [`text`].

pub mod report;
pub mod text;

use anyhow::Context;
use clap::Args;
use mpcdiff_kernel::fixed::FRAC_BITS_MAX;
use mpcdiff_kernel::protocols::beaver::scratch_words_bilinear;
use mpcdiff_kernel::protocols::truncation::scratch_words_truncate;
use mpcdiff_kernel::seed::{stream, unit_f64, StreamId};
use mpcdiff_kernel::{Arith, Cost, Fixed, FixedPoint, Float, RingArith, Shared, TruncMode};

use crate::error::{usage, UsageError};
use crate::flags::TruncArg;
use crate::output;
use crate::stats::{histogram, summarize};
use report::{Bin, Costs, Errors, Pair0, RandomInputs, Report, Stage};

/// The seed used when `--seed` is not given (a fixed default keeps the README's output
/// reproducible).
pub const DEFAULT_SEED: u64 = 42;
/// The default number of pairs.
pub const DEFAULT_COUNT: u64 = 1000;
/// The largest `--count` (the shared session's arena takes about 100 bytes per pair).
pub const COUNT_MAX: u64 = 1_000_000;
/// Random pairs are uniform in `[-RANDOM_HALF_WIDTH, RANDOM_HALF_WIDTH)`.
pub const RANDOM_HALF_WIDTH: f64 = 8.0;

/// Options of `mul` (and, for now, `demo`). Syntax only: [`MulRun::from_args`] checks values.
#[derive(Clone, Debug, Args)]
pub struct MulArgs {
    /// Seed of every random draw: the dealer, the input masks and the random pairs.
    #[arg(long, value_name = "S", default_value_t = DEFAULT_SEED)]
    pub seed: u64,
    /// Fractional bits of the fixed-point encoding (0 to 40; CrypTen uses 16).
    #[arg(long, value_name = "F", default_value_t = FixedPoint::CRYPTEN_DEFAULT.frac_bits())]
    pub frac_bits: u32,
    /// Truncation protocol of the shared arithmetic.
    #[arg(long, value_enum, value_name = "MODE", default_value_t = TruncArg::Local)]
    pub trunc: TruncArg,
    /// First factor of pair 0.
    #[arg(
        long,
        value_name = "X",
        default_value_t = 1.5,
        allow_negative_numbers = true
    )]
    pub a: f64,
    /// Second factor of pair 0.
    #[arg(long, value_name = "Y", default_value_t = -2.25, allow_negative_numbers = true)]
    pub b: f64,
    /// Number of pairs: pair 0 plus N−1 seeded random pairs uniform in [-8, 8) (1 to 1000000).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_COUNT)]
    pub count: u64,
    /// Print one JSON object on stdout instead of text (schema in the `report` module docs).
    #[arg(long)]
    pub json: bool,
}

/// A checked `mul` run: every value valid for the kernel.
#[derive(Clone, Debug)]
pub struct MulRun {
    /// The subcommand name shown in the header, the replay command and the JSON.
    pub command: &'static str,
    /// The seed.
    pub seed: u64,
    /// The fixed-point format.
    pub fp: FixedPoint,
    /// The truncation mode of the shared arithmetic.
    pub trunc: TruncMode,
    /// Pair 0.
    pub a: f64,
    /// Pair 0.
    pub b: f64,
    /// Number of pairs, at least 1.
    pub count: usize,
    /// JSON instead of text.
    pub json: bool,
}

impl MulRun {
    /// Checks the arguments; the error is one sentence naming the flag.
    pub fn from_args(command: &'static str, args: &MulArgs) -> Result<MulRun, UsageError> {
        let fp = FixedPoint::new(args.frac_bits).map_err(|_| {
            usage!(
                "--frac-bits {} is out of range: the kernel supports 0 to {FRAC_BITS_MAX} fractional bits.",
                args.frac_bits
            )
        })?;
        check_factor("--a", args.a, fp)?;
        check_factor("--b", args.b, fp)?;
        if !(1..=COUNT_MAX).contains(&args.count) {
            return Err(usage!(
                "--count must be between 1 and {COUNT_MAX}, got {}.",
                args.count
            ));
        }
        Ok(MulRun {
            command,
            seed: args.seed,
            fp,
            trunc: args.trunc.mode(),
            a: args.a,
            b: args.b,
            count: usize::try_from(args.count).map_err(|_| {
                usage!("--count {} does not fit this machine's memory.", args.count)
            })?,
            json: args.json,
        })
    }

    /// The command that reproduces this run's output exactly (every option spelled out).
    pub fn replay(&self) -> String {
        format!(
            "mpcdiff {} --seed {} --frac-bits {} --trunc {} --a={:?} --b={:?} --count {}{}",
            self.command,
            self.seed,
            self.fp.frac_bits(),
            self.trunc.name(),
            self.a,
            self.b,
            self.count,
            if self.json { " --json" } else { "" }
        )
    }

    /// The pairs: pair 0 from the flags, then uniform draws from the `Synthetic` stream
    /// (`a` then `b` for each pair, one `u64` per draw).
    pub fn inputs(&self) -> (Vec<f64>, Vec<f64>) {
        let mut rng = stream(self.seed, StreamId::Synthetic);
        let mut a = Vec::with_capacity(self.count);
        let mut b = Vec::with_capacity(self.count);
        a.push(self.a);
        b.push(self.b);
        for _ in 1..self.count {
            a.push((2.0 * unit_f64(&mut rng) - 1.0) * RANDOM_HALF_WIDTH);
            b.push((2.0 * unit_f64(&mut rng) - 1.0) * RANDOM_HALF_WIDTH);
        }
        (a, b)
    }
}

/// Rejects a factor that is not finite or does not fit the ring once encoded.
fn check_factor(flag: &str, x: f64, fp: FixedPoint) -> Result<(), UsageError> {
    if !x.is_finite() {
        return Err(usage!("{flag} must be a finite number, got {x}."));
    }
    if fp.encode(x).is_err() {
        let bits = 63 - fp.frac_bits();
        return Err(usage!(
            "{flag} {x:?} does not fit the 64-bit ring at --frac-bits {}: its magnitude must be below 2^{bits} = {}.",
            fp.frac_bits(),
            1u64 << bits
        ));
    }
    Ok(())
}

/// Ring words the shared session's arena needs for `n` pairs: the Beaver product, the
/// truncation and the reveal, one at a time.
fn arena_words(n: usize) -> usize {
    scratch_words_bilinear(n, n, n)
        .max(scratch_words_truncate(n))
        .max(n)
}

/// Runs `command` (`mul` or `demo`): check, compute, print.
pub fn run(command: &'static str, args: &MulArgs) -> anyhow::Result<()> {
    let plan = MulRun::from_args(command, args)?;
    let report = compute(&plan)?;
    if report.ring_overflows > 0 {
        output::note(&format!(
            "{} of {} exact products do not fit the 64-bit ring at frac_bits {} (|a·b| must stay below 2^{}): the fixed and shared results of those pairs are wrapped garbage, as in CrypTen.",
            report.ring_overflows,
            report.count,
            report.frac_bits,
            63 - 2 * i64::from(report.frac_bits)
        ));
    }
    if report.cost.total.wrap_events > 0 {
        output::note(&format!(
            "{} share-local truncation(s) wrapped: each is off by about 2^{} ring units (use --trunc dealer to avoid it).",
            report.cost.total.wrap_events,
            64 - report.frac_bits
        ));
    }
    let out = if plan.json {
        report.to_json()?
    } else {
        text::render(&report)
    };
    output::emit(&out)
}

/// Computes the report of a checked plan. Pure: no I/O.
pub fn compute(plan: &MulRun) -> anyhow::Result<Report> {
    let n = plan.count;
    let fp = plan.fp;
    let scale = fp.scale_f64();
    let (xa, xb) = plan.inputs();

    // Float: the ideal.
    let mut float = Float::new(fp);
    let (mut fa, mut fb) = (vec![0.0; n], vec![0.0; n]);
    float.input(&xa, &mut fa).context("float input")?;
    float.input(&xb, &mut fb).context("float input")?;
    float.mul(&mut fa, &fb).context("float multiplication")?;
    let mut float_prod = vec![0.0; n];
    float.reveal(&fa, &mut float_prod).context("float reveal")?;

    // Fixed: CrypTen one-party.
    let mut fixed = Fixed::new(fp);
    let (mut ra, mut rb) = (vec![0i64; n], vec![0i64; n]);
    fixed.input(&xa, &mut ra).context("fixed-point input")?;
    fixed.input(&xb, &mut rb).context("fixed-point input")?;
    let mut fixed_prod = ra.clone();
    fixed
        .mul(&mut fixed_prod, &rb)
        .context("fixed-point multiplication")?;

    // Shared: two parties and a dealer.
    let mut arena = vec![0i64; arena_words(n)];
    let mut mpc = Shared::new(fp, plan.seed, &mut arena).with_truncation(plan.trunc);
    let (mut sa, mut sb) = (vec![[0i64; 2]; n], vec![[0i64; 2]; n]);
    mpc.input(&xa, &mut sa).context("shared input")?;
    mpc.input(&xb, &mut sb).context("shared input")?;
    let after_input = mpc.cost();
    mpc.mul(&mut sa, &sb).context("shared multiplication")?;
    let after_mul = mpc.cost();
    let mut shared_prod = vec![0i64; n];
    mpc.reveal_ring(&sa, &mut shared_prod)
        .context("shared reveal")?;
    let total = mpc.cost();

    // Errors by stage, in LSB (ring units of the output).
    let mut encoding = Vec::with_capacity(n);
    let mut truncation = Vec::with_capacity(n);
    let mut fixed_vs_float = Vec::with_capacity(n);
    let mut shares = Vec::with_capacity(n);
    let mut shared_vs_float = Vec::with_capacity(n);
    let mut ring_overflows = 0u64;
    let scale_i = i128::from(fp.scale());
    for i in 0..n {
        // The exact product of the encoded inputs, at scale 2^2f.
        let exact = i128::from(ra[i]) * i128::from(rb[i]);
        if i64::try_from(exact).is_err() {
            ring_overflows += 1;
        }
        let exact_real = exact as f64 / (scale * scale);
        encoding.push((exact_real - float_prod[i]) * scale);
        truncation.push((i128::from(fixed_prod[i]) * scale_i - exact) as f64 / scale);
        fixed_vs_float.push((fp.decode(fixed_prod[i]) - float_prod[i]) * scale);
        shares.push(shared_prod[i].wrapping_sub(fixed_prod[i]));
        shared_vs_float.push((fp.decode(shared_prod[i]) - float_prod[i]) * scale);
    }
    let shares_f: Vec<f64> = shares.iter().map(|&d| d as f64).collect();
    let stage = |xs: &[f64]| Stage::new(xs[0], summarize(xs));

    Ok(Report {
        schema: report::SCHEMA,
        command: plan.command,
        version: env!("CARGO_PKG_VERSION"),
        seed: plan.seed,
        frac_bits: fp.frac_bits(),
        trunc: plan.trunc.name(),
        count: n,
        replay: plan.replay(),
        lsb: 1.0 / scale,
        random_inputs: RandomInputs {
            low: -RANDOM_HALF_WIDTH,
            high: RANDOM_HALF_WIDTH,
            stream: "synthetic",
        },
        pair0: Pair0 {
            a: xa[0],
            b: xb[0],
            a_ring: ra[0],
            b_ring: rb[0],
            float: float_prod[0],
            fixed: fp.decode(fixed_prod[0]),
            fixed_ring: fixed_prod[0],
            shared: fp.decode(shared_prod[0]),
            shared_ring: shared_prod[0],
        },
        errors: Errors {
            encoding: stage(&encoding),
            truncation: stage(&truncation),
            fixed_vs_float: stage(&fixed_vs_float),
            shares: stage(&shares_f),
            shared_vs_float: stage(&shared_vs_float),
        },
        histogram: histogram(&shares)
            .into_iter()
            .map(|(diff, count)| Bin { diff, count })
            .collect(),
        ring_overflows,
        cost: Costs {
            input: after_input.into(),
            mul: after_mul.since(&after_input).into(),
            reveal: total.since(&after_mul).into(),
            total: total.since(&Cost::default()).into(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args() -> MulArgs {
        MulArgs {
            seed: DEFAULT_SEED,
            frac_bits: 16,
            trunc: TruncArg::Local,
            a: 1.5,
            b: -2.25,
            count: 100,
            json: false,
        }
    }

    #[test]
    fn plan_rejects_bad_values_naming_the_flag() {
        let bad = |f: fn(&mut MulArgs)| {
            let mut a = args();
            f(&mut a);
            MulRun::from_args("mul", &a).unwrap_err().0
        };
        assert!(bad(|a| a.frac_bits = 41).starts_with("--frac-bits 41 "));
        assert!(bad(|a| a.a = f64::NAN).starts_with("--a must be a finite"));
        assert!(bad(|a| a.b = f64::INFINITY).starts_with("--b must be a finite"));
        assert!(bad(|a| a.a = 1e17).starts_with("--a 1e17 does not fit"));
        assert!(bad(|a| a.count = 0).starts_with("--count must be"));
    }

    #[test]
    fn stages_add_up_and_shares_stay_within_one_unit() {
        let plan = MulRun::from_args("mul", &args()).unwrap();
        let r = compute(&plan).unwrap();
        assert_eq!(r.pair0.float, -3.375);
        assert_eq!(r.pair0.fixed_ring, -221_184);
        assert!((r.pair0.shared_ring - r.pair0.fixed_ring).abs() <= 1);
        assert_eq!(r.errors.fixed_vs_float.pair0, 0.0);
        assert!(r.errors.shares.max_abs <= 1.0);
        assert_eq!(r.histogram.iter().map(|b| b.count).sum::<u64>(), 100);
        assert_eq!(r.cost.total.rounds, 2);
        assert_eq!(r.cost.mul.mul_triples, 100);
        assert_eq!(r.cost.input, Cost::default().into());
    }

    #[test]
    fn dealer_truncation_costs_one_more_round() {
        let mut a = args();
        a.trunc = TruncArg::Dealer;
        let r = compute(&MulRun::from_args("mul", &a).unwrap()).unwrap();
        assert_eq!(r.cost.mul.rounds, 2);
        assert_eq!(r.cost.mul.trunc_tuples, 100);
    }
}
