//! Data-sharing agreements (`config/agreements/*.toml`): which borough may send which
//! dataset's fields to which other borough, for what purpose and until when.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use borough_model::{Dataset, GssCode};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use time::{Date, Month};
use toml::Spanned;

use crate::certs::read_text;
use crate::Error;

/// The lawful basis for processing under UK GDPR Article 6.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LawfulBasis {
    /// A task in the public interest or in the exercise of official authority.
    PublicTask,
    /// Compliance with a legal obligation.
    LegalObligation,
    /// The data subject's consent.
    Consent,
    /// Performance of a contract with the data subject.
    Contract,
    /// Protection of someone's vital interests.
    VitalInterests,
    /// Legitimate interests of the controller or a third party.
    LegitimateInterests,
}

impl LawfulBasis {
    /// The basis as written in agreement files.
    pub fn as_str(self) -> &'static str {
        match self {
            LawfulBasis::PublicTask => "public-task",
            LawfulBasis::LegalObligation => "legal-obligation",
            LawfulBasis::Consent => "consent",
            LawfulBasis::Contract => "contract",
            LawfulBasis::VitalInterests => "vital-interests",
            LawfulBasis::LegitimateInterests => "legitimate-interests",
        }
    }
}

impl fmt::Display for LawfulBasis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an agreement lets its parties share of one dataset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatasetTerms {
    /// The dataset.
    pub dataset: Dataset,
    /// The fields that may be disclosed, as named in the wire schema.
    pub fields: Vec<String>,
    /// The parties that may disclose it (each to the other party).
    pub from: Vec<GssCode>,
}

/// One data-sharing agreement between two boroughs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agreement {
    /// The agreement's id, unique across a node's agreements.
    pub id: String,
    /// A human-readable title.
    pub title: String,
    /// The two boroughs party to it.
    pub parties: [GssCode; 2],
    /// Why the data is shared.
    pub purpose: String,
    /// The lawful basis for sharing.
    pub lawful_basis: LawfulBasis,
    /// The first day sharing is allowed.
    pub valid_from: Date,
    /// The last day sharing is allowed.
    pub valid_until: Date,
    /// How many days a recipient may keep what it receives.
    pub retention_days: u32,
    /// Whether a recipient may pass records on to a third borough.
    pub onward_relay: bool,
    /// What may be shared, per dataset.
    pub datasets: Vec<DatasetTerms>,
    /// The file the agreement was read from.
    pub source: PathBuf,
}

/// Where an agreement stands on a given day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgreementState {
    /// Sharing starts on `from`.
    NotYetValid {
        /// The first day sharing is allowed.
        from: Date,
    },
    /// Sharing is allowed today.
    Active,
    /// Sharing ended after `until`.
    Expired {
        /// The last day sharing was allowed.
        until: Date,
    },
}

/// The SHA-256 of an agreement's terms: two nodes holding the same hash hold the same
/// agreement, however each file is laid out.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AgreementHash([u8; 32]);

impl AgreementHash {
    /// Wraps a hash received in binary form.
    pub fn from_bytes(bytes: [u8; 32]) -> AgreementHash {
        AgreementHash(bytes)
    }

    /// The hash's 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Parses 64 hexadecimal digits.
    pub fn from_hex(text: &str) -> Result<AgreementHash, Error> {
        let invalid = |problem: String| Error::InvalidAgreementHash {
            text: text.to_string(),
            problem,
        };
        let bytes = hex::decode(text).map_err(|e| invalid(e.to_string()))?;
        let bytes: [u8; 32] = bytes
            .try_into()
            .map_err(|b: Vec<u8>| invalid(format!("{} bytes, expected 32", b.len())))?;
        Ok(AgreementHash(bytes))
    }
}

impl fmt::Display for AgreementHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for AgreementHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AgreementHash({self})")
    }
}

impl FromStr for AgreementHash {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        AgreementHash::from_hex(s)
    }
}

/// The file's shape; every check beyond shape happens in `Agreement::parse`, where the
/// spans let errors name the line.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAgreement {
    id: Spanned<String>,
    title: String,
    parties: Spanned<Vec<String>>,
    purpose: Spanned<String>,
    lawful_basis: LawfulBasis,
    valid_from: Spanned<toml::value::Datetime>,
    valid_until: Spanned<toml::value::Datetime>,
    retention_days: Spanned<i64>,
    #[serde(default)]
    onward_relay: bool,
    datasets: Spanned<Vec<RawDatasetTerms>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDatasetTerms {
    name: Spanned<String>,
    fields: Spanned<Vec<String>>,
    from: Option<Spanned<Vec<String>>>,
}

/// Builds errors that name the file, the line and the key.
struct Checker<'a> {
    path: &'a Path,
    text: &'a str,
}

impl Checker<'_> {
    fn fail(&self, span: Range<usize>, key: &str, problem: impl Into<String>) -> Error {
        let start = span.start.min(self.text.len());
        Error::AgreementInvalid {
            path: self.path.to_path_buf(),
            line: self.text[..start].matches('\n').count() + 1,
            key: key.to_string(),
            problem: problem.into(),
        }
    }

    fn boroughs(&self, list: &Spanned<Vec<String>>, key: &str) -> Result<Vec<GssCode>, Error> {
        let mut codes = Vec::new();
        for code in list.get_ref() {
            let gss =
                GssCode::parse(code).map_err(|e| self.fail(list.span(), key, e.to_string()))?;
            if codes.contains(&gss) {
                return Err(self.fail(list.span(), key, format!("{gss} is listed twice")));
            }
            codes.push(gss);
        }
        Ok(codes)
    }

    fn date(&self, value: &Spanned<toml::value::Datetime>, key: &str) -> Result<Date, Error> {
        let not_a_date = || {
            self.fail(
                value.span(),
                key,
                "must be a date such as 2026-01-01, without a time",
            )
        };
        let datetime = value.get_ref();
        let (Some(date), None, None) = (datetime.date, datetime.time, datetime.offset) else {
            return Err(not_a_date());
        };
        Month::try_from(date.month)
            .ok()
            .and_then(|month| Date::from_calendar_date(i32::from(date.year), month, date.day).ok())
            .ok_or_else(not_a_date)
    }
}

impl Agreement {
    /// Parses and checks one agreement file's text; `path` names it in errors.
    pub fn parse(path: &Path, text: &str) -> Result<Agreement, Error> {
        let raw: RawAgreement = toml::from_str(text).map_err(|source| Error::AgreementSyntax {
            path: path.to_path_buf(),
            source,
        })?;
        let check = Checker { path, text };

        let id = raw.id.get_ref();
        if id.is_empty()
            || !id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        {
            return Err(check.fail(
                raw.id.span(),
                "id",
                format!("`{id}` must be non-empty and hold only letters, digits and . _ -"),
            ));
        }

        let parties = check.boroughs(&raw.parties, "parties")?;
        let parties: [GssCode; 2] = match parties.as_slice() {
            [a, b] => [*a, *b],
            other => {
                return Err(check.fail(
                    raw.parties.span(),
                    "parties",
                    format!("must name exactly two boroughs, not {}", other.len()),
                ))
            }
        };

        if raw.purpose.get_ref().trim().is_empty() {
            return Err(check.fail(
                raw.purpose.span(),
                "purpose",
                "must say why the data is shared",
            ));
        }

        let valid_from = check.date(&raw.valid_from, "valid_from")?;
        let valid_until = check.date(&raw.valid_until, "valid_until")?;
        if valid_until < valid_from {
            return Err(check.fail(
                raw.valid_until.span(),
                "valid_until",
                format!("{valid_until} is before valid_from {valid_from}"),
            ));
        }

        let retention_days = u32::try_from(*raw.retention_days.get_ref())
            .ok()
            .filter(|days| *days >= 1)
            .ok_or_else(|| {
                check.fail(
                    raw.retention_days.span(),
                    "retention_days",
                    format!(
                        "{} must be a whole number of days, at least 1",
                        raw.retention_days.get_ref()
                    ),
                )
            })?;

        if raw.datasets.get_ref().is_empty() {
            return Err(check.fail(
                raw.datasets.span(),
                "datasets",
                "an agreement must share at least one dataset ([[datasets]])",
            ));
        }
        let mut datasets: Vec<DatasetTerms> = Vec::new();
        for (i, terms) in raw.datasets.get_ref().iter().enumerate() {
            let key = |k: &str| format!("datasets[{i}].{k}");
            let dataset: Dataset =
                terms
                    .name
                    .get_ref()
                    .parse()
                    .map_err(|e: borough_model::Invalid| {
                        let problem =
                            e.0.into_iter()
                                .map(|f| f.problem)
                                .collect::<Vec<_>>()
                                .join("; ");
                        check.fail(terms.name.span(), &key("name"), problem)
                    })?;
            if datasets.iter().any(|d| d.dataset == dataset) {
                return Err(check.fail(
                    terms.name.span(),
                    &key("name"),
                    format!("{dataset} is listed twice; give each dataset one [[datasets]] entry"),
                ));
            }

            let fields = terms.fields.get_ref();
            if fields.is_empty() {
                return Err(check.fail(
                    terms.fields.span(),
                    &key("fields"),
                    "must list at least one field",
                ));
            }
            for (j, field) in fields.iter().enumerate() {
                if field.trim().is_empty() {
                    return Err(check.fail(
                        terms.fields.span(),
                        &key("fields"),
                        "a field name is empty",
                    ));
                }
                if fields[..j].contains(field) {
                    return Err(check.fail(
                        terms.fields.span(),
                        &key("fields"),
                        format!("`{field}` is listed twice"),
                    ));
                }
            }

            let from = match &terms.from {
                None => parties.to_vec(),
                Some(list) => {
                    let from = check.boroughs(list, &key("from"))?;
                    if from.is_empty() {
                        return Err(check.fail(
                            list.span(),
                            &key("from"),
                            "must name at least one party (or be left out to mean both)",
                        ));
                    }
                    if let Some(outsider) = from.iter().find(|b| !parties.contains(b)) {
                        return Err(check.fail(
                            list.span(),
                            &key("from"),
                            format!(
                                "{outsider} ({}) is not a party to this agreement ({} and {})",
                                outsider.name(),
                                parties[0],
                                parties[1]
                            ),
                        ));
                    }
                    from
                }
            };
            datasets.push(DatasetTerms {
                dataset,
                fields: fields.clone(),
                from,
            });
        }

        Ok(Agreement {
            id: id.clone(),
            title: raw.title,
            parties,
            purpose: raw.purpose.into_inner(),
            lawful_basis: raw.lawful_basis,
            valid_from,
            valid_until,
            retention_days,
            onward_relay: raw.onward_relay,
            datasets,
            source: path.to_path_buf(),
        })
    }

    /// SHA-256 over a canonical encoding of the terms: layout, comments, key order and
    /// the order of parties, fields and datasets do not matter; every term does.
    pub fn hash(&self) -> AgreementHash {
        let mut canonical = Canonical::default();
        canonical.text("borough-net agreement v1");
        canonical.text(&self.id);
        canonical.text(&self.title);
        canonical.list(self.parties.iter().map(ToString::to_string));
        canonical.text(&self.purpose);
        canonical.text(self.lawful_basis.as_str());
        canonical.text(&self.valid_from.to_string());
        canonical.text(&self.valid_until.to_string());
        canonical.text(&self.retention_days.to_string());
        canonical.text(if self.onward_relay { "true" } else { "false" });
        let mut datasets: Vec<&DatasetTerms> = self.datasets.iter().collect();
        datasets.sort_by_key(|d| d.dataset);
        canonical.count(datasets.len());
        for terms in datasets {
            canonical.text(terms.dataset.as_str());
            canonical.list(terms.fields.iter().cloned());
            canonical.list(terms.from.iter().map(ToString::to_string));
        }
        AgreementHash(canonical.0.finalize().into())
    }

    /// Whether sharing is allowed on `today`; both end dates are inclusive.
    pub fn state(&self, today: Date) -> AgreementState {
        if today < self.valid_from {
            AgreementState::NotYetValid {
                from: self.valid_from,
            }
        } else if today > self.valid_until {
            AgreementState::Expired {
                until: self.valid_until,
            }
        } else {
            AgreementState::Active
        }
    }

    /// The other party, if `me` is one of the two.
    pub fn other_party(&self, me: GssCode) -> Option<GssCode> {
        match self.parties {
            [a, b] if a == me => Some(b),
            [a, b] if b == me => Some(a),
            _ => None,
        }
    }

    /// The terms for one dataset, if the agreement covers it.
    pub fn terms(&self, dataset: Dataset) -> Option<&DatasetTerms> {
        self.datasets.iter().find(|t| t.dataset == dataset)
    }
}

/// Length-prefixed encoding, so no value can run into the next.
#[derive(Default)]
struct Canonical(Sha256);

impl Canonical {
    fn count(&mut self, n: usize) {
        self.0.update((n as u64).to_be_bytes());
    }

    fn text(&mut self, s: &str) {
        self.count(s.len());
        self.0.update(s.as_bytes());
    }

    /// A list whose order carries no meaning: hashed sorted.
    fn list(&mut self, items: impl Iterator<Item = String>) {
        let sorted: BTreeSet<String> = items.collect();
        self.count(sorted.len());
        for item in &sorted {
            self.text(item);
        }
    }
}

/// Every agreement a node holds, checked together: ids are unique and each
/// (discloser, recipient, dataset) flow is covered by at most one agreement.
#[derive(Debug, Clone, Default)]
pub struct AgreementBook {
    agreements: Vec<Agreement>,
    /// (discloser, recipient, dataset) → (agreement index, terms index).
    flows: BTreeMap<(GssCode, GssCode, Dataset), (usize, usize)>,
}

impl AgreementBook {
    /// Checks a set of agreements against each other.
    pub fn new(agreements: Vec<Agreement>) -> Result<AgreementBook, Error> {
        let mut ids: BTreeMap<&str, &Path> = BTreeMap::new();
        for a in &agreements {
            if let Some(first) = ids.insert(&a.id, &a.source) {
                return Err(Error::DuplicateAgreementId {
                    id: a.id.clone(),
                    first: first.to_path_buf(),
                    second: a.source.clone(),
                });
            }
        }
        let mut flows = BTreeMap::new();
        for (ai, a) in agreements.iter().enumerate() {
            for (ti, terms) in a.datasets.iter().enumerate() {
                for &discloser in &terms.from {
                    let Some(recipient) = a.other_party(discloser) else {
                        continue;
                    };
                    let flow = (discloser, recipient, terms.dataset);
                    if let Some((first, _)) = flows.insert(flow, (ai, ti)) {
                        return Err(Error::AmbiguousAgreements {
                            discloser,
                            recipient,
                            dataset: terms.dataset,
                            first: agreements[first].source.clone(),
                            second: a.source.clone(),
                        });
                    }
                }
            }
        }
        Ok(AgreementBook { agreements, flows })
    }

    /// Every agreement, in the order loaded.
    pub fn iter(&self) -> impl Iterator<Item = &Agreement> {
        self.agreements.iter()
    }

    /// The agreements `me` is a party to.
    pub fn for_node(&self, me: GssCode) -> impl Iterator<Item = &Agreement> {
        self.agreements
            .iter()
            .filter(move |a| a.parties.contains(&me))
    }

    /// The agreement and terms under which `discloser` may send `dataset` to
    /// `recipient`, whatever the date (check [`Agreement::state`] too).
    pub fn covering(
        &self,
        discloser: GssCode,
        recipient: GssCode,
        dataset: Dataset,
    ) -> Option<(&Agreement, &DatasetTerms)> {
        let &(ai, ti) = self.flows.get(&(discloser, recipient, dataset))?;
        let agreement = self.agreements.get(ai)?;
        Some((agreement, agreement.datasets.get(ti)?))
    }

    /// The boroughs `me` has any agreement with.
    pub fn peers_of(&self, me: GssCode) -> BTreeSet<GssCode> {
        self.for_node(me)
            .filter_map(|a| a.other_party(me))
            .collect()
    }

    /// The agreement with this id.
    pub fn by_id(&self, id: &str) -> Option<&Agreement> {
        self.agreements.iter().find(|a| a.id == id)
    }
}

/// Reads every `*.toml` file in `dir`, in file-name order, and checks them together.
pub fn load_dir(dir: &Path) -> Result<AgreementBook, Error> {
    let list_error = |source| Error::Io {
        path: dir.to_path_buf(),
        action: "list",
        source,
    };
    let mut paths = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(list_error)? {
        let path = entry.map_err(list_error)?.path();
        if path.extension().is_some_and(|ext| ext == "toml") && path.is_file() {
            paths.push(path);
        }
    }
    paths.sort();
    let agreements = paths
        .iter()
        .map(|path| Agreement::parse(path, &read_text(path)?))
        .collect::<Result<Vec<_>, Error>>()?;
    AgreementBook::new(agreements)
}

#[cfg(test)]
mod tests;
