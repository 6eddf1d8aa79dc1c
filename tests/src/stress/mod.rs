//! A seeded stress harness for the kernel's public API: hostile shapes, values, sizes and
//! buffers into every public entry point, each call under `catch_unwind`, with a watchdog.
//!
//! The kernel's contract is that it never panics and never hangs on any input: bad input comes
//! back as a typed [`Error`]. This harness checks that contract by brute force.
//!
//! * **Entry points** ([`entries`]): one per public function (or per method family, named
//!   after it), each a function that draws its inputs from a [`Gen`] and makes the call. The
//!   draws mix valid calls (so the checks are passed and the work runs) with hostile ones:
//!   buffers off by one, empty or mismatched; sizes 0, 1 or near `usize::MAX`; NaN, ±∞,
//!   subnormals, ±1e300, powers of two and random bit patterns; model files with overflowing
//!   shapes, and parsed models whose public fields were changed afterwards.
//! * **Replay**: execution `i` of entry point `e` draws from a generator seeded by
//!   `(seed, e, i)` only, so `--entry e --exec i` replays one failing call alone.
//! * **Panics**: every call runs under [`std::panic::catch_unwind`]; a panic hook records the
//!   message and location instead of printing it.
//! * **Hangs**: a watchdog thread sees each worker's current call; one running longer than
//!   [`Config::hang`] (3 s) is reported as a hang, its worker abandoned, and a fresh worker
//!   carries on with the remaining entry points.
//!
//! The work an entry point does is bounded by what it asks for: buffers are at most
//! [`gen::LEN_MAX`] elements, iteration counts and budgets are drawn small where the work is
//! proportional to them by contract (a fuzzing budget, a number of MPC repetitions).

pub mod entries;
pub mod gen;

use std::cell::RefCell;
use std::collections::VecDeque;
use std::fmt::Write as _;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Once};
use std::thread;
use std::time::{Duration, Instant};

pub use gen::Gen;
use mpcdiff_kernel::Error;

/// What an entry point's call returned: `Ok`, or the kernel's typed error (both are fine; only
/// a panic or a hang breaks the contract).
pub type Res = Result<(), Error>;

/// One public entry point of the kernel.
#[derive(Clone, Copy)]
pub struct Entry {
    /// `module::function` (or `module::Type::method`).
    pub name: &'static str,
    /// One execution: draw inputs from the generator, call, return the call's result.
    pub run: fn(&mut Gen) -> Res,
}

/// A run's settings.
#[derive(Clone, Debug)]
pub struct Config {
    /// The run's seed (printed, so that a failure replays).
    pub seed: u64,
    /// Executions per entry point (`None`: as many as the time allows).
    pub execs: Option<u64>,
    /// Wall-clock budget for the whole run, shared evenly by the entry points.
    pub seconds: Option<f64>,
    /// Only the entry points whose name contains this (or equals it, with `exact`).
    pub filter: Option<String>,
    /// Match `filter` exactly.
    pub exact: bool,
    /// Run only execution `i` (a replay).
    pub only_exec: Option<u64>,
    /// Worker threads.
    pub threads: usize,
    /// A call running longer than this is a hang.
    pub hang: Duration,
    /// Count the typed errors by message (to see how deep the draws get).
    pub tally_errors: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            seed: 0x5EED,
            execs: Some(1000),
            seconds: None,
            filter: None,
            exact: false,
            only_exec: None,
            threads: 1,
            hang: Duration::from_secs(3),
            tally_errors: false,
        }
    }
}

/// The outcome of one entry point.
#[derive(Clone, Debug, Default)]
pub struct Stat {
    /// The entry point.
    pub name: &'static str,
    /// Calls made.
    pub execs: u64,
    /// Calls that returned `Ok`.
    pub ok: u64,
    /// Calls that returned a typed error.
    pub err: u64,
    /// Calls that panicked.
    pub panics: u64,
    /// Time spent in the calls.
    pub busy: Duration,
    /// The first panic: execution number and message (with location).
    pub first_panic: Option<(u64, String)>,
    /// The execution that hung, if one did.
    pub hang: Option<u64>,
    /// Typed errors by message (with [`Config::tally_errors`]), most frequent first.
    pub errors: Vec<(String, u64)>,
}

/// A run's result.
#[derive(Clone, Debug)]
pub struct Report {
    /// The run's seed.
    pub seed: u64,
    /// The hang limit.
    pub hang: Duration,
    /// One per entry point run, in registry order.
    pub stats: Vec<Stat>,
    /// Wall-clock time.
    pub elapsed: Duration,
    /// Entry points that were not run because too many workers hung.
    pub skipped: usize,
}

impl Report {
    /// Panicking calls plus hung calls.
    pub fn failures(&self) -> u64 {
        self.stats
            .iter()
            .map(|s| s.panics + u64::from(s.hang.is_some()))
            .sum()
    }

    /// Total calls.
    pub fn execs(&self) -> u64 {
        self.stats.iter().map(|s| s.execs).sum()
    }

    /// The report as text: one line per entry point, totals, then each failure with the
    /// command that replays it (`replay` is the command up to its arguments).
    pub fn render(&self, replay: &str) -> String {
        let mut out = String::new();
        let width = self.stats.iter().map(|s| s.name.len()).max().unwrap_or(10);
        let _ = writeln!(
            out,
            "{:<width$} {:>12} {:>12} {:>12} {:>7} {:>6} {:>9}",
            "entry point", "execs", "ok", "typed err", "panics", "hangs", "µs/call"
        );
        for s in &self.stats {
            let per = s.busy.as_secs_f64() * 1e6 / s.execs.max(1) as f64;
            let _ = writeln!(
                out,
                "{:<width$} {:>12} {:>12} {:>12} {:>7} {:>6} {:>9.1}",
                s.name,
                s.execs,
                s.ok,
                s.err,
                s.panics,
                u8::from(s.hang.is_some()),
                per
            );
        }
        let min = self.stats.iter().map(|s| s.execs).min().unwrap_or(0);
        let panics: u64 = self.stats.iter().map(|s| s.panics).sum();
        let hangs = self.stats.iter().filter(|s| s.hang.is_some()).count();
        let _ = writeln!(
            out,
            "seed {:#018x}: {} entry points, {} executions (fewest per entry point: {}), {} panics, {} hangs (> {:?}), {:.1} s{}",
            self.seed,
            self.stats.len(),
            self.execs(),
            min,
            panics,
            hangs,
            self.hang,
            self.elapsed.as_secs_f64(),
            if self.skipped > 0 {
                format!(", {} entry points not run after too many hangs", self.skipped)
            } else {
                String::new()
            }
        );
        for s in self.stats.iter().filter(|s| !s.errors.is_empty()) {
            let _ = writeln!(out, "typed errors of {}:", s.name);
            for (msg, n) in s.errors.iter().take(6) {
                let _ = writeln!(out, "  {n:>10}  {msg}");
            }
        }
        for s in &self.stats {
            if let Some((exec, msg)) = &s.first_panic {
                let _ = writeln!(
                    out,
                    "PANIC in {} ({} of {} calls), first at exec {exec}: {msg}\n  replay: {replay} --seed {:#x} --entry '{}' --exec {exec}",
                    s.name, s.panics, s.execs, self.seed, s.name
                );
            }
            if let Some(exec) = s.hang {
                let _ = writeln!(
                    out,
                    "HANG in {} at exec {exec} (still running after {:?})\n  replay: {replay} --seed {:#x} --entry '{}' --exec {exec}",
                    s.name, self.hang, self.seed, s.name
                );
            }
        }
        out
    }
}

thread_local! {
    /// The last panic's message on this thread, when the harness is capturing.
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
    static CAPTURING: RefCell<bool> = const { RefCell::new(false) };
}

/// Installs (once) a panic hook that records a harness worker's panics instead of printing
/// them, and leaves every other thread's panics to the previous hook.
fn install_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if CAPTURING.with(|c| *c.borrow()) {
                LAST_PANIC.with(|p| *p.borrow_mut() = Some(info.to_string()));
            } else {
                previous(info);
            }
        }));
    });
}

/// One entry point's counters, shared by the workers and the watchdog.
#[derive(Default)]
struct Counters {
    execs: AtomicU64,
    ok: AtomicU64,
    err: AtomicU64,
    panics: AtomicU64,
    busy_ns: AtomicU64,
    first_panic: Mutex<Option<(u64, String)>>,
    hang: Mutex<Option<u64>>,
    errors: Mutex<std::collections::BTreeMap<String, u64>>,
}

/// What a worker is doing right now, for the watchdog.
struct Beat {
    entry: AtomicUsize,
    exec: AtomicU64,
    /// Milliseconds since the run started, plus one, when the current call began; 0 between
    /// calls.
    since: AtomicU64,
    /// Set by the watchdog when the worker hung: it must stop after its call (if ever).
    abandoned: AtomicBool,
    done: AtomicBool,
}

struct State {
    entries: Vec<Entry>,
    counters: Vec<Counters>,
    queue: Mutex<VecDeque<usize>>,
    cfg: Config,
    start: Instant,
    per_entry: Option<Duration>,
}

impl State {
    fn now_ms(&self) -> u64 {
        self.start.elapsed().as_millis() as u64 + 1
    }
}

fn worker(state: Arc<State>, beat: Arc<Beat>) {
    CAPTURING.with(|c| *c.borrow_mut() = true);
    loop {
        let Some(e) = state.queue.lock().unwrap().pop_front() else {
            break;
        };
        let entry = state.entries[e];
        let counters = &state.counters[e];
        let (first, last) = match state.cfg.only_exec {
            Some(i) => (i, i.saturating_add(1)),
            None => (0, state.cfg.execs.unwrap_or(u64::MAX)),
        };
        let began = Instant::now();
        let deadline = state.per_entry.map(|d| began + d);
        for exec in first..last {
            if deadline.is_some_and(|d| Instant::now() >= d) {
                break;
            }
            beat.entry.store(e, Ordering::SeqCst);
            beat.exec.store(exec, Ordering::SeqCst);
            beat.since.store(state.now_ms(), Ordering::SeqCst);
            let mut g = Gen::new(state.cfg.seed, entry.name, exec);
            let outcome = panic::catch_unwind(AssertUnwindSafe(|| (entry.run)(&mut g)));
            beat.since.store(0, Ordering::SeqCst);
            if beat.abandoned.load(Ordering::SeqCst) {
                // The watchdog reported this call as a hang and replaced this worker.
                return;
            }
            counters.execs.fetch_add(1, Ordering::Relaxed);
            match outcome {
                Ok(Ok(())) => counters.ok.fetch_add(1, Ordering::Relaxed),
                Ok(Err(err)) => {
                    if state.cfg.tally_errors {
                        *counters
                            .errors
                            .lock()
                            .unwrap()
                            .entry(err.to_string())
                            .or_insert(0) += 1;
                    }
                    counters.err.fetch_add(1, Ordering::Relaxed)
                }
                Err(payload) => {
                    let msg = LAST_PANIC
                        .with(|p| p.borrow_mut().take())
                        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                        .or_else(|| payload.downcast_ref::<String>().cloned())
                        .unwrap_or_else(|| "panic with a non-string payload".into());
                    let mut first = counters.first_panic.lock().unwrap();
                    if first.is_none() {
                        *first = Some((exec, msg));
                    }
                    counters.panics.fetch_add(1, Ordering::Relaxed)
                }
            };
        }
        let ns = began.elapsed().as_nanos() as u64;
        counters.busy_ns.fetch_add(ns, Ordering::Relaxed);
    }
    beat.done.store(true, Ordering::SeqCst);
}

/// The most workers the watchdog replaces after hangs before it gives up on the rest.
const REPLACEMENTS_MAX: usize = 8;

/// Runs the kernel's entry points that `cfg` selects and reports.
pub fn run(cfg: &Config) -> Report {
    run_entries(cfg, entries::all())
}

/// Runs the given entry points (those `cfg` selects) and reports: [`run`] over any registry
/// (the harness's own tests give it entry points that panic and hang).
pub fn run_entries(cfg: &Config, all: Vec<Entry>) -> Report {
    install_hook();
    let selected: Vec<Entry> = all
        .into_iter()
        .filter(|e| match &cfg.filter {
            None => true,
            Some(f) if cfg.exact => e.name == f,
            Some(f) => e.name.contains(f.as_str()),
        })
        .collect();
    let threads = cfg.threads.max(1);
    let per_entry = cfg.seconds.map(|s| {
        let share = s * threads as f64 / selected.len().max(1) as f64;
        Duration::from_secs_f64(share.max(0.0))
    });
    let state = Arc::new(State {
        counters: selected.iter().map(|_| Counters::default()).collect(),
        queue: Mutex::new((0..selected.len()).collect()),
        entries: selected,
        cfg: cfg.clone(),
        start: Instant::now(),
        per_entry,
    });
    let spawn = |state: &Arc<State>| {
        let beat = Arc::new(Beat {
            entry: AtomicUsize::new(0),
            exec: AtomicU64::new(0),
            since: AtomicU64::new(0),
            abandoned: AtomicBool::new(false),
            done: AtomicBool::new(false),
        });
        let (s, b) = (Arc::clone(state), Arc::clone(&beat));
        thread::Builder::new()
            .name("stress-worker".into())
            .stack_size(16 << 20)
            .spawn(move || worker(s, b))
            .expect("spawn a stress worker");
        beat
    };
    let mut beats: Vec<Arc<Beat>> = (0..threads).map(|_| spawn(&state)).collect();
    let mut replaced = 0;
    let hang_ms = cfg.hang.as_millis() as u64;
    loop {
        thread::sleep(Duration::from_millis(20));
        // A worker may start a call between this reading and its own (`since > now`).
        let now = state.now_ms();
        let mut fresh = Vec::new();
        for b in &beats {
            let since = b.since.load(Ordering::SeqCst);
            if since == 0
                || b.abandoned.load(Ordering::SeqCst)
                || now.saturating_sub(since) <= hang_ms
            {
                continue;
            }
            let e = b.entry.load(Ordering::SeqCst);
            *state.counters[e].hang.lock().unwrap() = Some(b.exec.load(Ordering::SeqCst));
            b.abandoned.store(true, Ordering::SeqCst);
            if replaced < REPLACEMENTS_MAX {
                replaced += 1;
                fresh.push(spawn(&state));
            } else {
                state.queue.lock().unwrap().clear();
            }
        }
        beats.extend(fresh);
        let running = beats
            .iter()
            .any(|b| !b.done.load(Ordering::SeqCst) && !b.abandoned.load(Ordering::SeqCst));
        if !running {
            break;
        }
    }
    let skipped = state.queue.lock().unwrap().len();
    let stats = state
        .entries
        .iter()
        .zip(&state.counters)
        .map(|(e, c)| Stat {
            name: e.name,
            execs: c.execs.load(Ordering::SeqCst),
            ok: c.ok.load(Ordering::SeqCst),
            err: c.err.load(Ordering::SeqCst),
            panics: c.panics.load(Ordering::SeqCst),
            busy: Duration::from_nanos(c.busy_ns.load(Ordering::SeqCst)),
            first_panic: c.first_panic.lock().unwrap().clone(),
            hang: *c.hang.lock().unwrap(),
            errors: {
                let mut v: Vec<(String, u64)> = c
                    .errors
                    .lock()
                    .unwrap()
                    .iter()
                    .map(|(k, v)| (k.clone(), *v))
                    .collect();
                v.sort_by_key(|e| std::cmp::Reverse(e.1));
                v
            },
        })
        .collect();
    Report {
        seed: cfg.seed,
        hang: cfg.hang,
        stats,
        elapsed: state.start.elapsed(),
        skipped,
    }
}

/// The seed of a run that names none: `MPCDIFF_STRESS_SEED` (decimal or `0x` hex), else the
/// first 16 hex digits of `git rev-parse HEAD`, else a fixed seed. Returns the seed and where
/// it came from.
pub fn default_seed() -> (u64, &'static str) {
    if let Ok(s) = std::env::var("MPCDIFF_STRESS_SEED") {
        if let Some(v) = parse_seed(&s) {
            return (v, "MPCDIFF_STRESS_SEED");
        }
    }
    let head = std::process::Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| u64::from_str_radix(s.trim().get(..16)?, 16).ok());
    match head {
        Some(v) => (v, "git HEAD"),
        None => (0x5EED, "fixed"),
    }
}

/// A seed written in decimal or as `0x` hex.
pub fn parse_seed(s: &str) -> Option<u64> {
    let s = s.trim();
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => s.parse().ok(),
    }
}
