//! Tests of perturbation keys and record keys.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::*;

/// The key 00 01 02 … 1f: easy to reproduce outside Rust.
fn test_key() -> PerturbationKey {
    PerturbationKey::from_bytes(std::array::from_fn(|i| i as u8))
}

#[test]
fn a_record_key_is_the_first_byte_of_the_domain_separated_hmac() {
    let key: [u8; 32] = std::array::from_fn(|i| i as u8);
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(b"borough-net record key v1\0subject-1");
    let expected = mac.finalize().into_bytes()[0];
    assert_eq!(test_key().record_key(b"subject-1"), expected);
}

#[test]
fn a_record_key_is_deterministic() {
    let key = test_key();
    for subject in [&b""[..], b"a", b"subject-1", &[0xff; 32]] {
        assert_eq!(key.record_key(subject), key.record_key(subject));
        assert_eq!(
            key.record_key(subject),
            key.clone().record_key(subject),
            "a clone is the same key"
        );
    }
}

#[test]
fn another_key_gives_other_record_keys() {
    let (a, b) = (test_key(), PerturbationKey::from_bytes([7; 32]));
    // One byte collides for 1 subject in 256; over 64 subjects they cannot all agree.
    let differ = (0u32..64)
        .filter(|i| a.record_key(&i.to_be_bytes()) != b.record_key(&i.to_be_bytes()))
        .count();
    assert!(differ > 48, "only {differ} of 64 differ");
}

#[test]
fn another_subject_gives_another_record_key() {
    let key = test_key();
    let first = key.record_key(b"subject-0");
    let differ = (1u32..65)
        .filter(|i| key.record_key(format!("subject-{i}").as_bytes()) != first)
        .count();
    assert!(differ > 48, "only {differ} of 64 differ");
}

#[test]
fn record_keys_are_roughly_uniform() {
    // 25,600 subjects, 100 expected per value: a count outside 50..=150 is more
    // than five standard deviations out, and the inputs are fixed, so this cannot
    // flake.
    let key = test_key();
    let mut counts = [0u32; 256];
    for i in 0u32..25_600 {
        counts[usize::from(key.record_key(&i.to_be_bytes()))] += 1;
    }
    for (value, &n) in counts.iter().enumerate() {
        assert!((50..=150).contains(&n), "record key {value} seen {n} times");
    }
}

#[test]
fn a_key_reads_from_64_hex_digits_and_errors_never_repeat_it() {
    let hex: String = (0u8..32).map(|b| format!("{b:02x}")).collect();
    let key = PerturbationKey::from_hex(&format!("  {hex}\n")).unwrap();
    assert_eq!(key.record_key(b"x"), test_key().record_key(b"x"));
    let short = PerturbationKey::from_hex("abcd").unwrap_err().to_string();
    assert!(
        short.contains("perturbation key") && short.contains("found 4 characters"),
        "{short}"
    );
    let secret = "zz".repeat(32);
    let bad = PerturbationKey::from_hex(&secret).unwrap_err().to_string();
    assert!(
        bad.contains("hex digits") && !bad.contains(&secret),
        "{bad}"
    );
}

#[test]
fn debug_is_redacted() {
    let key = PerturbationKey::from_bytes([0xab; 32]);
    let shown = format!("{key:?}");
    assert_eq!(shown, "PerturbationKey(<redacted>)");
}
