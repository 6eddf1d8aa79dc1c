//! Neural-network models, evaluated in any of the three arithmetics.
//!
//! A model ([`model`]) is a named sequence of layers ([`spec`]) with weights read from a
//! safetensors file ([`safetensors`]) without copying or allocating. A [`deploy`]ment says which
//! computation a framework turns it into, and [`forward`] runs that computation layer by layer,
//! written once against [`Arith`](crate::arith::Arith), with [`pooling`] for the pooling layers.

pub mod builtin;
pub mod deploy;
pub mod forward;
pub mod gradient;
pub mod model;
pub mod pooling;
pub mod safetensors;
pub mod scaling;
pub mod spec;

#[cfg(test)]
pub(crate) mod tests;
