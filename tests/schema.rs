//! The JSON Schema editors use (`ecsform schema`, saved as `topology.schema.json`): in sync with
//! the types, and judging files as the parser does — every valid file and example accepted,
//! unknown keys and wrong enums refused (checked with Python's `jsonschema`, as an editor's YAML
//! language server would).

use std::path::Path;
use std::process::Command;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

#[test]
fn the_committed_schema_is_what_ecsform_schema_prints() {
    let committed = std::fs::read_to_string(Path::new(ROOT).join("topology.schema.json"))
        .expect("topology.schema.json");
    let printed = assert_cmd::Command::cargo_bin("ecsform")
        .expect("binary")
        .arg("schema")
        .output()
        .expect("ecsform schema");
    assert!(printed.status.success());
    assert_eq!(
        committed,
        String::from_utf8_lossy(&printed.stdout),
        "topology.schema.json is out of date: run `cargo run -- schema > topology.schema.json`"
    );
}

#[test]
fn the_schema_names_every_top_level_key_and_forbids_others() {
    let schema: serde_json::Value =
        serde_json::from_str(&ecsform::topology::json_schema()).expect("json");
    let keys: Vec<&str> = schema["properties"]
        .as_object()
        .expect("properties")
        .keys()
        .map(String::as_str)
        .collect();
    for key in [
        "name",
        "region",
        "network",
        "discovery",
        "load_balancer",
        "api_gateway",
        "repositories",
        "databases",
        "alarms",
        "services",
    ] {
        assert!(keys.contains(&key), "{key} missing from {keys:?}");
    }
    assert_eq!(schema["additionalProperties"], false);
}

#[test]
fn editors_accept_the_valid_files_and_refuse_unknown_keys() {
    let mut args = vec![
        "+topology.example.yaml".to_string(),
        "+topology.school.yaml".into(),
        "+topology.production.yaml".into(),
    ];
    let corpus = |dir: &str| -> Vec<String> {
        let mut files: Vec<String> =
            std::fs::read_dir(Path::new(ROOT).join("tests/corpus").join(dir))
                .expect("corpus")
                .filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
                .map(|p| p.strip_prefix(ROOT).expect("in repo").display().to_string())
                .collect();
        files.sort();
        files
    };
    args.extend(corpus("valid").into_iter().map(|f| format!("+{f}")));
    // Those the parser refuses for their shape (an unknown key, a wrong enum value): the
    // schema refuses them too. Rules across fields are left to `ecsform validate`.
    let shape: Vec<String> = corpus("invalid")
        .into_iter()
        .filter(|f| {
            (f.contains("_unknown_") && f.ends_with("_key.yaml"))
                || f.contains("protocol_lowercase")
        })
        .collect();
    assert!(shape.len() >= 8, "{shape:?}");
    args.extend(shape.into_iter().map(|f| format!("-{f}")));
    let python = std::env::var("ECSFORM_PYTHON").unwrap_or_else(|_| "python3".into());
    let out = Command::new(python)
        .current_dir(ROOT)
        .arg("tools/check_schema.py")
        .arg("topology.schema.json")
        .args(&args)
        .output()
        .expect("python3 tools/check_schema.py");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
