//! Imports run one way (DESIGN §3): domain types, then the store, the channel transports, the
//! pure parts (flows, safety, wording, the schedule's sequences and local time), the runner,
//! and the loops that drive it (dispatcher, scheduler, Telegram poller). Nothing imports a
//! module above its own, and no module of these imports itself back through the others (so no
//! file of one does through another's): read from the source, every `crate::…` and `super::…`
//! path.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layers, bottom first: a module path prefix and its layer.
const LAYERS: &[(&str, u8, &str)] = &[
    ("domain", 0, "domain types"),
    ("store", 1, "the store"),
    ("channel", 2, "channel transports"),
    ("flow", 3, "pure parts"),
    ("safety", 3, "pure parts"),
    ("i18n", 3, "pure parts"),
    ("schedule", 3, "pure parts"),
    ("runner", 4, "the runner"),
    ("loops", 5, "the loops"),
];

/// Modules above every layer: nothing layered may use them.
const ABOVE: &[&str] = &["web", "cli", "enrolment", "app"];

fn layer(module: &[String]) -> Option<(u8, &'static str)> {
    let top = module.first()?;
    LAYERS
        .iter()
        .find(|(m, _, _)| m == top)
        .map(|(_, l, name)| (*l, *name))
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// `src/channel/twilio/client.rs` → `[channel, twilio, client]`; a `mod.rs` is its directory.
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
        parts.pop();
    }
    parts
}

/// The paths a file names: `crate::a::b::C` as `[a, b, C]`, `super::x` resolved from the file.
fn references(text: &str, module: &[String]) -> Vec<Vec<String>> {
    // A file's unit tests (its `#[cfg(test)] mod tests`, last) are not what it imports.
    let text = text.split("#[cfg(test)]\nmod tests").next().unwrap_or(text);
    let code: String = text
        .lines()
        .map(|l| {
            let t = l.trim_start();
            if t.starts_with("//") { "" } else { l }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let mut out = Vec::new();
    for (prefix, base) in [
        ("crate::", Vec::new()),
        // `src/a/b.rs` is module a::b and `src/a/mod.rs` module a: either's `super` is the
        // module above it.
        ("super::", module[..module.len().saturating_sub(1)].to_vec()),
    ] {
        let mut rest = code.as_str();
        while let Some(i) = rest.find(prefix) {
            let before = rest[..i].chars().last();
            rest = &rest[i + prefix.len()..];
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                continue;
            }
            let path: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            let mut full = base.clone();
            full.extend(
                path.split("::")
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned),
            );
            if !full.is_empty() {
                out.push(full);
            }
        }
    }
    out
}

#[test]
fn imports_run_one_way_and_in_no_circle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut all = Vec::new();
    files(&src, &mut all);
    let modules: BTreeMap<Vec<String>, PathBuf> = all
        .iter()
        .map(|f| (module_of(&src, f), f.clone()))
        .collect();
    // The file a path names: its longest prefix that is a module.
    let file_of = |path: &[String]| -> Option<Vec<String>> {
        (1..=path.len())
            .rev()
            .map(|n| path[..n].to_vec())
            .find(|m| modules.contains_key(m))
    };
    let mut wrong = Vec::new();
    let mut edges: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
    for (module, file) in &modules {
        let Some((mine, my_name)) = layer(module) else {
            continue;
        };
        let text = std::fs::read_to_string(file).unwrap();
        for r in references(&text, module) {
            if r.first().is_some_and(|t| ABOVE.contains(&t.as_str())) {
                wrong.push(format!(
                    "{} ({my_name}) uses {}, above every layer",
                    file.display(),
                    r.join("::")
                ));
                continue;
            }
            if let Some((theirs, their_name)) = layer(&r)
                && theirs > mine
            {
                wrong.push(format!(
                    "{} ({my_name}) uses {} ({their_name}, above it)",
                    file.display(),
                    r.join("::")
                ));
            }
            // Between modules (a module's own files call each other freely: `runner/mod.rs`
            // and the files that implement the runner).
            if let Some(target) = file_of(&r)
                && target[0] != module[0]
                && layer(&target).is_some()
            {
                edges
                    .entry(vec![module[0].clone()])
                    .or_default()
                    .insert(vec![target[0].clone()]);
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports that run upwards:\n{}",
        wrong.join("\n")
    );
    // No circle among the layered modules: a depth-first search finds no edge back.
    fn visit(
        m: &Vec<String>,
        edges: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
        state: &mut BTreeMap<Vec<String>, u8>,
        stack: &mut Vec<Vec<String>>,
        found: &mut Option<Vec<Vec<String>>>,
    ) {
        state.insert(m.clone(), 1);
        stack.push(m.clone());
        for n in edges.get(m).into_iter().flatten() {
            if found.is_some() {
                break;
            }
            match state.get(n) {
                Some(1) => {
                    let from = stack.iter().position(|s| s == n).unwrap();
                    let mut circle = stack[from..].to_vec();
                    circle.push(n.clone());
                    *found = Some(circle);
                }
                Some(_) => {}
                None => visit(n, edges, state, stack, found),
            }
        }
        stack.pop();
        state.insert(m.clone(), 2);
    }
    let mut state = BTreeMap::new();
    let mut found = None;
    for m in edges.keys() {
        if !state.contains_key(m) && found.is_none() {
            visit(m, &edges, &mut state, &mut Vec::new(), &mut found);
        }
    }
    if let Some(c) = found {
        let names: Vec<String> = c.iter().map(|m| m.join("::")).collect();
        panic!("an import circle: {}", names.join(" -> "));
    }
    // The check reads what it should: the runner does use the store, the loops the runner.
    let runner = edges
        .iter()
        .filter(|(m, _)| m.first().is_some_and(|t| t == "runner"))
        .flat_map(|(_, t)| t)
        .any(|t| t.first().is_some_and(|x| x == "store"));
    let loops = edges
        .iter()
        .filter(|(m, _)| m.first().is_some_and(|t| t == "loops"))
        .flat_map(|(_, t)| t)
        .any(|t| t.first().is_some_and(|x| x == "runner"));
    assert!(runner && loops, "the import graph was not read");
}
