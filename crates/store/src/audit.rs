//! The append-only, hash-chained audit log (tree `audit`).
//!
//! Entry `i` is stored under `i` as a u64 BE key, as JSON holding its fields, the
//! previous entry's hash and its own hash (SHA-256 of the entry's canonical bytes:
//! the JSON of every field except its own hash, in a fixed order). A separate head
//! key holds the last index and hash, written in the same batch as the entry, so
//! removing entries from the end is caught as well as editing, removing or moving
//! one in the middle.

use std::path::PathBuf;
use std::sync::{Mutex, PoisonError};

use borough_model::{Dataset, GssCode};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::codec::{corrupt, AUDIT_TREE};
use crate::error::sled_error;
use crate::Error;

/// Holds the last index and hash. Nine bytes of 0xff sort after every 8-byte index
/// key, so `range(..HEAD_KEY)` yields exactly the entries.
const HEAD_KEY: [u8; 9] = [0xff; 9];

/// The previous hash of the first entry.
const GENESIS: [u8; 32] = [0; 32];

/// What was done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuditAction {
    /// Records were served to a peer.
    Disclosed,
    /// A peer's records were received and applied here.
    Received,
    /// A call was denied.
    Refused,
    /// A borough system ingested its own records.
    Ingested,
    /// Records were erased (deleted at the origin).
    Erased,
    /// Peers' replicas were purged at the end of their retention period.
    Purged,
    /// An operator read the node's status.
    StatusRead,
    /// An operator read the audit log.
    AuditRead,
    /// An analyst's query was answered with disclosure-controlled figures.
    Queried,
    /// A researcher spent privacy budget on a differentially private answer.
    BudgetSpent,
}

impl AuditAction {
    /// Every action, for decoding.
    const ALL: [AuditAction; 10] = [
        AuditAction::Disclosed,
        AuditAction::Received,
        AuditAction::Refused,
        AuditAction::Ingested,
        AuditAction::Erased,
        AuditAction::Purged,
        AuditAction::StatusRead,
        AuditAction::AuditRead,
        AuditAction::Queried,
        AuditAction::BudgetSpent,
    ];

    /// The action's name in the stored log and in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::Disclosed => "disclosed",
            AuditAction::Received => "received",
            AuditAction::Refused => "refused",
            AuditAction::Ingested => "ingested",
            AuditAction::Erased => "erased",
            AuditAction::Purged => "purged",
            AuditAction::StatusRead => "status-read",
            AuditAction::AuditRead => "audit-read",
            AuditAction::Queried => "queried",
            AuditAction::BudgetSpent => "budget-spent",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// Whether the action was allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuditOutcome {
    /// The action went ahead.
    Allowed,
    /// The action was denied.
    Refused,
}

impl AuditOutcome {
    /// The outcome's name in the stored log and in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditOutcome::Allowed => "allowed",
            AuditOutcome::Refused => "refused",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        [AuditOutcome::Allowed, AuditOutcome::Refused]
            .into_iter()
            .find(|o| o.as_str() == s)
    }
}

/// One audited event, as the caller describes it. Never holds personal data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// When it happened, in milliseconds since the Unix epoch.
    pub at_unix_ms: u64,
    /// Who did it: an identity's display form such as `E09000028/node`.
    pub actor: String,
    /// What was done.
    pub action: AuditAction,
    /// The dataset involved, if any.
    pub dataset: Option<Dataset>,
    /// The peer borough involved, if any.
    pub peer: Option<GssCode>,
    /// How many records were involved.
    pub records: u64,
    /// Whether it was allowed.
    pub outcome: AuditOutcome,
    /// Free text for operators (a reason, an RPC name); never personal data.
    pub detail: String,
}

/// An entry as stored: its position and its links in the hash chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    /// Position in the log, from 0.
    pub index: u64,
    /// The audited event.
    pub entry: AuditEntry,
    /// The previous entry's hash (zeros for the first entry).
    pub prev_hash: [u8; 32],
    /// SHA-256 of this entry's canonical bytes.
    pub hash: [u8; 32],
}

/// The hashed part of a stored entry. Field order is the canonical order, so do not
/// reorder fields: that would change every hash.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Body {
    index: u64,
    at_unix_ms: u64,
    actor: String,
    action: String,
    dataset: Option<String>,
    peer: Option<String>,
    records: u64,
    outcome: String,
    detail: String,
    prev_hash: String,
}

/// The stored JSON: the body and the hash of its canonical bytes.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Stored {
    body: Body,
    hash: String,
}

/// Where the next entry goes.
#[derive(Debug)]
struct Tail {
    next: u64,
    last_hash: [u8; 32],
}

/// The audit log. Appends are serialised so the chain never forks.
#[derive(Debug)]
pub struct AuditLog {
    tree: sled::Tree,
    path: PathBuf,
    tail: Mutex<Tail>,
}

impl AuditLog {
    pub(crate) fn open(tree: sled::Tree, path: PathBuf) -> Result<AuditLog, Error> {
        let tail = match read_head(&tree, &path)? {
            Some((index, hash)) => Tail {
                next: index + 1,
                last_hash: hash,
            },
            None => match tree
                .range(..HEAD_KEY)
                .next_back()
                .transpose()
                .map_err(sled_error(&path, "reading the last audit entry"))?
            {
                // No head but entries: the log was tampered with. Continue the chain
                // from the last entry so appends still work; verify() reports it.
                Some((key, value)) => {
                    let record = decode(&key, &value)?;
                    Tail {
                        next: record.index + 1,
                        last_hash: record.hash,
                    }
                }
                None => Tail {
                    next: 0,
                    last_hash: GENESIS,
                },
            },
        };
        Ok(AuditLog {
            tree,
            path,
            tail: Mutex::new(tail),
        })
    }

    /// Appends an entry to the chain; it becomes durable with the next store flush.
    pub fn append(&self, entry: AuditEntry) -> Result<AuditRecord, Error> {
        // The tail is only replaced after a successful write, so a panic elsewhere
        // cannot leave it half-updated; recovering from poisoning is safe.
        let mut tail = self.tail.lock().unwrap_or_else(PoisonError::into_inner);
        let index = tail.next;
        let prev_hash = tail.last_hash;
        let body = Body {
            index,
            at_unix_ms: entry.at_unix_ms,
            actor: entry.actor.clone(),
            action: entry.action.as_str().to_string(),
            dataset: entry.dataset.map(|d| d.as_str().to_string()),
            peer: entry.peer.map(|p| p.to_string()),
            records: entry.records,
            outcome: entry.outcome.as_str().to_string(),
            detail: entry.detail.clone(),
            prev_hash: hex::encode(prev_hash),
        };
        let hash = hash_body(&body).map_err(|source| Error::AuditEncode { index, source })?;
        let stored = serde_json::to_vec(&Stored {
            body,
            hash: hex::encode(hash),
        })
        .map_err(|source| Error::AuditEncode { index, source })?;

        let mut head = Vec::with_capacity(40);
        head.extend_from_slice(&index.to_be_bytes());
        head.extend_from_slice(&hash);
        let mut batch = sled::Batch::default();
        batch.insert(&index.to_be_bytes()[..], stored);
        batch.insert(&HEAD_KEY[..], head);
        self.tree
            .apply_batch(batch)
            .map_err(sled_error(&self.path, "appending an audit entry"))?;

        tail.next = index + 1;
        tail.last_hash = hash;
        Ok(AuditRecord {
            index,
            entry,
            prev_hash,
            hash,
        })
    }

    /// Every entry, oldest first. Does not check the chain; see [`AuditLog::verify`].
    pub fn entries(&self) -> impl Iterator<Item = Result<AuditRecord, Error>> {
        let path = self.path.clone();
        self.tree.range(..HEAD_KEY).map(move |item| {
            let (key, value) = item.map_err(sled_error(&path, "reading the audit log"))?;
            decode(&key, &value)
        })
    }

    /// Checks the whole chain and returns how many entries it holds. Fails with
    /// `AuditChainBroken` naming the first entry that was edited, removed or moved.
    pub fn verify(&self) -> Result<u64, Error> {
        // Read the head under the append lock so it and the entries agree; entries
        // appended after that are simply not checked by this call.
        let head = {
            let _tail = self.tail.lock().unwrap_or_else(PoisonError::into_inner);
            let head = read_head(&self.tree, &self.path)?;
            if head.is_none() {
                let first = self
                    .tree
                    .range(..HEAD_KEY)
                    .next()
                    .transpose()
                    .map_err(sled_error(&self.path, "reading the audit log"))?;
                if let Some((key, _)) = first {
                    return Err(Error::AuditChainBroken {
                        index: index_from_key(&key).unwrap_or(0),
                        problem: "the log holds entries but its head record is missing".into(),
                    });
                }
                return Ok(0);
            }
            head
        };
        let Some((head_index, head_hash)) = head else {
            return Ok(0);
        };

        let mut expected_index = 0u64;
        let mut prev = GENESIS;
        for item in self.tree.range(..=head_index.to_be_bytes()) {
            let (key, value) = item.map_err(sled_error(&self.path, "reading the audit log"))?;
            let broken = |problem: String| Error::AuditChainBroken {
                index: expected_index,
                problem,
            };
            let Some(key_index) = index_from_key(&key) else {
                return Err(broken(format!(
                    "unexpected key {} in the audit tree",
                    hex::encode(&key)
                )));
            };
            if key_index != expected_index {
                return Err(broken(format!(
                    "entry missing: the next stored entry is {key_index}"
                )));
            }
            let stored: Stored = serde_json::from_slice(&value)
                .map_err(|e| broken(format!("entry cannot be decoded: {e}")))?;
            if stored.body.index != key_index {
                return Err(broken(format!(
                    "entry says it is entry {}: it was moved",
                    stored.body.index
                )));
            }
            if stored.body.prev_hash != hex::encode(prev) {
                return Err(broken(
                    "previous-hash does not match the previous entry's hash".into(),
                ));
            }
            let hash = hash_body(&stored.body)
                .map_err(|e| broken(format!("entry cannot be re-encoded: {e}")))?;
            if stored.hash != hex::encode(hash) {
                return Err(broken("contents do not match the entry's hash".into()));
            }
            prev = hash;
            expected_index += 1;
        }

        if expected_index != head_index + 1 {
            return Err(Error::AuditChainBroken {
                index: expected_index,
                problem: format!(
                    "entries end before the head's last entry {head_index}: entries were removed"
                ),
            });
        }
        if prev != head_hash {
            return Err(Error::AuditChainBroken {
                index: head_index,
                problem: "last entry's hash does not match the head record".into(),
            });
        }
        Ok(expected_index)
    }

    /// The raw tree, for tests that tamper with stored bytes.
    #[cfg(test)]
    pub(crate) fn raw_tree(&self) -> &sled::Tree {
        &self.tree
    }
}

fn hash_body(body: &Body) -> Result<[u8; 32], serde_json::Error> {
    let canonical = serde_json::to_vec(body)?;
    Ok(Sha256::digest(&canonical).into())
}

fn index_from_key(key: &[u8]) -> Option<u64> {
    <[u8; 8]>::try_from(key).ok().map(u64::from_be_bytes)
}

fn read_head(tree: &sled::Tree, path: &std::path::Path) -> Result<Option<(u64, [u8; 32])>, Error> {
    let Some(value) = tree
        .get(HEAD_KEY)
        .map_err(sled_error(path, "reading the audit head"))?
    else {
        return Ok(None);
    };
    let bad = || {
        corrupt(
            AUDIT_TREE,
            &HEAD_KEY,
            format!("head is {} bytes, not 40", value.len()),
        )
    };
    let index = value.get(..8).and_then(index_from_key).ok_or_else(bad)?;
    let hash = value
        .get(8..)
        .and_then(|h| <[u8; 32]>::try_from(h).ok())
        .ok_or_else(bad)?;
    Ok(Some((index, hash)))
}

/// Decodes a stored entry into its public form (without checking the chain).
fn decode(key: &[u8], value: &[u8]) -> Result<AuditRecord, Error> {
    let bad = |problem: String| corrupt(AUDIT_TREE, key, problem);
    let index = index_from_key(key).ok_or_else(|| bad("key is not 8 bytes".into()))?;
    let stored: Stored = serde_json::from_slice(value).map_err(|e| bad(e.to_string()))?;
    let body = stored.body;
    let hash32 = |text: &str, what: &str| -> Result<[u8; 32], Error> {
        hex::decode(text)
            .ok()
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .ok_or_else(|| bad(format!("{what} is not 32 hex-encoded bytes")))
    };
    let entry = AuditEntry {
        at_unix_ms: body.at_unix_ms,
        actor: body.actor,
        action: AuditAction::parse(&body.action)
            .ok_or_else(|| bad(format!("unknown action `{}`", body.action)))?,
        dataset: body
            .dataset
            .map(|d| d.parse::<Dataset>().map_err(|e| bad(e.to_string())))
            .transpose()?,
        peer: body
            .peer
            .map(|p| GssCode::parse(&p).map_err(|e| bad(e.to_string())))
            .transpose()?,
        records: body.records,
        outcome: AuditOutcome::parse(&body.outcome)
            .ok_or_else(|| bad(format!("unknown outcome `{}`", body.outcome)))?,
        detail: body.detail,
    };
    Ok(AuditRecord {
        index,
        entry,
        prev_hash: hash32(&body.prev_hash, "prev_hash")?,
        hash: hash32(&stored.hash, "hash")?,
    })
}

#[cfg(test)]
mod tests;
