//! ECR repositories against moto: created as declared, named by services as `{repository, tag}`,
//! changed in place, and deleted with images in them only with `--delete-images`.

mod common;

use common::{apply, assert_plan_empty, pair, planned_changes, unique_stack, Fixture, Moto};
use std::collections::BTreeSet;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repository_is_built_named_by_its_service_and_deleted_with_images_only_when_asked() {
    let moto = Moto::start();
    let stack = unique_stack("ecr");
    let mut f = Fixture::seed(&stack);
    apply(moto, &f).await;
    let conf = moto.sdk_config().await;
    let ecr = aws_sdk_ecr::Client::new(&conf);
    let ecs = aws_sdk_ecs::Client::new(&conf);
    let name = format!("{stack}-product-service");
    let repos = ecr
        .describe_repositories()
        .repository_names(&name)
        .send()
        .await
        .expect("the repository");
    let repo = &repos.repositories()[0];
    assert_eq!(
        repo.image_scanning_configuration()
            .map(|c| c.scan_on_push()),
        Some(true)
    );
    assert_eq!(
        repo.image_tag_mutability().map(|m| m.as_str()),
        Some("MUTABLE")
    );
    let policy = ecr
        .get_lifecycle_policy()
        .repository_name(&name)
        .send()
        .await
        .expect("lifecycle policy");
    let policy: serde_json::Value =
        serde_json::from_str(policy.lifecycle_policy_text().unwrap_or_default()).expect("JSON");
    assert_eq!(policy["rules"][0]["selection"]["countNumber"], 30);
    let uri = repo.repository_uri().expect("uri").to_string();
    let image =
        |td: aws_sdk_ecs::operation::describe_task_definition::DescribeTaskDefinitionOutput| {
            td.task_definition()
                .and_then(|t| t.container_definitions().first())
                .and_then(|c| c.image())
                .map(String::from)
        };
    let td = ecs
        .describe_task_definition()
        .task_definition(format!("{stack}-product-service"))
        .send()
        .await
        .expect("task definition");
    assert_eq!(
        image(td),
        Some(format!("{uri}:1.0.0")),
        "the tag of our repository"
    );

    // Fewer images kept: the repository changes in place, nothing else.
    f.edit(None, "keep_images: 30", "keep_images: 10");
    let (planned, shown) = planned_changes(moto, &f).await;
    assert_eq!(
        planned,
        BTreeSet::from([pair("ecr.product-service", "update")]),
        "{}",
        shown
    );
    // A new tag: a new task definition revision the service moves to.
    f.edit(None, "tag: \"1.0.0\"", "tag: \"1.1.0\"");
    let (planned, shown) = planned_changes(moto, &f).await;
    assert_eq!(
        planned,
        BTreeSet::from([
            pair("ecr.product-service", "update"),
            pair("taskdef.product-service", "update"),
            pair("service.product-service", "update"),
        ]),
        "{}",
        shown
    );
    apply(moto, &f).await;
    assert_plan_empty(moto, &f).await;

    // An image pushed: the plan reads it, destroy refuses before deleting anything and says
    // how; `--delete-images` deletes the repository with its image (DATA LOSS in the plan).
    ecr.put_image()
        .repository_name(&name)
        .image_manifest(r#"{"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json", "config": {"digest": "sha256:aa", "size": 1, "mediaType": "application/vnd.docker.container.image.v1+json"}, "layers": []}"#)
        .image_tag("1.1.0")
        .send()
        .await
        .expect("an image");
    assert_plan_empty(moto, &f).await;
    let before = common::probe::tagged_counts(moto, &stack).await;
    let out = moto
        .run(&["destroy", "-f", f.path_str(), "--auto-approve"])
        .await;
    assert_ne!(out.code(), Some(0), "{}", out.stdout());
    let text = format!("{}{}", out.stdout(), out.stderr());
    assert!(
        text.contains(&format!(
            "REFUSED: ECR repository {name} still holds images"
        )) && text.contains("--delete-images")
            && text.contains("nothing was changed"),
        "{text}"
    );
    assert_eq!(
        common::probe::tagged_counts(moto, &stack).await,
        before,
        "a refused destroy deletes nothing"
    );
    let out = moto
        .run(&[
            "destroy",
            "-f",
            f.path_str(),
            "--auto-approve",
            "--delete-images",
        ])
        .await;
    out.expect_code(0);
    assert!(
        out.stdout()
            .contains("DATA LOSS: its images are deleted with it (`--delete-images`)"),
        "{}",
        out.stdout()
    );
    assert!(
        ecr.describe_repositories()
            .repository_names(&name)
            .send()
            .await
            .is_err(),
        "the repository is gone with its image"
    );
    let left = common::probe::tagged_counts(moto, &stack).await;
    assert!(left.values().all(|&n| n == 0), "{left:?}");
}
