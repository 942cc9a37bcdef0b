//! TEMPORARY stub until the real parser lands.
pub mod types;
use std::path::Path;
pub use types::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Severity {
    Error,
    Warning,
}
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
    pub hint: String,
}
impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}:{}: error: {}\n  hint: {}",
            self.file, self.line, self.column, self.message, self.hint
        )
    }
}
#[derive(Debug, thiserror::Error)]
pub struct Diagnostics(pub Vec<Diagnostic>);
impl std::fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for d in &self.0 {
            writeln!(f, "{d}")?;
        }
        Ok(())
    }
}
pub struct Loaded {
    pub topology: Topology,
    pub warnings: Vec<Diagnostic>,
}
pub fn load(path: &Path) -> Result<Loaded, Diagnostics> {
    let src = std::fs::read_to_string(path).map_err(|e| {
        Diagnostics(vec![Diagnostic {
            severity: Severity::Error,
            file: path.display().to_string(),
            line: 0,
            column: 0,
            message: e.to_string(),
            hint: String::new(),
        }])
    })?;
    parse_str(&src, &path.display().to_string())
}
pub fn parse_str(src: &str, file: &str) -> Result<Loaded, Diagnostics> {
    let t: Topology = serde_yaml_ng::from_str(src).map_err(|e| {
        Diagnostics(vec![Diagnostic {
            severity: Severity::Error,
            file: file.into(),
            line: e.location().map(|l| l.line()).unwrap_or(0),
            column: e.location().map(|l| l.column()).unwrap_or(0),
            message: e.to_string(),
            hint: String::new(),
        }])
    })?;
    Ok(Loaded {
        topology: t,
        warnings: vec![],
    })
}
pub fn derived_target_group_name(stack: &str, service: &str) -> String {
    let n = format!("{stack}-{service}");
    n.chars().take(32).collect()
}
pub fn env_var_for(service: &str) -> String {
    format!("{}_URL", service.to_uppercase().replace('-', "_"))
}
pub fn availability_zone_names(t: &Topology, region: &str) -> Vec<String> {
    match &t.network.availability_zones {
        AvailabilityZones::Count(n) => (0..*n)
            .map(|i| format!("{region}{}", (b'a' + i) as char))
            .collect(),
        AvailabilityZones::Names(v) => v.clone(),
    }
}
pub fn subnet_cidrs(t: &Topology) -> (Vec<String>, Vec<String>) {
    let n = match &t.network.availability_zones {
        AvailabilityZones::Count(n) => *n as usize,
        AvailabilityZones::Names(v) => v.len(),
    };
    let base: ipnet::Ipv4Net = t.network.cidr.parse().unwrap_or_default();
    let o = base.network().octets();
    (
        (1..=n)
            .map(|k| format!("{}.{}.{}.0/24", o[0], o[1], k))
            .collect(),
        (11..11 + n)
            .map(|k| format!("{}.{}.{}.0/24", o[0], o[1], k))
            .collect(),
    )
}
