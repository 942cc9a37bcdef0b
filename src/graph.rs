//! The service call graph (who may call whom) and the resource DAG, as Mermaid or Graphviz dot.

use crate::model::Desired;
use crate::topology::Topology;

/// (caller, callee, port) for every declared edge, callers including `load_balancer` and
/// `api_gateway`, callees including databases.
pub fn call_edges(t: &Topology) -> Vec<(String, String, u16)> {
    let mut edges = Vec::new();
    for (callee, spec) in &t.services {
        for caller in &spec.allowed_callers {
            edges.push((caller.clone(), callee.clone(), spec.port));
        }
    }
    for (db, spec) in &t.databases {
        for caller in &spec.allowed_callers {
            edges.push((caller.clone(), db.clone(), spec.engine.port()));
        }
    }
    edges.sort();
    edges
}

fn node_id(name: &str) -> String {
    name.replace(|c: char| !c.is_ascii_alphanumeric(), "_")
}

pub fn call_graph_mermaid(t: &Topology) -> String {
    let mut out = String::from("graph LR\n");
    let mut nodes: Vec<&String> = t.services.keys().collect();
    nodes.sort();
    for n in nodes {
        out.push_str(&format!("  {}[\"{n}\"]\n", node_id(n)));
    }
    for db in t.databases.keys() {
        out.push_str(&format!("  {}[(\"{db}\")]\n", node_id(db)));
    }
    if t.load_balancer.is_some() {
        out.push_str("  internet((internet)) --> load_balancer{{\"load_balancer\"}}\n");
    }
    if t.api_gateway.is_some() {
        out.push_str("  internet((internet)) --> api_gateway{{\"api_gateway\"}}\n");
    }
    for (caller, callee, port) in call_edges(t) {
        out.push_str(&format!(
            "  {} -->|{port}| {}\n",
            node_id(&caller),
            node_id(&callee)
        ));
    }
    out
}

pub fn call_graph_dot(t: &Topology) -> String {
    let mut out = format!("digraph \"{}\" {{\n  rankdir=LR;\n", t.name);
    if t.load_balancer.is_some() {
        out.push_str("  \"internet\" -> \"load_balancer\";\n");
    }
    if t.api_gateway.is_some() {
        out.push_str("  \"internet\" -> \"api_gateway\";\n");
    }
    for name in t.services.keys() {
        out.push_str(&format!("  \"{name}\" [shape=box];\n"));
    }
    for db in t.databases.keys() {
        out.push_str(&format!("  \"{db}\" [shape=cylinder];\n"));
    }
    for (caller, callee, port) in call_edges(t) {
        out.push_str(&format!(
            "  \"{caller}\" -> \"{callee}\" [label=\"{port}\"];\n"
        ));
    }
    out.push_str("}\n");
    out
}

pub fn resources_mermaid(d: &Desired) -> String {
    let mut out = String::from("graph TD\n");
    for (id, r) in &d.resources {
        out.push_str(&format!(
            "  {}[\"{id} ({})\"]\n",
            node_id(id.as_str()),
            r.kind()
        ));
        for dep in r.dependencies() {
            out.push_str(&format!(
                "  {} --> {}\n",
                node_id(dep.as_str()),
                node_id(id.as_str())
            ));
        }
    }
    out
}

pub fn resources_dot(d: &Desired) -> String {
    let mut out = String::from("digraph resources {\n");
    for (id, r) in &d.resources {
        out.push_str(&format!("  \"{id}\" [label=\"{id}\\n{}\"];\n", r.kind()));
        for dep in r.dependencies() {
            out.push_str(&format!("  \"{dep}\" -> \"{id}\";\n"));
        }
    }
    out.push_str("}\n");
    out
}
