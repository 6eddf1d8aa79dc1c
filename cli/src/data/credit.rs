//! Credit: UCI *default of credit card clients* (Yeh 2009), `credit/default_of_credit_card_clients.csv`.
//!
//! Comma-separated, one header line (25 columns: `ID`, the 23 features, then
//! `default payment next month`) and 30,000 rows of integers. `ID` is dropped, as the MPCDiff
//! model takes 23 inputs (`nn.Linear(23, 120)`); the label is 1 for default, 0 otherwise.
//!
//! All 23 features are treated as continuous, including the integer-coded `SEX`, `EDUCATION`
//! and `MARRIAGE` (the artifact's preprocessing is unknown; it clamps every mutated input to
//! [0, 1], which treats them as numbers).
//!
//! The artifact used a pre-made `.npy` whose row order is unknown, the first 80 % for training
//! and min-max scaling over all rows. Here: the seeded stratified 80/20 split (24,000 / 6,000)
//! and training-split min-max scaling of the module doc (`super`), so test values may fall
//! outside [0, 1].

use std::path::Path;

use super::csv::{error, Csv};
use super::{read_file, tabular, DataError, Dataset, Table};

/// The file, relative to the data folder.
pub const FILE: &str = "credit/default_of_credit_card_clients.csv";

/// The columns (the kernel's, shared with the browser's form).
pub use mpcdiff_kernel::datasets::credit::{COLUMNS, FEATURES};

/// Loads Credit from the data folder `dir` with split seed `seed`.
pub fn load(dir: &Path, seed: u64) -> Result<Dataset, DataError> {
    let path = dir.join(FILE);
    let bytes = read_file(&path)?;
    Ok(tabular(parse(&path, &bytes)?, seed))
}

/// Parses the CSV into a table of raw values.
fn parse(path: &Path, bytes: &[u8]) -> Result<Table, DataError> {
    let csv = Csv::new(path, bytes)?;
    let mut lines = csv.lines();
    let (hl, header) = lines.next().expect("a non-empty file has a line");
    csv.check_header(hl, &csv.fields(hl, header, ',', COLUMNS.len())?, &COLUMNS)?;
    let mut raw = Vec::new();
    let mut y = Vec::new();
    for (line, text) in lines {
        let fields = csv.fields(line, text, ',', COLUMNS.len())?;
        for (j, name) in COLUMNS.iter().enumerate().take(FEATURES + 1).skip(1) {
            raw.push(csv.number(line, name, fields[j])?);
        }
        y.push(match fields[FEATURES + 1] {
            "0" => 0,
            "1" => 1,
            other => {
                return Err(error(
                    path,
                    line,
                    format!("{} is {other:?}, expected 0 or 1", COLUMNS[FEATURES + 1]),
                ))
            }
        });
    }
    if y.is_empty() {
        return Err(error(path, 2, "the file has a header but no data rows"));
    }
    Ok(Table {
        name: "credit",
        features: FEATURES,
        raw,
        y,
        classes: 2,
        feature_names: COLUMNS[1..=FEATURES]
            .iter()
            .map(|s| s.to_string())
            .collect(),
        categorical: vec![None; FEATURES],
        category_names: vec![Vec::new(); FEATURES],
    })
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{shared_data, TempDir};
    use super::super::{load as load_any, DataError, Scaling};
    use super::*;

    /// A synthetic Credit file of `n` rows (defaults every third row).
    fn synthetic(n: usize) -> String {
        let mut s = COLUMNS.join(",");
        s.push('\n');
        for i in 0..n {
            let mut row = vec![(i + 1).to_string()];
            row.extend((0..FEATURES).map(|j| ((i * 7 + j * 13) % 101).to_string()));
            row.push(u8::from(i % 3 == 0).to_string());
            s.push_str(&row.join(","));
            s.push('\n');
        }
        s
    }

    /// Goal: the real file has the README's counts, the documented split sizes, a default
    /// rate kept within 0.1 percentage points in both splits, and training features scaled
    /// to exactly [0, 1] per feature.
    #[test]
    fn real_credit_counts_split_and_scaling() {
        let Some(dir) = shared_data("real_credit_counts_split_and_scaling") else {
            return;
        };
        let d = load_any("credit", &dir, 0).unwrap();
        assert_eq!((d.name, d.features, d.classes), ("credit", 23, 2));
        assert_eq!(d.train.len() + d.test.len(), 30_000);
        assert_eq!((d.train.len(), d.test.len()), (24_000, 6_000));
        assert_eq!(d.provenance.train_len, 24_000);
        assert_eq!(d.provenance.test_len, 6_000);
        assert_eq!(d.provenance.seed, Some(0));
        let ones = |y: &[u8]| y.iter().filter(|&&v| v == 1).count();
        assert_eq!(ones(&d.train.y) + ones(&d.test.y), 6_636);
        let rate = 6_636.0 / 30_000.0;
        for (name, s) in [("train", &d.train), ("test", &d.test)] {
            let r = ones(&s.y) as f64 / s.len() as f64;
            assert!(
                (r - rate).abs() < 0.001,
                "{name} default rate {r}, file {rate}"
            );
            assert_eq!(s.x.len(), s.len() * 23);
        }
        for j in 0..23 {
            let col = d.train.x.iter().skip(j).step_by(23);
            let lo = col.clone().copied().fold(f32::INFINITY, f32::min);
            let hi = col.copied().fold(f32::NEG_INFINITY, f32::max);
            assert_eq!((lo, hi), (0.0, 1.0), "feature {j} ({})", d.feature_names[j]);
        }
        assert_eq!(d.feature_names[0], "LIMIT_BAL");
        assert_eq!(d.feature_names[22], "PAY_AMT6");
        assert!(d.categorical.iter().all(Option::is_none));
        let Scaling::MinMax(mm) = &d.scaling else {
            panic!("credit is min-max scaled")
        };
        // Rows are the file's data rows: row r is line r + 2, whose ID is r + 1.
        let text = std::fs::read_to_string(dir.join(FILE)).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for i in [0, 1, 4_321, 5_999] {
            let r = d.test.rows[i] as usize;
            let fields: Vec<&str> = lines[r + 1].split(',').collect();
            assert_eq!(fields[0], (r + 1).to_string());
            assert_eq!(d.test.y[i].to_string(), fields[24]);
            for j in 0..23 {
                let raw: f64 = fields[j + 1].parse().unwrap();
                let want = ((raw - mm.min[j]) / (mm.max[j] - mm.min[j])) as f32;
                assert_eq!(
                    d.test.row(i)[j].to_bits(),
                    want.to_bits(),
                    "row {r} feature {j}"
                );
            }
        }
    }

    /// Goal: on the real file, the same seed reproduces the split and every scaled bit, and
    /// another seed gives another split.
    #[test]
    fn real_credit_split_is_deterministic() {
        let Some(dir) = shared_data("real_credit_split_is_deterministic") else {
            return;
        };
        let a = load_any("credit", &dir, 11).unwrap();
        let b = load_any("credit", &dir, 11).unwrap();
        assert_eq!(a.provenance, b.provenance);
        assert_eq!(a.train.rows, b.train.rows);
        let bits = |x: &[f32]| x.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&a.train.x), bits(&b.train.x));
        assert_eq!(bits(&a.test.x), bits(&b.test.x));
        assert_eq!(a.scaling, b.scaling);
        let c = load_any("credit", &dir, 12).unwrap();
        assert_ne!(a.provenance.index_digest, c.provenance.index_digest);
        assert_ne!(a.test.rows, c.test.rows);
    }

    /// Goal: a synthetic file loads; the same seed gives the same bits, another seed another
    /// split (runs without the shared data).
    #[test]
    fn synthetic_credit_is_deterministic() {
        let tmp = TempDir::new("credit-synthetic");
        tmp.write(FILE, synthetic(50).as_bytes());
        let a = load(tmp.path(), 3).unwrap();
        assert_eq!((a.train.len(), a.test.len()), (40, 10));
        assert_eq!(a, load(tmp.path(), 3).unwrap());
        let b = load(tmp.path(), 4).unwrap();
        assert_ne!(a.provenance.index_digest, b.provenance.index_digest);
        assert!(a.train.x.iter().all(|&v| (0.0..=1.0).contains(&v)));
    }

    fn csv_error(e: DataError) -> (std::path::PathBuf, u64, String) {
        let msg = e.to_string();
        match e {
            DataError::Csv { path, line, .. } => (path, line, msg),
            e => panic!("not a CSV error: {e}"),
        }
    }

    /// Goal: a missing field on line 5, an unparseable number, a bad label, a wrong header
    /// and a header-only file each name the file and the line.
    #[test]
    fn malformed_credit_names_file_and_line() {
        let good = synthetic(6);
        let lines: Vec<&str> = good.lines().collect();
        let cases: Vec<(String, u64, &str)> = vec![
            (
                {
                    let mut l = lines.clone();
                    let short = l[4].rsplit_once(',').unwrap().0.to_string();
                    l[4] = &short;
                    l.join("\n")
                },
                5,
                "24 fields",
            ),
            (good.replacen("\n3,", "\n3,x", 1), 4, "LIMIT_BAL is \"x"),
            (
                {
                    let mut l = lines.clone();
                    let bad = format!("{}2", l[2].strip_suffix('0').unwrap());
                    l[2] = &bad;
                    l.join("\n")
                },
                3,
                "expected 0 or 1",
            ),
            (
                good.replacen(",AGE,", ",age,", 1),
                1,
                "header column 6 is \"age\"",
            ),
            (format!("{}\n", lines[0]), 2, "no data rows"),
        ];
        for (text, line, needle) in cases {
            let tmp = TempDir::new("credit-bad");
            let path = tmp.write(FILE, text.as_bytes());
            let (p, l, msg) = csv_error(load(tmp.path(), 0).unwrap_err());
            assert_eq!((p, l), (path.clone(), line), "{msg}");
            assert!(msg.contains(needle), "{msg} lacks {needle:?}");
            assert!(
                msg.starts_with(&format!("{}, line {line}: ", path.display())),
                "{msg}"
            );
        }
    }
}
