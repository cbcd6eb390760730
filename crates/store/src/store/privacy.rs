//! Privacy budgets: how much of their differential-privacy budget each researcher
//! has spent, kept with the records so a restart forgets nothing.

use crate::{AuditEntry, Error, Store};

/// The state-tree key prefix of a researcher's spent budget.
const BUDGET_PREFIX: &[u8] = b"P|";

/// A researcher's budget after a spend, in millionths of ε.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BudgetSpent {
    /// Spent so far, this spend included.
    pub spent: u64,
    /// What is left of the limit.
    pub remaining: u64,
}

fn budget_key(researcher: &str) -> Vec<u8> {
    [BUDGET_PREFIX, researcher.as_bytes()].concat()
}

impl Store {
    /// How much of `researcher`'s budget is spent, in millionths of ε.
    pub fn privacy_spent(&self, researcher: &str) -> Result<u64, Error> {
        self.inner
            .read_u64(&budget_key(researcher), "reading a privacy budget")
    }

    /// Spends `amount` (millionths of ε) of `researcher`'s budget `limit`, and
    /// appends the audit entry `audit` makes from the result, flushed before
    /// returning, so an answer is never given for a spend a crash could forget. A
    /// spend that would pass the limit is refused and nothing is spent.
    pub fn spend_privacy_budget(
        &self,
        researcher: &str,
        amount: u64,
        limit: u64,
        audit: impl FnOnce(&BudgetSpent) -> AuditEntry,
    ) -> Result<BudgetSpent, Error> {
        let inner = &*self.inner;
        let _one_at_a_time = inner
            .budgets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let key = budget_key(researcher);
        let spent = inner.read_u64(&key, "reading a privacy budget")?;
        let after = spent.saturating_add(amount);
        if after > limit {
            return Err(Error::BudgetExhausted {
                researcher: researcher.to_string(),
                spent,
                asked: amount,
                limit,
            });
        }
        inner
            .state
            .insert(&key[..], &after.to_be_bytes()[..])
            .map_err(inner.sled("writing a privacy budget"))?;
        let result = BudgetSpent {
            spent: after,
            remaining: limit - after,
        };
        self.audit().append(audit(&result))?;
        inner.flush()?;
        Ok(result)
    }
}

#[cfg(test)]
mod tests {
    use borough_model::GssCode;
    use tempfile::TempDir;

    use crate::{AuditAction, AuditOutcome};

    use super::*;

    fn entry(_: &BudgetSpent) -> AuditEntry {
        AuditEntry {
            at_unix_ms: 1_700_000_000_000,
            actor: "E09000022/researcher/ana".into(),
            action: AuditAction::BudgetSpent,
            dataset: None,
            peer: None,
            records: 0,
            outcome: AuditOutcome::Allowed,
            detail: String::new(),
        }
    }

    fn lambeth() -> GssCode {
        GssCode::parse("E09000022").unwrap()
    }

    #[test]
    fn spends_add_up_and_survive_a_reopen() {
        let dir = TempDir::new().unwrap();
        {
            let store = Store::open(dir.path(), lambeth()).unwrap();
            let first = store
                .spend_privacy_budget("ana", 300_000, 1_000_000, entry)
                .unwrap();
            assert_eq!(
                first,
                BudgetSpent {
                    spent: 300_000,
                    remaining: 700_000
                }
            );
            store
                .spend_privacy_budget("ana", 500_000, 1_000_000, entry)
                .unwrap();
        }
        let store = Store::open(dir.path(), lambeth()).unwrap();
        assert_eq!(store.privacy_spent("ana").unwrap(), 800_000);
        assert_eq!(store.privacy_spent("ben").unwrap(), 0);
    }

    #[test]
    fn a_spend_past_the_limit_is_refused_and_spends_nothing() {
        let dir = TempDir::new().unwrap();
        let store = Store::open(dir.path(), lambeth()).unwrap();
        store
            .spend_privacy_budget("ana", 900_000, 1_000_000, entry)
            .unwrap();
        let err = store
            .spend_privacy_budget("ana", 200_000, 1_000_000, entry)
            .unwrap_err();
        assert!(
            matches!(err, Error::BudgetExhausted { spent: 900_000, .. }),
            "{err}"
        );
        assert_eq!(store.privacy_spent("ana").unwrap(), 900_000);
        let spends = store
            .audit()
            .entries()
            .filter(|e| e.as_ref().unwrap().entry.action == AuditAction::BudgetSpent)
            .count();
        assert_eq!(spends, 1, "only the spend that happened is audited");
    }
}
