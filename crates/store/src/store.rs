//! The `Store`: opening a data directory, own ingest, peer batches and reads.

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};

use borough_model::{Borough, Dataset, GssCode, RecordId, Seq, Version};
use tokio::sync::watch;

use crate::audit::{AuditEntry, AuditLog};
use crate::codec::{
    checkpoint_key, corrupt, count_key, decode_legacy_local_ref, decode_log_run, decode_record,
    decode_u64, encode_log_run, encode_record, gss_bytes, head_key, log_key, parse_gss,
    record_id_from_key, record_key, record_prefix, seq_from_log_key, RecordValue, Stamp,
    AUDIT_TREE, LEGACY_LOCAL_REF_PREFIX, META_TREE, OWN_BOROUGH_KEY, SCHEMA_VERSION_KEY,
    STATE_TREE,
};
use crate::error::sled_error;
use crate::{Error, LocalRef, SCHEMA_VERSION};
use local_index::{Hashing, LocalIndex, RefHash};
pub use observer::{Observer, RecordChange};
pub use privacy::BudgetSpent;

/// The schema version whose local references `open` moves into their records.
const LAST_VERSION_WITH_REF_KEYS: u32 = 2;

/// sled's own tree, present in every database; not one of ours.
const SLED_DEFAULT_TREE: &[u8] = b"__sled__default";

/// One change a borough system makes to its own records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ingest {
    /// Create the record, or replace its payload.
    Upsert {
        /// The record's id within (dataset, this borough).
        id: RecordId,
        /// The record, encoded by the caller; opaque to the store.
        payload: Vec<u8>,
    },
    /// Delete (erase) the record.
    Delete {
        /// The record's id within (dataset, this borough).
        id: RecordId,
    },
}

/// What an [`Store::ingest`] call did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct IngestOutcome {
    /// Upserts that created or changed a record.
    pub written: u64,
    /// Upserts whose payload matched the stored record, so nothing was written.
    pub unchanged: u64,
    /// Deletes of live records.
    pub deleted: u64,
    /// Deletes of records that were absent or already deleted.
    pub not_found: u64,
    /// The own log head after the batch.
    pub head: Seq,
}

/// An own batch written to the store but not yet durable: neither acknowledge it
/// nor expect peers to see it until [`Applied::flush`] returns. Until then the next
/// batch may be applied, so that its work overlaps this one's wait for the disk.
#[must_use = "an applied batch is not durable until it is flushed"]
#[derive(Debug)]
pub struct Applied {
    store: Store,
    dataset: Dataset,
    outcome: IngestOutcome,
    needs_flush: bool,
}

impl Applied {
    /// What the batch did (before it is durable).
    pub fn outcome(&self) -> &IngestOutcome {
        &self.outcome
    }

    /// Makes the batch, and every write before it, durable, then lets subscribers
    /// see the new head.
    pub fn flush(self) -> Result<IngestOutcome, Error> {
        if self.needs_flush {
            let inner = &*self.store.inner;
            inner.flush()?;
            // A later batch flushed first may have published a higher head already.
            let head = self.outcome.head;
            inner
                .head_sender(self.dataset)
                .send_if_modified(|published| {
                    let newer = head > *published;
                    if newer {
                        *published = head;
                    }
                    newer
                });
        }
        Ok(self.outcome)
    }
}

/// One entry of an origin's change log, as replicated between boroughs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Position in the origin's log.
    pub seq: Seq,
    /// The record changed.
    pub id: RecordId,
    /// The record's version after the change.
    pub version: Version,
    /// The new payload; `None` means the record was deleted.
    pub payload: Option<Vec<u8>>,
}

/// A live record as stored here, from any origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRecord {
    /// The record's id within (dataset, origin).
    pub id: RecordId,
    /// The borough that owns the record.
    pub origin: GssCode,
    /// The record's version.
    pub version: Version,
    /// The seq of the record's last change in the origin's log.
    pub seq: Seq,
    /// The record, opaque to the store.
    pub payload: Vec<u8>,
}

/// This node's database. Cheap to clone: clones share one open directory.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    own: GssCode,
    db: sled::Db,
    state: sled::Tree,
    audit: AuditLog,
    /// Per dataset, the own log head that has been flushed: readers and subscribers
    /// never see a seq that a crash could hand out again to a different change.
    heads: HashMap<Dataset, watch::Sender<Seq>>,
    /// Serialises writes to one origin's records in one dataset: own ingest takes
    /// (dataset, own), a peer batch (dataset, peer). Guards no memory, only the
    /// read-modify-write of versions, seqs and counts on disk.
    writers: HashMap<(Dataset, GssCode), Mutex<()>>,
    /// Per dataset, which own records hold which local references. Changed only
    /// by an own write that has reached sled, under that dataset's own writer lock.
    local: HashMap<Dataset, Mutex<LocalIndex>>,
    /// How the local indexes hash references: a key drawn when the store opens.
    hashing: Hashing,
    /// Kept in step with every record write once attached (`Store::observe`).
    observer: OnceLock<Arc<dyn Observer>>,
    /// Serialises privacy-budget spends (read, check, write).
    budgets: Mutex<()>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.inner.path)
            .field("own", &self.inner.own)
            .finish_non_exhaustive()
    }
}

/// One own change: the record, its new payload (`None` deletes it), what becomes
/// of the local reference it holds, and its stored value if the caller has read it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OwnChange<'a> {
    pub(crate) id: &'a RecordId,
    pub(crate) payload: Option<&'a [u8]>,
    pub(crate) local_ref: RefChange<'a>,
    pub(crate) stored: Stored<'a>,
}

/// What the caller already knows of a record's stored value, read under the
/// writer lock, so that it is not read twice. Its `Debug` form gives only the
/// value's length: the value holds the record's local reference.
#[derive(Clone, Copy)]
pub(crate) enum Stored<'a> {
    /// Not read: read it.
    Unread,
    /// There is no such record.
    Absent,
    /// The record's value.
    Value(&'a sled::IVec),
}

/// What an own change does to the record's local reference.
#[derive(Debug, Clone, Copy)]
pub(crate) enum RefChange<'a> {
    /// Keep whatever the record holds (a change by record id).
    Keep,
    /// The record holds this reference (a change by local reference).
    Set(&'a LocalRef),
    /// The record holds no reference any more (an erasure).
    Clear,
}

impl std::fmt::Debug for Stored<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Stored::Unread => f.write_str("Unread"),
            Stored::Absent => f.write_str("Absent"),
            Stored::Value(value) => write!(f, "Value(<{} bytes>)", value.len()),
        }
    }
}

impl<'a> OwnChange<'a> {
    /// A change to `id` by record id, keeping any local reference it holds.
    pub(crate) fn of(id: &'a RecordId, payload: Option<&'a [u8]>) -> Self {
        OwnChange {
            id,
            payload,
            local_ref: RefChange::Keep,
            stored: Stored::Unread,
        }
    }
}

/// Makes the audit entry for an own batch from its outcome.
pub(crate) type MakeAudit<'a> = Box<dyn FnOnce(&IngestOutcome) -> AuditEntry + 'a>;

/// What an own batch carries besides its record changes.
#[derive(Debug, Default)]
pub(crate) struct OwnExtras {
    /// Raw writes committed in the same batch as the records (an erased
    /// tombstone's value without its reference): `None` removes the key.
    pub(crate) writes: Vec<(Vec<u8>, Option<Vec<u8>>)>,
    /// Deletes the caller could not resolve to a record, counted as not found.
    pub(crate) not_found: u64,
    /// No record is changed twice in the batch, so no change needs to see what an
    /// earlier one left.
    pub(crate) distinct: bool,
    /// References the batch gives to records, for the local index once written.
    pub(crate) indexed: Vec<(RefHash, RecordId)>,
    /// References the batch takes from records, likewise.
    pub(crate) unindexed: Vec<(RefHash, RecordId)>,
}

/// What is known about a record before a change in the current batch: from this
/// batch's earlier changes if any, else from disk.
#[derive(Debug, Clone, Copy)]
struct Prior {
    version: u64,
    live: bool,
}

impl Prior {
    fn of(record: &RecordValue<'_>) -> Prior {
        Prior {
            version: record.version,
            live: !record.tombstone,
        }
    }
}

/// A record as an earlier change of the current own batch left it.
struct Latest<'a> {
    prior: Prior,
    payload: Option<&'a [u8]>,
    local_ref: Option<Cow<'a, [u8]>>,
}

/// What is known of a record just before one change of an own batch.
struct Before<'a> {
    prior: Option<Prior>,
    /// Live with exactly the change's payload.
    same_payload: bool,
    /// Its local reference, if the change keeps it (a change by record id).
    local_ref: Option<Cow<'a, [u8]>>,
}

impl<'a> Before<'a> {
    /// From the record's stored `value`.
    fn on_disk(
        key: &[u8],
        value: Option<&[u8]>,
        change: &OwnChange<'_>,
    ) -> Result<Before<'a>, Error> {
        let Some(value) = value else {
            return Ok(Before {
                prior: None,
                same_payload: false,
                local_ref: None,
            });
        };
        let record = decode_record(key, value)?;
        let local_ref = match change.local_ref {
            RefChange::Keep => record.local_ref.map(|r| Cow::Owned(r.to_vec())),
            RefChange::Set(_) | RefChange::Clear => None,
        };
        Ok(Before {
            prior: Some(Prior::of(&record)),
            same_payload: !record.tombstone && change.payload == Some(record.payload),
            local_ref,
        })
    }

    /// From an earlier change to the record in the same batch.
    fn latest(latest: &Latest<'a>, change: &OwnChange<'_>) -> Before<'a> {
        Before {
            prior: Some(latest.prior),
            same_payload: latest.prior.live && latest.payload == change.payload,
            local_ref: latest.local_ref.clone(),
        }
    }
}

/// How a data directory is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreOptions {
    /// The most memory sled's page cache may hold, in bytes. A node grows into it
    /// as its store grows; a smaller cache bounds memory but makes a peer's
    /// catch-up over older changes read them back from disk.
    pub cache_bytes: u64,
}

impl StoreOptions {
    /// The page cache a node gets unless its configuration says otherwise: sled's
    /// own default, 1 GiB.
    pub const DEFAULT_CACHE_BYTES: u64 = 1024 * 1024 * 1024;

    /// The sled configuration for `dir` with these options: the ceiling benchmark
    /// opens its database the same way.
    pub fn sled_config(&self, dir: &Path) -> sled::Config {
        sled::Config::new()
            .path(dir)
            .cache_capacity(self.cache_bytes)
    }
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            cache_bytes: Self::DEFAULT_CACHE_BYTES,
        }
    }
}

impl Store {
    /// Opens (creating if absent) the data directory with the default options. A
    /// new directory gets the schema version and owning borough; a version-2
    /// directory is brought up to the current version; a directory with any other
    /// schema version, data but no schema version, or another owning borough is
    /// refused, and so is one whose own records do not decode (the local index is
    /// built from them).
    pub fn open(dir: &Path, own: GssCode) -> Result<Store, Error> {
        Store::open_with(dir, own, StoreOptions::default())
    }

    /// [`Store::open`] with the given options. A version-2 directory is brought to
    /// the current version first (its local references move into their records).
    pub fn open_with(dir: &Path, own: GssCode, options: StoreOptions) -> Result<Store, Error> {
        Store::open_hashing(dir, own, options, Hashing::keyed())
    }

    fn open_hashing(
        dir: &Path,
        own: GssCode,
        options: StoreOptions,
        hashing: Hashing,
    ) -> Result<Store, Error> {
        let path = dir.to_path_buf();
        let db = open_db(&options.sled_config(dir), &path)?;
        let found = check_meta(&db, &path, own)?;

        let state = db
            .open_tree(STATE_TREE)
            .map_err(sled_error(&path, "opening the state tree"))?;
        if local_refs_to_move(&db, &path, found)? {
            move_local_refs_into_records(&db, &state, &path, own)?;
        }
        let audit_tree = db
            .open_tree(AUDIT_TREE)
            .map_err(sled_error(&path, "opening the audit tree"))?;
        let audit = AuditLog::open(audit_tree, path.clone())?;

        let mut heads = HashMap::new();
        let mut writers = HashMap::new();
        let mut local = HashMap::new();
        for dataset in Dataset::ALL {
            let index = index_local_refs(&state, &path, dataset, own, &hashing)?;
            local.insert(dataset, Mutex::new(index));
            let key = head_key(dataset);
            let stored = state
                .get(key)
                .map_err(sled_error(&path, "reading a log head"))?;
            // Whatever sled recovered on open is on disk, so it counts as flushed.
            let head = decode_u64(&key, stored.as_deref())?;
            heads.insert(dataset, watch::Sender::new(Seq(head)));
            for borough in Borough::all() {
                writers.insert((dataset, borough.gss), Mutex::new(()));
            }
        }
        tracing::info!(path = %path.display(), own = %own, "store opened");
        Ok(Store {
            inner: Arc::new(Inner {
                path,
                own,
                db,
                state,
                audit,
                heads,
                writers,
                local,
                hashing,
                observer: OnceLock::new(),
                budgets: Mutex::new(()),
            }),
        })
    }

    /// The borough this node belongs to.
    pub fn own_borough(&self) -> GssCode {
        self.inner.own
    }

    /// Applies a batch of this borough's own upserts and deletes atomically and
    /// durably (flushed before returning), assigning versions and seqs; subscribers
    /// are notified after the flush. The same id may appear more than once: changes
    /// apply in order, each gets its own seq, and only the last is served.
    pub fn ingest(&self, dataset: Dataset, batch: &[Ingest]) -> Result<IngestOutcome, Error> {
        self.ingest_inner(dataset, batch, None)
    }

    /// Like [`Store::ingest`], and appends the audit entry `audit` makes from the
    /// outcome before the flush, so an acknowledged batch is never missing from the
    /// audit log after a crash.
    pub fn ingest_audited(
        &self,
        dataset: Dataset,
        batch: &[Ingest],
        audit: impl FnOnce(&IngestOutcome) -> AuditEntry,
    ) -> Result<IngestOutcome, Error> {
        self.ingest_inner(dataset, batch, Some(Box::new(audit)))
    }

    fn ingest_inner(
        &self,
        dataset: Dataset,
        batch: &[Ingest],
        audit: Option<MakeAudit<'_>>,
    ) -> Result<IngestOutcome, Error> {
        let _writer = self.inner.writer(dataset, self.inner.own);
        let changes: Vec<OwnChange<'_>> = batch
            .iter()
            .map(|item| match item {
                Ingest::Upsert { id, payload } => OwnChange::of(id, Some(payload.as_slice())),
                Ingest::Delete { id } => OwnChange::of(id, None),
            })
            .collect();
        self.ingest_locked(dataset, &changes, OwnExtras::default(), audit)?
            .flush()
    }

    /// The one own-write path (ingest, local ingest, erasure). The caller holds the
    /// writer lock for (dataset, own). Applies `changes` in order, assigning versions
    /// and seqs, together with `extras.writes` in one batch; then brings the local
    /// index up to date (`extras.indexed`, `extras.unindexed` and the greatest id
    /// written) and appends the audit entry. Nothing is durable or visible to peers
    /// until [`Applied::flush`].
    pub(crate) fn ingest_locked(
        &self,
        dataset: Dataset,
        changes: &[OwnChange<'_>],
        extras: OwnExtras,
        audit: Option<MakeAudit<'_>>,
    ) -> Result<Applied, Error> {
        let inner = &*self.inner;

        let hkey = head_key(dataset);
        let mut head = inner.read_u64(&hkey, "reading a log head")?;
        let ckey = count_key(dataset, inner.own);
        let start_count = inner.read_u64(&ckey, "reading a record count")?;
        let mut count = start_count;
        let prefix = record_prefix(dataset, inner.own);

        let mut outcome = IngestOutcome {
            not_found: extras.not_found,
            ..IngestOutcome::default()
        };
        let mut writes = sled::Batch::default();
        // Per record changed earlier in this batch: its state, payload and reference.
        debug_assert!(
            !extras.distinct || {
                let mut ids: Vec<&RecordId> = changes.iter().map(|c| c.id).collect();
                ids.sort_unstable_by(|a, b| a.as_str().cmp(b.as_str()));
                ids.windows(2).all(|w| w[0] != w[1])
            },
            "a batch said to change each record once changes one twice"
        );
        let mut latest: HashMap<&RecordId, Latest<'_>> = match extras.distinct {
            true => HashMap::new(),
            false => HashMap::with_capacity(changes.len()),
        };
        // The ids given seqs first_seq.. in order, written as one log run.
        let first_seq = head + 1;
        let mut run: Vec<&RecordId> = Vec::with_capacity(changes.len());
        let observing = self.observed();
        let mut observed: Vec<RecordChange<'_>> = Vec::new();
        for change in changes {
            let (id, payload) = (change.id, change.payload);
            let key = record_key(&prefix, id);
            let earlier = match extras.distinct {
                true => None,
                false => latest.get(id),
            };
            let before = match (earlier, change.stored) {
                (Some(earlier), _) => Before::latest(earlier, change),
                (None, Stored::Absent) => Before::on_disk(&key, None, change)?,
                (None, Stored::Value(value)) => Before::on_disk(&key, Some(value), change)?,
                (None, Stored::Unread) => {
                    let value = inner
                        .state
                        .get(&key)
                        .map_err(inner.sled("reading a record"))?;
                    Before::on_disk(&key, value.as_deref(), change)?
                }
            };
            let prior = before.prior;
            let local_ref = match change.local_ref {
                RefChange::Keep => before.local_ref,
                RefChange::Set(local_ref) => Some(Cow::Borrowed(local_ref.as_str().as_bytes())),
                RefChange::Clear => None,
            };
            let live_before = prior.is_some_and(|p| p.live);
            let unchanged = live_before && payload.is_some() && before.same_payload;
            match payload {
                Some(_) if unchanged => {
                    outcome.unchanged += 1;
                    continue;
                }
                Some(_) => outcome.written += 1,
                None if !live_before => {
                    outcome.not_found += 1;
                    continue;
                }
                None => outcome.deleted += 1,
            }

            head += 1;
            // A re-created record continues from its tombstone's version, so peers
            // holding the tombstone accept it as newer.
            let version = prior.map_or(0, |p| p.version) + 1;
            let stamp = match &local_ref {
                Some(local_ref) => Stamp::LocalRef(local_ref),
                None => Stamp::Plain,
            };
            writes.insert(key, encode_record(version, head, payload, stamp));
            run.push(id);
            if observing {
                observed.push(RecordChange { id, payload });
            }
            match (live_before, payload.is_some()) {
                (false, true) => count += 1,
                (true, false) => count = count.saturating_sub(1),
                _ => {}
            }
            let now = Prior {
                version,
                live: payload.is_some(),
            };
            if !extras.distinct {
                latest.insert(
                    id,
                    Latest {
                        prior: now,
                        payload,
                        local_ref,
                    },
                );
            }
        }

        let changed = outcome.written + outcome.deleted > 0;
        let has_extras = !extras.writes.is_empty();
        if changed {
            writes.insert(
                &log_key(dataset, first_seq)[..],
                encode_log_run(run.iter().copied()),
            );
            writes.insert(&hkey[..], &head.to_be_bytes()[..]);
            if count != start_count {
                writes.insert(&ckey[..], &count.to_be_bytes()[..]);
            }
        }
        for (key, value) in extras.writes {
            match value {
                Some(value) => writes.insert(key, value),
                None => writes.remove(key),
            }
        }
        if changed || has_extras {
            inner
                .state
                .apply_batch(writes)
                .map_err(inner.sled("writing an own batch"))?;
        }
        self.notify(dataset, inner.own, &observed);
        // The records are in sled now, whatever happens to the audit entry or the
        // flush, so the index must say so.
        let greatest = run.iter().max_by(|a, b| a.as_str().cmp(b.as_str()));
        if greatest.is_some() || !extras.indexed.is_empty() || !extras.unindexed.is_empty() {
            let mut index = inner.local_index(dataset);
            if let Some(greatest) = greatest {
                index.note_exists(greatest);
            }
            for (hash, id) in &extras.unindexed {
                index.remove(*hash, id);
            }
            for (hash, id) in extras.indexed {
                index.insert(hash, id);
            }
        }
        outcome.head = Seq(head);
        let audited = match audit {
            Some(make) => {
                self.audit().append(make(&outcome))?;
                true
            }
            None => false,
        };
        // Also covers an earlier call whose write landed but whose flush failed: its
        // changes become durable (and visible to peers) with this one's.
        let needs_flush = head > inner.head_sender(dataset).borrow().0 || audited || has_extras;
        tracing::debug!(
            dataset = %dataset,
            written = outcome.written,
            unchanged = outcome.unchanged,
            deleted = outcome.deleted,
            not_found = outcome.not_found,
            head,
            "own batch applied"
        );
        Ok(Applied {
            store: self.clone(),
            dataset,
            outcome,
            needs_flush,
        })
    }

    /// The last seq assigned in this node's own log and flushed (`Seq(0)` if none).
    pub fn head(&self, dataset: Dataset) -> Result<Seq, Error> {
        Ok(*self.inner.head_sender(dataset).borrow())
    }

    /// Own changes with seq > `since`, ascending, at most `limit`, each as the
    /// record now stands. A change superseded by a later change to the same record
    /// is left out (the later one comes in its place), so seqs have holes.
    pub fn changes_since(
        &self,
        dataset: Dataset,
        since: Seq,
        limit: usize,
    ) -> Result<Vec<Change>, Error> {
        let inner = &*self.inner;
        let head = inner.head_sender(dataset).borrow().0;
        let Some(first) = since.0.checked_add(1) else {
            return Ok(Vec::new());
        };
        if first > head || limit == 0 {
            return Ok(Vec::new());
        }
        // The run holding `first` starts at or before it: begin from the last run
        // that starts there or earlier.
        let start = inner
            .state
            .range(log_key(dataset, 0)..=log_key(dataset, first))
            .next_back()
            .transpose()
            .map_err(inner.sled("reading the change log"))?
            .map(|(key, _)| seq_from_log_key(&key))
            .transpose()?
            .unwrap_or(first);
        let prefix = record_prefix(dataset, inner.own);
        let mut changes = Vec::with_capacity(limit.min(1024));
        for item in inner
            .state
            .range(log_key(dataset, start)..=log_key(dataset, head))
        {
            let (key, value) = item.map_err(inner.sled("reading the change log"))?;
            let run_start = seq_from_log_key(&key)?;
            let ids = decode_log_run(&key, &value)?;
            // The part of this run to serve: seqs first..=head, at most what is left
            // of `limit`.
            let skip = first.saturating_sub(run_start) as usize;
            let end = ids.len().min((head + 1).saturating_sub(run_start) as usize);
            if skip >= end {
                continue;
            }
            let wanted = &ids[skip..end];
            let mut records = RunRecords::new(inner, &prefix, wanted);
            for (seq, id) in (run_start + skip as u64..).zip(wanted) {
                if changes.len() == limit {
                    return Ok(changes);
                }
                let (rkey, stored) = records
                    .next(id)?
                    .ok_or_else(|| corrupt(STATE_TREE, &key, "log run names a missing record"))?;
                let record = decode_record(&rkey, &stored)?;
                // Superseded by a later own change, made before or during this
                // read: that change has its own, later seq.
                if record.seq != seq {
                    continue;
                }
                changes.push(Change {
                    seq: Seq(seq),
                    id: id.clone(),
                    version: Version(record.version),
                    payload: (!record.tombstone).then(|| record.payload.to_vec()),
                });
            }
            if changes.len() == limit {
                return Ok(changes);
            }
        }
        Ok(changes)
    }

    /// Applies a batch of a peer's changes (upserts overwrite, deletions remove the
    /// record) and sets the checkpoint for (peer, dataset) to `up_to`, in one atomic
    /// write flushed before returning. Changes whose version is not newer than the
    /// stored one are skipped, so re-applying a batch after a crash is harmless.
    /// Each record or tombstone written is stamped with the system clock as its
    /// applied-at time, for [`Store::purge_replicas`].
    pub fn apply_peer_batch(
        &self,
        peer: GssCode,
        dataset: Dataset,
        changes: &[Change],
        up_to: Seq,
    ) -> Result<(), Error> {
        self.apply_peer_batch_at(peer, dataset, changes, up_to, now_unix())
    }

    /// [`Store::apply_peer_batch`] with the applied-at time (unix seconds) given
    /// rather than read from the clock.
    pub fn apply_peer_batch_at(
        &self,
        peer: GssCode,
        dataset: Dataset,
        changes: &[Change],
        up_to: Seq,
        applied_at_unix: u64,
    ) -> Result<(), Error> {
        let inner = &*self.inner;
        if peer == inner.own {
            return Err(Error::OwnBoroughAsPeer { peer, dataset });
        }
        if let Some(beyond) = changes.iter().find(|c| c.seq > up_to) {
            return Err(Error::ChangeBeyondCheckpoint {
                peer,
                dataset,
                seq: beyond.seq.0,
                up_to: up_to.0,
            });
        }
        let _writer = inner.writer(dataset, peer);

        let ckey = count_key(dataset, peer);
        let start_count = inner.read_u64(&ckey, "reading a record count")?;
        let mut count = start_count;
        let prefix = record_prefix(dataset, peer);

        let mut writes = sled::Batch::default();
        let mut latest: HashMap<&RecordId, Prior> = HashMap::new();
        let mut applied = 0u64;
        let observing = self.observed();
        let mut observed: Vec<RecordChange<'_>> = Vec::new();
        for change in changes {
            let key = record_key(&prefix, &change.id);
            let prior = match latest.get(&change.id) {
                Some(prior) => Some(*prior),
                None => inner.prior_on_disk(&key)?,
            };
            if prior.is_some_and(|p| p.version >= change.version.0) {
                continue;
            }
            let payload = change.payload.as_deref();
            if observing {
                observed.push(RecordChange {
                    id: &change.id,
                    payload,
                });
            }
            // A deletion leaves a payload-free tombstone holding the version, so a
            // stale copy of the record re-sent later cannot bring it back.
            writes.insert(
                key,
                encode_record(
                    change.version.0,
                    change.seq.0,
                    payload,
                    Stamp::AppliedAt(applied_at_unix),
                ),
            );
            let live_before = prior.is_some_and(|p| p.live);
            match (live_before, payload.is_some()) {
                (false, true) => count += 1,
                (true, false) => count = count.saturating_sub(1),
                _ => {}
            }
            latest.insert(
                &change.id,
                Prior {
                    version: change.version.0,
                    live: payload.is_some(),
                },
            );
            applied += 1;
        }
        if count != start_count {
            writes.insert(&ckey[..], &count.to_be_bytes()[..]);
        }
        writes.insert(
            &checkpoint_key(dataset, peer)[..],
            &up_to.0.to_be_bytes()[..],
        );
        inner
            .state
            .apply_batch(writes)
            .map_err(inner.sled("writing a peer batch"))?;
        // Flush first: the observer's work must not widen the window in which
        // a reader sees a count that a crash would lose. It is told even if the
        // flush fails, since the batch is live in memory either way.
        let flushed = inner.flush();
        self.notify(dataset, peer, &observed);
        flushed?;
        tracing::debug!(
            dataset = %dataset,
            peer = %peer,
            received = changes.len(),
            applied,
            up_to = up_to.0,
            "peer batch applied"
        );
        Ok(())
    }

    /// The last seq of `peer`'s log for `dataset` applied here (`Seq(0)` if none).
    pub fn checkpoint(&self, peer: GssCode, dataset: Dataset) -> Result<Seq, Error> {
        let key = checkpoint_key(dataset, peer);
        Ok(Seq(self.inner.read_u64(&key, "reading a checkpoint")?))
    }

    /// One live record; `None` if absent or deleted.
    pub fn get(
        &self,
        dataset: Dataset,
        origin: GssCode,
        id: &RecordId,
    ) -> Result<Option<StoredRecord>, Error> {
        let inner = &*self.inner;
        let key = record_key(&record_prefix(dataset, origin), id);
        let Some(value) = inner
            .state
            .get(&key)
            .map_err(inner.sled("reading a record"))?
        else {
            return Ok(None);
        };
        let record = decode_record(&key, &value)?;
        if record.tombstone {
            return Ok(None);
        }
        Ok(Some(StoredRecord {
            id: id.clone(),
            origin,
            version: Version(record.version),
            seq: Seq(record.seq),
            payload: record.payload.to_vec(),
        }))
    }

    /// Live (non-deleted) records of one origin, in id order.
    pub fn records(
        &self,
        dataset: Dataset,
        origin: GssCode,
    ) -> impl Iterator<Item = Result<StoredRecord, Error>> {
        let inner = Arc::clone(&self.inner);
        let scan = self.inner.state.scan_prefix(record_prefix(dataset, origin));
        scan.filter_map(move |item| {
            let decoded = item
                .map_err(inner.sled("reading records"))
                .and_then(|(key, value)| {
                    let record = decode_record(&key, &value)?;
                    if record.tombstone {
                        return Ok(None);
                    }
                    Ok(Some(StoredRecord {
                        id: record_id_from_key(&key)?,
                        origin,
                        version: Version(record.version),
                        seq: Seq(record.seq),
                        payload: record.payload.to_vec(),
                    }))
                });
            decoded.transpose()
        })
    }

    /// The number of live records of one origin (kept as a counter, so no scan).
    pub fn count(&self, dataset: Dataset, origin: GssCode) -> Result<u64, Error> {
        self.inner
            .read_u64(&count_key(dataset, origin), "reading a record count")
    }

    /// A receiver whose value is the own log head of `dataset`, changing whenever a
    /// flushed ingest advances it; for pushing live changes to peers without polling.
    pub fn subscribe(&self, dataset: Dataset) -> watch::Receiver<Seq> {
        self.inner.head_sender(dataset).subscribe()
    }

    /// The audit log.
    pub fn audit(&self) -> &AuditLog {
        &self.inner.audit
    }

    /// Makes every write so far durable, including audit entries.
    pub fn flush(&self) -> Result<(), Error> {
        self.inner.flush()
    }
}

impl Inner {
    fn writer(&self, dataset: Dataset, origin: GssCode) -> MutexGuard<'_, ()> {
        // Every (dataset, borough) pair is created in `open`, and a GssCode can only
        // name a listed borough, so the lookup cannot miss.
        let lock = &self.writers[&(dataset, origin)];
        // The mutex guards no memory, only the ordering of disk writes, each of which
        // sled applies atomically; a panic elsewhere leaves nothing to repair.
        lock.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn local_index(&self, dataset: Dataset) -> MutexGuard<'_, LocalIndex> {
        // `open` builds an index for every dataset in `Dataset::ALL`. Every change
        // to an index is a whole insert or remove, so a panic elsewhere leaves it
        // consistent.
        self.local[&dataset]
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn head_sender(&self, dataset: Dataset) -> &watch::Sender<Seq> {
        // `open` creates a sender for every dataset in `Dataset::ALL`.
        &self.heads[&dataset]
    }

    fn read_u64(&self, key: &[u8], during: &'static str) -> Result<u64, Error> {
        let value = self.state.get(key).map_err(self.sled(during))?;
        decode_u64(key, value.as_deref())
    }

    /// The record's state on disk, if it is there.
    fn prior_on_disk(&self, key: &[u8]) -> Result<Option<Prior>, Error> {
        let Some(value) = self.state.get(key).map_err(self.sled("reading a record"))? else {
            return Ok(None);
        };
        Ok(Some(Prior::of(&decode_record(key, &value)?)))
    }

    fn flush(&self) -> Result<(), Error> {
        self.db
            .flush()
            .map(drop)
            .map_err(self.sled("flushing to disk"))
    }

    fn sled(&self, during: &'static str) -> impl FnOnce(sled::Error) -> Error + '_ {
        sled_error(&self.path, during)
    }
}

/// Reads the records a log run names, in run order. A run of new records names
/// ids that rise (a node's ids rise with creation), so their records sit side by
/// side: one range scan reads them far more cheaply than a lookup each. Other runs
/// (updates scattered over the tree) are read a lookup each.
struct RunRecords<'a> {
    inner: &'a Inner,
    prefix: &'a [u8; crate::codec::RECORD_PREFIX_LEN],
    scan: Option<std::iter::Peekable<sled::Iter>>,
}

impl<'a> RunRecords<'a> {
    fn new(
        inner: &'a Inner,
        prefix: &'a [u8; crate::codec::RECORD_PREFIX_LEN],
        ids: &[RecordId],
    ) -> RunRecords<'a> {
        let rising = ids.windows(2).all(|w| w[0].as_str() < w[1].as_str());
        let scan = match (rising && ids.len() > 1, ids.first(), ids.last()) {
            (true, Some(first), Some(last)) => Some(
                inner
                    .state
                    .range(record_key(prefix, first)..=record_key(prefix, last))
                    .peekable(),
            ),
            _ => None,
        };
        RunRecords {
            inner,
            prefix,
            scan,
        }
    }

    /// The key and stored value of `id`'s record; ids must be asked in run order.
    fn next(&mut self, id: &RecordId) -> Result<Option<(Vec<u8>, sled::IVec)>, Error> {
        let key = record_key(self.prefix, id);
        let Some(scan) = self.scan.as_mut() else {
            let value = self
                .inner
                .state
                .get(&key)
                .map_err(self.inner.sled("reading a record"))?;
            return Ok(value.map(|v| (key, v)));
        };
        // Step past records of other runs that lie between this run's ids.
        while let Some(item) = scan.next_if(|item| match item {
            Ok((k, _)) => k.as_ref() < key.as_slice(),
            Err(_) => false,
        }) {
            item.map_err(self.inner.sled("reading a record"))?;
        }
        let here = |item: &sled::Result<(sled::IVec, sled::IVec)>| match item {
            Ok((k, _)) => k.as_ref() == key.as_slice(),
            // Taken, so that the error is returned.
            Err(_) => true,
        };
        match scan.next_if(here) {
            Some(item) => {
                let (_, value) = item.map_err(self.inner.sled("reading a record"))?;
                Ok(Some((key, value)))
            }
            // The next key is past this id: the record is missing.
            None => Ok(None),
        }
    }
}

/// The system clock in unix seconds (0 if it reads before 1970).
fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// How long `Store::open` keeps trying a directory that looks locked.
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// Opens the sled database. sled releases its directory lock only when its
/// background flusher thread exits, a moment after the last handle is dropped, so a
/// directory closed just before (a node restarted in the same process) can briefly
/// look locked: retry for up to `LOCK_WAIT` before calling it held.
fn open_db(config: &sled::Config, path: &Path) -> Result<sled::Db, Error> {
    let deadline = std::time::Instant::now() + LOCK_WAIT;
    let mut wait = std::time::Duration::from_millis(5);
    loop {
        match config.open() {
            Ok(db) => return Ok(db),
            Err(source) => match open_error(path, source) {
                Error::Locked { .. } if std::time::Instant::now() < deadline => {
                    std::thread::sleep(wait);
                    wait = (wait * 2).min(std::time::Duration::from_millis(200));
                }
                e => return Err(e),
            },
        }
    }
}

/// sled reports a held directory lock only as an io error with this text.
fn open_error(path: &Path, source: sled::Error) -> Error {
    match &source {
        sled::Error::Io(io) if io.to_string().contains("could not acquire lock") => Error::Locked {
            path: path.to_path_buf(),
        },
        _ => Error::Sled {
            path: path.to_path_buf(),
            during: "opening the database",
            source,
        },
    }
}

/// Checks (or, for a new directory, writes) the schema version and owning borough,
/// returning the version found: the current one, or one `open` brings up to date.
fn check_meta(db: &sled::Db, path: &Path, own: GssCode) -> Result<u32, Error> {
    let has_data_trees = db
        .tree_names()
        .iter()
        .any(|name| &name[..] != SLED_DEFAULT_TREE && &name[..] != META_TREE.as_bytes());
    let meta = db
        .open_tree(META_TREE)
        .map_err(sled_error(path, "opening the meta tree"))?;
    let stored = meta
        .get(SCHEMA_VERSION_KEY)
        .map_err(sled_error(path, "reading the schema version"))?;
    let Some(stored) = stored else {
        if has_data_trees || !db.is_empty() {
            return Err(Error::MissingSchemaVersion {
                path: path.to_path_buf(),
            });
        }
        // A new directory: record the layout and owner before any data tree exists,
        // so a crash part-way leaves a directory that still reads as new.
        let mut batch = sled::Batch::default();
        batch.insert(SCHEMA_VERSION_KEY, &SCHEMA_VERSION.to_be_bytes()[..]);
        batch.insert(OWN_BOROUGH_KEY, &gss_bytes(own)[..]);
        meta.apply_batch(batch)
            .map_err(sled_error(path, "writing the schema version"))?;
        db.flush()
            .map_err(sled_error(path, "flushing the schema version"))?;
        return Ok(SCHEMA_VERSION);
    };

    let found = <[u8; 4]>::try_from(&stored[..])
        .map(u32::from_be_bytes)
        .map_err(|_| {
            corrupt(
                META_TREE,
                SCHEMA_VERSION_KEY,
                "schema version is not 4 bytes",
            )
        })?;
    if found != SCHEMA_VERSION && found != LAST_VERSION_WITH_REF_KEYS {
        return Err(Error::UnknownSchemaVersion {
            path: path.to_path_buf(),
            found,
            supported: SCHEMA_VERSION,
        });
    }
    let stored_own = meta
        .get(OWN_BOROUGH_KEY)
        .map_err(sled_error(path, "reading the owning borough"))?
        .ok_or_else(|| corrupt(META_TREE, OWN_BOROUGH_KEY, "owning borough is missing"))?;
    let stored_own =
        parse_gss(&stored_own).map_err(|problem| corrupt(META_TREE, OWN_BOROUGH_KEY, problem))?;
    if stored_own != own {
        return Err(Error::WrongBorough {
            path: path.to_path_buf(),
            stored: stored_own,
            requested: own,
        });
    }
    Ok(found)
}

/// Key in `meta` present while `X` local references are being moved into their
/// records (see [`move_local_refs_into_records`]).
const MOVING_LOCAL_REFS_KEY: &[u8] = b"moving_local_refs";

/// Whether `open` must move `X` local references into their records: the
/// directory is at version 2, or a move into version 3 was interrupted.
fn local_refs_to_move(db: &sled::Db, path: &Path, found: u32) -> Result<bool, Error> {
    if found == LAST_VERSION_WITH_REF_KEYS {
        return Ok(true);
    }
    let meta = db
        .open_tree(META_TREE)
        .map_err(sled_error(path, "opening the meta tree"))?;
    meta.contains_key(MOVING_LOCAL_REFS_KEY)
        .map_err(sled_error(path, "reading the schema version"))
}

/// Version 2 to 3: moves each `X` local reference into the own record it maps to
/// and removes the key, a bounded batch at a time. The directory is marked
/// version 3, moving, before the first record changes, so a build that reads only
/// version 2 refuses it from then on; an interrupted move carries on at the next
/// open, and the mark goes once every key has moved.
fn move_local_refs_into_records(
    db: &sled::Db,
    state: &sled::Tree,
    path: &Path,
    own: GssCode,
) -> Result<(), Error> {
    const BATCH: usize = 1000;
    let meta = db
        .open_tree(META_TREE)
        .map_err(sled_error(path, "opening the meta tree"))?;
    let mut mark = sled::Batch::default();
    mark.insert(SCHEMA_VERSION_KEY, &SCHEMA_VERSION.to_be_bytes()[..]);
    mark.insert(MOVING_LOCAL_REFS_KEY, &[1u8][..]);
    meta.apply_batch(mark)
        .map_err(sled_error(path, "writing the schema version"))?;
    db.flush()
        .map_err(sled_error(path, "flushing the schema version"))?;

    let (mut moved, mut dangling) = (0u64, 0u64);
    loop {
        let mut batch = sled::Batch::default();
        // The references given to records in this batch, by record key.
        let mut given: HashMap<Vec<u8>, LocalRef> = HashMap::new();
        let mut taken = 0;
        for item in state.scan_prefix(LEGACY_LOCAL_REF_PREFIX).take(BATCH) {
            taken += 1;
            let (key, value) =
                item.map_err(sled_error(path, "reading a version-2 local reference"))?;
            let entry = decode_legacy_local_ref(&key, &value)?;
            let rkey = record_key(&record_prefix(entry.dataset, own), &entry.id);
            batch.remove(key);
            let Some(stored) = state
                .get(&rkey)
                .map_err(sled_error(path, "reading a record"))?
            else {
                // A mapping always came with its record; one without is dropped.
                dangling += 1;
                continue;
            };
            let record = decode_record(&rkey, &stored)?;
            let bytes = entry.local_ref.as_str().as_bytes();
            let held = given
                .get(&rkey)
                .map(|r| r.as_str().as_bytes())
                .or(record.local_ref);
            if held.is_some_and(|held| held != bytes) {
                // Moving on would leave one of the two cases without its record,
                // and its next import would make a second record for it.
                return Err(corrupt(
                    STATE_TREE,
                    &rkey,
                    "two version-2 local references name this record",
                ));
            }
            let payload = (!record.tombstone).then_some(record.payload);
            let stamp = Stamp::LocalRef(bytes);
            batch.insert(
                &rkey[..],
                encode_record(record.version, record.seq, payload, stamp),
            );
            given.insert(rkey, entry.local_ref);
            moved += 1;
        }
        if taken == 0 {
            break;
        }
        state
            .apply_batch(batch)
            .map_err(sled_error(path, "moving local references into records"))?;
    }
    meta.remove(MOVING_LOCAL_REFS_KEY)
        .map_err(sled_error(path, "writing the schema version"))?;
    db.flush()
        .map_err(sled_error(path, "flushing the schema version"))?;
    if dangling > 0 {
        tracing::warn!(path = %path.display(), dangling, "version-2 local references without a record dropped");
    }
    tracing::info!(path = %path.display(), moved, "local references moved into their records");
    Ok(())
}

/// Builds `dataset`'s local index from its own records.
fn index_local_refs(
    state: &sled::Tree,
    path: &Path,
    dataset: Dataset,
    own: GssCode,
    hashing: &Hashing,
) -> Result<LocalIndex, Error> {
    let started = std::time::Instant::now();
    let mut index = LocalIndex::default();
    let mut last_key = None;
    for item in state.scan_prefix(record_prefix(dataset, own)) {
        let (key, value) = item.map_err(sled_error(path, "reading records"))?;
        if let Some(local_ref) = decode_record(&key, &value)?.local_ref {
            let hash = hashing.hash(local_ref);
            index.insert(hash, record_id_from_key(&key)?);
        }
        last_key = Some(key);
    }
    // Keys come in order, so the last holds the greatest id.
    if let Some(key) = last_key {
        index.note_exists(&record_id_from_key(&key)?);
    }
    tracing::info!(
        dataset = %dataset,
        references = index.len(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "local references indexed"
    );
    Ok(index)
}

mod local_index;
mod local_refs;
mod observer;
mod privacy;
mod retention;

#[cfg(test)]
mod tests;
