//! How the session's results serialize (`serde-wasm-bindgen` in the browser): the
//! `serialize_with` helpers of their `Serialize` derives. Bulk numbers become typed arrays
//! inside wasm (sequences elsewhere), `u64` seeds and digests strings, kernel enums their
//! names, a cost ledger a plain object.

use mpcdiff_kernel::approx::{Function, Level};
use mpcdiff_kernel::difftest::campaign::Status;
use mpcdiff_kernel::difftest::fuzzer::Step;
use mpcdiff_kernel::difftest::oracle::Stage;
use mpcdiff_kernel::nn::spec::Shape;
use mpcdiff_kernel::Cost;
use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};

/// Serializes as a typed array (through `serde_wasm_bindgen::preserve`) inside wasm, as a
/// sequence elsewhere.
macro_rules! typed {
    ($name:ident, $elem:ty, $array:ident) => {
        #[allow(clippy::ptr_arg)]
        pub fn $name<S: Serializer>(v: &Vec<$elem>, s: S) -> Result<S::Ok, S::Error> {
            #[cfg(target_arch = "wasm32")]
            return serde_wasm_bindgen::preserve::serialize(&js_sys::$array::from(&v[..]), s);
            #[cfg(not(target_arch = "wasm32"))]
            return v.serialize(s);
        }
    };
}
typed!(f64s, f64, Float64Array);
typed!(f32s, f32, Float32Array);
typed!(u8s, u8, Uint8Array);
typed!(u32s, u32, Uint32Array);

/// A shape as its dimensions.
pub fn dims<S: Serializer>(shape: &Shape, s: S) -> Result<S::Ok, S::Error> {
    match *shape {
        Shape::Image { c, h, w } => [c, h, w].serialize(s),
        Shape::Vector(n) => [n].serialize(s),
    }
}

/// A level as `[iters_exp, iters_nr]`.
pub fn level<S: Serializer>(l: &Level, s: S) -> Result<S::Ok, S::Error> {
    [l.iters_exp, l.iters_nr].serialize(s)
}

/// A function by name.
pub fn function<S: Serializer>(f: &Function, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(f.name())
}

/// A search status by name (`active`, `found`, `dropped`, `skipped`).
pub fn status<S: Serializer>(v: &Status, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(v.name())
}

/// A `u64` seed as a decimal string (JS numbers hold 53 bits).
pub fn decimal<S: Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&v.to_string())
}

/// A digest as 16 hex digits.
pub fn hex<S: Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format!("{v:016x}"))
}

/// A mutation path as its operators' names.
#[allow(clippy::ptr_arg)]
pub fn path<S: Serializer>(p: &Vec<Step>, s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(p.iter().map(|step| step.op.name()))
}

/// An error source by name.
pub fn source<S: Serializer>(v: &Stage, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(match v {
        Stage::Approximation | Stage::Plaintext => "approximation",
        Stage::FixedPoint => "fixed-point",
        Stage::Shared => "share-randomness",
    })
}

/// A cost ledger, every count as a `Number`.
pub fn cost<S: Serializer>(c: &Cost, s: S) -> Result<S::Ok, S::Error> {
    let mut m = s.serialize_struct("Cost", 7)?;
    m.serialize_field("rounds", &(c.rounds as f64))?;
    m.serialize_field("multiplications", &(c.multiplications() as f64))?;
    m.serialize_field("andTriples", &(c.and_triples as f64))?;
    m.serialize_field("bytesPerParty", &(c.bytes_sent[0] as f64))?;
    m.serialize_field("cryptenBytes", &(c.crypten_bytes() as f64))?;
    m.serialize_field("truncations", &(c.truncations as f64))?;
    m.serialize_field("wrapEvents", &(c.wrap_events as f64))?;
    m.end()
}
