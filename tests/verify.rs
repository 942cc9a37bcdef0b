//! `verify` against moto, through the contract proxy: a missing secret and a missing image are
//! found (exit 1) beside the ones that exist, the zones are checked, and not one write is sent.

mod common;

use common::proxy::FaultProxy;
use common::{run_command, unique_stack, Fixture, Moto};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_finds_a_missing_secret_and_a_missing_image_and_writes_nothing() {
    let moto = Moto::start();
    let stack = unique_stack("verify");
    let conf = moto.sdk_config().await;
    // What exists: the user-service image, one secret, one parameter.
    let ecr = aws_sdk_ecr::Client::new(&conf);
    let repository = format!("{stack}-users");
    ecr.create_repository()
        .repository_name(&repository)
        .send()
        .await
        .expect("repository");
    ecr.put_image()
        .repository_name(&repository)
        .image_tag("1.0")
        .image_manifest(r#"{"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json", "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 2, "digest": "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"}, "layers": []}"#)
        .send()
        .await
        .expect("image");
    let secret = aws_sdk_secretsmanager::Client::new(&conf)
        .create_secret()
        .name(format!("{stack}/db-password"))
        .secret_string("s3cret")
        .send()
        .await
        .expect("secret")
        .arn()
        .expect("arn")
        .to_string();
    aws_sdk_ssm::Client::new(&conf)
        .put_parameter()
        .name(format!("/{stack}/api-key"))
        .value("k")
        .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
        .send()
        .await
        .expect("parameter");
    let missing_secret = secret.replace("db-password", "gone");

    let registry = fake_registry().await;
    let mut f = Fixture::seed(&stack);
    // Public-registry images: one the registry has (behind its anonymous token), one it lacks.
    f.edit(
        None,
        "    image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/api-gateway:latest\n",
        &format!("    image: {registry}/team/gateway:v1\n"),
    );
    f.edit(
        None,
        "    image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/notification-service:latest\n",
        &format!("    image: {registry}/team/notifier:v9\n"),
    );
    f.edit(
        None,
        "    image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/user-service:latest\n",
        &format!(
            "    image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/{repository}:1.0\n    secrets:\n      DB_PASSWORD: {secret}\n      OLD_PASSWORD: {missing_secret}\n      API_KEY: /{stack}/api-key\n"
        ),
    );
    let proxy = FaultProxy::start(moto, &serde_json::json!({}));
    let out = run_command(
        proxy.ecsform(moto),
        &["verify", "-f", f.path_str(), "--json"],
    )
    .await
    .output;
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let checks: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let find = |what: &str, subject_has: &str| {
        checks
            .as_array()
            .into_iter()
            .flatten()
            .find(|c| {
                c["what"] == what
                    && c["subject"]
                        .as_str()
                        .is_some_and(|s| s.contains(subject_has))
            })
            .unwrap_or_else(|| panic!("no {what} check on {subject_has}: {checks}"))
            .clone()
    };
    assert_eq!(find("image", &format!("{repository}:1.0"))["status"], "ok");
    let missing_image = find("image", "order-service:latest");
    assert_eq!(missing_image["status"], "fail", "{missing_image}");
    assert_eq!(find("secret", "DB_PASSWORD")["status"], "ok");
    let gone = find("secret", "OLD_PASSWORD");
    assert_eq!(gone["status"], "fail", "{gone}");
    assert!(
        gone["detail"]
            .as_str()
            .is_some_and(|d| d.contains("no such secret")),
        "{gone}"
    );
    assert_eq!(find("parameter", "API_KEY")["status"], "ok");
    assert_eq!(find("zone", "us-east-1a")["status"], "ok");
    let public = find("image", "team/gateway:v1");
    assert_eq!(public["status"], "ok", "{public}");
    let public_missing = find("image", "team/notifier:v9");
    assert_eq!(public_missing["status"], "fail", "{public_missing}");
    assert!(
        public_missing["detail"]
            .as_str()
            .is_some_and(|d| d.contains("no such image or tag")),
        "{public_missing}"
    );
    // Quotas are read from the account: moto's Service Quotas holds the VPC ones (applied
    // values); ECS and Fargate it does not know, so those fall back to AWS's default, saying so.
    let per_interface = find("quota", "Security groups per network interface");
    assert_eq!(per_interface["status"], "ok", "{per_interface}");
    assert!(
        per_interface["detail"]
            .as_str()
            .is_some_and(|d| d.starts_with("1 of 5 (this account's quota)")),
        "{per_interface}"
    );
    let vcpus = find("quota", "Fargate On-Demand vCPU");
    assert!(
        vcpus["detail"]
            .as_str()
            .is_some_and(|d| d.contains("could not be read")),
        "{vcpus}"
    );
    // The stack's own repository does not exist before the first apply: said, not failed.
    assert_eq!(find("image", "product-service:1.0.0")["status"], "skipped");

    let stats = proxy.stats();
    let writes: Vec<&String> = stats["by_action"]
        .as_object()
        .expect("by_action")
        .keys()
        .filter(|action| {
            let op = action.split_once(':').map_or(action.as_str(), |(_, op)| op);
            !(op.starts_with("Describe") || op.starts_with("List") || op.starts_with("Get"))
        })
        .collect();
    assert!(writes.is_empty(), "verify must not write: {writes:?}");
    assert!(
        stats["by_action"]
            .as_object()
            .is_some_and(|a| a.contains_key("servicequotas:GetServiceQuota")),
        "{stats}"
    );

    // The table: failures first.
    let out = run_command(proxy.ecsform(moto), &["verify", "-f", f.path_str()])
        .await
        .output;
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.starts_with("RESULT") && table.lines().nth(1).is_some_and(|l| l.starts_with("FAIL")),
        "{table}"
    );
    assert!(table.contains("checks failed"), "{table}");
}

/// A registry on loopback that speaks the token flow as Docker Hub and ghcr.io do: a HEAD of a
/// manifest without a token gets 401 and a Bearer challenge; `/token` hands out a token; with it
/// `team/gateway:v1` exists and nothing else does. Returns `127.0.0.1:PORT`.
async fn fake_registry() -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address").to_string();
    let realm = format!("http://{address}/token");
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let realm = realm.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&head).to_lowercase();
                let path = head.split_whitespace().nth(1).unwrap_or("").to_string();
                let authorized = head.contains("authorization: bearer anonymous-pull");
                let (status, extra, body) = if path.starts_with("/token") {
                    ("200 OK", String::new(), r#"{"token":"anonymous-pull"}"#)
                } else if !authorized {
                    (
                        "401 Unauthorized",
                        format!(
                            "www-authenticate: Bearer realm=\"{realm}\",service=\"fake\",scope=\"repository:team/gateway:pull\"\r\n"
                        ),
                        "",
                    )
                } else if path == "/v2/team/gateway/manifests/v1" {
                    ("200 OK", String::new(), "")
                } else {
                    ("404 Not Found", String::new(), "")
                };
                let response = format!(
                    "HTTP/1.1 {status}\r\n{extra}content-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(response.as_bytes()).await;
            });
        }
    });
    address
}
