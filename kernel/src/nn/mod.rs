//! Neural-network models, evaluated in any of the three arithmetics.
//!
//! A model is a named sequence of layers ([`spec`]) with weights read from a safetensors file
//! ([`safetensors`]) without copying or allocating.

pub mod deploy;
pub mod forward;
pub mod model;
pub mod safetensors;
pub mod spec;
