//! Semantic checks that serde cannot express. Every rule reports at the offending key or value
//! with a concrete fix; all problems are collected, none stops the others.

mod alarms;
mod api_gateway;
mod callers;
mod databases;
mod discovery;
mod fargate;
mod load_balancer;
mod network;
mod repositories;
mod services;
mod stack;
mod task_role;
mod text;

use super::checker::Checker;
use super::diagnostic::{sort_by_position, Diagnostic};
use super::positions::PositionIndex;
use super::types::Topology;

/// Semantic errors of a parsed topology, in source order.
pub fn validate(t: &Topology, pos: &PositionIndex, file: &str) -> Vec<Diagnostic> {
    let mut check = Checker::new(t, pos, file);
    stack::check(&mut check);
    network::check(&mut check);
    discovery::check(&mut check);
    services::check(&mut check);
    callers::check(&mut check);
    load_balancer::check(&mut check);
    api_gateway::check(&mut check);
    task_role::check(&mut check);
    repositories::check(&mut check);
    alarms::check(&mut check);
    databases::check(&mut check);
    let mut errors = check.finish();
    sort_by_position(&mut errors);
    errors
}
