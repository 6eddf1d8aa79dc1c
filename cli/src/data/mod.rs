//! The three MPCDiff datasets (MNIST, Credit, Bank), read from the files described in
//! `shared/data/README.md` and turned into model inputs.
//!
//! [`load`] takes a dataset name, the data folder (the one holding `mnist/`, `credit/` and
//! `bank/`, never a copy inside the repository) and a seed, and returns a [`Dataset`]: a
//! train and a test [`Split`] of row-major `f32` inputs with `u8` labels, the feature names,
//! which features are categorical, the [`Scaling`] that maps raw values to model inputs (a
//! model trained on the dataset must carry it), and a [`SplitRecord`] saying how the split was
//! made.
//!
//! # The three recipes
//! * **MNIST** ([`mnist`]): the official 60,000 / 10,000 split, in file order. Pixels become
//!   `p / 255` in [0, 1], then the MPCDiff normalisation `(u − 0.1307) / 0.3081`, both in
//!   `f32` as torchvision does. [`mnist::load_raw`] keeps the [0, 1] images.
//! * **Credit** ([`credit`]): `ID` dropped, 23 features, a seeded stratified 80/20 split
//!   (24,000 / 6,000), min-max scaling with training-split statistics.
//! * **Bank** ([`bank`]): `bank-additional-full.csv`, 20 features with 10 categorical columns
//!   coded alphabetically (pandas `category` codes), every row kept, a seeded stratified 80/20
//!   split (32,950 / 8,238), min-max scaling (training statistics for the continuous
//!   columns, the fixed code range for the categorical ones).
//!
//! # The split (Credit, Bank)
//! Value-breaking contract: changing any step changes every split made from a seed.
//! 1. `n_test = ceil(n / 5)` rows go to the test split. Each class `c` (in ascending label
//!    order) gets `floor(n_c · n_test / n)` of them; the rows still missing go one each to the
//!    classes with the largest remainders `n_c · n_test mod n` (ties: the lower label). Class
//!    proportions in both splits thus differ from the file's by less than one row.
//! 2. One stream, `mpcdiff_kernel::seed::stream(seed, StreamId::DataOrder)`, draws everything:
//!    the row indices of each class (in file order, classes in ascending order) are shuffled by
//!    Fisher–Yates (`for i in (1..len).rev() { swap(i, below(rng, i + 1)) }`, with
//!    [`seed::below`] on `u64`, so 32-bit targets draw the same values); the first quota rows
//!    of each class go to test, the rest to train.
//! 3. The train list (classes concatenated in ascending order) is shuffled the same way, then
//!    the test list, so a prefix of either split is a random sample with both classes mixed.
//!
//! [`SplitRecord::index_digest`] digests the two index lists (see [`index_digest`]), so two
//! runs can check that they used the same rows.
//!
//! # Scaling (Credit, Bank)
//! `x = (raw − min) / (max − min)`, computed in `f64` from the parsed value and rounded once
//! to `f32` (IEEE operations, so every target gets the same bits). `min` and `max` are taken
//! over the **training split only**: the MPCDiff artifact scaled over the whole file, which
//! leaks test statistics into training. Consequently test values may fall outside [0, 1]
//! (e.g. a test client with a larger bill than any training client); they are kept as they
//! are, not clamped, and a fuzzer must clamp its *mutations*, not the seeds. A feature that
//! is constant over the training split has `max = min` and is scaled as `raw − min`.
//! Categorical columns (Bank) use the fixed range of their codes, `min = 0`, `max = K − 1`,
//! so code `c` is always `c / (K − 1)`, whichever rows the seed put in training (the
//! artifact's whole-file scaling gives the same values, since every code occurs in the file).
//!
//! # Errors
//! Every failure is a [`DataError`] naming the file and the line (CSV) or the byte offset in
//! the decompressed data (idx); it converts into the CLI's [`UsageError`] (exit code 2),
//! since a missing or malformed data file is the user's input, not a bug.

pub mod bank;
pub mod credit;
mod csv;
pub mod mnist;

use std::fmt;
use std::path::{Path, PathBuf};

use mpcdiff_kernel::seed::{self, StreamId};
use mpcdiff_kernel::Digest;

use crate::error::UsageError;

/// The dataset names [`load`] accepts.
pub const NAMES: [&str; 3] = ["mnist", "credit", "bank"];

/// The share of rows in the test split of the seeded splits, as a fraction `1 / TEST_DIVISOR`.
pub const TEST_DIVISOR: u64 = 5;

/// Loads dataset `name` ("mnist", "credit" or "bank") from the data folder `dir` (the folder
/// holding `mnist/`, `credit/` and `bank/`). `seed` chooses the train/test split of Credit
/// and Bank; MNIST has a fixed official split and ignores it.
pub fn load(name: &str, dir: &Path, seed: u64) -> Result<Dataset, DataError> {
    match name {
        "mnist" => mnist::load(dir),
        "credit" => credit::load(dir, seed),
        "bank" => bank::load(dir, seed),
        _ => Err(DataError::UnknownDataset {
            name: name.to_string(),
        }),
    }
}

/// A dataset ready for training and evaluation.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    /// "mnist", "credit" or "bank".
    pub name: &'static str,
    /// Inputs per example (784 for MNIST, 23 for Credit, 20 for Bank).
    pub features: usize,
    /// The image shape, for image datasets (MNIST: 1 × 28 × 28); `None` for tables.
    pub image: Option<ImageShape>,
    /// Number of classes; labels are `0..classes`.
    pub classes: u8,
    /// The training split.
    pub train: Split,
    /// The test split.
    pub test: Split,
    /// One name per feature (the CSV header; `r{row}c{col}` for MNIST pixels).
    pub feature_names: Vec<String>,
    /// Per feature: `Some(K)` if categorical with codes `0..K`, `None` if continuous.
    pub categorical: Vec<Option<u32>>,
    /// Per feature: the category strings in code order (empty for continuous features).
    pub category_names: Vec<Vec<String>>,
    /// How raw values became the model inputs in `train.x` and `test.x`.
    pub scaling: Scaling,
    /// How the split was made.
    pub provenance: SplitRecord,
}

impl Dataset {
    /// The range of model inputs that valid raw values of feature `j` produce on the
    /// training split: [0, 1] after min-max scaling, [`mnist::normalize`] of 0 and 1 for
    /// MNIST. Test inputs may lie outside it (see the module doc).
    pub fn input_range(&self, j: usize) -> (f32, f32) {
        match &self.scaling {
            Scaling::Standardize { mean, std } => ((0.0 - mean) / std, (1.0 - mean) / std),
            Scaling::MinMax(_) => {
                debug_assert!(j < self.features);
                (0.0, 1.0)
            }
        }
    }

    /// The model input of category `code` of categorical feature `j`, or `None` if `j` is
    /// not categorical or `code` is out of range. A fuzzer keeps categorical inputs valid by
    /// choosing among these values.
    pub fn category_value(&self, j: usize, code: u32) -> Option<f32> {
        let k = (*self.categorical.get(j)?)?;
        match &self.scaling {
            Scaling::MinMax(mm) if code < k => Some(mm.apply(j, f64::from(code))),
            _ => None,
        }
    }
}

/// The shape of one image example.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ImageShape {
    /// Colour channels.
    pub channels: usize,
    /// Rows.
    pub height: usize,
    /// Columns.
    pub width: usize,
}

/// One split: `len` examples of `features` inputs each.
#[derive(Clone, Debug, PartialEq)]
pub struct Split {
    /// Inputs per example.
    pub features: usize,
    /// The model inputs, row-major: example `i` is `x[i * features..(i + 1) * features]`.
    pub x: Vec<f32>,
    /// The labels.
    pub y: Vec<u8>,
    /// Where each example comes from: its 0-based data row in the source file (the CSV line
    /// is `row + 2`, after the header), or its index in the idx file for MNIST.
    pub rows: Vec<u32>,
}

impl Split {
    /// Number of examples.
    pub fn len(&self) -> usize {
        self.y.len()
    }

    /// Whether the split has no examples.
    pub fn is_empty(&self) -> bool {
        self.y.is_empty()
    }

    /// The inputs of example `i`.
    pub fn row(&self, i: usize) -> &[f32] {
        &self.x[i * self.features..(i + 1) * self.features]
    }
}

/// The map from raw values to model inputs; a model trained on a dataset carries it.
#[derive(Clone, Debug, PartialEq)]
pub enum Scaling {
    /// MNIST: `x = (p / 255 − mean) / std` in `f32` (torchvision's `ToTensor` then
    /// `Normalize`).
    Standardize {
        /// The mean subtracted (0.1307).
        mean: f32,
        /// The standard deviation divided by (0.3081).
        std: f32,
    },
    /// Tables: per-feature min-max scaling.
    MinMax(MinMax),
}

/// Per-feature min-max statistics in raw units (see the module doc for where they come from).
#[derive(Clone, Debug, PartialEq)]
pub struct MinMax {
    /// Per feature, the raw value that maps to 0.
    pub min: Vec<f64>,
    /// Per feature, the raw value that maps to 1.
    pub max: Vec<f64>,
}

impl MinMax {
    /// The model input of raw value `raw` of feature `j`: `(raw − min) / (max − min)` in
    /// `f64`, rounded once to `f32`; `raw − min` when `max == min`.
    pub fn apply(&self, j: usize, raw: f64) -> f32 {
        let range = self.max[j] - self.min[j];
        let range = if range > 0.0 { range } else { 1.0 };
        ((raw - self.min[j]) / range) as f32
    }
}

/// How a dataset's split was made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SplitRecord {
    /// The seed of the split; `None` for a fixed split (MNIST's official one).
    pub seed: Option<u64>,
    /// Examples in the training split.
    pub train_len: usize,
    /// Examples in the test split.
    pub test_len: usize,
    /// [`index_digest`] of the source rows of the train and test splits, in split order.
    pub index_digest: u64,
}

/// The digest of a split's index lists: FNV-1a ([`Digest`]) over, as little-endian `u64`s,
/// the train length, the train rows in order, the test length, the test rows in order.
pub fn index_digest(train: &[u32], test: &[u32]) -> u64 {
    let mut d = Digest::new();
    for list in [train, test] {
        d.u64(list.len() as u64);
        for &i in list {
            d.u64(u64::from(i));
        }
    }
    d.finish()
}

/// A data file that is missing or malformed. Each message is one sentence naming the file,
/// and the line (CSV) or the byte offset in the decompressed data (idx).
#[derive(Debug)]
#[non_exhaustive]
pub enum DataError {
    /// [`load`] was given a name that is not in [`NAMES`].
    UnknownDataset {
        /// The name given.
        name: String,
    },
    /// A data file does not exist.
    Missing {
        /// The file expected.
        path: PathBuf,
    },
    /// A data file exists but cannot be read.
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// A `.gz` file does not decompress.
    Gzip {
        /// The file.
        path: PathBuf,
        /// Bytes decompressed before the failure.
        decompressed: u64,
        /// What is wrong.
        message: String,
    },
    /// A decompressed idx file is malformed.
    Idx {
        /// The file.
        path: PathBuf,
        /// The byte offset in the decompressed data where the problem is.
        offset: u64,
        /// What is wrong.
        message: String,
    },
    /// A CSV file is malformed.
    Csv {
        /// The file.
        path: PathBuf,
        /// The 1-based line (the header is line 1).
        line: u64,
        /// What is wrong.
        message: String,
    },
}

impl fmt::Display for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DataError::UnknownDataset { name } => write!(
                f,
                "unknown dataset {name:?}: expected one of {}",
                NAMES.join(", ")
            ),
            DataError::Missing { path } => write!(
                f,
                "data file {} does not exist (the data folder must hold mnist/, credit/ and \
                 bank/ as described in shared/data/README.md)",
                path.display()
            ),
            DataError::Io { path, source } => {
                write!(f, "cannot read data file {}: {source}", path.display())
            }
            DataError::Gzip {
                path,
                decompressed,
                message,
            } => write!(
                f,
                "{} is not a valid gzip file: {message} (after {decompressed} decompressed bytes)",
                path.display()
            ),
            DataError::Idx {
                path,
                offset,
                message,
            } => write!(
                f,
                "{}, byte {offset} of the decompressed data: {message}",
                path.display()
            ),
            DataError::Csv {
                path,
                line,
                message,
            } => write!(f, "{}, line {line}: {message}", path.display()),
        }
    }
}

impl std::error::Error for DataError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            DataError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// A data problem is the user's input: exit code 2, with the one-sentence message.
impl From<DataError> for UsageError {
    fn from(e: DataError) -> Self {
        UsageError(e.to_string())
    }
}

/// Reads a whole data file; a missing file is [`DataError::Missing`].
fn read_file(path: &Path) -> Result<Vec<u8>, DataError> {
    crate::files::read(path).map_err(|source| {
        // A path through a file (`--data` naming a file, not a folder) is missing too.
        if matches!(
            source.kind(),
            std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
        ) {
            DataError::Missing {
                path: path.to_path_buf(),
            }
        } else {
            DataError::Io {
                path: path.to_path_buf(),
                source,
            }
        }
    })
}

/// The source rows of the two splits (see the module doc for the recipe).
#[derive(Clone, Debug, PartialEq, Eq)]
struct Partition {
    train: Vec<u32>,
    test: Vec<u32>,
}

/// Fisher–Yates with [`seed::below`] (portable: `u64` draws only).
fn shuffle(rng: &mut seed::Xoshiro256PlusPlus, v: &mut [u32]) {
    for i in (1..v.len()).rev() {
        let j = seed::below(rng, i as u64 + 1);
        v.swap(i, j as usize);
    }
}

/// The seeded stratified split of rows with labels `labels` (module doc, steps 1–3).
fn stratified_split(labels: &[u8], seed: u64) -> Partition {
    let n = labels.len() as u64;
    let n_test = n.div_ceil(TEST_DIVISOR);
    let classes = labels
        .iter()
        .copied()
        .max()
        .map_or(0, |m| usize::from(m) + 1);
    let mut by_class: Vec<Vec<u32>> = vec![Vec::new(); classes];
    for (i, &c) in labels.iter().enumerate() {
        by_class[usize::from(c)].push(i as u32);
    }
    // Largest-remainder allocation of the test rows to the classes.
    let mut quota: Vec<u64> = by_class
        .iter()
        .map(|v| v.len() as u64 * n_test / n)
        .collect();
    let mut order: Vec<usize> = (0..classes).collect();
    // Stable sort: equal remainders keep ascending label order.
    order.sort_by_key(|&c| std::cmp::Reverse(by_class[c].len() as u64 * n_test % n));
    let missing = n_test - quota.iter().sum::<u64>();
    for &c in order.iter().take(missing as usize) {
        quota[c] += 1;
    }
    debug_assert_eq!(quota.iter().sum::<u64>(), n_test);

    let mut rng = seed::stream(seed, StreamId::DataOrder);
    let mut train = Vec::with_capacity((n - n_test) as usize);
    let mut test = Vec::with_capacity(n_test as usize);
    for (rows, &q) in by_class.iter_mut().zip(&quota) {
        shuffle(&mut rng, rows);
        let (t, r) = rows.split_at(q as usize);
        test.extend_from_slice(t);
        train.extend_from_slice(r);
    }
    shuffle(&mut rng, &mut train);
    shuffle(&mut rng, &mut test);
    Partition { train, test }
}

/// A parsed table before splitting: raw feature values (row-major `f64`) and labels.
struct Table {
    name: &'static str,
    features: usize,
    raw: Vec<f64>,
    y: Vec<u8>,
    classes: u8,
    feature_names: Vec<String>,
    categorical: Vec<Option<u32>>,
    category_names: Vec<Vec<String>>,
}

/// Splits and scales a table (module doc: split and scaling recipes).
fn tabular(t: Table, seed: u64) -> Dataset {
    let f = t.features;
    let part = stratified_split(&t.y, seed);
    let mut min = vec![f64::INFINITY; f];
    let mut max = vec![f64::NEG_INFINITY; f];
    for &r in &part.train {
        let row = &t.raw[r as usize * f..(r as usize + 1) * f];
        for j in 0..f {
            min[j] = min[j].min(row[j]);
            max[j] = max[j].max(row[j]);
        }
    }
    for j in 0..f {
        if let Some(k) = t.categorical[j] {
            min[j] = 0.0;
            max[j] = f64::from(k.saturating_sub(1));
        } else if part.train.is_empty() {
            min[j] = 0.0;
            max[j] = 1.0;
        }
    }
    let mm = MinMax { min, max };
    let make = |rows: &[u32]| {
        let mut x = Vec::with_capacity(rows.len() * f);
        let mut y = Vec::with_capacity(rows.len());
        for &r in rows {
            let raw = &t.raw[r as usize * f..(r as usize + 1) * f];
            x.extend(raw.iter().enumerate().map(|(j, &v)| mm.apply(j, v)));
            y.push(t.y[r as usize]);
        }
        Split {
            features: f,
            x,
            y,
            rows: rows.to_vec(),
        }
    };
    let train = make(&part.train);
    let test = make(&part.test);
    let provenance = SplitRecord {
        seed: Some(seed),
        train_len: part.train.len(),
        test_len: part.test.len(),
        index_digest: index_digest(&part.train, &part.test),
    };
    Dataset {
        name: t.name,
        features: f,
        image: None,
        classes: t.classes,
        train,
        test,
        feature_names: t.feature_names,
        categorical: t.categorical,
        category_names: t.category_names,
        scaling: Scaling::MinMax(mm),
        provenance,
    }
}

/// Helpers shared by the tests of the data modules.
#[cfg(test)]
pub(crate) mod testutil {
    use std::io::Write;
    use std::path::{Path, PathBuf};

    /// The environment variable that points at the shared material.
    const SHARED_ENV: &str = "MPCDIFF_SHARED";

    /// The shared data folder: `$MPCDIFF_SHARED/data`, else
    /// `<CARGO_MANIFEST_DIR>/../../shared/data`. When neither exists, prints the visible
    /// `SKIP: <test>: ../shared/data not found` line (to the stderr handle, past the
    /// harness's capture) and returns `None`: the only allowed skip.
    ///
    /// # Panics
    /// If `$MPCDIFF_SHARED` is set but has no `data/` folder: an explicit request that
    /// cannot be met must not turn into a silent skip.
    pub fn shared_data(test: &str) -> Option<PathBuf> {
        if let Some(dir) = std::env::var_os(SHARED_ENV) {
            let dir = PathBuf::from(dir).join("data");
            assert!(
                dir.is_dir(),
                "{SHARED_ENV} is set but {} is not a directory",
                dir.display()
            );
            return Some(dir);
        }
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data");
        if dir.is_dir() {
            Some(dir)
        } else {
            let _ = writeln!(std::io::stderr(), "SKIP: {test}: ../shared/data not found");
            None
        }
    }

    /// A fresh temporary folder, removed on drop.
    pub struct TempDir(pub PathBuf);

    impl TempDir {
        /// A new empty folder for test `name`.
        pub fn new(name: &str) -> TempDir {
            let dir =
                std::env::temp_dir().join(format!("mpcdiff-data-{}-{name}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).expect("create a temporary folder");
            TempDir(dir)
        }

        /// The folder.
        pub fn path(&self) -> &Path {
            &self.0
        }

        /// Writes `bytes` to `rel` (creating parent folders) and returns its path.
        pub fn write(&self, rel: &str, bytes: &[u8]) -> PathBuf {
            let p = self.0.join(rel);
            std::fs::create_dir_all(p.parent().expect("a parent")).expect("create folders");
            std::fs::write(&p, bytes).expect("write a test file");
            p
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Labels with `ones` ones among `n`, spread over the file.
    fn labels(n: usize, ones: usize) -> Vec<u8> {
        (0..n)
            .map(|i| u8::from(i * ones / n != (i + 1) * ones / n))
            .collect()
    }

    /// Goal: the split is a partition of all rows, of the documented sizes, with each class's
    /// test share within one row of its file share.
    #[test]
    fn split_is_a_stratified_partition() {
        for (n, ones) in [(30_000, 6_636), (41_188, 4_640), (10, 3), (7, 0), (1, 1)] {
            let y = labels(n, ones);
            assert_eq!(y.iter().filter(|&&v| v == 1).count(), ones);
            let p = stratified_split(&y, 7);
            let n_test = n.div_ceil(5);
            assert_eq!(p.test.len(), n_test, "n = {n}");
            assert_eq!(p.train.len(), n - n_test, "n = {n}");
            let mut all: Vec<u32> = p.train.iter().chain(&p.test).copied().collect();
            all.sort_unstable();
            assert!(
                all.iter().copied().eq(0..n as u32),
                "not a partition, n = {n}"
            );
            let test_ones = p.test.iter().filter(|&&r| y[r as usize] == 1).count();
            let exact = ones as f64 * n_test as f64 / n as f64;
            assert!(
                (test_ones as f64 - exact).abs() < 1.0,
                "n = {n}: {test_ones} ones in test, proportional share {exact}"
            );
        }
    }

    /// Goal: the largest-remainder rule gives Credit's and Bank's documented class quotas.
    #[test]
    fn split_quotas_follow_the_largest_remainder() {
        let p = stratified_split(&labels(30_000, 6_636), 1);
        let ones = |rows: &[u32], y: &[u8]| rows.iter().filter(|&&r| y[r as usize] == 1).count();
        let y = labels(30_000, 6_636);
        // 6636 · 6000 / 30000 = 1327.2 and 23364 · 0.2 = 4672.8: the spare row goes to 0.
        assert_eq!(ones(&p.test, &y), 1327);
        let y = labels(41_188, 4_640);
        let p = stratified_split(&y, 1);
        // 4640 · 8238 / 41188 = 928.05 and 36548 · 8238 / 41188 = 7309.95: the spare row
        // goes to 0 (remainder .95).
        assert_eq!(ones(&p.test, &y), 928);
    }

    /// Goal: the same seed gives the same split, another seed another one, and the order
    /// inside each split is shuffled (not file order).
    #[test]
    fn split_is_deterministic_and_seed_sensitive() {
        let y = labels(1000, 300);
        let a = stratified_split(&y, 42);
        assert_eq!(a, stratified_split(&y, 42));
        let b = stratified_split(&y, 43);
        assert_ne!(a.test, b.test);
        assert_ne!(
            index_digest(&a.train, &a.test),
            index_digest(&b.train, &b.test)
        );
        assert!(
            !a.test.windows(2).all(|w| w[0] < w[1]),
            "test split in file order"
        );
    }

    /// Goal: the split is exactly the documented recipe, recomputed here step by step from
    /// the seed stream.
    #[test]
    fn split_follows_the_documented_recipe() {
        let y = labels(23, 5);
        let n_test = 5; // ceil(23 / 5)
                        // Quotas: 18 · 5 / 23 = 3.91, 5 · 5 / 23 = 1.09: floors 3 + 1, the spare row to
                        // class 0 (remainder 21 > 2).
        let mut rng = seed::stream(9, StreamId::DataOrder);
        let mut fy = |v: &mut Vec<u32>| {
            for i in (1..v.len()).rev() {
                let j = seed::below(&mut rng, i as u64 + 1) as usize;
                v.swap(i, j);
            }
        };
        let mut zeros: Vec<u32> = (0..23).filter(|&i| y[i as usize] == 0).collect();
        let mut ones: Vec<u32> = (0..23).filter(|&i| y[i as usize] == 1).collect();
        fy(&mut zeros);
        fy(&mut ones);
        let mut test: Vec<u32> = zeros[..4].iter().chain(&ones[..1]).copied().collect();
        let mut train: Vec<u32> = zeros[4..].iter().chain(&ones[1..]).copied().collect();
        fy(&mut train);
        fy(&mut test);
        assert_eq!(test.len(), n_test);
        assert_eq!(stratified_split(&y, 9), Partition { train, test });
    }

    /// Goal: the index digest follows its documented recipe and sees order and the
    /// train/test boundary.
    #[test]
    fn index_digest_follows_its_recipe() {
        let mut d = Digest::new();
        d.u64(2).u64(5).u64(1).u64(1).u64(0);
        assert_eq!(index_digest(&[5, 1], &[0]), d.finish());
        assert_ne!(index_digest(&[5, 1], &[0]), index_digest(&[1, 5], &[0]));
        assert_ne!(index_digest(&[5, 1], &[0]), index_digest(&[5], &[1, 0]));
    }

    /// Goal: an unknown name is an error that lists the valid names and exits with code 2.
    #[test]
    fn unknown_dataset_is_a_usage_error() {
        let e = load("cifar", Path::new("."), 0).unwrap_err();
        assert!(matches!(e, DataError::UnknownDataset { .. }));
        let u = UsageError::from(e);
        assert_eq!(
            u.0,
            "unknown dataset \"cifar\": expected one of mnist, credit, bank"
        );
        let a: anyhow::Error = u.into();
        assert_eq!(crate::error::exit_code(&a), crate::error::EXIT_USAGE);
    }

    /// Goal: a missing file names the file, and is not reported as an I/O failure.
    #[test]
    fn missing_files_are_named() {
        let tmp = testutil::TempDir::new("missing");
        for (name, file) in [
            ("mnist", "mnist/train-images-idx3-ubyte.gz"),
            ("credit", "credit/default_of_credit_card_clients.csv"),
            ("bank", "bank/bank-additional-full.csv"),
        ] {
            let e = load(name, tmp.path(), 0).unwrap_err();
            let expected = tmp.path().join(file);
            assert!(
                matches!(&e, DataError::Missing { path } if *path == expected),
                "{name}: {e}"
            );
            let msg = UsageError::from(e).0;
            assert!(msg.contains(&expected.display().to_string()), "{msg}");
            assert!(msg.contains("does not exist"), "{msg}");
        }
        // A data "folder" that is a file.
        let file = tmp.write("not-a-folder", b"x");
        let e = load("credit", &file, 0).unwrap_err();
        assert!(matches!(e, DataError::Missing { .. }), "{e}");
    }
}
