//! `graph`: the call graph or the resource DAG, as Mermaid or DOT.

use super::*;

pub(super) fn graph_cmd(f: &FileArg, format: GraphFormat, resources: bool) -> Result<ExitCode> {
    let t = load(f)?;
    let text = match (resources, format) {
        (false, GraphFormat::Mermaid) => crate::graph::call_graph_mermaid(&t),
        (false, GraphFormat::Dot) => crate::graph::call_graph_dot(&t),
        (true, fmt) => {
            let d = expand(&t, t.region.as_deref().unwrap_or("us-east-1"));
            if fmt == GraphFormat::Mermaid {
                crate::graph::resources_mermaid(&d)
            } else {
                crate::graph::resources_dot(&d)
            }
        }
    };
    print!("{text}");
    Ok(ExitCode::SUCCESS)
}
