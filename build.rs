//! Puts the commit the binary was built from into `matters --version` (`MATTERS_COMMIT` wins,
//! for builds without the repository, like a container's).

fn main() {
    println!("cargo:rerun-if-env-changed=MATTERS_COMMIT");
    let commit = std::env::var("MATTERS_COMMIT")
        .ok()
        .filter(|c| !c.trim().is_empty())
        .or_else(|| {
            // Rebuilt when the branch moves, not on every build.
            if let Ok(head) = std::fs::read_to_string(".git/HEAD") {
                println!("cargo:rerun-if-changed=.git/HEAD");
                if let Some(r) = head.trim().strip_prefix("ref: ") {
                    for f in [format!(".git/{r}"), ".git/packed-refs".to_owned()] {
                        // A file that does not exist would rebuild every time.
                        if std::path::Path::new(&f).exists() {
                            println!("cargo:rerun-if-changed={f}");
                        }
                    }
                }
            }
            let out = std::process::Command::new("git")
                .args(["rev-parse", "--short=12", "HEAD"])
                .output()
                .ok()?;
            out.status
                .success()
                .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=MATTERS_COMMIT={commit}");
}
