//! Flows: scripted conversations defined in `flows/*.toml`, validated on load, and run by a pure
//! engine. A running session stays on the revision it started with.

pub mod def;
pub mod engine;
pub mod matching;
pub mod report;
pub mod validate;

pub use def::{Flow, parse};

use crate::domain::FlowId;
use crate::i18n::Catalog;
use crate::problem::Problem;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Arc, RwLock};

/// The flows in force, and every revision seen since start-up (so a session pinned to an older
/// revision can finish on it).
#[derive(Debug, Default)]
pub struct FlowSet {
    current: BTreeMap<FlowId, Arc<Flow>>,
    revisions: RwLock<HashMap<(FlowId, String), Arc<Flow>>>,
}

impl FlowSet {
    /// Loads and validates every `*.toml` directly under `dir`. Returns every problem found.
    pub fn load(dir: &Path, catalog: &Catalog) -> (Self, Vec<Problem>) {
        let mut set = Self::default();
        let (sources, mut problems) = crate::problem::toml_sources(dir, "flows", false);
        for (file, source) in sources {
            match parse(&file, &source) {
                Ok(flow) => {
                    let mut p = validate::validate(&flow, catalog);
                    if p.is_empty() {
                        set.insert(flow);
                    } else {
                        problems.append(&mut p);
                    }
                }
                Err(mut p) => problems.append(&mut p),
            }
        }
        (set, problems)
    }

    /// Adds a flow as the current revision of its id.
    pub fn insert(&mut self, flow: Flow) {
        let flow = Arc::new(flow);
        self.remember(flow.clone());
        self.current.insert(flow.id.clone(), flow);
    }

    /// Keeps a revision (e.g. one read back from the database) without making it current.
    pub fn remember(&self, flow: Arc<Flow>) {
        let mut revs = self.revisions.write().unwrap_or_else(|e| e.into_inner());
        revs.insert((flow.id.clone(), flow.revision.clone()), flow);
    }

    #[must_use]
    pub fn get(&self, id: &FlowId) -> Option<Arc<Flow>> {
        self.current.get(id).cloned()
    }

    #[must_use]
    pub fn revision(&self, id: &FlowId, revision: &str) -> Option<Arc<Flow>> {
        let revs = self.revisions.read().unwrap_or_else(|e| e.into_inner());
        revs.get(&(id.clone(), revision.to_owned())).cloned()
    }

    pub fn current(&self) -> impl Iterator<Item = &Arc<Flow>> {
        self.current.values()
    }
}
