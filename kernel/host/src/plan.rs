//! Level plans as owned data: the kernel's [`LevelPlan`] over named layers, and the ways the
//! CLI and the page build one.

use mpcdiff_kernel::approx::profile::Profile;
use mpcdiff_kernel::approx::Level;
use mpcdiff_kernel::difftest::plan::LevelPlan;
use mpcdiff_kernel::difftest::repair;
use mpcdiff_kernel::nn::deploy::Deployment;
use mpcdiff_kernel::nn::model::Model;
use mpcdiff_kernel::nn::spec::Kind;

/// One level per neuron for each named layer (layers not listed: the profile's levels).
pub type OwnedPlan = LevelPlan<Vec<(String, Vec<Level>)>>;

/// `level` on every activation layer of `model`, uniformly over its neurons (no plan with
/// `None`): `mpcdiff predict --level`, the page's level menu.
pub fn uniform(model: &Model<'_>, level: Option<Level>) -> OwnedPlan {
    let acts = model.spec.layers.iter();
    let acts = acts.filter(|l| matches!(l.kind, Kind::Act(_)));
    LevelPlan {
        layers: acts
            .filter_map(|l| Some((l.name.as_str().to_string(), vec![level?])))
            .collect(),
    }
}

/// `plan` with `levels` for `layer` in place of what it had (appended if it had none).
pub fn set_layer(plan: &mut OwnedPlan, layer: &str, levels: Option<&[Level]>) {
    plan.layers.retain(|(n, _)| n != layer);
    plan.layers
        .extend(levels.map(|l| (layer.to_string(), l.to_vec())));
}

/// The repair candidates (the kernel's [`repair::applicable`] with `steps`) over `base`, each
/// named in words and expanded into `base` with the candidate's levels in place of its layers'.
/// `layer(k)` is the localization of nonlinear layer `k`: its high and low vote sets and how
/// many deviations making it exact removes.
///
/// # Errors
/// The kernel's (more nonlinear layers than a repair handles).
pub fn candidates<'s>(
    model: &'s Model<'_>,
    deploy: Deployment,
    profile: &Profile,
    base: &OwnedPlan,
    layer: &dyn Fn(usize) -> (&'s [u32], &'s [u32], usize),
    steps: &[(u8, u8)],
) -> mpcdiff_kernel::Result<Vec<(String, OwnedPlan)>> {
    let facts = repair::layer_facts(model, deploy, profile, base, layer)?;
    let widest = facts.iter().map(|f| f.layer.neurons).max().unwrap_or(0);
    let mut scratch = vec![Level::new(0, 0); widest];
    let mut out = Vec::new();
    for c in repair::applicable(&facts, steps) {
        let mut name = String::new();
        // Writing into a String cannot fail.
        let _ = c.describe(&facts, &mut name);
        let mut plan = base.clone();
        c.expand(&facts, &mut scratch, &mut |layer, levels| {
            set_layer(&mut plan, layer, Some(levels));
        })?;
        out.push((name, plan));
    }
    Ok(out)
}
