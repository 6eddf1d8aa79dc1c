//! `mpcdiff export`: a campaign's deviations as a folder that confirms them in real CrypTen.
//!
//! `mpcdiff export --campaign DIR --out FOLDER [--limit N] [--json]`
//!
//! Reads a `mpcdiff fuzz --out DIR` campaign (`campaign.json`, `deviations.jsonl`), loads
//! its model exactly as the campaign did ([`Setup`]), replays every deviation with its
//! recorded MPC seed (a record that no longer replays is refused, as in `localize`) and
//! writes FOLDER:
//!
//! * `model.onnx`: the graph `crypten.nn.from_onnx` runs ([`crate::onnx::write`]: the
//!   deployed graph, conv+BN folded in float32 as torch's exporter does);
//! * `inputs.npy`: float64 `[n, *input_shape]` (`[n, c, h, w]` or `[n, features]`), C
//!   order, the recorded deviation inputs bit for bit;
//! * `labels.npy`, `mpc_labels.npy`: int64 `[n]`, the simulator's plaintext and MPC labels;
//! * `manifest.json` ([`Manifest`], `mpcdiff.export/1`): the deployment, the CrypTen
//!   configuration to set (`crypten_config`) and one record per input;
//! * `confirm_crypten.py`: `cli/assets/confirm_crypten.py`, verbatim, which runs the inputs
//!   through CrypTen 0.4.1 with fresh randomness and counts the label flips;
//! * `README.md`: what the folder is and how to run it.
//!
//! Refused (exit 2, one sentence): what stock CrypTen cannot run, i.e. a campaign whose
//! deployment is not `crypten` (`from_onnx` runs only that one), whose profile is `mpcdiff`
//! (stock CrypTen hard-wires sigmoid's 3 Newton steps), whose truncation is `dealer` (two
//! CrypTen parties truncate locally) or that ran with a repair `--plan` (per-neuron levels
//! do not exist in stock CrypTen); an `--out` that exists and is not empty; a campaign with
//! no deviation.
//!
//! The folder is built in a temporary sibling (`.NAME.tmp-exportPID`) and renamed into place
//! at the end: a failed run leaves nothing behind.
//!
//! The `.npy` files are NPY format 1.0 written here ([`npy`]): the crates that write them
//! (`npyz`, `ndarray-npy`) parse headers with a PEG parser whose stack guard (`psm`) compiles
//! assembly with a C toolchain, too much for three fixed-layout files.
//!
//! # Output
//! Text: the folder and the command to run in it on stdout; a one-line summary on stderr.
//! `--json`: the manifest on one line.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use mpcdiff_kernel::nn::spec::Shape;
use serde::Serialize;

use crate::engine::fuzzing::{self, Deviation, CAMPAIGN};
use crate::engine::target::Setup;
use crate::error::{usage, UsageError};
use crate::flags::{DeployArg, TruncArg};
use crate::output;

/// The confirmation script, copied verbatim into every export.
pub const CONFIRM_SCRIPT: &str = include_str!("../../assets/confirm_crypten.py");

/// The schema of `manifest.json`.
pub const SCHEMA: &str = "mpcdiff.export/1";

/// The CrypTen release the folder targets.
const CRYPTEN: &str = "0.4.1";

/// Options of `export`.
#[derive(Clone, Debug, Args)]
pub struct ExportArgs {
    /// The campaign folder (`mpcdiff fuzz --out DIR`).
    #[arg(long, value_name = "DIR")]
    pub campaign: PathBuf,
    /// The folder to write (must not exist, or be empty).
    #[arg(long, value_name = "FOLDER")]
    pub out: PathBuf,
    /// Export only the first N deviations, in the order found.
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
    /// Print the manifest as one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// One exported input in `manifest.json` (row `i` of the `.npy` files).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ManifestInput {
    /// The corpus entry it was found from.
    pub entry: usize,
    /// Seed of the simulated MPC session that deviated.
    pub mpc_seed: u64,
    /// The simulator's deviation probability over MPC seeds.
    pub probability: f64,
    /// ‖input − original‖₂.
    pub l2: f64,
    /// ‖input − original‖∞.
    pub linf: f64,
}

/// `manifest.json` (`mpcdiff.export/1`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Manifest {
    /// [`SCHEMA`].
    pub schema: String,
    /// mpcdiff's version.
    pub version: String,
    /// The campaign's `--model`.
    pub model: String,
    /// The model's architecture.
    pub architecture: String,
    /// The approximation profile.
    pub profile: String,
    /// The deployment (always `crypten`).
    pub deployment: String,
    /// Fixed-point fractional bits.
    pub frac_bits: u32,
    /// CrypTen cfg keys to set, and their values.
    pub crypten_config: BTreeMap<String, serde_json::Value>,
    /// The campaign folder, as given.
    pub campaign: String,
    /// The mpcdiff command that re-runs the campaign, when the campaign file records one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// One record per input.
    pub inputs: Vec<ManifestInput>,
    /// What the folder is.
    pub note: String,
}

/// NPY format 1.0 (NumPy's `.npy`), little-endian, C order.
pub mod npy {
    /// The bytes of an NPY 1.0 file of dtype `descr` (`<f8`, `<i8`), shape `shape`, and
    /// `data` (already little-endian, `8 · ∏ shape` bytes). The header is padded with spaces
    /// to a multiple of 64 bytes and ends in a newline, as NumPy writes it.
    pub fn file(descr: &str, shape: &[usize], data: &[u8]) -> Vec<u8> {
        let dims: Vec<String> = shape.iter().map(usize::to_string).collect();
        let shape = match dims.len() {
            1 => format!("({},)", dims[0]),
            _ => format!("({})", dims.join(", ")),
        };
        let mut header =
            format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
        // magic (6) + version (2) + length (2) + header + '\n' ≡ 0 (mod 64)
        let unpadded = 10 + header.len() + 1;
        header.push_str(&" ".repeat((64 - unpadded % 64) % 64));
        header.push('\n');
        let mut out = Vec::with_capacity(10 + header.len() + data.len());
        out.extend_from_slice(b"\x93NUMPY\x01\x00");
        // A header over 65535 bytes would need format 2.0; ours is under 200.
        out.extend_from_slice(&(header.len() as u16).to_le_bytes());
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(data);
        out
    }

    /// A float64 array (`<f8`): the values' bits unchanged.
    pub fn f64s(shape: &[usize], values: impl Iterator<Item = f64>) -> Vec<u8> {
        let data: Vec<u8> = values.flat_map(f64::to_le_bytes).collect();
        file("<f8", shape, &data)
    }

    /// An int64 array (`<i8`).
    pub fn i64s(shape: &[usize], values: impl Iterator<Item = i64>) -> Vec<u8> {
        let data: Vec<u8> = values.flat_map(i64::to_le_bytes).collect();
        file("<i8", shape, &data)
    }
}

/// Refuses, in one sentence naming the flag, a campaign that stock CrypTen cannot run.
fn check_runnable(dir: &Path, c: &fuzzing::CampaignJson) -> Result<(), UsageError> {
    let d = dir.display();
    let t = &c.spec.target;
    if c.spec.plan.is_some() {
        return Err(usage!("--campaign {d}: the campaign ran with a repair --plan, whose per-neuron approximation levels do not exist in stock CrypTen, so CrypTen cannot confirm its deviations"));
    }
    if t.deploy != DeployArg::Crypten {
        return Err(usage!("--campaign {d}: the campaign ran with --deploy {}, but crypten.nn.from_onnx runs only --deploy crypten, so CrypTen cannot confirm its deviations", t.deploy.deployment().name()));
    }
    if t.profile == "mpcdiff" {
        return Err(usage!("--campaign {d}: the campaign ran with --profile mpcdiff, which stock CrypTen cannot run (it hard-wires sigmoid's 3 Newton steps; the artifact patched CrypTen), so re-run it with --profile crypten or crypten-chebyshev"));
    }
    if !matches!(t.profile.as_str(), "crypten" | "crypten-chebyshev") {
        return Err(usage!("--campaign {d}: the campaign ran with --profile {}, which is not a configuration of stock CrypTen (crypten or crypten-chebyshev)", t.profile));
    }
    if t.trunc == TruncArg::Dealer {
        return Err(usage!("--campaign {d}: the campaign ran with --trunc dealer, but two CrypTen parties truncate locally, so CrypTen would not run what was simulated; re-run it with --trunc local"));
    }
    Ok(())
}

/// `--out` may not exist, or be an empty folder.
fn check_out(out: &Path) -> Result<(), UsageError> {
    let o = out.display();
    if out.file_name().is_none() {
        return Err(usage!(
            "--out {o} must name a new folder (it has no final name)"
        ));
    }
    match std::fs::symlink_metadata(out) {
        Err(_) => Ok(()),
        Ok(m) if m.is_dir() => {
            let empty = std::fs::read_dir(out)
                .map_err(|e| usage!("--out {o}: cannot read it ({e})"))?
                .next()
                .is_none();
            if empty {
                Ok(())
            } else {
                Err(usage!(
                    "--out {o} exists and is not empty; export writes a new folder and never overwrites one"
                ))
            }
        }
        Ok(_) => Err(usage!(
            "--out {o} exists and is not a folder; export writes a new folder and never overwrites a file"
        )),
    }
}

/// The CrypTen configuration of a profile at `frac_bits`.
pub fn crypten_config(profile: &str, frac_bits: u32) -> BTreeMap<String, serde_json::Value> {
    let mut c = BTreeMap::new();
    c.insert("encoder.precision_bits".to_string(), frac_bits.into());
    if profile == "crypten-chebyshev" {
        c.insert(
            "functions.sigmoid_tanh_method".to_string(),
            "chebyshev".into(),
        );
    }
    c
}

/// The shape of one input, as NumPy sees it (`[c, h, w]` or `[features]`).
pub fn input_dims(shape: Shape) -> Vec<usize> {
    match shape {
        Shape::Image { c, h, w } => vec![c, h, w],
        Shape::Vector(f) => vec![f],
    }
}

fn readme(m: &Manifest, total: usize) -> String {
    let n = m.inputs.len();
    let config = serde_json::to_string(&m.crypten_config).unwrap_or_default();
    format!(
        "# mpcdiff export: {n} deviation(s) to confirm in CrypTen {CRYPTEN}

Written by `mpcdiff export` (mpcdiff {version}) from the fuzzing campaign `{campaign}`:
{n} of its {total} deviations, inputs on which mpcdiff's simulation of CrypTen ({profile}
profile, {frac_bits} fractional bits, deployment `{deployment}`) gives another label than
the plaintext model `{model}` ({architecture}).

| file | what |
|---|---|
| `model.onnx` | the deployed graph CrypTen runs (`crypten.nn.from_onnx`) |
| `inputs.npy` | float64 `[n, *input_shape]`, the inputs exactly as the simulator saw them |
| `labels.npy` | int64 `[n]`, the plaintext label of each input |
| `mpc_labels.npy` | int64 `[n]`, the simulated MPC label of each input |
| `manifest.json` | settings (`frac_bits`, `crypten_config` = {config}) and one record per input |
| `confirm_crypten.py` | runs the inputs through real CrypTen and counts the label flips |

## Install CrypTen {CRYPTEN}

CrypTen {CRYPTEN} needs torch 1.13 (so a Python that torch 1.13.1 has wheels for):

    pip install torch==1.13.1 onnx==1.14.1 \"numpy<2\" omegaconf
    pip install --no-deps crypten==0.4.1

## Run

    python confirm_crypten.py --runs 8

Each input runs 8 times as a two-party private inference (two local processes, fresh
randomness each run); party 0 holds the model, party 1 the inputs.

## Output

A table with one row per input: the plaintext label, the simulated MPC label, CrypTen's
label in each run and the number of runs whose label differs from the plaintext label
(flips). A flip confirms the deviation in real CrypTen. The simulator's deviation
probability (`manifest.json`, `inputs[i].probability`) is over MPC randomness, and CrypTen
draws its own: where the simulation is faithful, an input with probability p flips in
about a fraction p of the runs. The full results, ring logits included, go to
`crypten_results.json`.
",
        version = m.version,
        campaign = m.campaign,
        profile = m.profile,
        frac_bits = m.frac_bits,
        deployment = m.deployment,
        model = m.model,
        architecture = m.architecture,
    )
}

/// The files of the export, by name.
fn files(
    setup: &Setup,
    devs: &[Deviation],
    manifest: &Manifest,
    total: usize,
) -> anyhow::Result<Vec<(&'static str, Vec<u8>)>> {
    let n = devs.len();
    let dims = input_dims(setup.model.input);
    let mut shape = vec![n];
    shape.extend_from_slice(&dims);
    let onnx = crate::onnx::write(&setup.model).map_err(|e| {
        usage!(
            "--campaign {}: the model cannot be written as the ONNX graph CrypTen imports: {e}",
            manifest.campaign
        )
    })?;
    let label = |l: usize| i64::try_from(l).unwrap_or(i64::MAX);
    Ok(vec![
        ("model.onnx", onnx),
        (
            "inputs.npy",
            npy::f64s(&shape, devs.iter().flat_map(|d| d.input.iter().copied())),
        ),
        (
            "labels.npy",
            npy::i64s(&[n], devs.iter().map(|d| label(d.plaintext_label))),
        ),
        (
            "mpc_labels.npy",
            npy::i64s(&[n], devs.iter().map(|d| label(d.mpc_label))),
        ),
        (
            "manifest.json",
            (serde_json::to_string_pretty(manifest)? + "\n").into_bytes(),
        ),
        ("confirm_crypten.py", CONFIRM_SCRIPT.as_bytes().to_vec()),
        ("README.md", readme(manifest, total).into_bytes()),
    ])
}

/// Writes `files` into a temporary sibling of `out`, then renames it to `out`. On failure
/// the temporary folder is removed.
fn write_folder(out: &Path, files: &[(&str, Vec<u8>)]) -> anyhow::Result<()> {
    let name = out.file_name().context("the output folder has no name")?;
    let parent = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| Path::new("."));
    let tmp = parent.join(format!(
        ".{}.tmp-export{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&tmp);
    let result = (|| -> anyhow::Result<()> {
        std::fs::create_dir(&tmp).map_err(|e| {
            usage!(
                "--out {}: cannot create a folder beside it ({}: {e})",
                out.display(),
                tmp.display()
            )
        })?;
        for (file, bytes) in files {
            let p = tmp.join(file);
            std::fs::write(&p, bytes)
                .map_err(|e| crate::output::unwritable("write", &out.join(file), &e))?;
        }
        // An empty `--out` is replaced (checked empty before; rename does not replace a folder
        // everywhere).
        if out.is_dir() {
            std::fs::remove_dir(out).map_err(|e| {
                usage!(
                    "--out {}: cannot replace the empty folder ({e})",
                    out.display()
                )
            })?;
        }
        std::fs::rename(&tmp, out).map_err(|e| crate::output::unwritable("write", out, &e).into())
    })();
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    result
}

/// Runs `export`.
pub fn run(a: &ExportArgs) -> anyhow::Result<()> {
    if a.limit == Some(0) {
        return Err(usage!("--limit must be at least 1").into());
    }
    let dir = &a.campaign;
    if !dir.join(CAMPAIGN).is_file() {
        return Err(usage!(
            "--campaign {}: no {CAMPAIGN} there; run `mpcdiff fuzz --out {}` first",
            dir.display(),
            dir.display()
        )
        .into());
    }
    let campaign = fuzzing::read_campaign(dir)?;
    check_runnable(dir, &campaign)?;
    check_out(&a.out)?;
    // The model loaded as the campaign did, and every deviation replayed with its recorded
    // MPC seed (as `localize` does): only what this simulator still flips is exported.
    let loaded = fuzzing::load(dir, crate::cmd::fuzz::default_threads())?;
    let setup = loaded.setup;
    let mut devs = loaded.deviations;
    let total = devs.len();
    if total == 0 {
        return Err(usage!(
            "--campaign {}: the campaign found no deviations, so there is nothing to confirm",
            dir.display()
        )
        .into());
    }
    devs.truncate(a.limit.unwrap_or(total));
    let features = setup.model.input.len();
    if let Some(k) = devs.iter().position(|d| d.input.len() != features) {
        return Err(usage!(
            "--campaign {}: deviation {} has {} input values, the model takes {features}",
            dir.display(),
            k + 1,
            devs[k].input.len()
        )
        .into());
    }
    // A `command` the campaign file may record (newer writers); none is invented.
    let command = crate::files::read_to_string(dir.join(CAMPAIGN))
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|v| v.get("command")?.as_str().map(str::to_string));
    let frac_bits = campaign.spec.target.frac_bits;
    let manifest = Manifest {
        schema: SCHEMA.into(),
        version: mpcdiff_kernel::VERSION.into(),
        model: setup.args.model.clone(),
        architecture: setup.model.architecture.to_string(),
        profile: setup.profile.name.into(),
        deployment: setup.deploy.name().into(),
        frac_bits,
        crypten_config: crypten_config(setup.profile.name, frac_bits),
        campaign: dir.display().to_string(),
        command,
        inputs: devs
            .iter()
            .map(|d| ManifestInput {
                entry: d.entry,
                mpc_seed: d.mpc_seed,
                probability: d.probability.p,
                l2: d.l2,
                linf: d.linf,
            })
            .collect(),
        note: format!(
            "Deviations found by mpcdiff's simulation of CrypTen, with the model and settings to confirm them in real CrypTen {CRYPTEN}: run python confirm_crypten.py --runs 8 in this folder."
        ),
    };
    let files = files(&setup, &devs, &manifest, total)?;
    write_folder(&a.out, &files)?;
    crate::output::say!(
        "mpcdiff {}  export  {} of {} deviations of {} ({}, profile {}, {} fractional bits) to {}",
        mpcdiff_kernel::VERSION,
        devs.len(),
        total,
        dir.display(),
        setup.args.model,
        setup.profile.name,
        frac_bits,
        a.out.display()
    );
    if a.json {
        return output::emit(&(serde_json::to_string(&manifest)? + "\n"));
    }
    output::emit(&format!(
        "{}\ncd {} && python confirm_crypten.py --runs 8\n",
        a.out.display(),
        shell_quote(&a.out.display().to_string())
    ))
}

/// `s` as one POSIX shell word (single-quoted unless it needs no quoting).
fn shell_quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+,:@%=".contains(c));
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}
