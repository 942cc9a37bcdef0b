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

/// A Mermaid node id for a name of one family (`svc`, `db`, `front`): the family keeps a
/// service called `api-gateway` apart from the `api_gateway` front door. Service and database
/// names are DNS labels (`[a-z][a-z0-9-]*`, checked by validate), so spelling `-` as `_` keeps
/// two names of a family apart.
fn node_id(family: &str, name: &str) -> String {
    format!("{family}_{}", name.replace('-', "_"))
}

/// A Mermaid node id for a logical id (`sg.svc.api-gateway.from.sg.alb`, `sg.alb.80.from.::/0`):
/// letters and digits kept, `.` spelled `__` and every other character `_<hex code>_`, so the
/// id reads back to one logical id only.
fn resource_node_id(id: &str) -> String {
    let mut node = String::from("r_");
    for c in id.chars() {
        match c {
            c if c.is_ascii_alphanumeric() => node.push(c),
            '.' => node.push_str("__"),
            c => node.push_str(&format!("_{:x}_", u32::from(c))),
        }
    }
    node
}

/// The node id of a caller or callee of [`call_edges`]: a front door, a database or a service.
fn party_id(t: &Topology, name: &str) -> String {
    match name {
        "load_balancer" | "api_gateway" => node_id("front", name),
        db if t.databases.contains_key(db) => node_id("db", db),
        service => node_id("svc", service),
    }
}

pub fn call_graph_mermaid(t: &Topology) -> String {
    let mut out = String::from("graph LR\n");
    let mut nodes: Vec<&String> = t.services.keys().collect();
    nodes.sort();
    for n in nodes {
        out.push_str(&format!("  {}[\"{n}\"]\n", node_id("svc", n)));
    }
    for db in t.databases.keys() {
        out.push_str(&format!("  {}[(\"{db}\")]\n", node_id("db", db)));
    }
    for (front, present) in [
        ("load_balancer", t.load_balancer.is_some()),
        ("api_gateway", t.api_gateway.is_some()),
    ] {
        if present {
            out.push_str(&format!(
                "  internet((internet)) --> {}{{{{\"{front}\"}}}}\n",
                node_id("front", front)
            ));
        }
    }
    for (caller, callee, port) in call_edges(t) {
        out.push_str(&format!(
            "  {} -->|{port}| {}\n",
            party_id(t, &caller),
            party_id(t, &callee)
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
    let node = resource_node_id;
    for (id, r) in &d.resources {
        out.push_str(&format!(
            "  {}[\"{id} ({})\"]\n",
            node(id.as_str()),
            r.kind()
        ));
        for dep in r.dependencies() {
            out.push_str(&format!(
                "  {} --> {}\n",
                node(dep.as_str()),
                node(id.as_str())
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

#[cfg(test)]
mod tests {
    use super::resource_node_id;

    #[test]
    fn resource_node_ids_read_back_to_one_logical_id() {
        let ids = [
            "sg.alb.80.from.0.0.0.0/0",
            "sg.alb.80.from.::/0",
            "a.2d.",
            "a-",
            "a_",
            "a..b",
            "api/products/{product_id}",
        ];
        let nodes: std::collections::BTreeSet<String> =
            ids.iter().map(|id| resource_node_id(id)).collect();
        assert_eq!(nodes.len(), ids.len(), "{nodes:?}");
        assert_eq!(
            resource_node_id("sg.svc.api-gateway"),
            "r_sg__svc__api_2d_gateway"
        );
    }
}
