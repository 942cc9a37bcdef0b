//! The `db_instance` kind: an RDS instance, encrypted, never public, its master password
//! generated and kept by RDS in Secrets Manager (`ManageMasterUserPassword`), so no password is
//! ever in the file, the plan or an output.

use super::{fields, KindSpec};
use crate::model::{Kind, Ref};
use crate::plan::diff::DATA_LOSS;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DbInstance {
    pub identifier: String,
    /// `mysql` or `postgres`.
    pub engine: String,
    /// `None`: AWS's default version, and whatever AWS upgrades it to is not drift.
    pub engine_version: Option<String>,
    pub instance_class: String,
    pub storage_gb: u32,
    pub multi_az: bool,
    pub encrypted: bool,
    pub publicly_accessible: bool,
    pub deletion_protection: bool,
    pub master_username: String,
    pub subnet_group: Ref,
    pub security_groups: Vec<Ref>,
}

impl KindSpec for DbInstance {
    const KIND: Kind = Kind::DbInstance;
    const HOLDS_INTERFACES: bool = true;
    /// Class, storage, version, multi-AZ, deletion protection and groups change in place
    /// (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Overview.DBInstance.Modifying.html),
    /// and so does the subnet group, also one in another VPC: `DBSubnetGroupName` of
    /// `ModifyDBInstance` moves a Single-AZ instance there, its data with it
    /// (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_ModifyDBInstance.html).
    const FORCES_REPLACEMENT: &'static [&'static str] =
        fields!(DbInstance; identifier, engine, encrypted, master_username);
    const UPDATE_NOTE: Option<&'static str> = Some(
        "AWS applies it now, not in the maintenance window: a class or version change restarts the instance (with multi_az, a failover of about a minute)",
    );
    fn kept_elsewhere(want: &Self) -> &'static [&'static str] {
        if want.engine_version.is_none() {
            fields!(DbInstance; engine_version)
        } else {
            &[]
        }
    }
    /// https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_PIOPS.ModifyingExisting.html
    /// ("you can't reduce the amount of storage").
    /// Nor downgrade the engine: https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_UpgradeDBInstance.Upgrading.html
    fn refuses_change(want: &Self, have: &Self) -> Option<String> {
        if want.storage_gb < have.storage_gb {
            return Some(format!(
                "RDS cannot shrink storage ({} GiB to {} GiB): keep storage_gb at {} or more; a smaller database needs a new instance and a copy of the data",
                have.storage_gb, want.storage_gb, have.storage_gb
            ));
        }
        match (&want.engine_version, &have.engine_version) {
            (Some(w), Some(h)) if want.engine == have.engine && is_downgrade(w, h) => Some(format!(
                "RDS cannot downgrade {} from {h} to {w}: keep version at {h} or later; an older engine needs a new instance and a copy of the data",
                have.engine
            )),
            _ => None,
        }
    }
    fn refuses_delete(have: &Self) -> Option<String> {
        have.deletion_protection.then(|| {
            format!(
                "DB instance {} has deletion protection on, and ecsform does not turn it off for you: set `deletion_protection: false` for it under `databases`, run apply, then run this again",
                have.identifier
            )
        })
    }
    fn replacement_cost(_have: &Self) -> Option<String> {
        Some(format!(
            "{DATA_LOSS}: the new database starts empty (a final snapshot of the old one is kept)"
        ))
    }
    fn delete_note(_have: &Self) -> Option<String> {
        Some("a final snapshot is kept".into())
    }
    fn refs(&self) -> Vec<&Ref> {
        let mut out = vec![&self.subnet_group];
        out.extend(self.security_groups.iter());
        out
    }
    fn refs_mut(&mut self) -> Vec<&mut Ref> {
        let mut out = vec![&mut self.subnet_group];
        out.extend(self.security_groups.iter_mut());
        out
    }
}

/// `want` is older than `have`, compared on the parts `want` names ("8.0" < "8.4.3",
/// "8.0" is not older than "8.0.35").
fn is_downgrade(want: &str, have: &str) -> bool {
    let parts = |v: &str| -> Option<Vec<u32>> { v.split('.').map(|p| p.parse().ok()).collect() };
    match (parts(want), parts(have)) {
        (Some(w), Some(h)) => {
            let h: Vec<u32> = h.into_iter().take(w.len()).collect();
            w < h
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn downgrades() {
        for (want, have, down) in [
            ("8.0", "8.4", true),
            ("8.0", "8.4.3", true),
            ("8.0", "8.0.35", false),
            ("8.4", "8.0", false),
            ("15", "16.2", true),
            ("16", "16.2", false),
            ("8.0.36", "8.0.35", false),
            ("8.0.34", "8.0.35", true),
            ("latest", "8.0", false),
        ] {
            assert_eq!(super::is_downgrade(want, have), down, "{want} after {have}");
        }
    }
}
