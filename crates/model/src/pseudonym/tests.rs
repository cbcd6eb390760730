//! Tests of linkage keys, NI numbers and pseudonyms.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::*;
use crate::Season;

/// The key 00 01 02 … 1f: easy to reproduce outside Rust.
fn test_key() -> LinkageKey {
    LinkageKey::from_bytes(std::array::from_fn(|i| i as u8))
}

fn ni(s: &str) -> NiNumber {
    NiNumber::parse(s).unwrap()
}

fn term(year: i32, season: Season) -> Term {
    Term::new(year, season).unwrap()
}

#[test]
fn an_ni_number_typed_differently_gives_the_same_pseudonym() {
    let key = test_key();
    let expected = ni("AB123456C").pseudonym(&key);
    for typed in [
        "ab 12 34 56 c",
        " AB123456C\n",
        "Ab 123 456 C",
        "ab\t123456c",
    ] {
        assert_eq!(ni(typed).pseudonym(&key), expected, "{typed:?}");
    }
}

#[test]
fn another_key_gives_another_pseudonym() {
    let other = LinkageKey::from_bytes([7; 32]);
    assert_ne!(
        ni("AB123456C").pseudonym(&test_key()),
        ni("AB123456C").pseudonym(&other)
    );
}

#[test]
fn another_person_gives_another_pseudonym() {
    let key = test_key();
    assert_ne!(
        ni("AB123456C").pseudonym(&key),
        ni("AB123457C").pseudonym(&key)
    );
}

#[test]
fn family_links_differ_between_rounds_and_from_the_participant_pseudonym() {
    let (key, parent) = (test_key(), ni("AB123456C"));
    let autumn = parent.family_link(&key, term(2026, Season::Autumn));
    let spring = parent.family_link(&key, term(2027, Season::Spring));
    assert_ne!(autumn, spring);
    assert_ne!(autumn, parent.pseudonym(&key));
    // Within one round the same family links.
    assert_eq!(
        autumn,
        ni("ab 123456 c").family_link(&key, term(2026, Season::Autumn))
    );
}

/// Computed independently with Python's standard library:
/// `hmac.new(bytes(range(32)), b"ni:AB123456C", hashlib.sha256).hexdigest()`.
const PYTHON_NI_VECTOR: &str = "885e592e19929a1d4f4a6c82458476299ebfe536cf09f586b1901e815c908b07";
/// `hmac.new(bytes(range(32)), b"family:2026-autumn:AB123456C", hashlib.sha256)`.
const PYTHON_FAMILY_VECTOR: &str =
    "45e5a2641d6d8d840b855bb53f25b14936306871079c0781f5cbf4e6941b4e8b";

#[test]
fn pseudonyms_match_a_known_hmac_sha256_vector() {
    let key = test_key();
    let mut mac =
        Hmac::<Sha256>::new_from_slice(&std::array::from_fn::<u8, 32, _>(|i| i as u8)).unwrap();
    mac.update(b"ni:AB123456C");
    let direct = hex::encode(mac.finalize().into_bytes());
    let ours = ni("ab 12 34 56 c").pseudonym(&key).to_string();
    assert_eq!(ours, direct);
    assert_eq!(ours, PYTHON_NI_VECTOR);
    assert_eq!(
        ni("AB123456C")
            .family_link(&key, term(2026, Season::Autumn))
            .to_string(),
        PYTHON_FAMILY_VECTOR
    );
}

#[test]
fn ni_numbers_in_a_bad_format_are_refused_naming_the_rule() {
    let cases = [
        ("", "two letters, six digits and a letter"),
        ("AB12345C", "two letters, six digits and a letter"),
        ("AB1234567C", "two letters, six digits and a letter"),
        ("A1123456C", "two letters, six digits and a letter"),
        ("AB123456", "two letters, six digits and a letter"),
        ("AB-123456-C", "two letters, six digits and a letter"),
        ("DA123456C", "first letter"),
        ("QA123456C", "first letter"),
        ("VA123456C", "first letter"),
        ("AO123456C", "second letter"),
        ("AD123456C", "second letter"),
        ("GB123456C", "never issues"),
        ("NK123456C", "never issues"),
        ("ZZ123456C", "never issues"),
        ("AB123456E", "final letter"),
    ];
    for (typed, problem) in cases {
        let err = NiNumber::parse(typed).unwrap_err().to_string();
        assert!(err.contains(problem), "{typed:?}: {err}");
    }
}

#[test]
fn an_ni_error_never_repeats_the_number() {
    for typed in ["QQ987654Z", "XY98765", "XO987654A"] {
        let err = NiNumber::parse(typed).unwrap_err().to_string();
        assert!(!err.contains("987654"), "{err}");
    }
}

#[test]
fn secrets_and_identifiers_are_redacted_in_debug() {
    let shown = [
        format!("{:?}", test_key()),
        format!("{:?}", ni("AB123456C")),
    ];
    assert_eq!(shown, ["LinkageKey(<redacted>)", "NiNumber(<redacted>)"]);
}

#[test]
fn a_linkage_key_is_64_hex_digits_with_surrounding_whitespace_ignored() {
    let hex64 = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    for typed in [
        hex64.to_string(),
        format!("  {hex64}\n"),
        hex64.to_uppercase(),
    ] {
        let key = LinkageKey::from_hex(&typed).unwrap();
        assert_eq!(
            ni("AB123456C").pseudonym(&key),
            ni("AB123456C").pseudonym(&test_key())
        );
    }
}

#[test]
fn a_linkage_key_of_the_wrong_length_names_the_length_found() {
    let cases = [
        ("a".repeat(63), "found 63 characters"),
        ("a".repeat(65), "found 65 characters"),
        (String::new(), "found 0 characters"),
        ("\n".to_string(), "found 0 characters"),
        (
            format!("{} {}", "a".repeat(32), "a".repeat(32)),
            "found 65 characters",
        ),
        ("g".repeat(64), "only the hex digits"),
    ];
    for (typed, problem) in cases {
        let err = LinkageKey::from_hex(&typed).unwrap_err().to_string();
        assert!(err.contains(problem), "{typed:?}: {err}");
    }
}

#[test]
fn a_pseudonym_displays_as_64_lower_case_hex_digits_and_parses_back() {
    let p = ni("AB123456C").pseudonym(&test_key());
    let text = p.to_string();
    assert_eq!(text.len(), 64);
    assert!(text
        .bytes()
        .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase()));
    assert_eq!(Pseudonym::from_hex(&text.to_uppercase()).unwrap(), p);
    assert_eq!(Pseudonym::from_bytes(*p.as_bytes()), p);
    assert!(Pseudonym::from_hex(&text[..62]).is_err());
}
