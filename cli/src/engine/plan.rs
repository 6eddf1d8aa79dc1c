//! Repair plan files: per-neuron approximation levels attached to layer names.
//!
//! # Format (`mpcdiff.plan/1`)
//! ```json
//! {"schema": "mpcdiff.plan/1", "architecture": "lenet", "profile": "crypten",
//!  "layers": [{"name": "act3", "neurons": 120, "default": {"exp": 8, "nr": 3},
//!              "groups": [{"level": {"exp": 3, "nr": 3}, "neurons": [4, 17]},
//!                         {"level": {"exp": 9, "nr": 9}, "neurons": [0, 5, 99]}]}]}
//! ```
//! A layer is named as in the model's spec (an activation, or a batch norm when it runs under
//! MPC: one level per channel); `neurons` must equal the layer's count per sample (a check,
//! never a way to find the layer). Every neuron starts at `default` (the profile's level when
//! absent); groups apply in order, so a neuron in two groups gets the later one's level.
//! `exp` is the exponential's squarings, `nr` the Newton–Raphson iterations.

use std::path::Path;

use mpcdiff_kernel::approx::Level;
use mpcdiff_kernel::difftest::plan::nonlinear_layers;
use mpcdiff_kernel::nn::forward::default_level;
use serde::{Deserialize, Serialize};

use super::target::Setup;
use crate::error::{usage, UsageError};

/// The largest level accepted in a plan (more squarings or iterations than this only add
/// truncation error and cost).
pub const LEVEL_MAX: u8 = 24;

/// A level as JSON.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LevelJson {
    /// Squarings of the limit exponential.
    pub exp: u8,
    /// Newton–Raphson iterations.
    pub nr: u8,
}

impl From<LevelJson> for Level {
    fn from(l: LevelJson) -> Level {
        Level::new(l.exp, l.nr)
    }
}

impl From<Level> for LevelJson {
    fn from(l: Level) -> LevelJson {
        LevelJson {
            exp: l.iters_exp,
            nr: l.iters_nr,
        }
    }
}

impl std::fmt::Display for LevelJson {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.exp, self.nr)
    }
}

/// A group of neurons at one level.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupJson {
    /// Their level.
    pub level: LevelJson,
    /// Their indices in the layer (per sample, CHW order for images).
    pub neurons: Vec<u32>,
}

/// One layer of a plan.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LayerJson {
    /// The layer's name in the model spec.
    pub name: String,
    /// Its neurons per sample (checked against the model).
    pub neurons: usize,
    /// The level of neurons in no group (the profile's when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<LevelJson>,
    /// Groups, applied in order.
    #[serde(default)]
    pub groups: Vec<GroupJson>,
}

/// A plan file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanJson {
    /// `mpcdiff.plan/1`.
    pub schema: String,
    /// The model architecture it was made for.
    pub architecture: String,
    /// The profile it was made for.
    pub profile: String,
    /// The layers with their own levels.
    pub layers: Vec<LayerJson>,
    /// For a plan `mpcdiff repair` wrote: the source digest of the campaign folder it was
    /// derived from (`report` refuses it for another campaign).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub derived_from: Option<String>,
    /// For a plan `mpcdiff repair` wrote: FNV-1a of the plan itself (a plan edited afterwards
    /// is refused; a plan written by hand carries none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
}

impl PlanJson {
    /// FNV-1a of the plan's content (its layers, schema, architecture and profile).
    pub fn content_digest(&self) -> anyhow::Result<String> {
        let bare = PlanJson {
            derived_from: None,
            digest: None,
            ..self.clone()
        };
        let text = serde_json::to_string(&bare)?;
        let d = mpcdiff_kernel::digest::Digest::new()
            .bytes(text.as_bytes())
            .finish();
        Ok(format!("{d:016x}"))
    }

    /// The plan tied to the campaign folder it was derived from (`derived_from`, `digest`),
    /// as `mpcdiff repair` writes it.
    pub fn sealed(&self, dir: &Path) -> anyhow::Result<PlanJson> {
        Ok(PlanJson {
            derived_from: Some(super::folder::source_digest(dir)?),
            digest: Some(self.content_digest()?),
            ..self.clone()
        })
    }
}

/// A checked plan: one level per neuron for each named layer (the kernel's plan type, owned).
pub use mpcdiff_host::plan::OwnedPlan;

/// Plan files: reading, checking and writing an [`OwnedPlan`].
pub trait PlanFile: Sized {
    /// Checks `json` against `setup`'s model and expands it.
    fn from_json(json: &PlanJson, setup: &Setup, what: &str) -> Result<Self, UsageError>;
    /// Reads and checks a plan file.
    fn load(path: &Path, setup: &Setup) -> Result<Self, UsageError>;
    /// The plan as JSON (see [`OwnedPlan`]'s `to_json`).
    fn to_json(&self, setup: &Setup) -> PlanJson;
}

impl PlanFile for OwnedPlan {
    /// Checks `json` against `setup`'s model and expands it.
    fn from_json(json: &PlanJson, setup: &Setup, what: &str) -> Result<OwnedPlan, UsageError> {
        if json.schema != "mpcdiff.plan/1" {
            return Err(usage!(
                "{what}: schema {:?} is not mpcdiff.plan/1",
                json.schema
            ));
        }
        if let Some(d) = &json.digest {
            if json.content_digest().ok().as_ref() != Some(d) {
                return Err(usage!(
                    "{what}: the plan was edited after mpcdiff repair wrote it (its digest does not match its content); run mpcdiff repair again, or remove the \"digest\" and \"derived_from\" fields to use it as a hand-written plan"
                ));
            }
        }
        if json.architecture != setup.model.architecture {
            return Err(usage!(
                "{what}: the plan is for architecture {:?}, the model is {:?}",
                json.architecture,
                setup.model.architecture
            ));
        }
        let mut out = OwnedPlan::default();
        for l in &json.layers {
            let Some(layer) =
                nonlinear_layers(&setup.model, setup.deploy).find(|n| n.name == l.name)
            else {
                let names: Vec<&str> = nonlinear_layers(&setup.model, setup.deploy)
                    .map(|n| n.name)
                    .collect();
                return Err(usage!(
                    "{what}: layer {:?} is not a nonlinear layer of the model (one of: {})",
                    l.name,
                    names.join(", ")
                ));
            };
            if out.layers.iter().any(|(n, _)| n == &l.name) {
                return Err(usage!("{what}: layer {:?} appears twice", l.name));
            }
            if l.neurons != layer.neurons {
                return Err(usage!(
                    "{what}: layer {:?} has {} neurons per sample, the plan says {}",
                    l.name,
                    layer.neurons,
                    l.neurons
                ));
            }
            let default = match l.default {
                Some(d) => d.into(),
                None => default_level(&setup.model.spec, layer.index, setup.profile, setup.deploy)
                    .unwrap_or(Level::new(0, 0)),
            };
            let check = |lv: LevelJson| {
                if lv.exp > LEVEL_MAX || lv.nr > LEVEL_MAX {
                    Err(usage!(
                        "{what}: layer {:?}: level {lv} is above the maximum {LEVEL_MAX}",
                        l.name
                    ))
                } else {
                    Ok(())
                }
            };
            if let Some(d) = l.default {
                check(d)?;
            }
            let mut levels = vec![default; layer.neurons];
            for g in &l.groups {
                check(g.level)?;
                for &j in &g.neurons {
                    let slot = levels.get_mut(j as usize).ok_or_else(|| {
                        usage!(
                            "{what}: layer {:?}: neuron {j} is out of range (0..{})",
                            l.name,
                            layer.neurons
                        )
                    })?;
                    *slot = g.level.into();
                }
            }
            out.layers.push((l.name.clone(), levels));
        }
        Ok(out)
    }

    /// Reads and checks a plan file.
    fn load(path: &Path, setup: &Setup) -> Result<OwnedPlan, UsageError> {
        let what = format!("--plan {}", path.display());
        let text = crate::files::read_to_string(path)
            .map_err(|e| usage!("{what}: cannot read it ({e})"))?;
        let json: PlanJson = serde_json::from_str(&text)
            .map_err(|e| usage!("{what}: not an mpcdiff.plan/1 JSON file ({e})"))?;
        OwnedPlan::from_json(&json, setup, &what)
    }

    /// The plan as JSON: per layer, the most common level as default and one group per other
    /// level (in level order).
    fn to_json(&self, setup: &Setup) -> PlanJson {
        let layers = self
            .layers
            .iter()
            .map(|(name, levels)| {
                let mut distinct: Vec<Level> = Vec::new();
                for l in levels {
                    if !distinct.contains(l) {
                        distinct.push(*l);
                    }
                }
                distinct.sort_by_key(|l| (l.iters_exp, l.iters_nr));
                let count = |l: &Level| levels.iter().filter(|v| *v == l).count();
                let default = distinct
                    .iter()
                    .copied()
                    .max_by_key(|l| (count(l), std::cmp::Reverse((l.iters_exp, l.iters_nr))))
                    .unwrap_or(Level::new(0, 0));
                let groups = distinct
                    .iter()
                    .filter(|l| **l != default)
                    .map(|l| GroupJson {
                        level: (*l).into(),
                        neurons: (0..levels.len() as u32)
                            .filter(|&j| levels[j as usize] == *l)
                            .collect(),
                    })
                    .collect();
                LayerJson {
                    name: name.clone(),
                    neurons: levels.len(),
                    default: Some(default.into()),
                    groups,
                }
            })
            .collect();
        PlanJson {
            schema: "mpcdiff.plan/1".into(),
            architecture: setup.model.architecture.to_string(),
            profile: setup.profile.name.to_string(),
            layers,
            derived_from: None,
            digest: None,
        }
    }
}
