//! A problem found in a file the project loads (a flow, a locale, a lexicon, a transcript),
//! reported as `file:line: reason` so that whoever wrote the file can go straight to it.

use std::fmt;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub file: PathBuf,
    /// 1-based; 0 when the problem is about the file as a whole.
    pub line: usize,
    pub reason: String,
}

impl Problem {
    pub fn new(file: impl AsRef<Path>, line: usize, reason: impl Into<String>) -> Self {
        Self {
            file: file.as_ref().to_path_buf(),
            line,
            reason: reason.into(),
        }
    }

    /// A problem at a byte offset of `source`.
    pub fn at(
        file: impl AsRef<Path>,
        source: &str,
        offset: usize,
        reason: impl Into<String>,
    ) -> Self {
        Self::new(file, line_of(source, offset), reason)
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: {}",
            self.file.display(),
            self.line.max(1),
            self.reason
        )
    }
}

/// The 1-based line holding byte `offset` of `source`.
#[must_use]
pub fn line_of(source: &str, offset: usize) -> usize {
    let end = offset.min(source.len());
    source.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// Problems found while loading, all of them, not just the first.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
pub struct Problems(pub Vec<Problem>);

/// Every `*.toml` directly under `dir`, read, in name order; a file or directory that cannot be
/// read is a problem. A missing directory holds nothing when `missing_ok`.
pub fn toml_sources(
    dir: &Path,
    what: &str,
    missing_ok: bool,
) -> (Vec<(PathBuf, String)>, Vec<Problem>) {
    let mut problems = Vec::new();
    let mut files: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(rd) => rd
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            .collect(),
        Err(e) if missing_ok && e.kind() == std::io::ErrorKind::NotFound => {
            return (Vec::new(), problems);
        }
        Err(e) => {
            problems.push(Problem::new(
                dir,
                0,
                format!("cannot read the {what} directory: {e}"),
            ));
            return (Vec::new(), problems);
        }
    };
    files.sort();
    let mut sources = Vec::with_capacity(files.len());
    for file in files {
        match std::fs::read_to_string(&file) {
            Ok(s) => sources.push((file, s)),
            Err(e) => problems.push(Problem::new(&file, 0, format!("cannot read: {e}"))),
        }
    }
    (sources, problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_map_to_lines() {
        let src = "a\nb\nc";
        assert_eq!(line_of(src, 0), 1);
        assert_eq!(line_of(src, 2), 2);
        assert_eq!(line_of(src, 4), 3);
        assert_eq!(line_of(src, 99), 3);
        assert_eq!(
            Problem::at("f.toml", src, 2, "bad").to_string(),
            "f.toml:2: bad"
        );
    }
}
