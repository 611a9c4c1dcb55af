//! The default session store: serialized sessions in memory, each with its expiry.
//!
//! Unlike express-session's MemoryStore, which only drops an expired session when
//! it happens to be read, expired sessions are filed by the second they expire
//! and removed by `sweep`, which the JS side calls from an unref'd timer. An
//! optional `max` bounds the count, evicting the least recently written first.
//! Times are milliseconds since the epoch, passed in so that the JS clock (and
//! fake timers in tests) decide what has expired.
//!
//! Memory per session is its packed record (see `record`) in a page of
//! the record arena, a 24-byte slot, 4-5 bytes of hash index and 4 bytes of
//! expiry filing: no second copy of the ID, no allocation of its own.

use std::collections::hash_map::RandomState;
use std::collections::{BTreeMap, VecDeque};
use std::hash::BuildHasher;

use hashbrown::HashTable;

use super::arena::{Place, RecordArena};
use super::record;
use crate::conditional_save::{SaveCondition, SaveOutcome};
use crate::cookie_member::cookie_member;

const NEVER: i64 = i64::MAX;
const UNFILED: i64 = i64::MIN;

struct Slot {
    /// Where its record is in the arena; `Place::NONE` for a free slot.
    place: Place,
    /// When the session expires (ms), `NEVER` for never.
    expires: i64,
    /// The expiry second under which the slot is filed, `UNFILED` if none. A
    /// touch that only pushes the expiry later leaves the filing where it is:
    /// the sweep re-files it when it gets there, so each slot is filed once.
    filed: i64,
    /// Which write made the record: unique in the map, so that a session
    /// destroyed and made again under its ID never has a version seen before.
    version: u64,
}

/// What a conditional save expects the stored session to be: the version a
/// load gave, or (after a conflict) the text the store answered with.
#[derive(Clone, Copy, Debug)]
pub enum Expected<'a> {
    Version(u64),
    Text(&'a str),
}

/// Write order for `max`: slot numbers with the write that put them there;
/// entries whose write is no longer the slot's are skipped.
struct Eviction {
    max: usize,
    order: VecDeque<(u32, u64)>,
    written: Vec<u64>,
    writes: u64,
}

pub struct SessionMap {
    index: HashTable<u32>,
    hasher: RandomState,
    records: RecordArena,
    /// Where each record is encoded before it is stored.
    scratch: Vec<u8>,
    slots: Vec<Slot>,
    free: Vec<u32>,
    by_expiry: BTreeMap<i64, Vec<u32>>,
    eviction: Option<Eviction>,
    live: usize,
    /// The version the last write gave (see `Slot::version`).
    writes: u64,
}

/// Asks the allocator to hand freed pages back to the OS. glibc keeps the memory
/// of many small freed allocations (the sessions' records) otherwise, and RSS
/// would stay at its peak after the sessions are gone.
pub fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        extern "C" {
            fn malloc_trim(pad: usize) -> i32;
        }
        // SAFETY: malloc_trim takes no pointers and only walks glibc's own heap.
        unsafe {
            malloc_trim(0);
        }
    }
}

/// Whole milliseconds of a JS time value; `None` for NaN and infinities.
pub fn to_millis(value: f64) -> Option<i64> {
    value.is_finite().then(|| value.floor() as i64)
}

fn second_of(ms: i64) -> i64 {
    ms.div_euclid(1000)
}

impl SessionMap {
    pub fn new(max: Option<usize>) -> Self {
        SessionMap {
            index: HashTable::new(),
            hasher: RandomState::new(),
            records: RecordArena::default(),
            scratch: Vec::new(),
            slots: Vec::new(),
            free: Vec::new(),
            by_expiry: BTreeMap::new(),
            eviction: max.filter(|&m| m > 0).map(|max| Eviction {
                max,
                order: VecDeque::new(),
                written: Vec::new(),
                writes: 0,
            }),
            live: 0,
            writes: 0,
        }
    }

    /// The session's JSON unless it is missing or expired (an expired one is dropped).
    pub fn get(&mut self, sid: &str, now: i64) -> Option<String> {
        self.get_versioned(sid, now).map(|(json, _)| json)
    }

    /// The session's JSON and the version of the write that made it.
    pub fn get_versioned(&mut self, sid: &str, now: i64) -> Option<(String, u64)> {
        let slot = self.live_slot(sid, now)?;
        let slot = &self.slots[slot as usize];
        Some((record::json(self.records.get(slot.place)), slot.version))
    }

    /// The version the last write gave: a successful save's or rotation's.
    pub fn last_version(&self) -> u64 {
        self.writes
    }

    fn new_version(&mut self, slot: u32) {
        self.writes += 1;
        self.slots[slot as usize].version = self.writes;
    }

    pub fn set(&mut self, sid: &str, json: &str, expires: Option<i64>) {
        let cookie = cookie_member(json);
        let mut record = std::mem::take(&mut self.scratch);
        record.clear();
        record::encode(sid, json, cookie, &mut record);
        let expires = expires.unwrap_or(NEVER);
        let slot = match self.find(sid.as_bytes()) {
            Some(slot) => {
                self.replace_record(slot, &record);
                slot
            }
            None => self.insert(&record),
        };
        self.scratch = record;
        self.set_expiry(slot, expires);
        self.new_version(slot);
        if let Some(eviction) = &mut self.eviction {
            eviction.writes += 1;
            eviction.written[slot as usize] = eviction.writes;
            eviction.order.push_back((slot, eviction.writes));
        }
        self.evict_over_max();
    }

    /// Writes the session if the stored one meets `condition`, in one step:
    /// no other write can come between the check and the write.
    pub fn save(
        &mut self,
        sid: &str,
        json: &str,
        expires: Option<i64>,
        now: i64,
        condition: SaveCondition<Expected>,
    ) -> SaveOutcome {
        let live = self.live_slot(sid, now);
        let stored =
            |map: &Self, slot: u32| record::json(map.records.get(map.slots[slot as usize].place));
        match (condition, live) {
            (SaveCondition::Always, _) => {}
            (SaveCondition::IfAbsent, None) => {}
            (SaveCondition::IfAbsent, Some(slot)) => {
                return SaveOutcome::Differs(stored(self, slot))
            }
            (SaveCondition::IfPresent | SaveCondition::IfUnchanged(_), None) => {
                return SaveOutcome::Missing
            }
            (SaveCondition::IfPresent, Some(_)) => {}
            (SaveCondition::IfUnchanged(Expected::Version(version)), Some(slot)) => {
                if self.slots[slot as usize].version != version {
                    return SaveOutcome::Differs(stored(self, slot));
                }
            }
            (SaveCondition::IfUnchanged(Expected::Text(expected)), Some(slot)) => {
                let current = stored(self, slot);
                if current != expected {
                    return SaveOutcome::Differs(current);
                }
            }
        }
        self.set(sid, json, expires);
        SaveOutcome::Saved
    }

    /// Moves the session `old` to the ID `new` as `json`, in one step:
    /// `Missing` (nothing written) when `old` is gone, `Differs` when `new` is
    /// taken.
    pub fn rotate(
        &mut self,
        old: &str,
        new: &str,
        json: &str,
        expires: Option<i64>,
        now: i64,
    ) -> SaveOutcome {
        if self.live_slot(old, now).is_none() {
            return SaveOutcome::Missing;
        }
        if let Some(slot) = self.live_slot(new, now) {
            return SaveOutcome::Differs(record::json(
                self.records.get(self.slots[slot as usize].place),
            ));
        }
        self.set(new, json, expires);
        self.destroy(old);
        SaveOutcome::Saved
    }

    /// Replaces the stored session's `cookie` and expiry, keeping its data and its
    /// place in eviction order; returns false when there is no live session to touch.
    pub fn touch(&mut self, sid: &str, cookie_json: &str, expires: Option<i64>, now: i64) -> bool {
        let Some(slot) = self.live_slot(sid, now) else {
            return false;
        };
        let mut record = std::mem::take(&mut self.scratch);
        record.clear();
        let stored = self.records.get(self.slots[slot as usize].place);
        let touched = record::encode_with_cookie(stored, cookie_json, &mut record);
        if touched {
            self.replace_record(slot, &record);
            self.set_expiry(slot, expires.unwrap_or(NEVER));
            self.new_version(slot);
        }
        self.scratch = record;
        touched
    }

    /// Moves the stored cookie's `expires` and the session's expiry to `expires`,
    /// changing the record in place; false (nothing changed) when there is no
    /// live session or its cookie has no packed `expires`.
    pub fn touch_expires(&mut self, sid: &str, expires: i64, now: i64) -> bool {
        let Some(slot) = self.live_slot(sid, now) else {
            return false;
        };
        let record = self.records.get_mut(self.slots[slot as usize].place);
        if !record::set_cookie_expires(record, expires) {
            return false;
        }
        self.set_expiry(slot, expires);
        self.new_version(slot);
        true
    }

    pub fn destroy(&mut self, sid: &str) {
        if let Some(slot) = self.find(sid.as_bytes()) {
            self.remove(slot);
        }
    }

    pub fn clear(&mut self) {
        let max = self.eviction.as_ref().map(|e| e.max);
        *self = SessionMap::new(max);
    }

    /// Live sessions, after dropping the expired ones.
    pub fn len(&mut self, now: i64) -> usize {
        self.sweep(now, usize::MAX);
        self.live
    }

    pub fn is_empty(&mut self, now: i64) -> bool {
        self.len(now) == 0
    }

    /// Every live session as `(sid, json)`, after dropping the expired ones.
    pub fn all(&mut self, now: i64) -> impl Iterator<Item = (&[u8], String)> {
        self.sweep(now, usize::MAX);
        let records = &self.records;
        self.slots
            .iter()
            .filter(|slot| !slot.place.is_none())
            .map(|slot| {
                let record = records.get(slot.place);
                (record::id(record), record::json(record))
            })
    }

    /// Drops at most `budget` expired sessions, soonest-expired first; returns how many.
    pub fn sweep(&mut self, now: i64, budget: usize) -> usize {
        let mut dropped = 0;
        let now_second = second_of(now);
        while dropped < budget {
            let Some(mut entry) = self.by_expiry.first_entry() else {
                break;
            };
            let second = *entry.key();
            if second > now_second {
                break;
            }
            if second < now_second {
                // Everything still filed here has expired, unless touched since.
                match entry.get_mut().pop() {
                    Some(slot) => dropped += usize::from(self.sweep_slot(slot, second, now)),
                    None => {
                        entry.remove();
                    }
                }
                continue;
            }
            // This second: some of it may expire later within it.
            let filed = entry.remove();
            let mut later = Vec::new();
            for slot in filed {
                let s = &self.slots[slot as usize];
                if s.place.is_none() || s.filed != second {
                    continue;
                }
                if s.expires <= now && dropped < budget {
                    self.remove(slot);
                    dropped += 1;
                } else if second_of(s.expires) != second {
                    let expires = s.expires;
                    self.file(slot, expires);
                } else {
                    later.push(slot);
                }
            }
            if !later.is_empty() {
                self.by_expiry.insert(second, later);
            }
            break;
        }
        if dropped > 0 {
            self.compact_if_sparse();
        }
        dropped
    }

    /// One slot filed under `second`: dropped if expired (returns true), filed
    /// again where it expires now if touched since, left alone otherwise.
    fn sweep_slot(&mut self, slot: u32, second: i64, now: i64) -> bool {
        let s = &mut self.slots[slot as usize];
        if s.place.is_none() || s.filed != second {
            return false;
        }
        if s.expires <= now {
            self.remove(slot);
            return true;
        }
        if second_of(s.expires) != second {
            let expires = s.expires;
            self.file(slot, expires);
        }
        false
    }

    fn find(&self, sid: &[u8]) -> Option<u32> {
        let hash = self.hasher.hash_one(sid);
        let (slots, records) = (&self.slots, &self.records);
        self.index
            .find(hash, |&slot| {
                let place = slots[slot as usize].place;
                !place.is_none() && record::id(records.get(place)) == sid
            })
            .copied()
    }

    /// The slot of `sid` if it is there and not expired; an expired one is dropped.
    fn live_slot(&mut self, sid: &str, now: i64) -> Option<u32> {
        let slot = self.find(sid.as_bytes())?;
        if self.slots[slot as usize].expires <= now {
            self.remove(slot);
            return None;
        }
        Some(slot)
    }

    fn insert(&mut self, record: &[u8]) -> u32 {
        let hash = self.hasher.hash_one(record::id(record));
        let entry = Slot {
            place: Place::NONE,
            expires: NEVER,
            filed: UNFILED,
            version: 0,
        };
        let slot = match self.free.pop() {
            Some(slot) => {
                self.slots[slot as usize] = entry;
                slot
            }
            None => {
                self.slots.push(entry);
                if let Some(eviction) = &mut self.eviction {
                    eviction.written.push(0);
                }
                (self.slots.len() - 1) as u32
            }
        };
        self.slots[slot as usize].place = self.records.insert(slot, record);
        let (slots, records, hasher) = (&self.slots, &self.records, &self.hasher);
        self.index.insert_unique(hash, slot, |&s| {
            hasher.hash_one(record::id(records.get(slots[s as usize].place)))
        });
        self.live += 1;
        self.compact_records();
        slot
    }

    fn replace_record(&mut self, slot: u32, record: &[u8]) {
        let old = self.slots[slot as usize].place;
        self.records.remove(old);
        self.slots[slot as usize].place = self.records.insert(slot, record);
        self.compact_records();
    }

    /// Gathers the records of at most one mostly-empty page: a bounded step
    /// per write, so pages never stay mostly holes for long.
    fn compact_records(&mut self) {
        let mut moves: Vec<(u32, Place)> = Vec::new();
        {
            let slots = &self.slots;
            self.records.compact(
                1,
                |owner| slots.get(owner as usize).map_or(Place::NONE, |s| s.place),
                |owner, place| moves.push((owner, place)),
            );
        }
        for (owner, place) in moves {
            self.slots[owner as usize].place = place;
        }
    }

    fn set_expiry(&mut self, slot: u32, expires: i64) {
        let s = &mut self.slots[slot as usize];
        s.expires = expires;
        // Filed no later than it expires: the sweep will see it in time.
        if expires != NEVER && (s.filed == UNFILED || s.filed > second_of(expires)) {
            self.file(slot, expires);
        }
    }

    fn file(&mut self, slot: u32, expires: i64) {
        let second = second_of(expires);
        self.slots[slot as usize].filed = second;
        self.by_expiry.entry(second).or_default().push(slot);
    }

    fn remove(&mut self, slot: u32) {
        let place = self.slots[slot as usize].place;
        if place.is_none() {
            return;
        }
        let hash = self.hasher.hash_one(record::id(self.records.get(place)));
        if let Ok(entry) = self.index.find_entry(hash, |&s| s == slot) {
            entry.remove();
        }
        self.records.remove(place);
        let s = &mut self.slots[slot as usize];
        s.place = Place::NONE;
        s.expires = NEVER;
        s.filed = UNFILED;
        self.free.push(slot);
        self.live -= 1;
    }

    fn evict_over_max(&mut self) {
        // Taken out while sessions are removed; `remove` does not use it.
        let Some(mut eviction) = self.eviction.take() else {
            return;
        };
        while self.live > eviction.max {
            let Some((slot, write)) = eviction.order.pop_front() else {
                break;
            };
            if eviction.written[slot as usize] == write {
                eviction.written[slot as usize] = 0;
                self.remove(slot);
            }
        }
        // Stale entries from rewrites: drop them once they outnumber the live ones.
        if eviction.order.len() > 2 * self.live + 1024 {
            let written = &eviction.written;
            eviction
                .order
                .retain(|&(slot, write)| written[slot as usize] == write);
        }
        self.eviction = Some(eviction);
    }

    /// Once most slots are empty (after a wave of expiries), rebuilds the tables
    /// around the live sessions so that memory follows them down.
    fn compact_if_sparse(&mut self) {
        if self.slots.len() <= 1024 || self.live * 4 >= self.slots.len() {
            return;
        }
        let old = std::mem::take(&mut self.slots);
        let old_records = std::mem::take(&mut self.records);
        let mut order: Vec<(u64, u32)> = Vec::new();
        let old_written = self.eviction.as_ref().map(|e| e.written.clone());
        let max = self.eviction.as_ref().map(|e| e.max);
        *self = SessionMap::new(max);
        for (old_slot, slot) in old.into_iter().enumerate() {
            if slot.place.is_none() {
                continue;
            }
            let new_slot = self.insert(old_records.get(slot.place));
            if slot.expires != NEVER {
                self.set_expiry(new_slot, slot.expires);
            }
            if let Some(written) = &old_written {
                order.push((written[old_slot], new_slot));
            }
        }
        if let Some(eviction) = &mut self.eviction {
            order.sort_unstable();
            for (write, slot) in order {
                eviction.written[slot as usize] = write;
                eviction.order.push_back((slot, write));
            }
            eviction.writes = old_written.into_iter().flatten().max().unwrap_or(0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_000_000;

    #[test]
    fn stores_and_returns_json() {
        let mut map = SessionMap::new(None);
        map.set("a", r#"{"cookie":{},"n":1}"#, None);
        assert_eq!(map.get("a", NOW).as_deref(), Some(r#"{"cookie":{},"n":1}"#));
        assert_eq!(map.get("b", NOW), None);
        assert_eq!(map.len(NOW), 1);
    }

    #[test]
    fn conditional_saves_write_only_when_the_condition_holds() {
        let mut map = SessionMap::new(None);
        let v1 = r#"{"cookie":{"path":"/"},"n":1}"#;
        let v2 = r#"{"cookie":{"path":"/"},"n":2}"#;
        let v3 = r#"{"cookie":{"path":"/"},"n":3}"#;
        assert_eq!(
            map.save("a", v1, None, NOW, SaveCondition::IfPresent),
            SaveOutcome::Missing
        );
        assert_eq!(
            map.save(
                "a",
                v1,
                None,
                NOW,
                SaveCondition::IfUnchanged(Expected::Text(v1))
            ),
            SaveOutcome::Missing
        );
        assert_eq!(map.get("a", NOW), None, "nothing created by a failed save");
        assert_eq!(
            map.save("a", v1, None, NOW, SaveCondition::IfAbsent),
            SaveOutcome::Saved
        );
        assert_eq!(
            map.save("a", v2, None, NOW, SaveCondition::IfAbsent),
            SaveOutcome::Differs(v1.into())
        );
        assert_eq!(
            map.save(
                "a",
                v2,
                None,
                NOW,
                SaveCondition::IfUnchanged(Expected::Text(v3))
            ),
            SaveOutcome::Differs(v1.into())
        );
        assert_eq!(
            map.save(
                "a",
                v2,
                None,
                NOW,
                SaveCondition::IfUnchanged(Expected::Text(v1))
            ),
            SaveOutcome::Saved
        );
        assert_eq!(
            map.save("a", v3, None, NOW, SaveCondition::IfPresent),
            SaveOutcome::Saved
        );
        assert_eq!(map.get("a", NOW).as_deref(), Some(v3));
        map.destroy("a");
        assert_eq!(
            map.save(
                "a",
                v2,
                None,
                NOW,
                SaveCondition::IfUnchanged(Expected::Text(v3))
            ),
            SaveOutcome::Missing
        );
        assert_eq!(
            map.get("a", NOW),
            None,
            "a destroyed session stays destroyed"
        );
        assert_eq!(
            map.save("a", v2, None, NOW, SaveCondition::Always),
            SaveOutcome::Saved
        );
    }

    #[test]
    fn rotation_moves_a_live_session_only() {
        let mut map = SessionMap::new(None);
        let v1 = r#"{"cookie":{},"n":1}"#;
        assert_eq!(
            map.rotate("old", "new", v1, None, NOW),
            SaveOutcome::Missing
        );
        assert_eq!(map.get("new", NOW), None);
        map.set("old", v1, None);
        map.set("taken", "{}", None);
        assert_eq!(
            map.rotate("old", "taken", v1, None, NOW),
            SaveOutcome::Differs("{}".into())
        );
        assert_eq!(map.rotate("old", "new", v1, None, NOW), SaveOutcome::Saved);
        assert_eq!(map.get("old", NOW), None);
        assert_eq!(map.get("new", NOW).as_deref(), Some(v1));
    }

    #[test]
    fn a_save_can_expect_the_version_a_load_gave() {
        let mut map = SessionMap::new(None);
        let v1 = r#"{"cookie":{},"n":1}"#;
        map.set("a", v1, None);
        let (_, loaded) = map.get_versioned("a", NOW).unwrap();
        assert!(map.touch("a", r#"{"path":"/"}"#, None, NOW));
        let (touched_json, touched) = map.get_versioned("a", NOW).unwrap();
        assert_ne!(touched, loaded, "a touch is a write");
        let expect = |version| SaveCondition::IfUnchanged(Expected::Version(version));
        assert_eq!(
            map.save("a", v1, None, NOW, expect(loaded)),
            SaveOutcome::Differs(touched_json)
        );
        assert_eq!(
            map.save("a", v1, None, NOW, expect(touched)),
            SaveOutcome::Saved
        );
        let saved = map.last_version();
        map.destroy("a");
        map.set("a", v1, None);
        assert_ne!(
            map.get_versioned("a", NOW).map(|(_, version)| version),
            Some(saved),
            "made again: a version never seen"
        );
        assert_eq!(
            map.save("a", v1, None, NOW, expect(saved)),
            SaveOutcome::Differs(v1.into())
        );
    }

    #[test]
    fn an_expired_session_counts_as_missing() {
        let mut map = SessionMap::new(None);
        let v1 = r#"{"cookie":{},"n":1}"#;
        map.set("a", v1, Some(NOW));
        assert_eq!(
            map.save(
                "a",
                v1,
                Some(NOW + 5),
                NOW,
                SaveCondition::IfUnchanged(Expected::Text(v1))
            ),
            SaveOutcome::Missing
        );
        assert_eq!(
            map.save("a", v1, Some(NOW + 5), NOW, SaveCondition::IfAbsent),
            SaveOutcome::Saved
        );
    }

    #[test]
    fn expired_sessions_are_not_returned_and_are_dropped() {
        let mut map = SessionMap::new(None);
        map.set("a", "{}", Some(NOW));
        map.set("b", "{}", Some(NOW + 1));
        assert_eq!(map.get("a", NOW), None);
        assert_eq!(map.get("b", NOW).as_deref(), Some("{}"));
        assert_eq!(map.len(NOW + 1), 0);
    }

    #[test]
    fn sweep_drops_expired_sessions_within_its_budget() {
        let mut map = SessionMap::new(None);
        for i in 0..10 {
            map.set(&format!("s{i}"), "{}", Some(NOW + i));
        }
        map.set("forever", "{}", None);
        assert_eq!(map.sweep(NOW + 4, 3), 3);
        assert_eq!(map.sweep(NOW + 4, 100), 2);
        assert_eq!(map.live, 6);
        assert_eq!(map.len(NOW + 9), 1);
    }

    #[test]
    fn sweeping_most_sessions_shrinks_the_table() {
        let mut map = SessionMap::new(None);
        for i in 0..10_000 {
            map.set(&format!("s{i}"), "{}", Some(NOW + i64::from(i >= 9_000)));
        }
        let before = map.slots.len();
        assert_eq!(map.sweep(NOW, usize::MAX), 9_000);
        assert!(
            map.slots.len() < before / 2,
            "{} of {before}",
            map.slots.len()
        );
        assert_eq!(map.len(NOW), 1_000);
    }

    #[test]
    fn rewriting_moves_the_expiry() {
        let mut map = SessionMap::new(None);
        map.set("a", "{}", Some(NOW));
        map.set("a", "{}", Some(NOW + 100));
        assert_eq!(map.sweep(NOW + 50, 10), 0);
        assert_eq!(map.get("a", NOW + 50).as_deref(), Some("{}"));
    }

    #[test]
    fn touch_replaces_only_the_cookie() {
        let mut map = SessionMap::new(None);
        map.set("a", r#"{"cookie":{"x":1},"n":1}"#, Some(NOW + 10));
        assert!(map.touch("a", r#"{"x":2}"#, Some(NOW + 100), NOW));
        assert_eq!(
            map.get("a", NOW + 50).as_deref(),
            Some(r#"{"cookie":{"x":2},"n":1}"#)
        );
        assert!(!map.touch("missing", "{}", None, NOW));
    }

    #[test]
    fn touch_expires_moves_the_cookie_date_and_the_expiry() {
        let mut map = SessionMap::new(None);
        let json = r#"{"cookie":{"originalMaxAge":9,"expires":"1970-01-01T00:16:40.010Z"},"n":1}"#;
        map.set("a", json, Some(NOW + 10));
        assert!(map.touch_expires("a", NOW + 5_000, NOW));
        assert_eq!(
            map.get("a", NOW + 4_000).as_deref(),
            Some(r#"{"cookie":{"originalMaxAge":9,"expires":"1970-01-01T00:16:45.000Z"},"n":1}"#)
        );
        assert_eq!(map.len(NOW + 5_000), 0);
        map.set("b", r#"{"cookie":{"path":"/"}}"#, None);
        assert!(!map.touch_expires("b", NOW + 5_000, NOW));
        assert!(!map.touch_expires("missing", NOW, NOW));
    }

    #[test]
    fn max_evicts_the_least_recently_written() {
        let mut map = SessionMap::new(Some(2));
        map.set("a", "{}", None);
        map.set("b", "{}", None);
        map.set("a", "{\"n\":1}", None);
        map.set("c", "{}", None);
        assert_eq!(map.get("b", NOW), None);
        assert!(map.get("a", NOW).is_some());
        assert!(map.get("c", NOW).is_some());
    }

    #[test]
    fn destroy_and_clear() {
        let mut map = SessionMap::new(Some(10));
        map.set("a", "{}", Some(NOW + 1));
        map.set("b", "{}", None);
        map.destroy("a");
        assert_eq!(map.get("a", NOW), None);
        assert_eq!(map.len(NOW), 1);
        map.clear();
        assert!(map.is_empty(NOW));
        assert!(map.eviction.as_ref().unwrap().order.is_empty());
    }
}
