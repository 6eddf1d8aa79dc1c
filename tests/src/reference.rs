//! Loader for the recorded CrypTen reference vectors (`shared/reference/crypten/*.json`).
//!
//! The files are described in `shared/reference/crypten/README.md`; this module turns them into
//! typed Rust values and nothing more: no tolerance, no interpretation. Ring integers, which
//! the files store as decimal strings (they do not fit a JSON double), are parsed to `i64`.
//!
//! # Where the files are
//! `$MPCDIFF_SHARED/reference/crypten` if the variable is set (it must then exist), otherwise
//! `<CARGO_MANIFEST_DIR>/../../shared/reference/crypten`. When that default directory is absent
//! (a checkout without the shared material), [`Reference::locate`] prints one visible
//! `SKIP: …` line to stderr and returns `None`; this is the only way a reference test may skip.
//! Anything else (a missing case file, a field that does not parse, lengths that disagree) is a
//! test failure, reported with the file name.
//!
//! # Two kinds of case file
//! * Full cases ([`Case`]): inputs, one-party and two-party outputs, float reference, flags
//!   and statistics. Every function family (mul, matmul, relu, exp, sigmoid, softmax, …) uses
//!   this format.
//! * Replica checks ([`ReplicaCheck`], the `check_*` files): only the one-party raw output of
//!   an alternative CrypTen expression, to be compared with a full case.

use mpcdiff_kernel::FixedPoint;
use serde::de::{self, Deserializer};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The environment variable that points at the shared material.
pub const SHARED_ENV: &str = "MPCDIFF_SHARED";

/// The shared directory: `$MPCDIFF_SHARED` or `<CARGO_MANIFEST_DIR>/../../shared`, if it exists.
///
/// # Panics
/// If `$MPCDIFF_SHARED` is set but is not a directory (an explicit request that cannot be met
/// must not turn into a silent skip).
pub fn shared_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os(SHARED_ENV) {
        let dir = PathBuf::from(dir);
        assert!(
            dir.is_dir(),
            "{SHARED_ENV}={} is set but is not a directory",
            dir.display()
        );
        return Some(dir);
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared");
    dir.is_dir().then_some(dir)
}

/// The CrypTen reference directory inside the shared material.
#[derive(Clone, Debug)]
pub struct Reference {
    dir: PathBuf,
}

impl Reference {
    /// Finds the CrypTen reference directory, or prints `SKIP: <test>: …` to stderr and
    /// returns `None` when the shared material is absent.
    pub fn locate(test: &str) -> Option<Reference> {
        match shared_dir() {
            Some(shared) => {
                let dir = shared.join("reference/crypten");
                assert!(
                    dir.is_dir(),
                    "shared directory {} has no reference/crypten",
                    shared.display()
                );
                Some(Reference { dir })
            }
            None => {
                // Written to the stderr handle directly, not with `eprintln!`, which the test
                // harness captures and hides for passing tests: a skip must stay visible.
                let _ = writeln!(
                    std::io::stderr(),
                    "SKIP: {test}: CrypTen reference vectors not found (set {SHARED_ENV} or \
                     place shared/ next to the repository, at {})",
                    Path::new(env!("CARGO_MANIFEST_DIR"))
                        .join("../../shared")
                        .display()
                );
                None
            }
        }
    }

    /// The directory holding the case files.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Every case file's name (without `.json`), sorted, `index.json` excluded: full cases and
    /// replica checks alike.
    pub fn all_names(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.dir)
            .unwrap_or_else(|e| panic!("cannot list {}: {e}", self.dir.display()))
            .map(|e| e.expect("directory entry").path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
            .filter(|n| n != "index")
            .collect();
        names.sort();
        names
    }

    /// The names of the full cases (files with `inputs`), sorted.
    pub fn case_names(&self) -> Vec<String> {
        self.all_names()
            .into_iter()
            .filter(|n| self.raw_json(n).get("inputs").is_some())
            .collect()
    }

    /// The names of the replica checks (files with only `one_party_raw`), sorted.
    pub fn replica_check_names(&self) -> Vec<String> {
        self.all_names()
            .into_iter()
            .filter(|n| self.raw_json(n).get("one_party_raw").is_some())
            .collect()
    }

    /// The file of case `name`.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.json"))
    }

    /// A case file as untyped JSON (for fields this loader does not model).
    pub fn raw_json(&self, name: &str) -> serde_json::Value {
        let path = self.path(name);
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    /// `index.json` as untyped JSON.
    pub fn index_json(&self) -> serde_json::Value {
        self.raw_json("index")
    }

    /// The full case `name` (e.g. `"mul_p16"`), parsed and checked for consistent lengths.
    pub fn case(&self, name: &str) -> Case {
        let path = self.path(name);
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let case: Case =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        if let Err(msg) = case.validate() {
            panic!("{}: {msg}", path.display());
        }
        case
    }

    /// The replica check `name` (e.g. `"check_mpcdiff_e8_nr3_p16"`).
    pub fn replica_check(&self, name: &str) -> ReplicaCheck {
        let path = self.path(name);
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }
}

/// `Reference::locate(test)` followed by `case(name)`: `None` (after the SKIP line) only when
/// the shared material is absent.
pub fn load_case(test: &str, name: &str) -> Option<Case> {
    Reference::locate(test).map(|r| r.case(name))
}

/// One input tensor of a case, row-major flattened.
#[derive(Clone, Debug, Deserialize)]
pub struct Input {
    /// Tensor shape.
    pub shape: Vec<usize>,
    /// The float64 values handed to CrypTen.
    pub nominal: Vec<f64>,
    /// CrypTen's encoding of `nominal` (`(2^f·x).long()`, truncation toward zero).
    #[serde(deserialize_with = "decimal_i64s")]
    pub raw: Vec<i64>,
    /// `raw / 2^f`.
    pub value: Vec<f64>,
}

/// The one-party (plaintext fixed point) result.
#[derive(Clone, Debug, Deserialize)]
pub struct OneParty {
    /// Revealed ring integers.
    #[serde(deserialize_with = "decimal_i64s")]
    pub raw: Vec<i64>,
    /// `raw / out_scale`.
    pub value: Vec<f64>,
    /// CrypTen's own `get_plain_text()` (float32, with its decode bug).
    #[serde(deserialize_with = "f32s")]
    pub crypten_decode: Vec<f32>,
    /// All repetitions bit-identical.
    pub deterministic: bool,
    /// How many repetitions were compared.
    pub repetitions_compared: u32,
    /// Max |value − float_ref| over all elements.
    pub max_abs_err_vs_ref: Option<f64>,
    /// … over `in_domain` elements.
    pub max_abs_err_vs_ref_in_domain: Option<f64>,
    /// … over `ok` elements.
    pub max_abs_err_vs_ref_ok: Option<f64>,
    /// Elements where `crypten_decode` is off by ≥ 0.5 from `value`.
    #[serde(rename = "crypten_decode_off_by_ge_0.5_indices")]
    pub crypten_decode_off_indices: Vec<usize>,
}

/// CrypTen's `manual_seed` arguments of party 0 in one two-party run.
#[derive(Clone, Copy, Debug, Deserialize)]
pub struct Seeds {
    /// `next` seed.
    pub next: u64,
    /// `local` seed.
    pub local: u64,
    /// `global` seed.
    pub global: u64,
}

/// One recorded two-party run.
#[derive(Clone, Debug, Deserialize)]
pub struct TwoPartyRun {
    /// Run number.
    pub run: u32,
    /// Party 0's seeds.
    pub seeds_rank0: Seeds,
    /// Revealed ring integers.
    #[serde(deserialize_with = "decimal_i64s")]
    pub raw: Vec<i64>,
    /// `raw / out_scale`.
    pub value: Vec<f64>,
    /// `raw − one_party.raw` mod 2^64, as a signed integer.
    #[serde(deserialize_with = "decimal_i64s")]
    pub ring_diff_vs_one_party: Vec<i64>,
}

/// Per-run statistics of the two-party results against one party.
#[derive(Clone, Debug, Deserialize)]
pub struct RunStats {
    /// Run number.
    pub run: u32,
    /// Max |ring diff| over all elements.
    pub max_abs_ring_diff_vs_one_party: u64,
    /// … over `in_domain` elements.
    pub max_abs_ring_diff_vs_one_party_in_domain: u64,
    /// … over `ok` elements.
    pub max_abs_ring_diff_vs_one_party_ok: u64,
    /// `ok` elements off by ≥ the gross threshold (truncation wraps).
    pub n_gross_ok: u64,
    /// Their indices.
    pub gross_ok_indices: Vec<usize>,
    /// Max |ring diff| over `ok` elements that are not gross.
    pub max_abs_ring_diff_vs_one_party_ok_excl_gross: u64,
    /// Mean |ring diff| over the same elements.
    pub mean_abs_ring_diff_vs_one_party_ok_excl_gross: Option<f64>,
    /// Elements whose ring diff is not 0.
    pub n_differ: u64,
    /// Histogram of ring diffs in [−8, 8].
    #[serde(deserialize_with = "histogram")]
    pub ring_diff_histogram_small: BTreeMap<i64, u64>,
    /// Elements with |ring diff| > 8.
    pub n_ring_diff_gt_8: u64,
    /// Max |2P value − float_ref| over `ok`, non-gross elements.
    pub max_abs_err_vs_ref_ok_excl_gross: Option<f64>,
}

/// The two-party results and their aggregates over the runs.
#[derive(Clone, Debug, Deserialize)]
pub struct TwoParty {
    /// The runs.
    pub runs: Vec<TwoPartyRun>,
    /// Per-run statistics.
    pub per_run_stats: Vec<RunStats>,
    /// Max |ring diff| over all elements and runs.
    pub max_abs_ring_diff_vs_one_party: u64,
    /// … over `in_domain` elements.
    pub max_abs_ring_diff_vs_one_party_in_domain: u64,
    /// … over `ok` elements.
    pub max_abs_ring_diff_vs_one_party_ok: u64,
    /// Gross `ok` elements summed over the runs.
    pub n_gross_ok_total: u64,
    /// |ring diff| at or above which a difference counts as gross (2^(56−f)).
    pub gross_threshold_ring_units: u64,
    /// The headline figure: max |ring diff| over `ok`, non-gross elements of all runs.
    pub max_abs_ring_diff_vs_one_party_ok_excl_gross: u64,
    /// Mean |ring diff| over the same elements.
    pub mean_abs_ring_diff_vs_one_party_ok_excl_gross: Option<f64>,
    /// Max |2P value − float_ref| over the same elements.
    pub max_abs_err_vs_ref_ok_excl_gross: Option<f64>,
    /// Run 0 repeated with the same seeds was bit-identical.
    pub run0_reproducible_with_same_seeds: bool,
}

/// A full case file.
#[derive(Clone, Debug, Deserialize)]
pub struct Case {
    /// Case id (= file name without `.json`).
    pub case: String,
    /// Function family (`mul`, `matmul`, `relu`, `exp`, …).
    pub function: String,
    /// The CrypTen call(s) made.
    pub crypten_expr: String,
    /// Remarks.
    pub note: Option<String>,
    /// `f`, the fractional bits of the inputs.
    pub precision_bits: u32,
    /// `2^f`.
    pub input_scale: i64,
    /// Config keys overridden for the case (dotted names, e.g. `functions.exp_iterations`).
    pub cfg_overrides: serde_json::Map<String, serde_json::Value>,
    /// The full effective CrypTen config.
    pub cfg: serde_json::Value,
    /// Input tensors by name (`x`, `y`, `a`, `b`).
    pub inputs: BTreeMap<String, Input>,
    /// Output shape.
    pub out_shape: Vec<usize>,
    /// Output scale: `2^f`, or 1 for `ltz` and `sign`.
    pub out_scale: i64,
    /// Per element: inside the approximation's working range.
    pub in_domain: Vec<bool>,
    /// What `in_domain` means for this case.
    pub domain_note: Option<String>,
    /// Per element: the one-party output is not garbage.
    pub one_party_ok: Vec<bool>,
    /// Exact function at the decoded inputs (`None` where non-finite).
    pub float_ref: Vec<Option<f64>>,
    /// One-party results.
    pub one_party: OneParty,
    /// Two-party results.
    pub two_party: TwoParty,
}

impl Case {
    /// Number of output elements.
    pub fn len(&self) -> usize {
        self.one_party.raw.len()
    }

    /// Whether the case has no output elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The input tensor `name`.
    ///
    /// # Panics
    /// If the case has no such input.
    pub fn input(&self, name: &str) -> &Input {
        self.inputs.get(name).unwrap_or_else(|| {
            panic!(
                "case {} has no input {name:?} (has {:?})",
                self.case,
                self.inputs.keys().collect::<Vec<_>>()
            )
        })
    }

    /// The fixed-point format of the inputs.
    pub fn fixed_point(&self) -> FixedPoint {
        FixedPoint::new(self.precision_bits).expect("precision_bits in range")
    }

    /// The fractional bits of the output (`log2 out_scale`: 0 for `ltz` and `sign`).
    pub fn out_frac_bits(&self) -> u32 {
        self.out_scale.trailing_zeros()
    }

    /// The fixed-point format of the output.
    pub fn out_fixed_point(&self) -> FixedPoint {
        FixedPoint::new(self.out_frac_bits()).expect("out_scale is a power of two in range")
    }

    /// Per element: `in_domain && one_party_ok` (the README's `ok`).
    pub fn ok(&self) -> Vec<bool> {
        self.in_domain
            .iter()
            .zip(&self.one_party_ok)
            .map(|(&d, &o)| d && o)
            .collect()
    }

    /// Indices of the `ok` elements.
    pub fn ok_indices(&self) -> Vec<usize> {
        self.ok()
            .iter()
            .enumerate()
            .filter_map(|(i, &k)| k.then_some(i))
            .collect()
    }

    /// A value of the effective config by dotted path (`"functions.exp_iterations"`).
    pub fn cfg_get(&self, path: &str) -> Option<&serde_json::Value> {
        path.split('.').try_fold(&self.cfg, |v, key| v.get(key))
    }

    /// Checks the invariants the README states: consistent lengths, a power-of-two scale.
    pub fn validate(&self) -> Result<(), String> {
        let n = self.len();
        let numel: usize = self.out_shape.iter().product();
        let check = |what: &str, got: usize| {
            if got == n {
                Ok(())
            } else {
                Err(format!("{what} has {got} elements, one_party.raw has {n}"))
            }
        };
        check("out_shape", numel)?;
        check("one_party.value", self.one_party.value.len())?;
        check(
            "one_party.crypten_decode",
            self.one_party.crypten_decode.len(),
        )?;
        check("in_domain", self.in_domain.len())?;
        check("one_party_ok", self.one_party_ok.len())?;
        check("float_ref", self.float_ref.len())?;
        for r in &self.two_party.runs {
            check("two_party.runs[].raw", r.raw.len())?;
            check("two_party.runs[].value", r.value.len())?;
            check(
                "two_party.runs[].ring_diff_vs_one_party",
                r.ring_diff_vs_one_party.len(),
            )?;
        }
        for (name, input) in &self.inputs {
            let numel: usize = input.shape.iter().product();
            for (what, got) in [
                ("nominal", input.nominal.len()),
                ("raw", input.raw.len()),
                ("value", input.value.len()),
            ] {
                if got != numel {
                    return Err(format!(
                        "input {name}.{what} has {got} elements, shape says {numel}"
                    ));
                }
            }
        }
        if self.input_scale != 1i64 << self.precision_bits {
            return Err(format!(
                "input_scale {} is not 2^{}",
                self.input_scale, self.precision_bits
            ));
        }
        if self.out_scale <= 0 || self.out_scale.count_ones() != 1 {
            return Err(format!(
                "out_scale {} is not a power of two",
                self.out_scale
            ));
        }
        Ok(())
    }
}

/// A replica check file (`check_*`): one-party raw output only.
#[derive(Clone, Debug, Deserialize)]
pub struct ReplicaCheck {
    /// Check id.
    pub case: String,
    /// Function family.
    pub function: String,
    /// The CrypTen expression of the replica.
    pub crypten_expr: String,
    /// What it must equal.
    pub note: Option<String>,
    /// `f`.
    pub precision_bits: u32,
    /// Config overrides.
    pub cfg_overrides: serde_json::Map<String, serde_json::Value>,
    /// Output shape.
    pub out_shape: Vec<usize>,
    /// Output scale.
    pub out_scale: i64,
    /// One-party revealed ring integers.
    #[serde(deserialize_with = "decimal_i64s")]
    pub one_party_raw: Vec<i64>,
    /// All repetitions bit-identical.
    pub one_party_deterministic: bool,
}

fn decimal_i64s<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<i64>, D::Error> {
    let strings = Vec::<String>::deserialize(d)?;
    strings
        .iter()
        .map(|s| {
            s.parse::<i64>()
                .map_err(|e| de::Error::custom(format!("ring integer {s:?}: {e}")))
        })
        .collect()
}

fn f32s<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f32>, D::Error> {
    let values = Vec::<f64>::deserialize(d)?;
    values
        .iter()
        .map(|&v| {
            let f = v as f32;
            // The recorder wrote float32 values through Python floats: each must be exact.
            if f64::from(f) == v {
                Ok(f)
            } else {
                Err(de::Error::custom(format!("{v} is not a float32 value")))
            }
        })
        .collect()
}

fn histogram<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<i64, u64>, D::Error> {
    let map = BTreeMap::<String, u64>::deserialize(d)?;
    map.into_iter()
        .map(|(k, v)| {
            k.parse::<i64>()
                .map(|k| (k, v))
                .map_err(|e| de::Error::custom(format!("histogram key {k:?}: {e}")))
        })
        .collect()
}
