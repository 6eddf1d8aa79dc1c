//! Models: specs, safetensors files, model files, loading, the forward pass, pooling and the
//! deployments.

use super::approx::profile;
use super::arith::{count, on_any, with_shared_need, Job};
use super::base::pool_shape;
use super::models::{model_bytes, tamper};
use super::{e, ok, Draw};
use crate::stress::{Entry, Gen, Res};
use mpcdiff_kernel::approx::Level;
use mpcdiff_kernel::arith::{Arith, Fixed, Float};
use mpcdiff_kernel::nn::deploy::{self, Deployment};
use mpcdiff_kernel::nn::forward::{self, Config, DefaultPlan, ExactPlan, LayerMode, Plan, Tap};
use mpcdiff_kernel::nn::model::Model;
use mpcdiff_kernel::nn::pooling;
use mpcdiff_kernel::nn::safetensors::File;
use mpcdiff_kernel::nn::spec::{self, Shape, Spec};

pub(super) fn entries() -> Vec<Entry> {
    vec![
        e("nn::spec::Spec::parse", spec_parse),
        e(
            "nn::spec::{Spec::shapes,Shape::*,Kind::conv2d_shape,builtin}",
            spec_shapes,
        ),
        e("nn::safetensors::File::parse+Tensor::*", file_parse),
        e(
            "nn::model::Model::{parse,check,slots,tensor,input_shape}",
            model_parse,
        ),
        e("nn::model::Model::load", model_load),
        e("nn::forward::forward", forward_entry),
        e("nn::forward::prepare", prepare),
        e(
            "nn::forward::{arena_elems,shared_arena_words,default_level}",
            forward_sizes,
        ),
        e(
            "nn::gradient::{margin_gradient,tape_elems,params_len}",
            gradient_entry,
        ),
        e("nn::pooling::{avg_pool2d,max_pool2d}", pool),
        e(
            "nn::scaling::{is_minmax,features,bounds,apply}",
            scaling_entry,
        ),
        e("nn::deploy::{Deployment::*,fuse_conv_bn_f32}", deploy_entry),
    ]
}

/// A deployment, any of them.
pub(crate) fn deployment(g: &mut Gen) -> Deployment {
    g.pick(Deployment::ALL)
}

/// A plan: the default, exact, or per-neuron levels of any length for every layer.
pub(crate) struct Levels(pub Vec<Level>, pub u8);

impl Plan for Levels {
    fn mode(&self, name: &str) -> LayerMode<'_> {
        match (self.1, name.len() % 3) {
            (0, _) => LayerMode::Default,
            (1, _) => LayerMode::Exact,
            (_, 0) => LayerMode::Default,
            _ => LayerMode::Levels(&self.0),
        }
    }
}

pub(crate) fn plan(g: &mut Gen) -> Levels {
    let levels = (0..g.small(8))
        .map(|_| Level::new(g.below(12) as u8, g.below(12) as u8))
        .collect();
    Levels(levels, g.below(3) as u8)
}

/// A tap that records how much it saw, and asks for every layer sometimes.
pub(crate) struct Counting(pub usize, pub bool);

impl Tap for Counting {
    fn activation(&mut self, _index: usize, _layer: &str, offset: usize, values: &[f64]) {
        self.0 = self.0.wrapping_add(offset).wrapping_add(values.len());
    }
    fn wants_layers(&self) -> bool {
        self.1
    }
    fn layer(&mut self, index: usize, _layer: &str, _offset: usize, values: &[f64]) {
        self.0 = self.0.wrapping_add(index).wrapping_add(values.len());
    }
}

/// A batch: 1–3 mostly, sometimes 0 or huge.
pub(crate) fn batch(g: &mut Gen) -> usize {
    if g.one_in(6) {
        g.size()
    } else {
        1 + g.small(2)
    }
}

fn spec_parse(g: &mut Gen) -> Res {
    let text = if g.bool() {
        let (l, _) = spec::builtin(g.pick(&["lenet", "lenet-relu", "credit-mlp", "bank-mlp"]))
            .expect("built-in");
        let mut t = l.to_string();
        if g.one_in(3) {
            let at = g.index(t.len() + 1).min(t.len());
            let at = (0..=at).rev().find(|&i| t.is_char_boundary(i)).unwrap_or(0);
            t.insert_str(at, &g.text(4));
        }
        t
    } else {
        g.text(30)
    };
    ok(Spec::parse(&text))
}

fn spec_shapes(g: &mut Gen) -> Res {
    let (l, _) = spec::builtin(g.pick(&["lenet", "lenet-relu"])).expect("built-in");
    let s = Spec::parse(l).expect("built-in parses");
    let (_, own) = spec::builtin("lenet").expect("built-in");
    let input = match g.below(4) {
        0 => Shape::Image {
            c: g.dim(),
            h: g.size(),
            w: g.size(),
        },
        1 => Shape::Vector(g.size()),
        _ => Shape::parse(own).expect("built-in input"),
    };
    let _ = (input.len(), input.is_empty(), input.checked_len());
    let _ = Shape::parse(&g.text(8));
    let _ = spec::builtin(&g.text(2));
    for layer in &s.layers {
        let _ = layer.kind.conv2d_shape(input, g.size());
    }
    let mut out = vec![Shape::Vector(0); g.len(s.layers.len())];
    s.shapes(input, &mut out)
}

fn file_parse(g: &mut Gen) -> Res {
    let mut bytes = model_bytes(g);
    if g.one_in(3) && !bytes.is_empty() {
        for _ in 0..1 + g.small(3) {
            let i = g.index(bytes.len());
            bytes[i] = g.u64() as u8;
        }
    }
    if g.one_in(8) {
        bytes = (0..g.small(64)).map(|_| g.u64() as u8).collect();
    }
    let f = File::parse(&bytes)?;
    for t in f.tensors() {
        let _ = (t.len(), t.is_empty(), t.get(g.size()), t.values().count());
    }
    let _ = f.tensor(&g.text(2));
    let _ = f.metadata_raw("layers");
    ok(f.metadata("input"))
}

fn model_parse(g: &mut Gen) -> Res {
    let bytes = model_bytes(g);
    let mut m = Model::parse(&bytes)?;
    tamper(g, &mut m);
    let _ = m.input_shape(g.size());
    let _ = m.input_shape(g.small(4));
    let _ = m.tensor("l0", ".weight");
    let _ = m.metadata_raw("format");
    m.check()?;
    ok(m.slots(deployment(g)))
}

struct Load<'m>(&'m Model<'m>, Deployment);
impl Job for Load<'_> {
    fn run<A: Arith>(&self, a: &mut A, g: &mut Gen) -> Res
    where
        A::Elem: Draw,
    {
        let want = self.0.slots(self.1).map(|(_, n)| n).unwrap_or(0);
        let mut out: Vec<A::Elem> = vec![A::Elem::default(); g.scratch(want)];
        self.0.load(a, self.1, &mut out)
    }
}

fn model_load(g: &mut Gen) -> Res {
    let bytes = model_bytes(g);
    let mut m = Model::parse(&bytes)?;
    tamper(g, &mut m);
    let dep = deployment(g);
    on_any(g, &Load(&m, dep))
}

/// One forward pass (with `prepare` first when `prep`), buffers sized for the model or off.
struct Forward<'m> {
    m: &'m Model<'m>,
    prep: bool,
}

impl Job for Forward<'_> {
    fn run<A: Arith>(&self, a: &mut A, g: &mut Gen) -> Res
    where
        A::Elem: Draw,
    {
        let m = self.m;
        let p = profile(g);
        let cfg = Config {
            profile: &p,
            deploy: deployment(g),
        };
        let b = batch(g);
        let nparams = m.slots(cfg.deploy).map(|(_, n)| n).unwrap_or(0);
        let mut params: Vec<A::Elem> = vec![A::Elem::default(); g.scratch(nparams)];
        let r = m.load(a, cfg.deploy, &mut params);
        let pl = plan(g);
        let mut arena: Vec<A::Elem> =
            vec![A::Elem::default(); g.scratch(forward::arena_elems(m, b))];
        if self.prep {
            return r.and(forward::prepare(a, m, &mut params, &cfg, &pl, &mut arena));
        }
        let len = g.len_of(b, m.input.len());
        let x: Vec<A::Elem> = g.elems(len);
        let mut out: Vec<A::Elem> = vec![A::Elem::default(); g.len_of(b, m.classes)];
        let mut tap = Counting(0, g.bool());
        let tap: Option<&mut dyn Tap> = if g.bool() { Some(&mut tap) } else { None };
        let plan: &dyn Plan = match g.below(4) {
            0 => &DefaultPlan,
            1 => &ExactPlan,
            _ => &pl,
        };
        forward::forward(a, m, &params, &cfg, plan, tap, &x, b, &mut out, &mut arena)
    }
}

fn forward_any(g: &mut Gen, prep: bool) -> Res {
    let bytes = model_bytes(g);
    let mut m = Model::parse(&bytes)?;
    tamper(g, &mut m);
    let job = Forward { m: &m, prep };
    match g.below(3) {
        0 => job.run(&mut Float::new(super::base::fp(g)), g),
        1 => job.run(&mut Fixed::new(super::base::fp(g)), g),
        _ => {
            let need = forward::shared_arena_words(&m, 3);
            with_shared_need(g, need, |a, g| job.run(a, g))
        }
    }
}

fn gradient_entry(g: &mut Gen) -> Res {
    use mpcdiff_kernel::nn::gradient;
    let bytes = model_bytes(g);
    let mut m = Model::parse(&bytes)?;
    tamper(g, &mut m);
    let nparams = gradient::params_len(&m).unwrap_or(0);
    let mut params = vec![0.0; g.scratch(nparams)];
    let r = m.load(
        &mut Float::new(super::base::fp(g)),
        Deployment::Folded,
        &mut params,
    );
    let n = m.input.len();
    let len = g.len(n);
    let x = g.f64s(len);
    let mut grad = vec![0.0; g.len(n)];
    let mut tape = vec![0.0; g.scratch(gradient::tape_elems(&m))];
    let label = if g.bool() { g.small(3) } else { g.size() };
    r.and(gradient::margin_gradient(&m, &params, &x, label, &mut grad, &mut tape).map(|_| ()))
}

fn forward_entry(g: &mut Gen) -> Res {
    forward_any(g, false)
}

fn prepare(g: &mut Gen) -> Res {
    forward_any(g, true)
}

fn forward_sizes(g: &mut Gen) -> Res {
    let bytes = model_bytes(g);
    let mut m = Model::parse(&bytes)?;
    tamper(g, &mut m);
    let b = g.size();
    let _ = forward::arena_elems(&m, b);
    let _ = forward::shared_arena_words(&m, b);
    let p = profile(g);
    let _ = forward::default_level(&m.spec, g.size(), &p, deployment(g));
    let _ = forward::default_level(&m.spec, g.small(8), &p, deployment(g));
    Ok(())
}

struct Pool;
impl Job for Pool {
    fn run<A: Arith>(&self, a: &mut A, g: &mut Gen) -> Res
    where
        A::Elem: Draw,
    {
        let s = pool_shape(g);
        let nx = g.len(s.input_len().unwrap_or(usize::MAX));
        let no = g.len(s.output_len().unwrap_or(usize::MAX));
        let x: Vec<A::Elem> = g.elems(nx);
        let mut out: Vec<A::Elem> = g.elems(no);
        if g.bool() {
            pooling::avg_pool2d(a, &x, &mut out, &s, false)
        } else {
            let need = pooling::scratch_elems_max_pool2d(&s).unwrap_or(0);
            let mut sc: Vec<A::Elem> = vec![A::Elem::default(); g.scratch(need)];
            pooling::max_pool2d(a, &x, &mut out, &s, &mut sc)
        }
    }
}

/// Min-max records: well-formed, truncated, with junk numbers or none; samples of any length.
fn scaling_entry(g: &mut Gen) -> Res {
    use mpcdiff_kernel::nn::scaling;
    let n = g.small(6);
    let nums = |g: &mut Gen| -> String {
        (0..n)
            .map(|_| match g.small(8) {
                0 => g.text(4),
                1 => format!("{:e}", g.f64()),
                _ => format!("{}", g.real()),
            })
            .collect::<Vec<_>>()
            .join(",")
    };
    let (lo, hi) = (nums(g), nums(g));
    let mut meta = if g.bool() {
        format!(r#"{{\"kind\":\"minmax\",\"max\":[{hi}],\"min\":[{lo}]}}"#)
    } else {
        format!(r#"{{"kind":"minmax","max":[{hi}],"min":[{lo}]}}"#)
    };
    if g.one_in(5) {
        let cut = g.index(meta.len() + 1);
        while !meta.is_char_boundary(cut.min(meta.len())) {
            meta.pop();
        }
        meta.truncate(cut.min(meta.len()));
    }
    if g.one_in(8) {
        meta = g.text(24);
    }
    let _ = scaling::is_minmax(&meta);
    let _ = scaling::features(&meta);
    let _ = scaling::bounds(&meta, g.small(8));
    let len = g.len(n);
    let raw = g.f64s(len);
    let mut out = vec![0.0; g.len(n)];
    scaling::apply(&meta, &raw, &mut out)
}

fn pool(g: &mut Gen) -> Res {
    let _ = count(g);
    on_any(g, &Pool)
}

fn deploy_entry(g: &mut Gen) -> Res {
    let d = deployment(g);
    let _ = (d.name(), d.about(), d.gemm(), d.gelu_graph());
    let _ = Deployment::by_name(&g.text(2));
    let _ = deploy::BatchNormRun::Mpc { per_pass: g.bool() }.in_mpc();
    let _ = deploy::fuse_conv_bn_f32(
        g.f64() as f32,
        g.f64() as f32,
        g.f64() as f32,
        g.f64() as f32,
        g.f64() as f32,
        g.f64() as f32,
    );
    let (l, _) = spec::builtin(g.pick(&["lenet", "lenet-relu", "credit-mlp", "bank-mlp"]))
        .expect("built-in");
    let s = Spec::parse(l).expect("built-in parses");
    let i = g.size();
    let _ = d.nonlinear_in_mpc(&s, i);
    let _ = d.batch_norm(&s, g.small(20));
    let r = d.batch_norm(&s, i);
    r.and(d.check(&s))
}
