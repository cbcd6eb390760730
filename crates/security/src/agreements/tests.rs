use std::fs;

use borough_model::{Dataset, GssCode};
use time::macros::date;

use super::*;

const LAMBETH: &str = "E09000022";
const LEWISHAM: &str = "E09000023";
const SOUTHWARK: &str = "E09000028";

const EXAMPLE: &str = r#"id = "lambeth-southwark"
title = "Lambeth and Southwark: childcare places"
parties = ["E09000022", "E09000028"]
purpose = "Joint childcare brokerage and sufficiency planning"
lawful_basis = "public-task"        # one of: public-task, legal-obligation, consent, contract, vital-interests, legitimate-interests
valid_from = 2026-01-01
valid_until = 2028-03-31
retention_days = 365
onward_relay = false                 # optional, default false

[[datasets]]
name = "childcare-places"
fields = ["provider_urn", "provider_type", "ofsted_grade", "borough", "location", "offers", "send_support", "accepts_out_of_borough", "admission_priorities"]
from = ["E09000022", "E09000028"]    # optional: which parties disclose this dataset; default both
"#;

fn gss(code: &str) -> GssCode {
    GssCode::parse(code).unwrap()
}

fn path() -> &'static Path {
    Path::new("config/agreements/lambeth-southwark.toml")
}

fn parse(text: &str) -> Result<Agreement, Error> {
    Agreement::parse(path(), text)
}

/// The example with one exact piece of text replaced.
fn example_with(from: &str, to: &str) -> String {
    assert!(EXAMPLE.contains(from), "example has no `{from}`");
    EXAMPLE.replacen(from, to, 1)
}

/// Asserts the text is refused with a message naming the file, the line and the key.
fn assert_refused(text: &str, line: usize, key: &str, problem: &str) {
    let err = parse(text).unwrap_err();
    let message = err.to_string();
    assert!(
        matches!(&err, Error::AgreementInvalid { line: l, key: k, .. } if *l == line && k == key),
        "{message}"
    );
    assert!(
        message.contains("config/agreements/lambeth-southwark.toml"),
        "{message}"
    );
    assert!(message.contains(&format!("`{key}`")), "{message}");
    assert!(message.contains(problem), "{message}");
}

fn agreement(id: &str, parties: [&str; 2], from: &[&str]) -> Agreement {
    let from = from
        .iter()
        .map(|b| format!("\"{b}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let text = format!(
        "id = \"{id}\"\ntitle = \"t\"\nparties = [\"{}\", \"{}\"]\npurpose = \"p\"\n\
         lawful_basis = \"public-task\"\nvalid_from = 2026-01-01\nvalid_until = 2027-01-01\n\
         retention_days = 30\n[[datasets]]\nname = \"childcare-places\"\nfields = [\"borough\"]\n\
         from = [{from}]\n",
        parties[0], parties[1]
    );
    Agreement::parse(Path::new(&format!("{id}.toml")), &text).unwrap()
}

#[test]
fn the_example_agreement_parses_into_its_terms() {
    let a = parse(EXAMPLE).unwrap();
    assert_eq!(a.id, "lambeth-southwark");
    assert_eq!(a.title, "Lambeth and Southwark: childcare places");
    assert_eq!(a.parties, [gss(LAMBETH), gss(SOUTHWARK)]);
    assert_eq!(a.lawful_basis, LawfulBasis::PublicTask);
    assert_eq!(a.valid_from, date!(2026 - 01 - 01));
    assert_eq!(a.valid_until, date!(2028 - 03 - 31));
    assert_eq!(a.retention_days, 365);
    assert!(!a.onward_relay);
    assert_eq!(a.datasets.len(), 1);
    assert_eq!(a.datasets[0].dataset, Dataset::ChildcarePlaces);
    assert_eq!(a.datasets[0].fields.len(), 9);
    assert_eq!(a.datasets[0].from, [gss(LAMBETH), gss(SOUTHWARK)]);
    assert_eq!(a.source, path());
}

#[test]
fn optional_keys_default_to_no_relay_and_both_parties_disclosing() {
    let text = example_with("onward_relay = false", "")
        .replace("from = [\"E09000022\", \"E09000028\"]", "");
    let a = parse(&text).unwrap();
    assert!(!a.onward_relay);
    assert_eq!(a.datasets[0].from, [gss(LAMBETH), gss(SOUTHWARK)]);
}

#[test]
fn an_unknown_key_is_refused_naming_the_file_and_key() {
    let text = example_with(
        "retention_days = 365",
        "retention_days = 365\nshare_everything = true",
    );
    let message = parse(&text).unwrap_err().to_string();
    assert!(message.contains("lambeth-southwark.toml"), "{message}");
    assert!(message.contains("share_everything"), "{message}");
}

#[test]
fn an_unknown_lawful_basis_is_refused_naming_the_choices() {
    let text = example_with("\"public-task\"", "\"because\"");
    let message = parse(&text).unwrap_err().to_string();
    assert!(message.contains("lambeth-southwark.toml"), "{message}");
    assert!(message.contains("legitimate-interests"), "{message}");
}

#[test]
fn a_single_party_is_refused() {
    let text = example_with(
        "parties = [\"E09000022\", \"E09000028\"]",
        "parties = [\"E09000022\"]",
    );
    assert_refused(&text, 3, "parties", "exactly two boroughs");
}

#[test]
fn the_same_borough_twice_is_refused() {
    let text = example_with(
        "parties = [\"E09000022\", \"E09000028\"]",
        "parties = [\"E09000022\", \"E09000022\"]",
    );
    assert_refused(&text, 3, "parties", "listed twice");
}

#[test]
fn a_party_that_is_not_a_london_borough_is_refused() {
    let text = example_with(
        "parties = [\"E09000022\", \"E09000028\"]",
        "parties = [\"E09000022\", \"E08000001\"]",
    );
    assert_refused(&text, 3, "parties", "E08000001");
}

#[test]
fn an_unknown_dataset_is_refused() {
    let text = example_with("name = \"childcare-places\"", "name = \"employment\"");
    assert_refused(
        &text,
        12,
        "datasets[0].name",
        "unknown dataset `employment`",
    );
}

#[test]
fn a_dataset_listed_twice_is_refused() {
    let text =
        format!("{EXAMPLE}\n[[datasets]]\nname = \"childcare-places\"\nfields = [\"borough\"]\n");
    assert_refused(&text, 17, "datasets[1].name", "listed twice");
}

#[test]
fn an_empty_field_list_is_refused() {
    let text = format!(
        "{}fields = []\n",
        &EXAMPLE[..EXAMPLE.find("fields = [\"provider_urn\"").unwrap()]
    );
    assert_refused(&text, 13, "datasets[0].fields", "at least one field");
}

#[test]
fn a_field_listed_twice_is_refused() {
    let text = example_with("\"offers\", ", "\"offers\", \"offers\", ");
    assert_refused(&text, 13, "datasets[0].fields", "`offers` is listed twice");
}

#[test]
fn a_discloser_that_is_not_a_party_is_refused() {
    let text = example_with(
        "from = [\"E09000022\", \"E09000028\"]",
        "from = [\"E09000022\", \"E09000023\"]",
    );
    assert_refused(
        &text,
        14,
        "datasets[0].from",
        "E09000023 (Lewisham) is not a party",
    );
}

#[test]
fn an_agreement_ending_before_it_starts_is_refused() {
    let text = example_with("valid_until = 2028-03-31", "valid_until = 2025-12-31");
    assert_refused(&text, 7, "valid_until", "before valid_from");
}

#[test]
fn a_date_with_a_time_is_refused() {
    let text = example_with(
        "valid_from = 2026-01-01",
        "valid_from = 2026-01-01T09:00:00Z",
    );
    assert_refused(&text, 6, "valid_from", "without a time");
}

#[test]
fn zero_retention_is_refused() {
    let text = example_with("retention_days = 365", "retention_days = 0");
    assert_refused(&text, 8, "retention_days", "at least 1");
}

#[test]
fn an_agreement_without_datasets_is_refused() {
    let text = format!(
        "{}datasets = []\n",
        &EXAMPLE[..EXAMPLE.find("[[datasets]]").unwrap()]
    );
    assert_refused(&text, 11, "datasets", "at least one dataset");
}

#[test]
fn the_hash_ignores_comments_layout_and_order() {
    let reordered = r#"
        # The same agreement, written differently.
        valid_until = 2028-03-31
        parties = [ "E09000028", "E09000022" ]
        retention_days = 365
        id = "lambeth-southwark"
        purpose = "Joint childcare brokerage and sufficiency planning"
        title = "Lambeth and Southwark: childcare places"
        lawful_basis = "public-task"
        valid_from = 2026-01-01

        [[datasets]]
        fields = ["admission_priorities", "accepts_out_of_borough", "send_support", "offers",
                  "location", "borough", "ofsted_grade", "provider_type", "provider_urn"]
        name = "childcare-places"
    "#;
    assert_eq!(
        parse(EXAMPLE).unwrap().hash(),
        parse(reordered).unwrap().hash()
    );
}

#[test]
fn the_hash_changes_when_any_term_changes() {
    let original = parse(EXAMPLE).unwrap().hash();
    let changes = [
        ("id = \"lambeth-southwark\"", "id = \"lambeth-southwark-2\""),
        ("title = \"Lambeth", "title = \"LAMBETH"),
        (
            "\"E09000022\", \"E09000028\"]\npurpose",
            "\"E09000023\", \"E09000028\"]\npurpose",
        ),
        ("sufficiency planning", "sufficiency analysis"),
        ("\"public-task\"", "\"consent\""),
        ("valid_from = 2026-01-01", "valid_from = 2026-01-02"),
        ("valid_until = 2028-03-31", "valid_until = 2028-04-01"),
        ("retention_days = 365", "retention_days = 366"),
        ("onward_relay = false", "onward_relay = true"),
        (", \"admission_priorities\"]", "]"),
        (
            "from = [\"E09000022\", \"E09000028\"]",
            "from = [\"E09000022\"]",
        ),
    ];
    for (from, to) in changes {
        let mut text = example_with(from, to);
        if from.contains("E09000022\", \"E09000028\"]\npurpose") {
            // The disclosers must stay parties when a party changes.
            text = text.replace("from = [\"E09000022\", \"E09000028\"]", "");
        }
        let changed = parse(&text).unwrap().hash();
        assert_ne!(
            changed, original,
            "changing `{from}` to `{to}` kept the hash"
        );
    }
}

#[test]
fn the_hash_round_trips_through_hex() {
    let hash = parse(EXAMPLE).unwrap().hash();
    let hex = hash.to_string();
    assert_eq!(hex.len(), 64);
    assert_eq!(hex, hex.to_lowercase());
    assert_eq!(hex.parse::<AgreementHash>().unwrap(), hash);
    assert_eq!(AgreementHash::from_hex(&hex).unwrap(), hash);
}

#[test]
fn text_that_is_not_64_hex_digits_is_not_a_hash() {
    for bad in ["", "abc", &"zz".repeat(32), &"ab".repeat(31)] {
        assert!(bad.parse::<AgreementHash>().is_err(), "{bad:?} accepted");
    }
}

#[test]
fn an_agreement_is_active_from_its_first_to_its_last_day() {
    let a = parse(EXAMPLE).unwrap();
    assert_eq!(
        a.state(date!(2025 - 12 - 31)),
        AgreementState::NotYetValid {
            from: date!(2026 - 01 - 01)
        }
    );
    assert_eq!(a.state(date!(2026 - 01 - 01)), AgreementState::Active);
    assert_eq!(a.state(date!(2028 - 03 - 31)), AgreementState::Active);
    assert_eq!(
        a.state(date!(2028 - 04 - 01)),
        AgreementState::Expired {
            until: date!(2028 - 03 - 31)
        }
    );
}

#[test]
fn covering_follows_who_may_disclose() {
    let book =
        AgreementBook::new(vec![agreement("one-way", [LAMBETH, SOUTHWARK], &[LAMBETH])]).unwrap();
    let (a, terms) = book
        .covering(gss(LAMBETH), gss(SOUTHWARK), Dataset::ChildcarePlaces)
        .unwrap();
    assert_eq!(a.id, "one-way");
    assert_eq!(terms.fields, ["borough"]);
    assert!(book
        .covering(gss(SOUTHWARK), gss(LAMBETH), Dataset::ChildcarePlaces)
        .is_none());
    assert!(book
        .covering(gss(LAMBETH), gss(LEWISHAM), Dataset::ChildcarePlaces)
        .is_none());
}

#[test]
fn a_node_sees_only_its_own_agreements_and_peers() {
    let book = AgreementBook::new(vec![
        agreement("a", [LAMBETH, SOUTHWARK], &[LAMBETH]),
        agreement("b", [LEWISHAM, SOUTHWARK], &[SOUTHWARK]),
    ])
    .unwrap();
    let ids: Vec<_> = book.for_node(gss(LAMBETH)).map(|a| a.id.as_str()).collect();
    assert_eq!(ids, ["a"]);
    assert_eq!(
        book.peers_of(gss(SOUTHWARK))
            .into_iter()
            .collect::<Vec<_>>(),
        [gss(LAMBETH), gss(LEWISHAM)]
    );
    assert!(book.peers_of(gss("E09000001")).is_empty());
}

#[test]
fn two_agreements_covering_the_same_flow_are_refused_naming_both_files() {
    let err = AgreementBook::new(vec![
        agreement("first", [LAMBETH, SOUTHWARK], &[LAMBETH]),
        agreement("second", [SOUTHWARK, LAMBETH], &[LAMBETH, SOUTHWARK]),
    ])
    .unwrap_err();
    let message = err.to_string();
    assert!(
        matches!(err, Error::AmbiguousAgreements { .. }),
        "{message}"
    );
    assert!(
        message.contains("first.toml") && message.contains("second.toml"),
        "{message}"
    );
}

#[test]
fn agreements_covering_opposite_directions_are_not_ambiguous() {
    let book = AgreementBook::new(vec![
        agreement("east", [LAMBETH, SOUTHWARK], &[LAMBETH]),
        agreement("west", [LAMBETH, SOUTHWARK], &[SOUTHWARK]),
    ])
    .unwrap();
    let (a, _) = book
        .covering(gss(SOUTHWARK), gss(LAMBETH), Dataset::ChildcarePlaces)
        .unwrap();
    assert_eq!(a.id, "west");
}

#[test]
fn two_agreements_with_one_id_are_refused() {
    let mut second = agreement("same", [LAMBETH, LEWISHAM], &[LAMBETH]);
    second.source = PathBuf::from("other.toml");
    let err = AgreementBook::new(vec![
        agreement("same", [LAMBETH, SOUTHWARK], &[LAMBETH]),
        second,
    ])
    .unwrap_err();
    let message = err.to_string();
    assert!(
        matches!(err, Error::DuplicateAgreementId { .. }),
        "{message}"
    );
    assert!(
        message.contains("same.toml") && message.contains("other.toml"),
        "{message}"
    );
}

#[test]
fn load_dir_reads_every_toml_file_in_name_order() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("b.toml"), EXAMPLE).unwrap();
    let other = EXAMPLE
        .replace("lambeth-southwark", "lewisham-southwark")
        .replace("\"E09000022\"", "\"E09000023\"");
    fs::write(dir.path().join("a.toml"), other).unwrap();
    fs::write(dir.path().join("README.md"), "not an agreement").unwrap();
    let book = load_dir(dir.path()).unwrap();
    let ids: Vec<_> = book.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids, ["lewisham-southwark", "lambeth-southwark"]);
    assert_eq!(
        book.iter().next().unwrap().source,
        dir.path().join("a.toml")
    );
}

#[test]
fn load_dir_refuses_ambiguous_files() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("a.toml"), EXAMPLE).unwrap();
    fs::write(
        dir.path().join("b.toml"),
        EXAMPLE.replace("id = \"lambeth-southwark\"", "id = \"copy\""),
    )
    .unwrap();
    let err = load_dir(dir.path()).unwrap_err();
    assert!(matches!(err, Error::AmbiguousAgreements { .. }), "{err}");
}

#[test]
fn load_dir_names_a_missing_directory() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("agreements");
    let err = load_dir(&missing).unwrap_err();
    assert!(
        err.to_string().contains(&missing.display().to_string()),
        "{err}"
    );
}
