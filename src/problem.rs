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
