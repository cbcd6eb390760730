//! Domain enums travel as protobuf enums declared in the same order as the domain
//! type's `ALL`, with 0 left for "unspecified"; one pair of functions maps them, and
//! a test checks the two declarations still line up by name.

/// The wire value of `value`: its position in `all`, plus one.
pub(crate) fn to_wire<T: PartialEq + Copy>(all: &[T], value: T) -> i32 {
    all.iter()
        .position(|v| *v == value)
        .map_or(0, |i| i as i32 + 1)
}

/// The domain value of a wire value; `None` for 0 (unspecified) or unknown values.
pub(crate) fn from_wire<T: Copy>(all: &[T], wire: i32) -> Option<T> {
    usize::try_from(wire - 1)
        .ok()
        .and_then(|i| all.get(i).copied())
}

#[cfg(test)]
mod tests {
    use crate::descriptor_pool;
    use borough_model::{AdultAgeBand, EligibilityGroup, Programme, SendNeed, Sex};

    /// Checks that the wire enum `name` lists `texts` in order after UNSPECIFIED.
    fn check(name: &str, texts: &[&str]) {
        let e = descriptor_pool().get_enum_by_name(name).expect(name);
        let wire: Vec<String> = e.values().skip(1).map(|v| v.name().to_string()).collect();
        let expected: Vec<String> = texts
            .iter()
            .map(|t| t.to_uppercase().replace('-', "_").replace('+', "_PLUS"))
            .collect();
        assert_eq!(wire.len(), expected.len(), "{name}");
        for (w, e) in wire.iter().zip(&expected) {
            assert!(w.ends_with(e.as_str()), "{name}: {w} does not match {e}");
        }
    }

    #[test]
    fn wire_enums_list_the_domain_values_in_order() {
        check(
            "borough.v1.SendNeed",
            &SendNeed::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>(),
        );
        check(
            "borough.v1.Programme",
            &Programme::ALL
                .iter()
                .map(|v| v.as_str())
                .collect::<Vec<_>>(),
        );
        check(
            "borough.v1.EligibilityGroup",
            &EligibilityGroup::ALL
                .iter()
                .map(|v| v.as_str())
                .collect::<Vec<_>>(),
        );
        check(
            "borough.v1.Sex",
            &Sex::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>(),
        );
        check(
            "borough.v1.AdultAgeBand",
            &AdultAgeBand::ALL
                .iter()
                .map(|v| v.as_str())
                .collect::<Vec<_>>(),
        );
    }
}
