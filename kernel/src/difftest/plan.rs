//! Repair plans: per-neuron approximation levels attached to layer **names**.
//!
//! The artifact identified a layer by its tensor's element count (so any 120-element sigmoid
//! or inverse square root was "layer 3", and batch size had to be 1); here a plan names its
//! layers, and a level list is repeated over the batch.

use crate::approx::Level;
use crate::nn::deploy::Deployment;
use crate::nn::forward::{LayerMode, Plan};
use crate::nn::model::Model;
use crate::nn::spec::Kind;

/// One layer's levels: `levels[j]` for neuron `j` of one sample.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LayerLevels<'a> {
    /// The layer's name in the model spec.
    pub name: &'a str,
    /// One level per neuron.
    pub levels: &'a [Level],
}

/// A [`Plan`] from per-layer level lists, with optionally one layer made exact (the oracle of
/// per-layer attribution). Layers it does not name run at their default.
#[derive(Clone, Copy, Debug, Default)]
pub struct LevelPlan<'a> {
    /// Layers with their own levels.
    pub layers: &'a [LayerLevels<'a>],
    /// A layer computed exactly (free, not a protocol).
    pub exact: Option<&'a str>,
}

impl Plan for LevelPlan<'_> {
    fn mode(&self, name: &str) -> LayerMode<'_> {
        if self.exact == Some(name) {
            return LayerMode::Exact;
        }
        match self.layers.iter().find(|l| l.name == name) {
            Some(l) => LayerMode::Levels(l.levels),
            None => LayerMode::Default,
        }
    }
}

/// Fills `out` (one layer's neurons) with `default`, then `low` on the `low` set, then `high`
/// on the `high` set: a neuron in both sets is raised (high wins).
pub fn assign(out: &mut [Level], default: Level, high: (&[u32], Level), low: (&[u32], Level)) {
    out.fill(default);
    for (set, level) in [low, high] {
        for &j in set {
            if let Some(v) = out.get_mut(j as usize) {
                *v = level;
            }
        }
    }
}

/// A nonlinear layer a plan can address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Nonlinear<'m> {
    /// Its index in the spec.
    pub index: usize,
    /// Its name.
    pub name: &'m str,
    /// Neurons per sample (the length of its level list).
    pub neurons: usize,
    /// Whether it is an activation (tapped, voted on); otherwise a batch norm whose inverse
    /// square root runs per channel.
    pub activation: bool,
}

/// The layers of `model` a plan can address under `deploy`: activations (one level per output
/// value) and the batch norms the deployment evaluates under MPC (one level per channel).
/// [`Deployment::Folded`] gives the activations alone.
pub fn nonlinear_layers<'m>(
    model: &'m Model<'_>,
    deploy: Deployment,
) -> impl Iterator<Item = Nonlinear<'m>> + 'm {
    model
        .spec
        .layers
        .iter()
        .enumerate()
        .filter_map(move |(i, l)| match l.kind {
            Kind::Act(_) => Some(Nonlinear {
                index: i,
                name: l.name.as_str(),
                neurons: model.shapes[i].len(),
                activation: true,
            }),
            Kind::BatchNorm { channels, .. } if deploy.nonlinear_in_mpc(&model.spec, i) => {
                Some(Nonlinear {
                    index: i,
                    name: l.name.as_str(),
                    neurons: channels,
                    activation: false,
                })
            }
            _ => None,
        })
}
