//! The seed corpus of a campaign and its input domain.
//!
//! Three sources: the first `N` test inputs of the model's dataset (`--data DIR`, the
//! artifact's pool), `N` synthetic digits (the default for MNIST models when no data folder is
//! given, so the demo runs on a fresh machine), or a JSON Lines file of the user's own inputs
//! (`--corpus FILE`, one `{"input": [...], "label": k}` per line, optional `"id"`).

use std::path::Path;

use mpcdiff_kernel::difftest::mutation::{Domain, Feature};
use mpcdiff_kernel::digits::{self, synthetic};
use serde::Deserialize;

use super::target::Setup;
use crate::data::{mnist, Dataset};
use crate::error::{usage, UsageError};

/// An owned input domain (the kernel's [`Domain`] borrows).
#[derive(Clone, Debug, PartialEq)]
pub enum DomainSpec {
    /// An image with one pixel range.
    Image {
        /// Channels, rows, columns.
        shape: (usize, usize, usize),
        /// Smallest valid pixel.
        lo: f64,
        /// Largest valid pixel.
        hi: f64,
    },
    /// Table features: `None` continuous in `[lo, hi]`, `Some(values)` categorical.
    Table(Vec<(f64, f64, Option<Vec<f64>>)>),
}

impl DomainSpec {
    /// Runs `f` with the kernel's view of the domain.
    pub fn with<R>(&self, f: impl FnOnce(&Domain<'_>) -> R) -> R {
        match self {
            DomainSpec::Image { shape, lo, hi } => f(&Domain::Image {
                channels: shape.0,
                height: shape.1,
                width: shape.2,
                lo: *lo,
                hi: *hi,
            }),
            DomainSpec::Table(features) => {
                let fs: Vec<Feature<'_>> = features
                    .iter()
                    .map(|(lo, hi, cat)| match cat {
                        Some(values) => Feature::Categorical { values },
                        None => Feature::Continuous { lo: *lo, hi: *hi },
                    })
                    .collect();
                f(&Domain::Table { features: &fs })
            }
        }
    }

    /// Whether the domain is an image.
    pub fn is_image(&self) -> bool {
        matches!(self, DomainSpec::Image { .. })
    }

    /// The MNIST domain: normalised pixels of values 0 and 1.
    pub fn mnist() -> DomainSpec {
        DomainSpec::Image {
            shape: (1, mnist::SIDE, mnist::SIDE),
            lo: f64::from(mnist::normalize(0.0)),
            hi: f64::from(mnist::normalize(1.0)),
        }
    }

    /// The domain of a dataset's inputs.
    pub fn of(data: &Dataset) -> DomainSpec {
        if let Some(img) = data.image {
            let (lo, hi) = data.input_range(0);
            return DomainSpec::Image {
                shape: (img.channels, img.height, img.width),
                lo: f64::from(lo),
                hi: f64::from(hi),
            };
        }
        DomainSpec::Table(
            (0..data.features)
                .map(|j| {
                    let (lo, hi) = data.input_range(j);
                    let cat = data.categorical[j].map(|k| {
                        (0..k)
                            .filter_map(|c| data.category_value(j, c).map(f64::from))
                            .collect()
                    });
                    (f64::from(lo), f64::from(hi), cat)
                })
                .collect(),
        )
    }
}

/// Seed inputs with their labels.
#[derive(Clone, Debug, PartialEq)]
pub struct Corpus {
    /// Where the seeds come from, for reports (`synthetic:SEED`, `mnist test split`, a path).
    pub source: String,
    /// Elements per input.
    pub features: usize,
    /// The inputs, row-major.
    pub inputs: Vec<f64>,
    /// True labels.
    pub labels: Vec<u16>,
    /// Each seed's id in its source (test-split index, digit index, or the file's `id`).
    pub ids: Vec<u32>,
    /// Where mutants must stay.
    pub domain: DomainSpec,
}

impl Corpus {
    /// Number of seeds.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Seed `i`'s input.
    pub fn input(&self, i: usize) -> &[f64] {
        &self.inputs[i * self.features..(i + 1) * self.features]
    }

    /// `n` synthetic digits of `seed`, normalised as MNIST.
    pub fn synthetic(seed: u64, n: usize) -> anyhow::Result<Corpus> {
        let mut inputs = Vec::with_capacity(n * digits::PIXELS);
        let mut labels = Vec::with_capacity(n);
        let mut img = [0.0f32; digits::PIXELS];
        for i in 0..n {
            labels.push(u16::from(synthetic::sample(seed, i as u64, &mut img)?));
            inputs.extend(img.iter().map(|&p| f64::from(mnist::normalize(p))));
        }
        Ok(Corpus {
            source: format!("synthetic digits, seed {seed}"),
            features: digits::PIXELS,
            inputs,
            labels,
            ids: (0..n as u32).collect(),
            domain: DomainSpec::mnist(),
        })
    }

    /// The first `n` test inputs of `data`.
    pub fn test_split(data: &Dataset, n: usize) -> Corpus {
        let n = n.min(data.test.len());
        Corpus {
            source: format!("{} test split", data.name),
            features: data.features,
            inputs: data.test.x[..n * data.features]
                .iter()
                .map(|&v| f64::from(v))
                .collect(),
            labels: data.test.y[..n].iter().map(|&y| u16::from(y)).collect(),
            ids: (0..n as u32).collect(),
            domain: DomainSpec::of(data),
        }
    }

    /// A JSON Lines corpus file for `setup`'s model, at most `n` seeds. The domain is the
    /// dataset's when `data` is given, else MNIST's for image models and `[0, 1]` per feature
    /// for tables.
    pub fn file(
        path: &Path,
        setup: &Setup,
        data: Option<&Dataset>,
        n: usize,
    ) -> Result<Corpus, UsageError> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Line {
            input: Vec<f64>,
            label: u16,
            id: Option<u32>,
        }
        let text = crate::files::read_to_string(path)
            .map_err(|e| usage!("--corpus {}: cannot read it ({e})", path.display()))?;
        let features = setup.model.input.len();
        let classes = setup.model.classes;
        let mut c = Corpus {
            source: path.display().to_string(),
            features,
            inputs: Vec::new(),
            labels: Vec::new(),
            ids: Vec::new(),
            domain: match data {
                Some(d) => DomainSpec::of(d),
                None if setup.dataset == Some("mnist") => DomainSpec::mnist(),
                None => DomainSpec::Table(vec![(0.0, 1.0, None); features]),
            },
        };
        for (k, line) in text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
        {
            if c.len() == n {
                break;
            }
            let at = || format!("--corpus {} line {}", path.display(), k + 1);
            let l: Line = serde_json::from_str(line).map_err(|e| {
                usage!(
                    "{}: not a corpus line {{\"input\": [numbers], \"label\": class}} ({e})",
                    at()
                )
            })?;
            if l.input.len() != features {
                return Err(usage!(
                    "{}: the input has {} values, the model takes {features}",
                    at(),
                    l.input.len()
                ));
            }
            if usize::from(l.label) >= classes {
                return Err(usage!(
                    "{}: label {} is not a class of the model (0..{classes})",
                    at(),
                    l.label
                ));
            }
            if !c.domain.with(|d| d.contains(&l.input)) {
                return Err(usage!("{}: the input is outside the model's input domain (a value out of range, or a categorical feature that is not one of its codes)", at()));
            }
            c.ids.push(l.id.unwrap_or(c.len() as u32));
            c.inputs.extend_from_slice(&l.input);
            c.labels.push(l.label);
        }
        if c.len() == 0 {
            return Err(usage!("--corpus {}: no inputs", path.display()));
        }
        Ok(c)
    }
}
