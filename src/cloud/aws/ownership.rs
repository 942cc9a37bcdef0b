//! What makes a resource this stack's, read back from AWS: its ownership tags, and what one
//! service's reads found. Below both `observe` (which links what every service found) and the
//! services (which read and adopt), so neither imports the other for it.

use crate::cloud::OpContext;
use crate::model::*;
use std::collections::BTreeMap;

/// What one service's reads found: resources with references still as AWS ids, plus other
/// names AWS uses for them (an ARN besides an id) so references in either form resolve.
pub struct Found {
    stack: String,
    pub items: Vec<ObservedResource>,
    pub aliases: Vec<(String, ResourceId)>,
}

impl Found {
    pub fn new(stack: &str) -> Self {
        Found {
            stack: stack.to_string(),
            items: Vec::new(),
            aliases: Vec::new(),
        }
    }

    /// Adds a resource whose tags say it belongs to this stack and carry its logical id; anything
    /// else is not ours. (Checked here even after tag-filtered reads: emulators ignore filters.)
    pub fn add(
        &mut self,
        tags: &BTreeMap<String, String>,
        physical: Option<&str>,
        make: impl FnOnce(String) -> Resource,
    ) {
        let (Some(id), Some(physical)) = (tags.get(TAG_ID), physical) else {
            return;
        };
        if !owned_by(tags, &self.stack) {
            return;
        }
        let name = tags.get("Name").cloned().unwrap_or_default();
        self.items.push(ObservedResource {
            id: ResourceId::new(id),
            resource: make(name),
            physical_id: physical.to_string(),
        });
    }
    pub fn alias(&mut self, name: impl Into<String>, id: &ResourceId) {
        self.aliases.push((name.into(), id.clone()));
    }
    pub(super) fn extend(&mut self, other: Found) {
        self.items.extend(other.items);
        self.aliases.extend(other.aliases);
    }
}

/// A resource of a parent-scoped kind, owned through its parent: observe's linking gives it its
/// logical id once the parent's is known ([`crate::kinds::KindSpec::scoped_id`]).
pub fn scoped(resource: Resource, physical: &str) -> ObservedResource {
    ObservedResource {
        id: ResourceId::new(physical),
        resource,
        physical_id: physical.to_string(),
    }
}

pub fn tag_map<'a>(
    tags: impl Iterator<Item = (Option<&'a str>, Option<&'a str>)>,
) -> BTreeMap<String, String> {
    tags.filter_map(|(k, v)| Some((k?.to_string(), v.unwrap_or_default().to_string())))
        .collect()
}

/// Whether a tag set says "owned by this stack".
pub fn owned_by(tags: &BTreeMap<String, String>, stack: &str) -> bool {
    tags.get(TAG_STACK).is_some_and(|s| s == stack)
}

/// Whether tags read back from AWS are this operation's: this stack's resource under this
/// logical id (what a create whose answer was lost may adopt).
pub fn is_ours(tags: &BTreeMap<String, String>, ctx: &OpContext<'_>) -> bool {
    owned_by(tags, ctx.stack) && tags.get(TAG_ID).is_some_and(|id| id == ctx.id.as_str())
}
