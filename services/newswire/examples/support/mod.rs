//! What the soak, standalone-soak and throughput examples share.

use std::path::{Path, PathBuf};

/// The repository's root (`../shared` beside it holds the corpus).
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A binary of the same build as this example (`target/<profile>/<name>`: examples live in
/// `target/<profile>/examples/`).
pub fn sibling_binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the example's own path");
    exe.parent()
        .and_then(Path::parent)
        .expect("the example runs from target/<profile>/examples")
        .join(name)
}
