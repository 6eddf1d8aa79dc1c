//! What the firmware computes and prints, written once for both sides: the firmware runs it on
//! the Cortex-M4 (`main.rs`), and `tests/tests/embedded.rs` includes this very file
//! (`#[path]`) and runs it natively, then compares the two outputs line by line.
//!
//! It depends on `core` and the kernel only, and allocates nothing: every buffer is the
//! caller's [`Memory`].
//!
//! # Output
//! One fact per line, each computed on the device:
//! ```text
//! kernel 0.1.0
//! digest 42 32af84f89a95e5b5                  (one line per seed of SEEDS)
//! model lenet deploy crypten profile crypten frac-bits 16 trunc local mpc-seed 1
//! sizes params 62522 input 784 out 10 arena 183520 words 1505280
//! digit 2026 0 label 6
//! logits c0000a9000000000 …                   (the ten logits' f64 bits, hex)
//! mpc-label 6
//! cost rounds 136 bytes-sent 3003424 3003424 crypten-bytes 6006848
//! touched arena 37632 words 193840
//! ```
//! `touched` is how much of the two scratch buffers the inference really wrote (the index past
//! the last element that no longer holds the paint written before the run), against the
//! `sizes` the kernel asks for.

use core::fmt::{self, Write};

use mpcdiff_kernel::approx::profile;
use mpcdiff_kernel::difftest::fitness::argmax;
use mpcdiff_kernel::difftest::oracle::{self, Buffers, Sizes, Target};
use mpcdiff_kernel::digits::{synthetic, PIXELS};
use mpcdiff_kernel::nn::deploy::Deployment;
use mpcdiff_kernel::nn::forward::DefaultPlan;
use mpcdiff_kernel::nn::model::Model;
use mpcdiff_kernel::protocols::truncation::TruncMode;
use mpcdiff_kernel::selfcheck::{determinism_digest, SELFCHECK_ARENA_WORDS};
use mpcdiff_kernel::share::Share;
use mpcdiff_kernel::{Error, FixedPoint};

/// The determinism probe's seeds: edge seeds and a few ordinary ones (those of
/// `tests/tests/wasm_determinism.rs`).
pub const SEEDS: [u64; 6] = [0, 1, 42, 0xdead_beef, 1 << 53, u64::MAX];

/// The synthetic digit the LeNet reads: `synthetic::sample(DIGIT_SEED, DIGIT_INDEX)`.
pub const DIGIT_SEED: u64 = 2026;
/// See [`DIGIT_SEED`].
pub const DIGIT_INDEX: u64 = 0;
/// The two-party session's seed.
pub const MPC_SEED: u64 = 1;

/// [`Share`]s of the MPC LeNet's buffers at batch 1 (`params + input + out + arena` of
/// [`Sizes::of`] for `lenet` deployed as `crypten`): 3.95 MB.
pub const SHARES: usize = 62_522 + 784 + 10 + 183_520;
/// Words of its two-party session arena ([`Sizes::words`]): 12.04 MB. Also the probe's arena.
pub const WORDS: usize = 1_505_280;

const _: () = assert!(WORDS >= SELFCHECK_ARENA_WORDS);

/// What the scratch buffers hold before the inference, to see how much of them it wrote.
const PAINT: i64 = 0x5a5a_5a5a_5a5a_5a5a;

/// The caller's memory: [`SHARES`] shares and [`WORDS`] words (static arrays on the device).
pub struct Memory<'m> {
    /// The MPC model's parameters, input, logits and forward-pass arena.
    pub shares: &'m mut [Share],
    /// The two-party session's words (and, before the inference, the probe's arena).
    pub words: &'m mut [i64],
}

/// Why the workload stopped.
#[derive(Debug)]
pub enum Failure {
    /// A kernel error (a buffer too small if the kernel now asks for more than
    /// [`SHARES`]/[`WORDS`]).
    Kernel(Error),
    /// The output could not be written.
    Output,
}

impl From<Error> for Failure {
    fn from(e: Error) -> Failure {
        Failure::Kernel(e)
    }
}

impl From<fmt::Error> for Failure {
    fn from(_: fmt::Error) -> Failure {
        Failure::Output
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Kernel(e) => write!(f, "kernel error: {e}"),
            Failure::Output => f.write_str("cannot write the output"),
        }
    }
}

/// The index past the last element of `xs` that no longer equals `paint`.
fn touched<T: PartialEq>(xs: &[T], paint: &T) -> usize {
    xs.iter().rposition(|x| x != paint).map_or(0, |i| i + 1)
}

/// Runs the probe for every seed of [`SEEDS`], then one MPC inference of `model` (the bytes of
/// `cli/models/lenet.safetensors`) on the synthetic digit, writing the lines of the module doc
/// to `out`.
///
/// # Errors
/// [`Failure::Kernel`] for any kernel error, [`Failure::Output`] if `out` fails.
pub fn run(model: &[u8], mem: &mut Memory<'_>, out: &mut dyn Write) -> Result<(), Failure> {
    writeln!(out, "kernel {}", mpcdiff_kernel::VERSION)?;
    for seed in SEEDS {
        let d = determinism_digest(seed, &mut mem.words[..SELFCHECK_ARENA_WORDS])?;
        writeln!(out, "digest {seed} {d:016x}")?;
    }

    let model = Model::parse(model)?;
    let target = Target {
        model: &model,
        profile: &profile::CRYPTEN,
        fp: FixedPoint::CRYPTEN_DEFAULT,
        trunc: TruncMode::Local,
        deploy: Deployment::Crypten,
        engine: Default::default(),
        comparison: Default::default(),
    };
    writeln!(
        out,
        "model {} deploy {} profile {} frac-bits {} trunc {} mpc-seed {MPC_SEED}",
        model.architecture,
        target.deploy.name(),
        target.profile.name,
        target.fp.frac_bits(),
        target.trunc.name()
    )?;
    let s = Sizes::of(&model, target.deploy, 1)?;
    writeln!(
        out,
        "sizes params {} input {} out {} arena {} words {}",
        s.params, s.input, s.out, s.arena, s.words
    )?;
    let need = s.params + s.input + s.out + s.arena;
    if mem.shares.len() < need {
        return Err(Error::BufferTooSmall {
            needed: need,
            got: mem.shares.len(),
        }
        .into());
    }

    let mut img = [0.0f32; PIXELS];
    let label = synthetic::sample(DIGIT_SEED, DIGIT_INDEX, &mut img)?;
    writeln!(out, "digit {DIGIT_SEED} {DIGIT_INDEX} label {label}")?;
    // MNIST's normalisation in f32, as the command line and the browser compute it.
    let mut x = [0.0f64; PIXELS];
    for (x, &u) in x.iter_mut().zip(img.iter()) {
        *x = f64::from((u - 0.1307f32) / 0.3081f32);
    }

    let words = &mut mem.words[..s.words];
    words.fill(PAINT);
    let (params, rest) = mem.shares.split_at_mut(s.params);
    let (input, rest) = rest.split_at_mut(s.input);
    let (logits_enc, rest) = rest.split_at_mut(s.out);
    let arena = &mut rest[..s.arena];
    arena.fill([PAINT; 2]);
    let mut buf = Buffers {
        params,
        input,
        out: logits_enc,
        arena,
    };
    let mut logits = [0.0f64; 10];
    let logits = logits.get_mut(..model.classes).ok_or(Error::OutOfRange {
        what: "the workload expects a model of at most 10 classes",
    })?;
    let cost = oracle::mpc(
        &target,
        &DefaultPlan,
        None,
        MPC_SEED,
        &x,
        1,
        logits,
        &mut buf,
        words,
    )?;
    out.write_str("logits")?;
    for l in logits.iter() {
        write!(out, " {:016x}", l.to_bits())?;
    }
    writeln!(out)?;
    writeln!(out, "mpc-label {}", argmax(logits))?;
    writeln!(
        out,
        "cost rounds {} bytes-sent {} {} crypten-bytes {}",
        cost.rounds,
        cost.bytes_sent[0],
        cost.bytes_sent[1],
        cost.crypten_bytes()
    )?;
    writeln!(
        out,
        "touched arena {} words {}",
        touched(buf.arena, &[PAINT; 2]),
        touched(words, &PAINT)
    )?;
    Ok(())
}
