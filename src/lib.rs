//! ecsform: one YAML file → a least-privilege ECS Fargate deployment, kept equal to the file.
//!
//! Pipeline (DESIGN §1): parse → validate → `desired::expand` → `Cloud::observe` →
//! `plan::diff::diff` → `plan::schedule::schedule` → `execute::execute`.

pub mod applied;
pub mod audit;
pub mod cli;
pub mod clock;
pub mod cloud;
#[cfg(feature = "aws")]
pub mod commands;
pub mod desired;
pub mod execute;
pub mod graph;
#[cfg(feature = "aws")]
pub mod interrupt;
pub mod kinds;
pub mod lease;
pub mod limits;
pub mod local;
pub mod model;
pub mod names;
pub mod plan;
#[cfg(feature = "aws")]
pub mod slots;
pub mod stack_lock;
pub mod topology;
#[cfg(feature = "aws")]
pub mod ui;
pub mod verify;
pub mod waits;
