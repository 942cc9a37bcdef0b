//! `audit`: who can open connections to whom, as the security groups enforce it — from the
//! groups attached to each service, load balancer, VPC link and database and every inbound
//! rule of those groups — compared with what the topology declares. The same computation runs
//! on both sides: on the desired resources (the call graph made rules) and on what AWS has
//! (rules and groups added by hand included), so any difference is a path someone added or
//! removed outside the file. Pure: the AWS reads happen before, in the command.

use crate::model::{Kind, Ref, Resource, ResourceId, RuleSource};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// One path: `from` may open TCP connections to `to` on `port` (`None`: a range or every port).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Path {
    pub from: String,
    pub to: String,
    pub port: Option<u16>,
}

impl Path {
    pub fn text(&self) -> String {
        match self.port {
            Some(p) => format!("{} → {}:{p}", self.from, self.to),
            None => format!("{} → {}:any port", self.from, self.to),
        }
    }
}

/// Something that has security groups: its name and the groups attached to it, as `Ref`s
/// rendered to strings (a logical id for ours, the AWS id for any other).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Party {
    pub name: String,
    pub groups: BTreeSet<String>,
}

/// One inbound rule: on `group`, from `source`, to `port`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub group: String,
    pub port: Option<u16>,
    pub source: Source,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Group(String),
    Cidr(String),
}

fn group_key(r: &Ref) -> String {
    match r {
        Ref::Id(id) => id.to_string(),
        Ref::Unowned(p) => p.clone(),
    }
}

/// The parties and rules among `resources` (desired or observed, with their logical ids).
pub fn facts<'a>(
    resources: impl Iterator<Item = (&'a ResourceId, &'a Resource)>,
) -> (Vec<Party>, Vec<Rule>) {
    let mut parties = Vec::new();
    let mut rules = Vec::new();
    for (id, r) in resources {
        let groups = match r {
            Resource::EcsService(s) => &s.security_groups,
            Resource::LoadBalancer(l) => &l.security_groups,
            Resource::DbInstance(d) => &d.security_groups,
            Resource::VpcLinkV2(v) => &v.security_groups,
            Resource::IngressRule(rule) => {
                rules.push(Rule {
                    group: group_key(&rule.group),
                    // The observed model reads a range or "all traffic" as port 0.
                    port: (rule.port != 0).then_some(rule.port),
                    source: match &rule.source {
                        RuleSource::Group(g) => Source::Group(group_key(g)),
                        RuleSource::Cidr(c) => Source::Cidr(c.clone()),
                    },
                });
                continue;
            }
            _ => continue,
        };
        parties.push(Party {
            name: party_name(id, r.kind()),
            groups: groups.iter().map(group_key).collect(),
        });
    }
    (parties, rules)
}

/// `service.web` → `web`, `db.orders` → `orders (database)`; load balancers and links by id.
fn party_name(id: &ResourceId, kind: Kind) -> String {
    let id = id.as_str();
    match kind {
        Kind::EcsService => id.strip_prefix("service.").unwrap_or(id).to_string(),
        Kind::DbInstance => format!("{} (database)", id.strip_prefix("db.").unwrap_or(id)),
        Kind::LoadBalancer => format!("{id} (load balancer)"),
        Kind::VpcLinkV2 => format!("{id} (VPC link)"),
        _ => id.to_string(),
    }
}

/// Every path the rules open between the parties. A rule whose source group is attached to no
/// party still opens a path: from that group, named as such.
pub fn paths(parties: &[Party], rules: &[Rule]) -> BTreeSet<Path> {
    let mut members: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for p in parties {
        for g in &p.groups {
            members.entry(g.as_str()).or_default().push(p.name.as_str());
        }
    }
    let mut out = BTreeSet::new();
    for rule in rules {
        let Some(targets) = members.get(rule.group.as_str()) else {
            continue; // a group attached to nothing admits no one to anything
        };
        let sources: Vec<String> = match &rule.source {
            Source::Cidr(c) => vec![c.clone()],
            Source::Group(g) => match members.get(g.as_str()) {
                Some(from) => from.iter().map(|s| s.to_string()).collect(),
                None => vec![format!("group {g} (attached to nothing of the stack)")],
            },
        };
        for to in targets {
            for from in &sources {
                if from != to {
                    out.insert(Path {
                        from: from.clone(),
                        to: to.to_string(),
                        port: rule.port,
                    });
                }
            }
        }
    }
    out
}

/// The live paths compared with the declared ones.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Audit {
    pub stack: String,
    /// Paths AWS allows that the topology does not declare.
    pub extra: Vec<Path>,
    /// Paths the topology declares that AWS does not allow.
    pub missing: Vec<Path>,
    /// Paths both have.
    pub declared: Vec<Path>,
}

impl Audit {
    pub fn new(stack: &str, declared: &BTreeSet<Path>, live: &BTreeSet<Path>) -> Audit {
        Audit {
            stack: stack.to_string(),
            extra: live.difference(declared).cloned().collect(),
            missing: declared.difference(live).cloned().collect(),
            declared: declared.intersection(live).cloned().collect(),
        }
    }

    pub fn is_clean(&self) -> bool {
        self.extra.is_empty() && self.missing.is_empty()
    }

    pub fn text(&self) -> String {
        let mut out = format!(
            "Reachability of stack `{}` as AWS enforces it, against the topology:\n\n",
            self.stack
        );
        for p in &self.extra {
            let open = if p.from == "0.0.0.0/0" || p.from == "::/0" {
                "  (open to the internet)"
            } else {
                ""
            };
            out.push_str(&format!("  EXTRA    {}{open}\n", p.text()));
        }
        for p in &self.missing {
            out.push_str(&format!("  MISSING  {}\n", p.text()));
        }
        for p in &self.declared {
            out.push_str(&format!("  ok       {}\n", p.text()));
        }
        out.push_str(&if self.is_clean() {
            format!(
                "\nAll {} paths are as declared, and there are no others.\n",
                self.declared.len()
            )
        } else {
            format!(
                "\n{} extra and {} missing path(s); `ecsform apply` removes the extra rules of the stack's groups and adds the missing ones (a group attached by hand must be detached by hand).\n",
                self.extra.len(),
                self.missing.len()
            )
        });
        out
    }

    pub fn mermaid(&self) -> String {
        let mut names: BTreeSet<&str> = BTreeSet::new();
        for p in self.extra.iter().chain(&self.missing).chain(&self.declared) {
            names.insert(&p.from);
            names.insert(&p.to);
        }
        let node: BTreeMap<&str, String> = names
            .iter()
            .enumerate()
            .map(|(i, n)| (*n, format!("n{i}")))
            .collect();
        let mut out = String::from("graph LR\n");
        for (name, id) in &node {
            out.push_str(&format!("  {id}[\"{}\"]\n", name.replace('"', "'")));
        }
        let port = |p: &Path| p.port.map_or("any port".to_string(), |p| p.to_string());
        let mut red = Vec::new();
        let groups = [
            (&self.declared, "-->", ""),
            (&self.extra, "-->", " EXTRA"),
            (&self.missing, "-.->", " MISSING"),
        ];
        let mut edge = 0;
        for (paths, arrow, mark) in groups {
            for p in paths {
                out.push_str(&format!(
                    "  {} {arrow}|\"{}{mark}\"| {}\n",
                    node[p.from.as_str()],
                    port(p),
                    node[p.to.as_str()]
                ));
                if !mark.is_empty() {
                    red.push(edge);
                }
                edge += 1;
            }
        }
        if !red.is_empty() {
            let list: Vec<String> = red.iter().map(usize::to_string).collect();
            out.push_str(&format!(
                "  linkStyle {} stroke:#d00,stroke-width:2px\n",
                list.join(",")
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn party(name: &str, groups: &[&str]) -> Party {
        Party {
            name: name.into(),
            groups: groups.iter().map(|g| g.to_string()).collect(),
        }
    }
    fn from_group(group: &str, port: u16, source: &str) -> Rule {
        Rule {
            group: group.into(),
            port: Some(port),
            source: Source::Group(source.into()),
        }
    }
    fn path(from: &str, to: &str, port: Option<u16>) -> Path {
        Path {
            from: from.into(),
            to: to.into(),
            port,
        }
    }

    #[test]
    fn a_rule_opens_a_path_from_every_member_of_its_source_group() {
        let parties = [
            party("gateway", &["sg.gateway"]),
            party("users", &["sg.users"]),
            party("alb", &["sg.alb"]),
        ];
        let rules = [
            from_group("sg.users", 3001, "sg.gateway"),
            from_group("sg.gateway", 3000, "sg.alb"),
            Rule {
                group: "sg.alb".into(),
                port: Some(80),
                source: Source::Cidr("0.0.0.0/0".into()),
            },
        ];
        assert_eq!(
            paths(&parties, &rules),
            BTreeSet::from([
                path("gateway", "users", Some(3001)),
                path("alb", "gateway", Some(3000)),
                path("0.0.0.0/0", "alb", Some(80)),
            ])
        );
    }

    #[test]
    fn an_extra_group_attached_by_hand_opens_what_its_members_may_reach() {
        let declared = paths(
            &[
                party("alb", &["sg.alb"]),
                party("orders", &["sg.orders"]),
                party("stock", &["sg.stock"]),
            ],
            &[from_group("sg.stock", 3002, "sg.orders")],
        );
        // The ALB got the orders group attached by hand: it may now reach stock too.
        let live = paths(
            &[
                party("alb", &["sg.alb", "sg.orders"]),
                party("orders", &["sg.orders"]),
                party("stock", &["sg.stock"]),
            ],
            &[from_group("sg.stock", 3002, "sg.orders")],
        );
        let audit = Audit::new("shop", &declared, &live);
        assert_eq!(audit.extra, vec![path("alb", "stock", Some(3002))]);
        assert!(audit.missing.is_empty());
        assert!(!audit.is_clean());
        assert!(
            audit.text().contains("EXTRA    alb → stock:3002"),
            "{}",
            audit.text()
        );
        assert!(
            audit.mermaid().contains("3002 EXTRA"),
            "{}",
            audit.mermaid()
        );
    }

    #[test]
    fn a_source_group_of_nobody_is_named_and_a_removed_rule_is_missing() {
        let parties = [
            party("users", &["sg.users"]),
            party("gateway", &["sg.gateway"]),
        ];
        let declared = paths(&parties, &[from_group("sg.users", 3001, "sg.gateway")]);
        let live = paths(&parties, &[from_group("sg.users", 3001, "sg-0abc")]);
        let audit = Audit::new("shop", &declared, &live);
        assert_eq!(audit.missing, vec![path("gateway", "users", Some(3001))]);
        assert_eq!(audit.extra.len(), 1);
        assert!(audit.extra[0].from.contains("sg-0abc"), "{:?}", audit.extra);
        let clean = Audit::new("shop", &declared, &declared);
        assert!(clean.is_clean() && clean.text().contains("All 1 paths are as declared"));
    }
}
