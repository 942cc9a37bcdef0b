//! Whether an image on a public registry (Docker Hub, ghcr.io, public.ecr.aws, quay.io, …)
//! exists, asked the way ECS pulls it: anonymously, by the registry HTTP API
//! (https://distribution.github.io/distribution/spec/api/ and its token flow,
//! https://distribution.github.io/distribution/spec/auth/token/). Reads only: one HEAD of the
//! manifest, and a token request when the registry asks for one.

use crate::verify::{Check, Status};
use std::time::Duration;

/// A reference split the way Docker resolves it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryImage {
    /// `http` for loopback registries (Docker treats them as insecure), else `https`.
    pub scheme: &'static str,
    /// The API host (`registry-1.docker.io` for Docker Hub), with a port if one was written.
    pub host: String,
    /// `library/nginx`, `org/app`.
    pub repository: String,
    /// A tag (`latest` when none is written) or a digest.
    pub reference: String,
}

/// `nginx:1.27` → Docker Hub's `library/nginx`, tag `1.27`; `ghcr.io/o/r@sha256:…` → ghcr.io.
/// The first path component is a registry host when it has a `.` or a `:`, or is `localhost`.
pub fn parse(uri: &str) -> RegistryImage {
    let (name, reference) = match uri.split_once('@') {
        Some((name, digest)) => (name, digest.to_string()),
        None => {
            let last = uri.rsplit('/').next().unwrap_or(uri);
            match last.rsplit_once(':') {
                Some((_, tag)) => (&uri[..uri.len() - tag.len() - 1], tag.to_string()),
                None => (uri, "latest".to_string()),
            }
        }
    };
    let (host, repository) = match name.split_once('/') {
        Some((first, rest))
            if first.contains('.') || first.contains(':') || first == "localhost" =>
        {
            (first.to_string(), rest.to_string())
        }
        _ => ("docker.io".to_string(), name.to_string()),
    };
    let (host, repository) = if host == "docker.io" || host == "index.docker.io" {
        let repository = if repository.contains('/') {
            repository
        } else {
            format!("library/{repository}")
        };
        ("registry-1.docker.io".to_string(), repository)
    } else {
        (host, repository)
    };
    let bare = host.rsplit_once(':').map_or(host.as_str(), |(h, _)| h);
    let scheme = if matches!(bare, "localhost" | "127.0.0.1" | "[::1]") {
        "http"
    } else {
        "https"
    };
    RegistryImage {
        scheme,
        host,
        repository,
        reference,
    }
}

/// The token endpoint a `WWW-Authenticate: Bearer realm="…",service="…",scope="…"` challenge
/// names, with its query; `None` for any other challenge (Basic: credentials only).
pub fn token_url(challenge: &str) -> Option<String> {
    let params = challenge.trim().strip_prefix("Bearer ")?;
    let mut realm = None;
    let mut query = Vec::new();
    // Values are quoted and may hold commas (a scope with several actions: `pull,push`).
    let mut rest = params.trim();
    while let Some((key, after)) = rest.split_once('=') {
        let key = key.trim().trim_start_matches(',').trim();
        let after = after.trim_start();
        let (value, tail) = match after.strip_prefix('"') {
            Some(quoted) => {
                let end = quoted.find('"')?;
                (&quoted[..end], &quoted[end + 1..])
            }
            None => match after.find(',') {
                Some(end) => (&after[..end], &after[end..]),
                None => (after, ""),
            },
        };
        if key == "realm" {
            realm = Some(value.to_string());
        } else {
            query.push(format!("{key}={}", encode(value)));
        }
        rest = tail;
    }
    let realm = realm?;
    Some(if query.is_empty() {
        realm
    } else {
        format!("{realm}?{}", query.join("&"))
    })
}

/// Percent-encodes a query value (scopes hold `:` and `/`).
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Manifest types a registry may hold an image as: multi-architecture indexes first.
const ACCEPT: &str = "application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json";

/// One client for every image of a run (it loads the system's certificates once).
fn client() -> Option<&'static reqwest::Client> {
    static CLIENT: std::sync::OnceLock<Option<reqwest::Client>> = std::sync::OnceLock::new();
    CLIENT
        .get_or_init(|| {
            reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .user_agent(concat!("ecsform/", env!("CARGO_PKG_VERSION")))
                .build()
                .ok()
        })
        .as_ref()
}

/// One HEAD of the image's manifest (after an anonymous token when the registry asks for one).
/// A registry that cannot be reached is a skip, not a failure: "where reachable".
pub async fn check(service: &str, uri: &str) -> Check {
    let subject = format!("{service}: {uri}");
    let image = parse(uri);
    let Some(client) = client() else {
        return Check::new(
            "image",
            subject,
            Status::Skipped,
            "no HTTP client (the system's certificates could not be loaded): not checked",
        );
    };
    let url = format!(
        "{}://{}/v2/{}/manifests/{}",
        image.scheme, image.host, image.repository, image.reference
    );
    let head = |token: Option<String>| {
        let mut request = client.head(&url).header("Accept", ACCEPT);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send()
    };
    let unreachable = |e: reqwest::Error| {
        Check::new(
            "image",
            subject.clone(),
            Status::Skipped,
            format!("{} could not be reached ({e}): not checked", image.host),
        )
    };
    let mut response = match head(None).await {
        Ok(r) => r,
        Err(e) => return unreachable(e),
    };
    if response.status() == reqwest::StatusCode::UNAUTHORIZED {
        let challenge = response
            .headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok())
            .and_then(token_url);
        if let Some(token_url) = challenge {
            let token = match anonymous_token(client, &token_url).await {
                Ok(t) => t,
                Err(e) => return unreachable(e),
            };
            response = match head(token).await {
                Ok(r) => r,
                Err(e) => return unreachable(e),
            };
        }
    }
    let status = response.status();
    match status.as_u16() {
        200 => Check::new("image", subject, Status::Ok, format!("exists on {}", image.host)),
        404 => Check::new(
            "image",
            subject,
            Status::Fail,
            format!("{} has no such image or tag: the tasks could not start", image.host),
        ),
        401 | 403 => Check::new(
            "image",
            subject,
            Status::Fail,
            format!(
                "{} refuses it without credentials: the repository does not exist or is private, and ECS pulls it anonymously",
                image.host
            ),
        ),
        _ => Check::new(
            "image",
            subject,
            Status::Skipped,
            format!("{} answered HTTP {status}: not checked", image.host),
        ),
    }
}

/// The bearer token a registry hands anyone for pulling public images (`token` or, in OAuth2
/// style, `access_token`).
async fn anonymous_token(
    client: &reqwest::Client,
    url: &str,
) -> Result<Option<String>, reqwest::Error> {
    let body = client.get(url).send().await?.bytes().await?;
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    Ok(["token", "access_token"]
        .iter()
        .find_map(|key| json[*key].as_str())
        .map(str::to_string))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_resolve_as_docker_resolves_them() {
        let cases = [
            (
                "nginx",
                "https",
                "registry-1.docker.io",
                "library/nginx",
                "latest",
            ),
            (
                "nginx:1.27",
                "https",
                "registry-1.docker.io",
                "library/nginx",
                "1.27",
            ),
            (
                "bitnami/redis:7",
                "https",
                "registry-1.docker.io",
                "bitnami/redis",
                "7",
            ),
            (
                "docker.io/library/nginx:1",
                "https",
                "registry-1.docker.io",
                "library/nginx",
                "1",
            ),
            (
                "ghcr.io/org/app@sha256:ab",
                "https",
                "ghcr.io",
                "org/app",
                "sha256:ab",
            ),
            (
                "public.ecr.aws/nginx/nginx:1.27",
                "https",
                "public.ecr.aws",
                "nginx/nginx",
                "1.27",
            ),
            (
                "127.0.0.1:5000/team/app:v2",
                "http",
                "127.0.0.1:5000",
                "team/app",
                "v2",
            ),
            ("localhost/app", "http", "localhost", "app", "latest"),
        ];
        for (uri, scheme, host, repository, reference) in cases {
            let got = parse(uri);
            assert_eq!(
                (
                    got.scheme,
                    got.host.as_str(),
                    got.repository.as_str(),
                    got.reference.as_str()
                ),
                (scheme, host, repository, reference),
                "{uri}"
            );
        }
    }

    #[test]
    fn a_bearer_challenge_names_its_token_endpoint() {
        assert_eq!(
            token_url(r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull""#),
            Some("https://auth.docker.io/token?service=registry.docker.io&scope=repository%3Alibrary%2Fnginx%3Apull".into())
        );
        assert_eq!(
            token_url(r#"Bearer realm="https://ghcr.io/token",scope="repository:o/r:pull,push""#),
            Some("https://ghcr.io/token?scope=repository%3Ao%2Fr%3Apull%2Cpush".into())
        );
        assert_eq!(token_url(r#"Basic realm="x""#), None);
    }
}
