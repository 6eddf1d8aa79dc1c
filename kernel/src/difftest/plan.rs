//! Repair plans: per-neuron approximation levels attached to layer **names**.
//!
//! The artifact identified a layer by its tensor's element count (so any 120-element sigmoid
//! or inverse square root was "layer 3", and batch size had to be 1); here a plan names its
//! layers, and a level list is repeated over the batch.

use core::fmt;

use crate::approx::Level;
use crate::nn::deploy::Deployment;
use crate::nn::forward::{LayerMode, Plan};
use crate::nn::model::Model;
use crate::nn::spec::Kind;

/// A level plan: per named layer, its levels (`levels[j]` for neuron `j` of one sample, or
/// one level for the whole layer); layers it does not name run at their default.
///
/// Generic over its storage, so one type is both the owned plan of the CLI and the browser
/// (`LevelPlan<Vec<(String, Vec<Level>)>>`) and a borrowed view
/// (`LevelPlan<&[(&str, &[Level])]>`): `layers` is anything that reads as a slice of
/// `(name, levels)` pairs. A name listed twice: the first one counts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LevelPlan<L> {
    /// `(layer name, levels)` pairs.
    pub layers: L,
}

/// What a [`LevelPlan`]'s storage reads as: `(name, levels)` pairs.
pub trait LayerList {
    /// The levels of the layer called `name`, if listed.
    fn find(&self, name: &str) -> Option<&[Level]>;
    /// Whether nothing is listed.
    fn is_empty(&self) -> bool;
}

impl<N: AsRef<str>, V: AsRef<[Level]>> LayerList for [(N, V)] {
    fn find(&self, name: &str) -> Option<&[Level]> {
        self.iter()
            .find(|(n, _)| n.as_ref() == name)
            .map(|(_, v)| v.as_ref())
    }
    fn is_empty(&self) -> bool {
        <[(N, V)]>::is_empty(self)
    }
}

impl<L> LevelPlan<L>
where
    L: core::ops::Deref,
    L::Target: LayerList,
{
    /// The levels of the layer called `name`, if the plan names it.
    pub fn levels(&self, name: &str) -> Option<&[Level]> {
        self.layers.find(name)
    }

    /// Whether the plan names no layer (everything at its default).
    pub fn is_default(&self) -> bool {
        self.layers.is_empty()
    }

    /// The plan as an `mpcdiff.plan/1` file (what `mpcdiff fuzz --plan` reads) for `model`
    /// under `deploy`, made with the profile called `profile`: per layer it names, in model
    /// order, the neuron count and one group per distinct level, in increasing order; a layer
    /// with a single level (uniform over its neurons) has it as its `default` and no group.
    /// Names the model does not address are left out.
    ///
    /// # Errors
    /// The writer's.
    pub fn write_json(
        &self,
        model: &Model<'_>,
        deploy: Deployment,
        profile: &str,
        w: &mut dyn fmt::Write,
    ) -> fmt::Result {
        let key = |l: &Level| (l.iters_exp, l.iters_nr);
        let level = |w: &mut dyn fmt::Write, l: &Level| {
            write!(w, "{{\"exp\":{},\"nr\":{}}}", l.iters_exp, l.iters_nr)
        };
        write!(
            w,
            "{{\"schema\":\"mpcdiff.plan/1\",\"architecture\":\"{}\",\"profile\":\"{profile}\",\"layers\":[",
            model.architecture
        )?;
        let named = nonlinear_layers(model, deploy).filter_map(|l| Some((l, self.levels(l.name)?)));
        for (k, (l, levels)) in named.enumerate() {
            let sep = if k == 0 { "" } else { "," };
            write!(
                w,
                "{sep}{{\"name\":\"{}\",\"neurons\":{}",
                l.name, l.neurons
            )?;
            if let [only] = levels {
                w.write_str(",\"default\":")?;
                level(w, only)?;
                w.write_str(",\"groups\":[]}")?;
                continue;
            }
            w.write_str(",\"groups\":[")?;
            // The distinct levels in increasing order, without a buffer: each round takes the
            // smallest above the last one written.
            let mut last = None;
            while let Some(d) = levels
                .iter()
                .filter(|v| last.is_none_or(|p| key(v) > p))
                .min_by_key(|v| key(v))
            {
                w.write_str(if last.is_none() {
                    "{\"level\":"
                } else {
                    ",{\"level\":"
                })?;
                level(w, d)?;
                w.write_str(",\"neurons\":[")?;
                let same = levels.iter().enumerate().filter(|(_, v)| *v == d);
                for (i, (j, _)) in same.enumerate() {
                    write!(w, "{}{j}", if i == 0 { "" } else { "," })?;
                }
                w.write_str("]}")?;
                last = Some(key(d));
            }
            w.write_str("]}")?;
        }
        w.write_str("]}")
    }
}

impl<L> Plan for LevelPlan<L>
where
    L: core::ops::Deref,
    L::Target: LayerList,
{
    fn mode(&self, name: &str) -> LayerMode<'_> {
        match self.levels(name) {
            Some(levels) => LayerMode::Levels(levels),
            None => LayerMode::Default,
        }
    }
}

/// `plan` with one layer computed exactly (free, not a protocol): the oracle of per-layer
/// attribution.
#[derive(Clone, Copy)]
pub struct Exact<'p> {
    /// The plan every other layer follows.
    pub plan: &'p dyn Plan,
    /// The layer made exact.
    pub layer: &'p str,
}

impl Plan for Exact<'_> {
    fn mode(&self, name: &str) -> LayerMode<'_> {
        if name == self.layer {
            LayerMode::Exact
        } else {
            self.plan.mode(name)
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
                neurons: model.shapes.get(i).map_or(0, |s| s.len()),
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
