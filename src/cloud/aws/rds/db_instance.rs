//! DB instances: created without a wait (a task definition waits for the endpoint it needs), changed with `ApplyImmediately`, deleted only when deletion protection is off.

use super::*;

impl AwsKind for DbInstance {
    fn cost(_op: OpKind) -> Vec<(Family, f64)> {
        vec![(Family::Rds, 1.0)]
    }
    async fn create(&self, cloud: &AwsCloud, ctx: &OpContext<'_>) -> Result<String, CloudError> {
        let r = self;
        let subnet_group = ctx.resolve(&r.subnet_group)?;
        let groups = ctx.resolve_all(&r.security_groups)?;
        let created = call(|| {
            cloud
                .rds
                .create_db_instance()
                .db_instance_identifier(&r.identifier)
                .engine(&r.engine)
                .set_engine_version(r.engine_version.clone())
                .db_instance_class(&r.instance_class)
                .allocated_storage(r.storage_gb as i32)
                .storage_type("gp3")
                .multi_az(r.multi_az)
                .storage_encrypted(r.encrypted)
                .publicly_accessible(r.publicly_accessible)
                .deletion_protection(r.deletion_protection)
                .master_username(&r.master_username)
                .manage_master_user_password(true)
                .db_subnet_group_name(subnet_group.clone())
                .set_vpc_security_group_ids(Some(groups.clone()))
                .copy_tags_to_snapshot(true)
                .set_tags(Some(tags(ctx, &r.identifier)))
                .send()
        })
        .await;
        match created {
            Ok(_) => {}
            // A create whose answer was lost and was run again: the instance is ours already.
            Err(e) if has_code(&e, "DBInstanceAlreadyExists") => {
                let db = describe(cloud, &r.identifier).await?;
                let tags = tag_map(db.tag_list().iter().map(|t| (t.key(), t.value())));
                if !owned_by(&tags, ctx.stack) {
                    return Err(e);
                }
            }
            Err(e) => return Err(e),
        }
        endpoint(cloud, &r.identifier).await?;
        Ok(r.identifier.clone())
    }
    async fn update(
        &self,
        cloud: &AwsCloud,
        ctx: &OpContext<'_>,
        _id: &str,
        have: &Self,
    ) -> Result<String, CloudError> {
        let r = self;
        let major = |v: &Option<String>| {
            v.as_deref()
                .and_then(|v| v.split('.').next())
                .map(String::from)
        };
        let version = (r.engine_version.is_some() && r.engine_version != have.engine_version)
            .then(|| r.engine_version.clone())
            .flatten();
        // A new subnet group (its VPC replaced) moves the instance, with its data; RDS moves only
        // a Single-AZ instance to another VPC
        // (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_VPC.WorkingWithRDSInstanceinaVPC.html).
        let group = ctx.resolve(&r.subnet_group)?;
        let moves = cloud
            .recall(&subnet_group_key(&r.identifier))
            .is_none_or(|current| current != group);
        if moves && (r.multi_az || have.multi_az) {
            return Err(CloudError::Other(format!(
                "DB instance {} is Multi-AZ, and RDS moves only a Single-AZ instance to another VPC: set `multi_az: false` for it under `databases`, apply, then apply the network change",
                r.identifier
            )));
        }
        let groups = ctx.resolve_all(&r.security_groups)?;
        call(|| {
            cloud
                .rds
                .modify_db_instance()
                .db_instance_identifier(&r.identifier)
                .apply_immediately(true)
                .db_instance_class(&r.instance_class)
                .set_allocated_storage(
                    (r.storage_gb != have.storage_gb).then_some(r.storage_gb as i32),
                )
                .set_engine_version(version.clone())
                .set_allow_major_version_upgrade(
                    version
                        .is_some()
                        .then(|| major(&r.engine_version) != major(&have.engine_version)),
                )
                .multi_az(r.multi_az)
                .deletion_protection(r.deletion_protection)
                .set_vpc_security_group_ids(Some(groups.clone()))
                .set_db_subnet_group_name(moves.then(|| group.clone()))
                .send()
        })
        .await?;
        cloud.remember(&subnet_group_key(&r.identifier), &group);
        Ok(r.identifier.clone())
    }
    async fn delete(
        have: &Self,
        cloud: &AwsCloud,
        _ctx: &OpContext<'_>,
        _observed: &ObservedResource,
    ) -> Result<(), CloudError> {
        let id = &have.identifier;
        // The plan refuses this before anything changes; a saved plan may be older than the flag.
        if let Some(why) = <DbInstance as crate::kinds::KindSpec>::refuses_delete(have) {
            return Err(CloudError::Other(why));
        }
        forget_endpoint(cloud, id);
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        // Snapshot identifiers: letters, digits and single hyphens, 255 at most.
        let snapshot = format!("{id}-final-{stamp}");
        let out = call(|| {
            cloud
                .rds
                .delete_db_instance()
                .db_instance_identifier(id)
                .skip_final_snapshot(false)
                .final_db_snapshot_identifier(&snapshot)
                .delete_automated_backups(false)
                .send()
        })
        .await;
        match out {
            // "is already being deleted" (a re-run): wait for it like any other. Every other
            // InvalidDBInstanceState (creating, backing up, modifying) was waited out by `call`
            // (settle.rs), so this answer means AWS is deleting it.
            Err(e) if has_code(&e, "InvalidDBInstanceState") => {}
            other => gone_is_done(other.map(|_| ()))?,
        }
        wait_until_gone(cloud, &format!("DB instance {id}"), || async {
            describe(cloud, id)
                .await
                .map(|db| db.db_instance_status().unwrap_or("deleting").to_string())
        })
        .await
    }
}
