//! Subjects: what distinct counts count (providers, families) as dense ids with
//! their record keys, forgotten once no live record names them.

use std::collections::HashMap;
use std::hash::Hash;

/// Dense ids for keys of type `K`, each with a record key and a reference count.
#[derive(Debug)]
pub(crate) struct Subjects<K> {
    ids: HashMap<K, u32>,
    keys: Vec<u8>,
    refs: Vec<u32>,
    names: Vec<Option<K>>,
    free: Vec<u32>,
}

impl<K> Default for Subjects<K> {
    fn default() -> Self {
        Subjects {
            ids: HashMap::new(),
            keys: Vec::new(),
            refs: Vec::new(),
            names: Vec::new(),
            free: Vec::new(),
        }
    }
}

impl<K: Hash + Eq + Clone> Subjects<K> {
    /// The id of `who`, taking a reference; `record_key` is asked only for a new one.
    pub(crate) fn acquire(&mut self, who: &K, record_key: impl FnOnce() -> u8) -> u32 {
        if let Some(&id) = self.ids.get(who) {
            self.refs[id as usize] += 1;
            return id;
        }
        let key = record_key();
        let id = match self.free.pop() {
            Some(id) => {
                self.keys[id as usize] = key;
                self.refs[id as usize] = 1;
                self.names[id as usize] = Some(who.clone());
                id
            }
            None => {
                self.keys.push(key);
                self.refs.push(1);
                self.names.push(Some(who.clone()));
                (self.keys.len() - 1) as u32
            }
        };
        self.ids.insert(who.clone(), id);
        id
    }

    /// Drops a reference to `id`; the last one forgets it.
    pub(crate) fn release(&mut self, id: u32) {
        let i = id as usize;
        let Some(refs) = self.refs.get_mut(i) else {
            return;
        };
        *refs = refs.saturating_sub(1);
        if *refs == 0 {
            if let Some(who) = self.names[i].take() {
                self.ids.remove(&who);
            }
            self.free.push(id);
        }
    }

    /// The record key of `id`.
    pub(crate) fn key(&self, id: u32) -> u8 {
        self.keys.get(id as usize).copied().unwrap_or_default()
    }

    /// An upper bound on every id.
    pub(crate) fn id_bound(&self) -> u32 {
        self.keys.len() as u32
    }
}
