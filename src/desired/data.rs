//! The data pass: per database, a DB subnet group over the private subnets, its own security
//! group with one rule per declared caller on the engine port (from the caller's group, never
//! a CIDR), and the instance: encrypted, never public, its master password kept by RDS.

use super::{ids, Network};
use crate::model::*;
use crate::names;
use crate::topology::Topology;

/// The master user: RDS keeps its password in Secrets Manager; callers read it from there.
pub const MASTER_USERNAME: &str = "dbadmin";

pub(super) fn expand(d: &mut Desired, t: &Topology, network: &Network) {
    let stack = t.name.as_str();
    for (key, db) in &t.databases {
        let name = names::database(stack, key);
        let subnets = d.insert(
            ids::db_subnet_group(key),
            Resource::DbSubnetGroup(DbSubnetGroup {
                // Not the instance's identifier: observe tells AWS names apart.
                name: format!("{name}-subnets"),
                description: format!("ecsform {stack}: database {key}, private subnets"),
                vpc: Ref::Id(network.vpc.clone()),
                subnets: network
                    .private_subnets
                    .iter()
                    .cloned()
                    .map(Ref::Id)
                    .collect(),
            }),
        );
        let group = d.insert(
            ids::db_group(key),
            Resource::SecurityGroup(SecurityGroup {
                name: names::security_group(stack, &format!("db-{key}")),
                vpc: Ref::Id(network.vpc.clone()),
                description: format!("ecsform {stack}: database {key}, from its callers only"),
            }),
        );
        for caller in &db.allowed_callers {
            d.insert_scoped(Resource::IngressRule(IngressRule {
                group: Ref::Id(group.clone()),
                port: db.engine.port(),
                source: RuleSource::Group(Ref::id(ids::service_group(caller))),
                description: format!("{caller} to database {key}"),
            }));
        }
        d.insert(
            ids::database(key),
            Resource::DbInstance(DbInstance {
                identifier: name,
                engine: db.engine.as_str().into(),
                engine_version: db.version.clone(),
                instance_class: db.instance_class.clone(),
                storage_gb: db.storage_gb,
                multi_az: db.multi_az,
                encrypted: true,
                publicly_accessible: false,
                deletion_protection: db.deletion_protection,
                master_username: MASTER_USERNAME.into(),
                subnet_group: Ref::Id(subnets),
                security_groups: vec![Ref::Id(group)],
            }),
        );
    }
}

/// The databases `svc` may call, as its task definition names them.
pub(super) fn links_for(t: &Topology, svc: &str) -> Vec<DatabaseLink> {
    t.databases
        .iter()
        .filter(|(_, db)| db.allowed_callers.iter().any(|c| c == svc))
        .map(|(key, _)| DatabaseLink {
            prefix: crate::topology::env_stem(key),
            database: Ref::id(ids::database(key)),
        })
        .collect()
}
