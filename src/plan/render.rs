//! Plans for people (Terraform-like text) and for machines (JSON).

use super::document::{EdgeChange, ReachabilityChange, Summary};
use super::{Action, Plan, Step};
use crate::model::{Kind, Ref, Resource, RuleSource};
use serde_json::Value;
use std::fmt::Write;

pub fn symbol(action: Action) -> &'static str {
    match action {
        Action::Create => "+",
        Action::Update => "~",
        Action::Replace => "-/+",
        Action::Delete => "-",
    }
}

pub fn render_text(plan: &Plan) -> String {
    let mut out = String::new();
    if plan.is_empty() {
        let _ = writeln!(
            out,
            "No changes. Stack `{}` in {} matches the topology.",
            plan.stack, plan.region
        );
        return out;
    }
    let _ = writeln!(out, "Stack `{}` in {}:\n", plan.stack, plan.region);
    let (drift, file): (Vec<&Step>, Vec<&Step>) = plan.steps.iter().partition(|s| s.drift);
    if !drift.is_empty() {
        let _ = writeln!(
            out,
            "Changed outside ecsform (AWS differs from the last apply):\n"
        );
        for step in drift {
            render_step(&mut out, step);
        }
        if !file.is_empty() {
            let _ = writeln!(out, "\nChanges of the file:\n");
        }
    }
    for step in file {
        render_step(&mut out, step);
    }
    let _ = writeln!(out, "{}", summary_line(plan));
    let reach = reachability_changes(plan);
    if !reach.is_empty() {
        let _ = writeln!(out, "\nReachability changes:");
        for line in reach {
            let _ = writeln!(out, "  {line}");
        }
    }
    out
}

pub fn summary_counts(plan: &Plan) -> Summary {
    Summary {
        add: plan.count(Action::Create),
        change: plan.count(Action::Update),
        replace: plan.count(Action::Replace),
        destroy: plan.count(Action::Delete),
        drift: plan.steps.iter().filter(|s| s.drift).count(),
        refused: plan.steps.iter().filter(|s| s.refusal().is_some()).count(),
    }
}

pub fn summary_line(plan: &Plan) -> String {
    format!(
        "Plan: {} to add, {} to change, {} to replace, {} to destroy.",
        plan.count(Action::Create),
        plan.count(Action::Update),
        plan.count(Action::Replace),
        plan.count(Action::Delete)
    )
}

fn render_step(out: &mut String, step: &Step) {
    let _ = write!(
        out,
        "{:>3} {} ({})",
        symbol(step.action),
        step.id,
        step.kind
    );
    if let Some(p) = &step.physical_id {
        let _ = write!(out, " [{p}]");
    }
    let _ = writeln!(out);
    for reason in &step.reasons {
        let _ = writeln!(out, "      # {reason}");
    }
    if let Some(r) = &step.replacement {
        let _ = writeln!(out, "      # {}", r.describe());
    }
    match step.action {
        Action::Create => {
            if let Some(after) = &step.after {
                for (field, value) in fields(after) {
                    let _ = writeln!(out, "      {field} = {}", compact(&value));
                }
            }
        }
        Action::Update | Action::Replace => {
            for c in &step.changes {
                let mark = if c.forces_replacement {
                    "  # forces replacement"
                } else {
                    ""
                };
                if let Some(lines) = entry_changes(&c.before, &c.after) {
                    let _ = writeln!(out, "      {}:{mark}", c.field);
                    for line in lines {
                        let _ = writeln!(out, "          {line}");
                    }
                    continue;
                }
                let _ = writeln!(
                    out,
                    "      {}: {} → {}{mark}",
                    c.field,
                    compact(&c.before),
                    compact(&c.after)
                );
            }
        }
        Action::Delete => {}
    }
}

fn fields(r: &Resource) -> Vec<(String, Value)> {
    match serde_json::to_value(r) {
        // A field left unset (null) says nothing on a create.
        Ok(Value::Object(map)) => map
            .into_iter()
            .filter(|(k, v)| k != "kind" && !v.is_null())
            .collect(),
        _ => vec![],
    }
}

/// A map (environment, tags) or a JSON policy too long for one line, entry by entry: `+ KEY =
/// value`, `- KEY = value`, `~ KEY: old → new`; nested policies by path
/// (`Statement[0].Action[1]`). `None` for what reads well on one line.
fn entry_changes(before: &Value, after: &Value) -> Option<Vec<String>> {
    const ONE_LINE: usize = 60;
    let as_tree = |v: &Value| -> Option<Value> {
        match v {
            Value::Object(map)
                if map.len() == 1 && (map.contains_key("id") || map.contains_key("unowned")) =>
            {
                None
            }
            Value::Object(_) => Some(v.clone()),
            Value::String(text) => serde_json::from_str::<Value>(text)
                .ok()
                .filter(Value::is_object),
            Value::Null => Some(Value::Object(Default::default())),
            _ => None,
        }
    };
    let (b, a) = (as_tree(before)?, as_tree(after)?);
    if compact(before).len() + compact(after).len() <= 2 * ONE_LINE {
        return None;
    }
    let (mut old, mut new) = (
        std::collections::BTreeMap::new(),
        std::collections::BTreeMap::new(),
    );
    flatten(&b, String::new(), &mut old);
    flatten(&a, String::new(), &mut new);
    let mut lines = Vec::new();
    for (k, v) in &old {
        match new.get(k) {
            None => lines.push(format!("- {k} = {v}")),
            Some(n) if n != v => lines.push(format!("~ {k}: {v} → {n}")),
            Some(_) => {}
        }
    }
    for (k, v) in &new {
        if !old.contains_key(k) {
            lines.push(format!("+ {k} = {v}"));
        }
    }
    lines.sort_by(|x, y| x[2..].cmp(&y[2..]));
    Some(lines)
}

fn flatten(v: &Value, path: String, out: &mut std::collections::BTreeMap<String, String>) {
    match v {
        Value::Object(map)
            if !(map.len() == 1 && (map.contains_key("id") || map.contains_key("unowned"))) =>
        {
            for (k, item) in map {
                let key = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                flatten(item, key, out);
            }
        }
        Value::Array(items) if items.iter().any(|i| i.is_object() || i.is_array()) => {
            for (i, item) in items.iter().enumerate() {
                flatten(item, format!("{path}[{i}]"), out);
            }
        }
        other => {
            out.insert(path, compact(other));
        }
    }
}

/// Refs print as their logical id; everything else as compact JSON.
fn compact(v: &Value) -> String {
    match v {
        Value::Object(map) if map.len() == 1 && map.contains_key("id") => compact(&map["id"]),
        Value::Object(map) if map.len() == 1 && map.contains_key("unowned") => {
            format!("{} (unowned)", compact(&map["unowned"]))
        }
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(compact).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(map) => format!(
            "{{{}}}",
            map.iter()
                .map(|(k, v)| format!("{k}: {}", compact(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => other.to_string(),
    }
}

/// Who can open connections to whom, before and after, in words.
pub fn reachability_changes(plan: &Plan) -> Vec<String> {
    reachability(plan).into_iter().map(|c| c.text).collect()
}

/// Who can open connections to whom, before and after: the paths that open and close.
pub fn reachability(plan: &Plan) -> Vec<ReachabilityChange> {
    let mut changes = Vec::new();
    let mut push = |change: EdgeChange, e: Edge| {
        let text = match change {
            EdgeChange::Added => format!("+ {} now allowed", e.text),
            EdgeChange::Removed => format!("- {} no longer allowed", e.text),
        };
        changes.push(ReachabilityChange {
            change,
            from: e.from,
            to: e.to,
            port: e.port,
            text,
        });
    };
    for step in plan
        .steps
        .iter()
        .filter(|s| matches!(s.kind, Kind::IngressRule | Kind::ApiMethod))
    {
        let before = step.before.as_ref().and_then(edge);
        let after = step.after.as_ref().and_then(edge);
        match (before, after) {
            (None, Some(a)) => push(EdgeChange::Added, a),
            (Some(b), None) => push(EdgeChange::Removed, b),
            (Some(b), Some(a)) if a.text != b.text => {
                push(EdgeChange::Removed, b);
                push(EdgeChange::Added, a);
            }
            _ => {}
        }
    }
    changes
}

/// One path: `from` may open connections to `to` on `port`.
struct Edge {
    from: String,
    to: String,
    port: u16,
    text: String,
}

fn edge(r: &Resource) -> Option<Edge> {
    if let Resource::ApiMethod(m) = r {
        // What the REST API exposes to the internet, and where it sends it.
        let target = match &m.load_balancer {
            Ref::Id(id) => id.to_string(),
            Ref::Unowned(host) => format!("{host} (unowned)"),
        };
        return Some(Edge {
            text: format!(
                "internet → REST API {} {} → {target}:{}",
                m.http_method, m.path, m.port
            ),
            from: "internet".into(),
            to: target,
            port: m.port,
        });
    }
    let Resource::IngressRule(rule) = r else {
        return None;
    };
    let from = match &rule.source {
        RuleSource::Cidr(c) => c.clone(),
        RuleSource::Group(g) => party(g),
    };
    let to = party(&rule.group);
    Some(Edge {
        text: format!("{from} → {to}:{}", rule.port),
        from,
        to,
        port: rule.port,
    })
}

/// `sg.svc.user-service` → `user-service`, `sg.alb` → `load_balancer`.
fn party(group: &Ref) -> String {
    match group {
        Ref::Id(id) => crate::desired::ids::group_party(id.as_str())
            .unwrap_or(id.as_str())
            .to_string(),
        Ref::Unowned(p) => format!("{p} (unowned group)"),
    }
}

pub fn render_json(plan: &Plan) -> String {
    serde_json::to_string_pretty(plan).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

#[cfg(test)]
mod entry_tests {
    use super::entry_changes;
    use serde_json::json;

    #[test]
    fn a_policy_change_is_shown_by_path_not_as_one_line() {
        let before = json!(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["secretsmanager:GetSecretValue"],"Resource":["arn:aws:secretsmanager:us-east-1:1:secret:a"]}]}"#
        );
        let after = json!(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["secretsmanager:GetSecretValue"],"Resource":["arn:aws:secretsmanager:us-east-1:1:secret:b"]}]}"#
        );
        let lines = entry_changes(&before, &after).expect("expanded");
        assert_eq!(
            lines,
            vec![
                r#"~ Statement[0].Resource: ["arn:aws:secretsmanager:us-east-1:1:secret:a"] → ["arn:aws:secretsmanager:us-east-1:1:secret:b"]"#
            ]
        );
    }

    #[test]
    fn short_maps_and_plain_values_stay_on_one_line() {
        assert!(entry_changes(&json!({"A": "1"}), &json!({"A": "2"})).is_none());
        assert!(entry_changes(&json!(3), &json!(4)).is_none());
        assert!(entry_changes(&json!({"id": "sg.x"}), &json!({"id": "sg.y"})).is_none());
    }
}
