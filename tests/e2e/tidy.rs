//! Tidy: the conventions of the codebase, checked as tests so they cannot drift —
//! dependency edges between crates, module docs, no disabled tests, and shipped
//! example configuration that actually loads.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The allowed workspace dependency edges (normal dependencies only). Adding an
/// edge is a design change: update docs/ARCHITECTURE.md in the same commit.
fn allowed_edges() -> BTreeMap<&'static str, BTreeSet<&'static str>> {
    let base: &[(&str, &[&str])] = &[
        ("borough-model", &[]),
        ("borough-proto", &["borough-model"]),
        ("borough-store", &["borough-model"]),
        ("borough-security", &["borough-model"]),
        (
            "borough-analytics",
            &["borough-model", "borough-proto", "borough-store"],
        ),
        (
            "borough-sync",
            &[
                "borough-model",
                "borough-proto",
                "borough-security",
                "borough-store",
            ],
        ),
        (
            "borough-node",
            &[
                "borough-model",
                "borough-proto",
                "borough-security",
                "borough-store",
                "borough-sync",
                "borough-analytics",
            ],
        ),
        (
            "borough-bench",
            &[
                "borough-model",
                "borough-proto",
                "borough-security",
                "borough-store",
                "borough-sync",
                "borough-node",
                "borough-import",
                "borough-synth",
                "borough-analytics",
            ],
        ),
        ("borough-synth", &["borough-model"]),
        (
            "borough-import",
            &[
                "borough-model",
                "borough-proto",
                "borough-store",
                "borough-node",
            ],
        ),
        (
            "borough-demo",
            &[
                "borough-model",
                "borough-proto",
                "borough-security",
                "borough-sync",
                "borough-node",
                "borough-synth",
                "borough-import",
            ],
        ),
        (
            "borough",
            &[
                "borough-model",
                "borough-node",
                "borough-security",
                "borough-synth",
                "borough-import",
                "borough-demo",
                "borough-analytics",
                "borough-proto",
            ],
        ),
    ];
    base.iter()
        .map(|(k, v)| (*k, v.iter().copied().collect()))
        .collect()
}

/// The workspace's packages, as `cargo metadata` describes them.
fn workspace_packages() -> Vec<serde_json::Value> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = std::process::Command::new(cargo)
        .args([
            "metadata",
            "--no-deps",
            "--format-version",
            "1",
            "--offline",
        ])
        .current_dir(repo())
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).expect("metadata is JSON");
    meta["packages"].as_array().expect("packages").clone()
}

/// Crates depend on each other only along the edges in docs/ARCHITECTURE.md.
#[test]
fn workspace_dependencies_point_one_way() {
    let packages = workspace_packages();
    let members: BTreeSet<String> = packages
        .iter()
        .filter_map(|p| p["name"].as_str().map(String::from))
        .collect();
    let allowed = allowed_edges();
    for p in &packages {
        let name = p["name"].as_str().unwrap_or_default();
        let ok = allowed
            .get(name)
            .unwrap_or_else(|| panic!("crate {name} has no entry in the allowed edges"));
        for dep in p["dependencies"].as_array().into_iter().flatten() {
            let dep_name = dep["name"].as_str().unwrap_or_default();
            let normal = dep["kind"].is_null();
            if normal && members.contains(dep_name) {
                assert!(
                    ok.contains(dep_name),
                    "{name} depends on {dep_name}, which docs/ARCHITECTURE.md does not allow"
                );
            }
        }
    }
}

/// The demo is a leaf: only the binary depends on it, not even as a dev- or
/// build-dependency, so nothing a node or tool needs can come to live there.
#[test]
fn only_the_binary_depends_on_the_demo() {
    let dependents: Vec<String> = workspace_packages()
        .iter()
        .filter(|p| {
            p["dependencies"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|d| d["name"] == "borough-demo")
        })
        .filter_map(|p| p["name"].as_str().map(String::from))
        .collect();
    assert_eq!(dependents, ["borough"]);
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let path = e.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|x| x == "rs") {
            out.push(path);
        }
    }
}

fn sources() -> Vec<PathBuf> {
    let mut files = Vec::new();
    rust_files(&repo().join("src"), &mut files);
    rust_files(&repo().join("crates"), &mut files);
    rust_files(&repo().join("tests"), &mut files);
    files
}

/// Every source file opens with a `//!` line saying what it is for.
#[test]
fn every_module_opens_with_a_doc_line() {
    let missing: Vec<_> = sources()
        .into_iter()
        .filter(|f| {
            let name = f.file_name().and_then(|n| n.to_str()).unwrap_or("");
            // tests.rs files are the unit tests of the module they sit beside.
            name != "tests.rs"
        })
        .filter(|f| {
            let text = std::fs::read_to_string(f).unwrap_or_default();
            !text.trim_start().starts_with("//!")
        })
        .collect();
    assert!(
        missing.is_empty(),
        "files without a //! doc line: {missing:#?}"
    );
}

/// No test is disabled or passes by panicking: every test states a behaviour.
#[test]
fn no_test_is_ignored_or_expects_a_panic() {
    let (ignore, should_panic) = (["#[", "ignore]"].concat(), ["#[", "should_panic"].concat());
    let offenders: Vec<_> = sources()
        .into_iter()
        .filter(|f| {
            let text = std::fs::read_to_string(f).unwrap_or_default();
            text.contains(&ignore) || text.contains(&should_panic)
        })
        .collect();
    assert!(offenders.is_empty(), "{offenders:#?}");
}

/// The node configurations and agreements shipped in `config/` load cleanly, and
/// every agreed field exists in its dataset's record.
#[test]
fn shipped_example_configuration_loads() {
    let config = repo().join("config");
    for name in ["lambeth", "southwark", "lewisham"] {
        let c = borough_node::NodeConfig::load(&config.join(format!("{name}.toml")))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.peers.len(), 2, "{name} pins both other boroughs");
    }
    let book = borough_security::agreements::load_dir(&config.join("agreements"))
        .unwrap_or_else(|e| panic!("{e}"));
    let mut checked = 0;
    for agreement in book.iter() {
        for terms in &agreement.datasets {
            borough_sync::Projection::new(terms.dataset, &terms.fields)
                .unwrap_or_else(|e| panic!("{}: {e}", agreement.source.display()));
            checked += 1;
        }
    }
    assert_eq!(checked, 7);
}
