//! Validation failures that name the field and the problem, collected rather than
//! stopping at the first so a caller can report every bad field at once.

use std::fmt;

/// One field that failed validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// Dotted path of the field, for example `offers[2].vacancies`.
    pub field: String,
    /// What is wrong with it, in words an operator can act on.
    pub problem: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            f.write_str(&self.problem)
        } else {
            write!(f, "{}: {}", self.field, self.problem)
        }
    }
}

/// Every field of one value that failed validation (never empty).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", display_all(.0))]
pub struct Invalid(pub Vec<FieldError>);

fn display_all(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

impl Invalid {
    /// A single-field failure.
    pub fn field(field: impl Into<String>, problem: impl Into<String>) -> Self {
        Invalid(vec![FieldError {
            field: field.into(),
            problem: problem.into(),
        }])
    }

    /// Prefixes every field path with `prefix.` (used when a value is nested in another).
    pub fn within(mut self, prefix: &str) -> Self {
        for e in &mut self.0 {
            e.field = if e.field.is_empty() {
                prefix.to_string()
            } else if e.field.starts_with('[') {
                format!("{prefix}{}", e.field)
            } else {
                format!("{prefix}.{}", e.field)
            };
        }
        self
    }
}

/// Collects field errors while a value is checked.
#[derive(Debug, Default)]
pub(crate) struct Checks(Vec<FieldError>);

impl Checks {
    pub(crate) fn fail(&mut self, field: impl Into<String>, problem: impl Into<String>) {
        self.0.push(FieldError {
            field: field.into(),
            problem: problem.into(),
        });
    }

    pub(crate) fn require(&mut self, ok: bool, field: &str, problem: impl Into<String>) {
        if !ok {
            self.fail(field, problem);
        }
    }

    pub(crate) fn absorb(&mut self, result: Result<(), Invalid>, prefix: &str) {
        if let Err(invalid) = result {
            self.0.extend(invalid.within(prefix).0);
        }
    }

    /// Keeps the value of a parse, or records its errors under `field` (as they
    /// are if `field` is empty) and gives `None`, so a derivation can go on
    /// checking the other fields.
    pub(crate) fn take<T>(&mut self, result: Result<T, Invalid>, field: &str) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(invalid) if field.is_empty() => {
                self.0.extend(invalid.0);
                None
            }
            Err(invalid) => {
                self.0.extend(invalid.within(field).0);
                None
            }
        }
    }

    /// Whether `field` has already failed.
    pub(crate) fn has_failed(&self, field: &str) -> bool {
        self.0.iter().any(|e| e.field == field)
    }

    pub(crate) fn finish(self) -> Result<(), Invalid> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(Invalid(self.0))
        }
    }
}
