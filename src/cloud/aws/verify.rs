//! The reads behind `ecsform verify` (see `crate::verify`): describes and lists only, never a
//! write, and never a secret's or parameter's value.

use super::settle::call;
use super::AwsCloud;
use crate::cloud::CloudError;
use crate::verify::{
    certificate_check, quota_check, CertificateFacts, Check, ImageRef, QuotaNeed, QuotaValue,
    Status, Wanted,
};
use aws_sdk_ecr::types::ImageIdentifier;
use aws_sdk_ssm::types::ParameterStringFilter;
use futures::future::join_all;

impl AwsCloud {
    pub async fn verify(&self, wanted: &Wanted) -> Vec<Check> {
        let mut checks = zones(self, &wanted.zones).await;
        checks.extend(
            join_all(
                wanted
                    .quotas
                    .iter()
                    .map(|need| async move { quota_check(need, &quota_value(self, need).await) }),
            )
            .await,
        );
        checks.extend(join_all(wanted.images.iter().map(|(svc, img)| image(self, svc, img))).await);
        checks.extend(
            join_all(
                wanted
                    .secrets
                    .iter()
                    .map(|(svc, var, source)| secret(self, svc, var, source)),
            )
            .await,
        );
        checks.extend(
            join_all(
                wanted
                    .certificates
                    .iter()
                    .map(|(port, arn)| certificate(self, *port, arn)),
            )
            .await,
        );
        checks
    }
}

/// The account's value of a quota: applied if Service Quotas has one, else AWS's default as
/// Service Quotas states it (quotas never raised, and services such as ECS that keep no applied
/// value, answer GetServiceQuota with NoSuchResourceException:
/// https://docs.aws.amazon.com/servicequotas/2019-06-24/apireference/API_GetServiceQuota.html).
async fn quota_value(cloud: &AwsCloud, need: &QuotaNeed) -> QuotaValue {
    let applied = call(|| {
        cloud
            .quotas
            .get_service_quota()
            .service_code(need.service_code)
            .quota_code(need.quota_code)
            .send()
    })
    .await;
    match applied {
        Ok(out) => {
            if let Some(v) = out.quota().and_then(|q| q.value()) {
                return QuotaValue::Applied(v);
            }
        }
        Err(e) if code(&e) != "NoSuchResourceException" => return QuotaValue::Unread(reason(&e)),
        Err(_) => {}
    }
    let default = call(|| {
        cloud
            .quotas
            .get_aws_default_service_quota()
            .service_code(need.service_code)
            .quota_code(need.quota_code)
            .send()
    })
    .await;
    match default {
        Ok(out) => match out.quota().and_then(|q| q.value()) {
            Some(v) => QuotaValue::AwsDefault(v),
            None => QuotaValue::Unread("Service Quotas gave no value".into()),
        },
        Err(e) => QuotaValue::Unread(reason(&e)),
    }
}

/// An error in a few words: AWS's error code; an answer that is not one (the emulator's HTML
/// page for an operation it lacks) is said as such rather than as the parser's complaint.
fn reason(e: &CloudError) -> String {
    match e {
        CloudError::Aws { code, .. } => code.clone(),
        CloudError::AccessDenied(_) => "access denied".into(),
        CloudError::Unreachable(_) => "Service Quotas unreachable".into(),
        _ => "no usable answer".into(),
    }
}

fn code(e: &CloudError) -> String {
    match e {
        CloudError::Aws { code, .. } => code.clone(),
        other => other.to_string(),
    }
}

fn region_of(arn: &str) -> Option<&str> {
    arn.split(':').nth(3).filter(|r| !r.is_empty())
}

async fn zones(cloud: &AwsCloud, names: &[String]) -> Vec<Check> {
    let found = call(|| cloud.ec2.describe_availability_zones().send()).await;
    let zones = match found {
        Ok(out) => out.availability_zones().to_vec(),
        Err(e) => {
            return vec![Check::new(
                "zone",
                names.join(", "),
                Status::Fail,
                format!("could not list the region's zones: {e}"),
            )];
        }
    };
    names
        .iter()
        .map(|name| match zones.iter().find(|z| z.zone_name() == Some(name.as_str())) {
            Some(z) => {
                let state = z.state().map(|s| s.as_str().to_string()).unwrap_or_default();
                let status = if state == "available" { Status::Ok } else { Status::Fail };
                Check::new("zone", name, status, state)
            }
            None => Check::new(
                "zone",
                name,
                Status::Fail,
                format!(
                    "{} has no such zone (it has {}): name zones it has under network.availability_zones",
                    cloud.region,
                    zones.iter().filter_map(|z| z.zone_name()).collect::<Vec<_>>().join(", ")
                ),
            ),
        })
        .collect()
}

async fn image(cloud: &AwsCloud, service: &str, image: &ImageRef) -> Check {
    let (region, repository, tag, digest, own) = match image {
        ImageRef::Public(uri) => return crate::cloud::registry::check(service, uri).await,
        ImageRef::Ecr {
            region,
            repository,
            tag,
            digest,
            own,
        } => (region, repository, tag, digest, own),
    };
    let reference = match (tag, digest) {
        (_, Some(d)) => format!("{repository}@{d}"),
        (Some(t), None) => format!("{repository}:{t}"),
        (None, None) => repository.clone(),
    };
    let subject = format!("{service}: {reference}");
    if region.as_deref().is_some_and(|r| r != cloud.region) {
        return Check::new(
            "image",
            subject,
            Status::Skipped,
            "in another region's registry: not checked",
        );
    }
    let id = ImageIdentifier::builder()
        .set_image_tag(tag.clone())
        .set_image_digest(digest.clone())
        .build();
    let found = call(|| {
        cloud
            .ecr
            .describe_images()
            .repository_name(repository)
            .image_ids(id.clone())
            .send()
    })
    .await;
    // An empty answer and ImageNotFoundException both mean the repository lacks the image.
    let found = match found {
        Ok(out) => Ok(!out.image_details().is_empty()),
        Err(e) if code(&e) == "ImageNotFoundException" => Ok(false),
        Err(e) => Err(e),
    };
    match found {
        Ok(true) => Check::new("image", subject, Status::Ok, "exists"),
        Ok(false) => Check::new(
            "image",
            subject,
            Status::Fail,
            "no such image: push it before apply (the tasks could not start)",
        ),
        Err(e) if *own && super::retry::is_not_found(&e) => Check::new(
            "image",
            subject,
            Status::Skipped,
            "the repository is created by apply: push the image to it before the service can start",
        ),
        Err(e) if super::retry::is_not_found(&e) => Check::new(
            "image",
            subject,
            Status::Fail,
            "no such repository in this account and region",
        ),
        Err(e) => Check::new(
            "image",
            subject,
            Status::Fail,
            format!("could not read it: {e}"),
        ),
    }
}

async fn secret(cloud: &AwsCloud, service: &str, var: &str, source: &str) -> Check {
    let subject = format!("{service} {var}: {source}");
    if let Some(region) = region_of(source).filter(|r| *r != cloud.region) {
        return Check::new(
            "secret",
            subject,
            Status::Skipped,
            format!("in {region}: not checked from {}", cloud.region),
        );
    }
    if source.starts_with("arn:aws:secretsmanager:") {
        let found = call(|| cloud.secrets.describe_secret().secret_id(source).send()).await;
        return match found {
            Ok(s) => readable(
                "secret",
                subject,
                s.kms_key_id(),
                "alias/aws/secretsmanager",
            ),
            Err(e) if super::retry::is_not_found(&e) => Check::new(
                "secret",
                subject,
                Status::Fail,
                "no such secret: the tasks would fail to start (ResourceInitializationError)",
            ),
            Err(e) => Check::new(
                "secret",
                subject,
                Status::Fail,
                format!("could not read it: {e}"),
            ),
        };
    }
    let name = source.split_once(":parameter").map_or(source, |(_, n)| n);
    let filter = ParameterStringFilter::builder()
        .key("Name")
        .option("Equals")
        .values(name)
        .build();
    let filter = match filter {
        Ok(f) => f,
        Err(e) => return Check::new("parameter", subject, Status::Fail, e.to_string()),
    };
    let found = call(|| {
        cloud
            .ssm
            .describe_parameters()
            .parameter_filters(filter.clone())
            .send()
    })
    .await;
    match found {
        Ok(out) => match out.parameters().first() {
            None => Check::new(
                "parameter",
                subject,
                Status::Fail,
                "no such parameter: the tasks would fail to start (ResourceInitializationError)",
            ),
            Some(p) => readable("parameter", subject, p.key_id(), "alias/aws/ssm"),
        },
        Err(e) => Check::new(
            "parameter",
            subject,
            Status::Fail,
            format!("could not read it: {e}"),
        ),
    }
}

/// A secret or parameter that exists: readable by the execution role unless a customer key
/// encrypts it. The role may read the value (GetSecretValue / GetParameters), not decrypt with a
/// key of the customer's
/// (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-secrets-manager.html).
fn readable(what: &'static str, subject: String, key: Option<&str>, aws_managed: &str) -> Check {
    match key.filter(|k| !k.ends_with(aws_managed)) {
        Some(key) => Check::new(
            what,
            subject,
            Status::Fail,
            format!("encrypted with the customer key {key}: the execution role has no kms:Decrypt on it; grant it in the key policy"),
        ),
        None => Check::new(what, subject, Status::Ok, "exists; the execution role may read it"),
    }
}

async fn certificate(cloud: &AwsCloud, port: u16, arn: &str) -> Check {
    let subject = format!("listener {port}: {arn}");
    if let Some(region) = region_of(arn).filter(|r| *r != cloud.region) {
        return Check::new(
            "certificate",
            subject,
            Status::Fail,
            format!(
                "in {region}: a load balancer takes certificates of its own region ({})",
                cloud.region
            ),
        );
    }
    match call(|| cloud.acm.describe_certificate().certificate_arn(arn).send()).await {
        Ok(out) => {
            let cert = out.certificate();
            let facts = CertificateFacts {
                status: cert
                    .and_then(|c| c.status())
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default(),
                domains: cert
                    .map(|c| {
                        let sans = c.subject_alternative_names();
                        if sans.is_empty() {
                            c.domain_name().into_iter().map(str::to_string).collect()
                        } else {
                            sans.to_vec()
                        }
                    })
                    .unwrap_or_default(),
                not_before: cert.and_then(|c| c.not_before()).map(|t| t.secs()),
                not_after: cert.and_then(|c| c.not_after()).map(|t| t.secs()),
            };
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64);
            certificate_check(subject, &facts, now)
        }
        Err(e) if super::retry::is_not_found(&e) => {
            Check::new("certificate", subject, Status::Fail, "no such certificate")
        }
        Err(e) => Check::new(
            "certificate",
            subject,
            Status::Fail,
            format!("could not read it: {e}"),
        ),
    }
}
