//! The `borough` binary's edges: a bad configuration stops a node before it
//! creates or changes anything and says which file, key and problem; `certs init`
//! writes a usable layout and never overwrites one; a node stops cleanly on
//! SIGTERM; `status` reports a running node and says when it cannot reach one;
//! the demo converges to what the agreements allow and shows both refusals.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use borough_node::federation::write_node_config;

use crate::support::binary::{run, Finished, Layout};
use crate::support::*;

/// Runs `borough node --config <config>` in `layout`, expecting it to refuse to
/// start: a non-zero exit and no data directory created. Returns stderr.
async fn refuses_to_start(layout: &Layout, config: &Path) -> String {
    let out = run([OsStr::new("node"), "--config".as_ref(), config.as_os_str()]).await;
    out.assert_failure();
    assert!(
        !layout.data().exists(),
        "a refused node created {}: {out:#?}",
        layout.data().display()
    );
    out.stderr
}

#[track_caller]
fn assert_mentions(stderr: &str, parts: &[&str]) {
    for part in parts {
        assert!(
            stderr.contains(part),
            "stderr does not mention {part:?}:\n{stderr}"
        );
    }
}

fn display(p: &Path) -> String {
    p.display().to_string()
}

/// A configuration file that does not exist is reported by path, and nothing is
/// created.
#[tokio::test]
async fn missing_config_file_is_named_and_nothing_is_created() {
    let layout = Layout::new(&[LAMBETH]).await;
    let missing = layout.root().join("no-such-node.toml");
    let stderr = refuses_to_start(&layout, &missing).await;
    assert_mentions(&stderr, &[&display(&missing), "cannot read"]);
}

/// Configuration that is not valid TOML is reported with the file and the line.
#[tokio::test]
async fn invalid_toml_is_reported_with_its_line() {
    let layout = Layout::new(&[LAMBETH]).await;
    let config = layout.config(LAMBETH);
    let text = std::fs::read_to_string(&config).expect("config");
    let line = text
        .lines()
        .position(|l| l.starts_with("listen"))
        .expect("listen line")
        + 1;
    let broken: Vec<String> = text
        .lines()
        .map(|l| {
            if l.starts_with("listen") {
                "listen = \"127.0.0.1:7401".to_string() // unterminated string
            } else {
                l.to_string()
            }
        })
        .collect();
    std::fs::write(&config, broken.join("\n")).expect("write config");
    let stderr = refuses_to_start(&layout, &config).await;
    assert_mentions(&stderr, &[&display(&config), &format!("line {line}")]);
}

/// A key the configuration does not know is named, so a typo is not ignored.
#[tokio::test]
async fn unknown_config_key_is_named() {
    let layout = Layout::new(&[LAMBETH]).await;
    let config = layout.config(LAMBETH);
    let text = std::fs::read_to_string(&config).expect("config");
    std::fs::write(&config, format!("data_dri = \"elsewhere\"\n{text}")).expect("write config");
    let stderr = refuses_to_start(&layout, &config).await;
    assert_mentions(&stderr, &[&display(&config), "data_dri"]);
}

/// A missing node certificate is reported by its path and the config key
/// `tls.cert` that names it.
#[tokio::test]
async fn missing_certificate_names_the_path_and_tls_cert() {
    let layout = Layout::new(&[LAMBETH]).await;
    let cert = layout.certs(LAMBETH).join("node.pem");
    std::fs::remove_file(&cert).expect("remove node.pem");
    let config = layout.config(LAMBETH);
    let stderr = refuses_to_start(&layout, &config).await;
    assert_mentions(&stderr, &[&display(&config), &display(&cert), "`tls.cert`"]);
}

/// A missing node key is reported by its path and the config key `tls.key`.
#[tokio::test]
async fn missing_key_names_the_path_and_tls_key() {
    let layout = Layout::new(&[LAMBETH]).await;
    let key = layout.certs(LAMBETH).join("node.key");
    std::fs::remove_file(&key).expect("remove node.key");
    let config = layout.config(LAMBETH);
    let stderr = refuses_to_start(&layout, &config).await;
    assert_mentions(&stderr, &[&display(&config), &display(&key), "`tls.key`"]);
}

/// A certificate file that is not PEM is reported by its path and `tls.cert`.
#[tokio::test]
async fn garbage_certificate_names_the_path_and_tls_cert() {
    let layout = Layout::new(&[LAMBETH]).await;
    let cert = layout.certs(LAMBETH).join("node.pem");
    std::fs::write(&cert, "this is not a certificate\n").expect("overwrite node.pem");
    let config = layout.config(LAMBETH);
    let stderr = refuses_to_start(&layout, &config).await;
    assert_mentions(&stderr, &[&display(&cert), "`tls.cert`", "CERTIFICATE"]);
}

/// A private key other users can read is refused, naming the file and why.
#[tokio::test]
async fn key_readable_by_others_is_refused() {
    let layout = Layout::new(&[LAMBETH]).await;
    let key = layout.certs(LAMBETH).join("node.key");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let config = layout.config(LAMBETH);
    let stderr = refuses_to_start(&layout, &config).await;
    assert_mentions(
        &stderr,
        &[&display(&key), "`tls.key`", "readable by other users"],
    );
}

/// A perturbation key other users can read is refused like a private key, naming
/// the file and the config key `perturbation_key`; a missing one is named too.
#[tokio::test]
async fn perturbation_key_is_held_like_a_private_key() {
    let layout = Layout::new(&[LAMBETH]).await;
    let key = layout.root().join("certs/perturbation.key");
    let config = layout.config(LAMBETH);
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let stderr = refuses_to_start(&layout, &config).await;
    assert_mentions(
        &stderr,
        &[
            &display(&key),
            "`perturbation_key`",
            "readable by other users",
        ],
    );
    std::fs::remove_file(&key).expect("remove perturbation.key");
    let stderr = refuses_to_start(&layout, &config).await;
    assert_mentions(&stderr, &[&display(&key), "`perturbation_key`"]);
}

/// Disclosure control looser than the minimum stops the node before it creates
/// anything, naming the file and the key.
#[tokio::test]
async fn looser_disclosure_is_refused_naming_the_key() {
    let layout = Layout::new(&[LAMBETH]).await;
    let config = layout.config(LAMBETH);
    let text = std::fs::read_to_string(&config).expect("config");
    std::fs::write(&config, format!("{text}\n[disclosure]\nthreshold = 5\n"))
        .expect("write config");
    let stderr = refuses_to_start(&layout, &config).await;
    assert_mentions(
        &stderr,
        &[
            &display(&config),
            "`disclosure.threshold`",
            "5 is looser than the minimum 10",
        ],
    );
}

/// A start-up error states each cause once: the reason is not repeated by the
/// error chain.
#[tokio::test]
async fn startup_error_states_its_cause_once() {
    let layout = Layout::new(&[LAMBETH]).await;
    let key = layout.certs(LAMBETH).join("node.key");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let stderr = refuses_to_start(&layout, &layout.config(LAMBETH)).await;
    assert_eq!(
        stderr.matches("readable by other users").count(),
        1,
        "the cause is repeated:\n{stderr}"
    );
}

/// A peer listed twice is refused, naming the second entry's key.
#[tokio::test]
async fn duplicate_peer_is_refused_naming_the_entry() {
    let layout = Layout::new(&[LAMBETH, SOUTHWARK]).await;
    let southwark = layout.address(SOUTHWARK);
    let config = write_node_config(
        layout.root(),
        gss(LAMBETH),
        layout.address(LAMBETH),
        &[(gss(SOUTHWARK), southwark), (gss(SOUTHWARK), southwark)],
        "",
    )
    .expect("write config");
    let stderr = refuses_to_start(&layout, &config).await;
    assert_mentions(
        &stderr,
        &[&display(&config), "peers[1].borough", "more than once"],
    );
}

/// A listen address already in use is reported with the key `listen` and the
/// address, and no data directory is left behind.
#[tokio::test]
async fn address_in_use_names_listen_and_creates_no_data() {
    let (layout, listeners) = Layout::with_listeners(&[LAMBETH], &example_agreements()).await;
    let config = layout.config(LAMBETH);
    let stderr = refuses_to_start(&layout, &config).await;
    assert_mentions(
        &stderr,
        &[
            &display(&config),
            "`listen`",
            &layout.address(LAMBETH).to_string(),
        ],
    );
    drop(listeners);
}

/// An agreement naming a field the dataset does not have stops the node, naming
/// the agreement file and the field.
#[tokio::test]
async fn agreement_with_an_unknown_field_is_refused() {
    let agreements: Vec<(String, String)> = example_agreements()
        .into_iter()
        .map(|(name, text)| {
            if name == "lambeth-southwark.toml" {
                let fields = text.find("fields = [").expect("fields");
                let text = format!("{}fields = [\"provider_name\"]\n", &text[..fields]);
                (name, text)
            } else {
                (name, text)
            }
        })
        .collect();
    let (layout, listeners) = Layout::with_listeners(&[LAMBETH, SOUTHWARK], &agreements).await;
    drop(listeners);
    let agreement = layout.root().join("agreements/lambeth-southwark.toml");
    let stderr = refuses_to_start(&layout, &layout.config(LAMBETH)).await;
    assert_mentions(&stderr, &[&display(&agreement), "provider_name"]);
}

const THREE: &str = "E09000022,E09000028,E09000023";

fn certs_init(out: &Path, boroughs: &str) -> Vec<std::ffi::OsString> {
    ["certs", "init", "--out"]
        .into_iter()
        .map(Into::into)
        .chain([
            out.as_os_str().to_owned(),
            "--boroughs".into(),
            boroughs.into(),
        ])
        .collect()
}

/// `certs init` writes a CA, a node certificate and one certificate per role for
/// each borough, and the partnership's linkage and perturbation keys, with every
/// private key readable by its owner only.
#[tokio::test]
async fn certs_init_writes_every_borough_with_private_keys() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("certs");
    run(certs_init(&out, THREE)).await.assert_success();
    for borough in [LAMBETH, SOUTHWARK, LEWISHAM] {
        for stem in ["ca", "node", "system", "analyst", "broker", "admin"] {
            let cert = out.join(borough).join(format!("{stem}.pem"));
            let pem = std::fs::read_to_string(&cert).expect("certificate written");
            assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{cert:?}");
            let key = out.join(borough).join(format!("{stem}.key"));
            let mode = std::fs::metadata(&key)
                .expect("key written")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{key:?} has mode {mode:o}");
        }
    }
    // The partnership's linkage and perturbation keys, once, beside the boroughs.
    for file in ["linkage.key", "perturbation.key"] {
        let key = out.join(file);
        let mode = std::fs::metadata(&key)
            .expect("key written")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{key:?} has mode {mode:o}");
    }
}

/// A bad GSS code is refused by name and nothing is written.
#[tokio::test]
async fn certs_init_refuses_a_bad_gss_code() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("certs");
    let result = run(certs_init(&out, "E09000022,E0900002X")).await;
    result.assert_failure();
    assert_mentions(&result.stderr, &["E0900002X"]);
    assert!(!out.exists(), "{out:?} was created: {result:#?}");
}

/// Running `certs init` again on the same folder refuses and leaves every
/// existing certificate as it was.
#[tokio::test]
async fn certs_init_twice_refuses_to_overwrite() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("certs");
    run(certs_init(&out, THREE)).await.assert_success();
    let ca = out.join(LAMBETH).join("ca.pem");
    let before = std::fs::read(&ca).expect("ca.pem");
    let again = run(certs_init(&out, THREE)).await;
    again.assert_failure();
    assert_mentions(&again.stderr, &["already exists", "ca.key"]);
    assert_eq!(
        std::fs::read(&ca).expect("ca.pem"),
        before,
        "ca.pem changed"
    );
}

/// A running node exits with status 0 on SIGTERM.
#[tokio::test]
async fn node_stops_cleanly_on_sigterm() {
    let layout = Layout::new(&[LAMBETH]).await;
    let mut node = layout.spawn_node(LAMBETH);
    layout.status_until(LAMBETH, CONVERGE, |_| true).await;
    node.terminate();
    let out = node.exit(CONVERGE).await;
    assert_eq!(out.status.code(), Some(0), "{out:#?}");
}

/// The `pulling from peer` rows of a status table.
fn pulling_rows(status: &str) -> Vec<&str> {
    let inbound = status.split("pulled by peer").next().unwrap_or("");
    inbound
        .lines()
        .skip_while(|l| !l.starts_with("pulling from peer"))
        .skip(1)
        .collect()
}

/// `borough status` against a running node shows its borough, its dataset and a
/// connected flow from its peer.
#[tokio::test]
async fn status_shows_the_borough_dataset_and_connected_peer() {
    let layout = Layout::new(&[LAMBETH, SOUTHWARK]).await;
    let _lambeth = layout.spawn_node(LAMBETH);
    let _southwark = layout.spawn_node(SOUTHWARK);
    let status = layout
        .status_until(LAMBETH, CONVERGE, |out| {
            pulling_rows(out).iter().any(|row| {
                row.starts_with("Southwark (E09000028)")
                    && row.split_whitespace().any(|cell| cell == "connected")
            })
        })
        .await;
    assert!(status.starts_with("Lambeth (E09000022)"), "{status}");
    assert!(status.contains("childcare-places"), "{status}");
}

/// `borough status` against a node that is not running fails and says it
/// cannot reach the node's address.
#[tokio::test]
async fn status_of_a_stopped_node_fails_saying_it_cannot_reach_it() {
    let layout = Layout::new(&[LAMBETH]).await;
    let out = layout.status(LAMBETH).await;
    out.assert_failure();
    assert_mentions(
        &out.stderr,
        &["cannot reach", &layout.address(LAMBETH).to_string()],
    );
}

/// The cells of one row of a table the demo prints (cells are two or more spaces
/// apart; a cell may hold single spaces, as `not agreed` does).
fn cells(line: &str) -> Vec<String> {
    line.trim()
        .split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(String::from)
        .collect()
}

/// The demo's table for `dataset`: holder → (origin column → cell).
fn demo_table(stdout: &str, dataset: &str) -> BTreeMap<String, BTreeMap<String, String>> {
    let mut lines = stdout.lines().skip_while(|l| l.trim() != dataset).skip(1);
    let header = cells(lines.next().unwrap_or_default());
    assert_eq!(
        header.first().map(String::as_str),
        Some("held by"),
        "no table for {dataset}:\n{stdout}"
    );
    lines
        .take_while(|l| !l.trim().is_empty())
        .map(|l| {
            let row = cells(l);
            let holder = row[0].clone();
            (
                holder,
                header[1..]
                    .iter()
                    .cloned()
                    .zip(row[1..].iter().cloned())
                    .collect(),
            )
        })
        .collect()
}

/// The demo imports `borough gen`'s data for all three datasets at each borough
/// through the real Ingest RPC, and converges to exactly what the example
/// agreements allow: each node holds its own records of every dataset, every
/// record of an origin whose agreement covers that dataset in that direction, and
/// nothing it is not agreed. Then it asks an analyst's questions at Lambeth and
/// shows both refusals.
#[tokio::test]
async fn demo_converges_to_what_the_agreements_allow_asks_an_analysts_questions_and_shows_both_refusals(
) {
    let out: Finished = run(["demo", "--records", "20"]).await;
    out.assert_success();
    let stdout = &out.stdout;
    for part in ["seed 7", "20 rows per borough per dataset", "converged"] {
        assert!(
            stdout.contains(part),
            "demo output lacks {part:?}:\n{stdout}"
        );
    }
    // (discloser, recipient, datasets) as config/agreements has them.
    let (places, requests, employment) = (
        "childcare-places",
        "childcare-requests",
        "employment-participation",
    );
    let agreed: &[(&str, &str, &[&str])] = &[
        ("Lambeth", "Southwark", &[places, requests, employment]),
        ("Southwark", "Lambeth", &[places, requests, employment]),
        ("Lambeth", "Lewisham", &[places, requests]),
        ("Lewisham", "Lambeth", &[places, requests]),
        ("Lewisham", "Southwark", &[places, employment]),
        ("Southwark", "Lewisham", &[employment]),
    ];
    let boroughs = ["Lambeth", "Southwark", "Lewisham"];
    for dataset in [places, requests, employment] {
        let table = demo_table(stdout, dataset);
        assert_eq!(table.len(), 3, "{dataset}:\n{stdout}");
        let own = |b: &str| -> u64 {
            let cell = &table[b][&format!("from {b}")];
            let n = cell
                .strip_suffix(" (own)")
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("{b}'s own {dataset}: {cell:?}\n{stdout}"));
            assert!(n > 0, "{b} took in no {dataset}:\n{stdout}");
            n
        };
        for holder in boroughs {
            for origin in boroughs.iter().filter(|o| **o != holder) {
                let cell = &table[holder][&format!("from {origin}")];
                let allowed = agreed
                    .iter()
                    .any(|(from, to, ds)| from == origin && *to == holder && ds.contains(&dataset));
                let expected = if allowed {
                    own(origin).to_string()
                } else {
                    "not agreed".to_string()
                };
                assert_eq!(
                    cell, &expected,
                    "{holder} holding {origin}'s {dataset}:\n{stdout}"
                );
            }
        }
    }
    // Three answers, each audited at Lambeth with its freshness per origin.
    let audited = stdout
        .lines()
        .filter(|l| l.contains("; audit audit-"))
        .count();
    assert_eq!(audited, 3, "{stdout}");
    for header in [
        "resident-borough",
        "providers  places  vacancies",
        "barrier-participants  barrier-request-participants",
    ] {
        assert!(
            stdout.contains(header),
            "no answer with {header:?}:\n{stdout}"
        );
    }
    let missing = stdout
        .lines()
        .filter(|l| l.contains("no agreement lets Lewisham send employment-participation here"))
        .count();
    assert_eq!(
        missing, 2,
        "both employment answers name Lewisham missing:\n{stdout}"
    );
    let refusals: Vec<&str> = stdout
        .lines()
        .filter(|l| l.trim_start().starts_with("refused:"))
        .collect();
    assert_eq!(refusals.len(), 2, "{stdout}");
    assert!(
        refusals.iter().any(|l| l.contains("PermissionDenied")),
        "{stdout}"
    );
}
