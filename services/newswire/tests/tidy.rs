//! ARCHITECTURE.md's structural invariants, checked from `cargo metadata`:
//! - only `shared/runtime` depends on rdkafka (the integration tests, as dev-dependencies,
//!   aside): stage code does no Kafka I/O;
//! - `shared/*` never depends on `services/*` (but the fuzz harness, `shared/fuzz`, which no
//!   crate depends on);
//! - every third-party dependency is pinned once, in the workspace (`dep.workspace = true`).

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn metadata() -> serde_json::Value {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = std::process::Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--no-deps", "--offline"])
        .current_dir(root())
        .output()
        .expect("cargo metadata runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap()
}

/// (package name, its manifest's directory relative to the root, its normal dependencies).
fn packages() -> Vec<(String, String, Vec<String>)> {
    let root = root().canonicalize().unwrap();
    metadata()["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let manifest = PathBuf::from(p["manifest_path"].as_str().unwrap());
            let dir = manifest.parent().unwrap().canonicalize().unwrap();
            let dir = dir.strip_prefix(&root).unwrap().display().to_string();
            let deps = p["dependencies"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| d["kind"].is_null())
                .map(|d| d["name"].as_str().unwrap().to_string())
                .collect();
            (p["name"].as_str().unwrap().to_string(), dir, deps)
        })
        .collect()
}

#[test]
fn only_the_runtime_imports_rdkafka() {
    let packages = packages();
    assert!(packages.len() >= 10, "the workspace is read: {packages:?}");
    let users: Vec<&str> = packages
        .iter()
        .filter(|(_, _, deps)| deps.iter().any(|d| d == "rdkafka" || d == "rdkafka-sys"))
        .map(|(_, dir, _)| dir.as_str())
        .collect();
    assert_eq!(users, ["shared/runtime"], "crates that depend on rdkafka");
}

#[test]
fn shared_crates_never_depend_on_services() {
    let packages = packages();
    let services: Vec<&str> = packages
        .iter()
        .filter(|(_, dir, _)| dir.starts_with("services/"))
        .map(|(name, _, _)| name.as_str())
        .collect();
    assert!(
        services.contains(&"fetcher") && services.contains(&"tagger"),
        "{services:?}"
    );
    // The fuzz harness drives every crate's parsers, services included; it is a tool that
    // nothing depends on, not a library the services build on.
    for (name, dir, deps) in packages
        .iter()
        .filter(|(_, dir, _)| dir.starts_with("shared/") && dir != "shared/fuzz")
    {
        let wrong: Vec<&String> = deps.iter().filter(|d| services.contains(&d.as_str())).collect();
        assert!(wrong.is_empty(), "{name} ({dir}) depends on services: {wrong:?}");
    }
    let fuzz_users: Vec<&str> = packages
        .iter()
        .filter(|(_, _, deps)| deps.iter().any(|d| d == "fuzz"))
        .map(|(name, _, _)| name.as_str())
        .collect();
    assert!(
        fuzz_users.is_empty(),
        "crates that depend on shared/fuzz: {fuzz_users:?}"
    );
}

#[test]
fn dependencies_are_pinned_once_in_the_workspace() {
    for (_, dir, _) in packages() {
        let manifest = std::fs::read_to_string(root().join(&dir).join("Cargo.toml")).unwrap();
        let mut section = String::new();
        for line in manifest.lines().map(str::trim) {
            if line.starts_with('[') {
                section = line.to_string();
                continue;
            }
            if !section.contains("dependencies") || line.is_empty() || line.starts_with('#') {
                continue;
            }
            assert!(
                line.contains(".workspace = true") || line.contains("workspace = true"),
                "{dir}/Cargo.toml {section}: `{line}` is not a workspace dependency"
            );
        }
    }
}
