//! The machinery the fuzz / localize / repair / sweep / report / demo commands share.

pub mod corpus;
pub mod folder;
pub mod fuzzing;
pub mod localization;
pub mod plan;
pub mod pool;
pub mod repair;
pub mod target;
pub mod worker;
