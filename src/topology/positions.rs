//! Maps YAML paths (`services.api.port`, `load_balancer.routes[0].service`) to source positions.
//!
//! serde_yaml_ng reports positions only for its own errors; the semantic checks need the line of
//! any key or value, so this index is built from yaml-rust2's event stream. Building is
//! iterative and capped (depth, event count) so hostile input cannot make it hang or overflow.

use super::diagnostic::Pos;
use std::collections::HashMap;
use yaml_rust2::parser::Parser;
use yaml_rust2::Event;

/// Deeper nesting is never meaningful in a topology file (serde already caps at 128).
const MAX_DEPTH: usize = 64;
/// Far above any real topology; stops pathological inputs early.
const MAX_EVENTS: usize = 1_000_000;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Segment {
    Key(String),
    Index(usize),
}

impl From<&str> for Segment {
    fn from(key: &str) -> Self {
        Segment::Key(key.to_string())
    }
}

impl From<&String> for Segment {
    fn from(key: &String) -> Self {
        Segment::Key(key.clone())
    }
}

impl From<usize> for Segment {
    fn from(index: usize) -> Self {
        Segment::Index(index)
    }
}

/// Builds a path (an array; `.to_vec()` to extend it): `ypath!("services", name, "port")`, `ypath!("load_balancer", "routes", 3)`.
macro_rules! ypath {
    ($($segment:expr),* $(,)?) => {
        [$($crate::topology::positions::Segment::from($segment)),*]
    };
}
pub(crate) use ypath;

/// `path` extended by one key: `child(&ypath!("services", name), "port")`.
pub fn child(path: &[Segment], key: &str) -> Vec<Segment> {
    let mut extended = path.to_vec();
    extended.push(Segment::from(key));
    extended
}

/// Renders a path the way users write it: `load_balancer.routes[0].service`.
pub fn display_path(path: &[Segment]) -> String {
    let mut out = String::new();
    for segment in path {
        match segment {
            Segment::Key(key) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            Segment::Index(index) => out.push_str(&format!("[{index}]")),
        }
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    key: Option<Pos>,
    value: Pos,
}

/// A key that appeared twice in one mapping (serde keeps only the last for maps).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuplicateKey {
    pub path: Vec<Segment>,
    pub first: Pos,
    pub second: Pos,
}

#[derive(Debug, Clone, Default)]
pub struct PositionIndex {
    entries: HashMap<Vec<Segment>, Entry>,
    duplicates: Vec<DuplicateKey>,
}

impl PositionIndex {
    /// Indexes the first YAML document of `src`. Never fails: on a syntax error or a cap the
    /// index is partial and lookups fall back to the nearest known ancestor.
    pub fn build(src: &str) -> Self {
        let mut builder = Builder::default();
        let mut parser = Parser::new_from_str(src);
        for _ in 0..MAX_EVENTS {
            let Ok((event, marker)) = parser.next_token() else {
                break;
            };
            // yaml-rust2 lines are 1-based, columns 0-based.
            let at = Pos::new(marker.line(), marker.col() + 1);
            if !builder.accept(event, at) {
                break;
            }
        }
        builder.index
    }

    /// An empty index (every lookup answers "unknown"); for callers without a source.
    pub fn empty() -> Self {
        Self::default()
    }

    /// Position of the value at `path`, else of the nearest ancestor that is in the file.
    pub fn value(&self, path: &[Segment]) -> Pos {
        match self.entries.get(path) {
            Some(entry) => entry.value,
            None => self.nearest_ancestor(path),
        }
    }

    /// Position of the key at `path` (for sequence items: the item), else the nearest ancestor.
    pub fn key(&self, path: &[Segment]) -> Pos {
        match self.entries.get(path) {
            Some(entry) => entry.key.unwrap_or(entry.value),
            None => self.nearest_ancestor(path),
        }
    }

    /// Whether `path` was written in the file (as opposed to filled in by a serde default).
    pub fn contains(&self, path: &[Segment]) -> bool {
        self.entries.contains_key(path)
    }

    pub fn duplicates(&self) -> &[DuplicateKey] {
        &self.duplicates
    }

    fn nearest_ancestor(&self, path: &[Segment]) -> Pos {
        (0..path.len())
            .rev()
            .find_map(|len| self.entries.get(&path[..len]))
            .map(|entry| entry.key.unwrap_or(entry.value))
            .unwrap_or(Pos::UNKNOWN)
    }
}

enum Frame {
    Mapping {
        path: Vec<Segment>,
        /// The key just read, waiting for its value.
        pending_key: Option<(String, Pos)>,
        seen: HashMap<String, Pos>,
    },
    Sequence {
        path: Vec<Segment>,
        next_index: usize,
    },
}

#[derive(Default)]
struct Builder {
    index: PositionIndex,
    stack: Vec<Frame>,
}

/// Placeholder key for non-scalar keys (`? [a, b] : c`); serde rejects them for our types anyway.
const COMPLEX_KEY: &str = "<complex key>";

impl Builder {
    /// Feeds one event; returns false when indexing should stop.
    fn accept(&mut self, event: Event, at: Pos) -> bool {
        match event {
            // Only the first document matters (serde rejects a second one).
            Event::StreamEnd | Event::DocumentEnd => false,
            Event::Scalar(text, ..) => {
                self.place(Some(text), at);
                true
            }
            Event::Alias(_) => {
                self.place(None, at);
                true
            }
            Event::MappingStart(..) => {
                let path = self.place(None, at);
                self.open(path, true)
            }
            Event::SequenceStart(..) => {
                let path = self.place(None, at);
                self.open(path, false)
            }
            Event::MappingEnd | Event::SequenceEnd => {
                self.stack.pop();
                true
            }
            Event::Nothing | Event::StreamStart | Event::DocumentStart => true,
        }
    }

    /// Puts a node into the current slot (a mapping key, a mapping value, a sequence item or
    /// the root) and returns the path of that slot.
    fn place(&mut self, scalar: Option<String>, at: Pos) -> Vec<Segment> {
        let Some(frame) = self.stack.last_mut() else {
            self.index.entries.insert(
                Vec::new(),
                Entry {
                    key: None,
                    value: at,
                },
            );
            return Vec::new();
        };
        match frame {
            Frame::Mapping {
                path,
                pending_key,
                seen,
            } => {
                let mut child = path.clone();
                match pending_key.take() {
                    None => {
                        let key = scalar.unwrap_or_else(|| COMPLEX_KEY.to_string());
                        record_key(&mut self.index.duplicates, path, seen, &key, at);
                        child.push(Segment::Key(key.clone()));
                        *pending_key = Some((key, at));
                    }
                    Some((key, key_at)) => {
                        child.push(Segment::Key(key));
                        let entry = Entry {
                            key: Some(key_at),
                            value: at,
                        };
                        // A duplicate key keeps the first position; it is reported separately.
                        self.index.entries.entry(child.clone()).or_insert(entry);
                    }
                }
                child
            }
            Frame::Sequence { path, next_index } => {
                let mut child = path.clone();
                child.push(Segment::Index(*next_index));
                *next_index += 1;
                let entry = Entry {
                    key: None,
                    value: at,
                };
                self.index.entries.insert(child.clone(), entry);
                child
            }
        }
    }

    /// Pushes a frame for a collection that just started at `path`.
    fn open(&mut self, path: Vec<Segment>, is_mapping: bool) -> bool {
        if self.stack.len() >= MAX_DEPTH {
            return false;
        }
        let frame = if is_mapping {
            Frame::Mapping {
                path,
                pending_key: None,
                seen: HashMap::new(),
            }
        } else {
            Frame::Sequence {
                path,
                next_index: 0,
            }
        };
        self.stack.push(frame);
        true
    }
}

fn record_key(
    duplicates: &mut Vec<DuplicateKey>,
    parent: &[Segment],
    seen: &mut HashMap<String, Pos>,
    key: &str,
    at: Pos,
) {
    if key == COMPLEX_KEY {
        return;
    }
    match seen.get(key) {
        Some(first) => {
            let mut path = parent.to_vec();
            path.push(Segment::Key(key.to_string()));
            duplicates.push(DuplicateKey {
                path,
                first: *first,
                second: at,
            });
        }
        None => {
            seen.insert(key.to_string(), at);
        }
    }
}

/// Position of the first alias (`*name`); used to locate "repetition limit exceeded".
pub fn first_alias(src: &str) -> Option<Pos> {
    find_event(src, |event| matches!(event, Event::Alias(_)))
}

/// Position of the second document (`---`); used to locate "more than one document".
pub fn second_document(src: &str) -> Option<Pos> {
    let mut documents_seen = 0;
    find_event(src, |event| {
        if matches!(event, Event::DocumentStart) {
            documents_seen += 1;
        }
        documents_seen == 2
    })
}

fn find_event(src: &str, mut wanted: impl FnMut(&Event) -> bool) -> Option<Pos> {
    let mut parser = Parser::new_from_str(src);
    for _ in 0..MAX_EVENTS {
        let (event, marker) = parser.next_token().ok()?;
        if wanted(&event) {
            return Some(Pos::new(marker.line(), marker.col() + 1));
        }
        if event == Event::StreamEnd {
            return None;
        }
    }
    None
}
