//! The dataset registry and the identities of records within it.

use std::fmt;
use std::str::FromStr;

use crate::Invalid;

/// A kind of record that boroughs share. Each dataset has one shareable record type
/// and its own change log, so datasets replicate independently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Dataset {
    /// Childcare providers' offers and vacancies (no personal data).
    ChildcarePlaces,
    /// Families' requests for childcare places (pseudonymised, generalised).
    ChildcareRequests,
    /// People's journeys through employment programmes (pseudonymised,
    /// generalised).
    EmploymentParticipation,
}

impl Dataset {
    /// Every dataset this version knows.
    pub const ALL: [Dataset; 3] = [
        Dataset::ChildcarePlaces,
        Dataset::ChildcareRequests,
        Dataset::EmploymentParticipation,
    ];

    /// The dataset's name in configuration, agreements and on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Dataset::ChildcarePlaces => "childcare-places",
            Dataset::ChildcareRequests => "childcare-requests",
            Dataset::EmploymentParticipation => "employment-participation",
        }
    }

    /// A one-byte tag used in store keys, stable across versions.
    pub fn tag(self) -> u8 {
        match self {
            Dataset::ChildcarePlaces => 1,
            Dataset::ChildcareRequests => 2,
            Dataset::EmploymentParticipation => 3,
        }
    }
}

impl fmt::Display for Dataset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Dataset {
    type Err = Invalid;
    fn from_str(s: &str) -> Result<Self, Invalid> {
        Dataset::ALL
            .into_iter()
            .find(|d| d.as_str() == s)
            .ok_or_else(|| {
                let known: Vec<_> = Dataset::ALL.iter().map(|d| d.as_str()).collect();
                Invalid::field(
                    "dataset",
                    format!("unknown dataset `{s}` (known: {})", known.join(", ")),
                )
            })
    }
}

/// The longest record id accepted, in bytes.
pub const MAX_RECORD_ID_LEN: usize = 64;

/// A record's id, unique within (dataset, origin). Ids are opaque tokens chosen by
/// the origin, limited to `[A-Za-z0-9._:-]` so they are safe in logs and keys.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RecordId(String);

impl RecordId {
    /// Checks and wraps an id.
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        if s.is_empty() {
            return Err(Invalid::field("id", "is empty"));
        }
        if s.len() > MAX_RECORD_ID_LEN {
            return Err(Invalid::field(
                "id",
                format!("is {} bytes, longer than {MAX_RECORD_ID_LEN}", s.len()),
            ));
        }
        if !s
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'))
        {
            return Err(Invalid::field(
                "id",
                "may hold only letters, digits and . _ : -",
            ));
        }
        Ok(RecordId(s.to_string()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RecordId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for RecordId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RecordId({})", self.0)
    }
}

/// A position in one origin's change log for one dataset. Sequence numbers start at 1,
/// rise by exactly one per change, and 0 means "nothing yet".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Seq(pub u64);

impl Seq {
    /// The next sequence number.
    pub fn next(self) -> Seq {
        Seq(self.0 + 1)
    }
}

impl fmt::Display for Seq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A record's version: 1 when first written, one more for each change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Version(pub u64);

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_ids_are_printable_tokens() {
        assert!(RecordId::parse("place-00017").is_ok());
        assert!(RecordId::parse("EY123456:2").is_ok());
        for bad in ["", "has space", "slash/id", &"x".repeat(65), "naïve"] {
            assert!(RecordId::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn datasets_parse_from_their_names() {
        for d in Dataset::ALL {
            assert_eq!(d.as_str().parse::<Dataset>().unwrap(), d);
        }
        let err = "employment".parse::<Dataset>().unwrap_err();
        assert!(err.to_string().contains("unknown dataset `employment`"));
    }

    #[test]
    fn dataset_tags_are_distinct_and_stable() {
        let tags: Vec<(&str, u8)> = Dataset::ALL.iter().map(|d| (d.as_str(), d.tag())).collect();
        assert_eq!(
            tags,
            [
                ("childcare-places", 1),
                ("childcare-requests", 2),
                ("employment-participation", 3)
            ]
        );
    }
}
