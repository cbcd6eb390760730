use super::*;

const GOOD: &str = r#"
borough = "E09000022"
listen = "127.0.0.1:7401"
data_dir = "data/lambeth"
agreements = "agreements"
linkage_key = "certs/linkage.key"
perturbation_key = "certs/perturbation.key"

[tls]
ca = "certs/E09000022/ca.pem"
cert = "certs/E09000022/node.pem"
key = "certs/E09000022/node.key"

[[peers]]
borough = "E09000028"
address = "127.0.0.1:7402"
ca = "certs/E09000028/ca.pem"
"#;

/// Parses `text` as `/etc/borough/lambeth.toml` and returns the error text.
fn error_of(text: &str) -> String {
    NodeConfig::parse(Path::new("/etc/borough/lambeth.toml"), text)
        .unwrap_err()
        .to_string()
}

#[test]
fn paths_resolve_against_the_config_folder() {
    let c = NodeConfig::parse(Path::new("/etc/borough/lambeth.toml"), GOOD).unwrap();
    assert_eq!(c.data_dir, Path::new("/etc/borough/data/lambeth"));
    assert_eq!(
        c.tools.admin_cert,
        Path::new("/etc/borough/certs/E09000022/admin.pem")
    );
    assert_eq!(c.peers[0].borough.name(), "Southwark");
}

#[test]
fn an_unknown_key_is_named_with_the_file() {
    let e = error_of(&GOOD.replace("listen =", "colour = \"red\"\nlisten ="));
    assert!(
        e.contains("/etc/borough/lambeth.toml") && e.contains("unknown field `colour`"),
        "{e}"
    );
}

#[test]
fn invalid_toml_names_the_line() {
    let e = error_of("borough = \"E09000022\"\nlisten = [");
    assert!(
        e.contains("/etc/borough/lambeth.toml") && e.contains("line 2"),
        "{e}"
    );
}

#[test]
fn a_duplicate_peer_is_refused() {
    let dup = format!(
        "{GOOD}\n[[peers]]\nborough = \"E09000028\"\naddress = \"127.0.0.1:7403\"\nca = \"x.pem\"\n"
    );
    let e = error_of(&dup);
    assert!(
        e.contains("peers[1].borough") && e.contains("listed more than once"),
        "{e}"
    );
}

#[test]
fn bad_values_name_their_key() {
    for (from, to, key) in [
        ("E09000022", "E09000099", "`borough`"),
        ("127.0.0.1:7401", "localhost", "`listen`"),
        ("127.0.0.1:7402", "nowhere", "`peers[0].address`"),
        ("E09000028", "E09000022", "`peers[0].borough`"),
    ] {
        let e = error_of(&GOOD.replacen(from, to, 1));
        assert!(e.contains(key), "{key} not in {e}");
    }
}

#[test]
fn zero_limits_are_refused() {
    let e = error_of(&format!("{GOOD}\n[limits]\nbatch_size = 0\n"));
    assert!(e.contains("limits.batch_size"), "{e}");
}

#[test]
fn store_cache_is_set_in_mib_and_bounded() {
    let path = Path::new("/etc/borough/lambeth.toml");
    let config =
        NodeConfig::parse(path, &format!("{GOOD}\n[limits]\nstore_cache_mib = 32\n")).unwrap();
    assert_eq!(config.limits.store_cache_bytes, 32 * 1024 * 1024);
    let default = NodeConfig::parse(path, GOOD).unwrap();
    assert_eq!(
        default.limits.store_cache_bytes,
        borough_store::StoreOptions::DEFAULT_CACHE_BYTES
    );
    for bad in ["0", "1048577"] {
        let e = error_of(&format!("{GOOD}\n[limits]\nstore_cache_mib = {bad}\n"));
        assert!(e.contains("limits.store_cache_mib"), "{e}");
    }
}

#[test]
fn the_perturbation_key_resolves_like_the_linkage_key_and_is_required() {
    let c = NodeConfig::parse(Path::new("/etc/borough/lambeth.toml"), GOOD).unwrap();
    assert_eq!(
        c.perturbation_key,
        Path::new("/etc/borough/certs/perturbation.key")
    );
    let e = error_of(&GOOD.replace("perturbation_key = \"certs/perturbation.key\"\n", ""));
    assert!(
        e.contains("/etc/borough/lambeth.toml") && e.contains("missing field `perturbation_key`"),
        "{e}"
    );
}

#[test]
fn disclosure_defaults_to_the_minimums() {
    let c = NodeConfig::parse(Path::new("/etc/borough/lambeth.toml"), GOOD).unwrap();
    assert_eq!(
        c.disclosure,
        DisclosureSettings {
            threshold: MIN_THRESHOLD,
            rounding_base: MIN_ROUNDING_BASE,
            privacy_budget_micros: 1_000_000,
            max_query_epsilon_micros: 500_000,
        }
    );
    assert_eq!(c.disclosure, DisclosureSettings::default());
    assert_eq!(
        (c.disclosure.threshold, c.disclosure.rounding_base),
        (10, 5)
    );
    // An empty table is the defaults too.
    let empty = format!("{GOOD}\n[disclosure]\n");
    let c = NodeConfig::parse(Path::new("/etc/borough/lambeth.toml"), &empty).unwrap();
    assert_eq!(c.disclosure, DisclosureSettings::default());
}

#[test]
fn stricter_disclosure_is_accepted() {
    let text = format!("{GOOD}\n[disclosure]\nthreshold = 25\nrounding_base = 10\n");
    let c = NodeConfig::parse(Path::new("/etc/borough/lambeth.toml"), &text).unwrap();
    assert_eq!(
        c.disclosure,
        DisclosureSettings {
            threshold: 25,
            rounding_base: 10,
            ..DisclosureSettings::default()
        }
    );
    // Exactly the minimum is allowed; each key may be set alone.
    let text = format!("{GOOD}\n[disclosure]\nthreshold = {MIN_THRESHOLD}\n");
    let c = NodeConfig::parse(Path::new("/etc/borough/lambeth.toml"), &text).unwrap();
    assert_eq!(c.disclosure.rounding_base, MIN_ROUNDING_BASE);
}

#[test]
fn looser_disclosure_is_refused_naming_the_key() {
    for (key, value, min) in [
        ("threshold", MIN_THRESHOLD - 1, MIN_THRESHOLD),
        ("threshold", 0, MIN_THRESHOLD),
        ("rounding_base", MIN_ROUNDING_BASE - 1, MIN_ROUNDING_BASE),
    ] {
        let e = error_of(&format!("{GOOD}\n[disclosure]\n{key} = {value}\n"));
        let expected = format!(
            "/etc/borough/lambeth.toml: key `disclosure.{key}`: {value} is looser than the \
             minimum {min}; disclosure control can be made stricter, never looser"
        );
        assert_eq!(e, expected);
    }
}

#[test]
fn a_larger_privacy_budget_is_refused_naming_the_key() {
    for key in ["privacy_budget_micros", "max_query_epsilon_micros"] {
        let e = error_of(&format!("{GOOD}\n[disclosure]\n{key} = 2000000\n"));
        assert!(
            e.contains(&format!("`disclosure.{key}`")) && e.contains("looser than the maximum"),
            "{e}"
        );
    }
    let text = format!("{GOOD}\n[disclosure]\nprivacy_budget_micros = 250000\n");
    let c = NodeConfig::parse(Path::new("/etc/borough/lambeth.toml"), &text).unwrap();
    assert_eq!(c.disclosure.privacy_budget_micros, 250_000);
}

#[test]
fn a_zero_rounding_base_is_refused() {
    let e = error_of(&format!("{GOOD}\n[disclosure]\nrounding_base = 0\n"));
    assert!(
        e.contains("`disclosure.rounding_base`") && e.contains("0 is looser than the minimum"),
        "{e}"
    );
}

#[test]
fn unknown_and_negative_disclosure_keys_are_refused() {
    let e = error_of(&format!("{GOOD}\n[disclosure]\nepsilon = 1\n"));
    assert!(
        e.contains("/etc/borough/lambeth.toml") && e.contains("unknown field `epsilon`"),
        "{e}"
    );
    let e = error_of(&format!("{GOOD}\n[disclosure]\nthreshold = -10\n"));
    assert!(e.contains("threshold"), "{e}");
}

#[test]
fn the_researcher_certificate_defaults_beside_the_node_certificate_and_may_be_moved() {
    let c = NodeConfig::parse(Path::new("/etc/borough/lambeth.toml"), GOOD).unwrap();
    assert_eq!(
        (c.tools.researcher_cert, c.tools.researcher_key),
        (
            PathBuf::from("/etc/borough/certs/E09000022/researcher.pem"),
            PathBuf::from("/etc/borough/certs/E09000022/researcher.key")
        )
    );
    let moved = format!(
        "{GOOD}\n[tools]\nresearcher_cert = \"/home/r/r.pem\"\nresearcher_key = \"keys/r.key\"\n"
    );
    let c = NodeConfig::parse(Path::new("/etc/borough/lambeth.toml"), &moved).unwrap();
    assert_eq!(c.tools.researcher_cert, Path::new("/home/r/r.pem"));
    assert_eq!(c.tools.researcher_key, Path::new("/etc/borough/keys/r.key"));
}
