//! The default session store: serialized sessions in memory, each with its expiry.
//!
//! Unlike express-session's MemoryStore, which only drops an expired session when
//! it happens to be read, expired sessions are kept in an expiry-ordered index and
//! removed by `sweep`, which the JS side calls from an unref'd timer. An optional
//! `max` bounds the count, evicting the least recently written session first.
//! Times are milliseconds since the epoch, passed in so that the JS clock (and
//! fake timers in tests) decide what has expired.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::rc::Rc;

struct Entry {
    json: Box<str>,
    expires: Option<i64>,
    written: u64,
}

#[derive(Default)]
pub struct SessionMap {
    entries: HashMap<Rc<str>, Entry>,
    by_expiry: BTreeSet<(i64, Rc<str>)>,
    /// Write order, kept only when `max` is set.
    by_write: BTreeMap<u64, Rc<str>>,
    writes: u64,
    max: Option<usize>,
}

/// Asks the allocator to hand freed pages back to the OS. glibc keeps the memory
/// of many small freed allocations (the sessions' JSON) otherwise, and RSS would
/// stay at its peak after the sessions are gone.
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

impl SessionMap {
    pub fn new(max: Option<usize>) -> Self {
        SessionMap {
            max: max.filter(|&m| m > 0),
            ..Default::default()
        }
    }

    /// The session's JSON unless it is missing or expired (an expired one is dropped).
    pub fn get(&mut self, sid: &str, now: i64) -> Option<&str> {
        if self.is_expired(sid, now) {
            self.remove(sid);
            return None;
        }
        self.entries.get(sid).map(|entry| &*entry.json)
    }

    pub fn set(&mut self, sid: &str, json: &str, expires: Option<i64>) {
        self.remove(sid);
        let key: Rc<str> = Rc::from(sid);
        self.writes += 1;
        if let Some(at) = expires {
            self.by_expiry.insert((at, key.clone()));
        }
        if self.max.is_some() {
            self.by_write.insert(self.writes, key.clone());
        }
        self.entries.insert(
            key,
            Entry {
                json: json.into(),
                expires,
                written: self.writes,
            },
        );
        self.evict_over_max();
    }

    /// Replaces the stored session's `cookie` and expiry, keeping its data and its
    /// place in eviction order; returns false when there is no live session to touch.
    pub fn touch(&mut self, sid: &str, cookie_json: &str, expires: Option<i64>, now: i64) -> bool {
        if self.is_expired(sid, now) {
            self.remove(sid);
            return false;
        }
        let Some((key, entry)) = self.entries.get_key_value(sid) else {
            return false;
        };
        let Some(updated) = crate::json_object::with_member(&entry.json, "cookie", cookie_json)
        else {
            return false;
        };
        let key = key.clone();
        if let Some(at) = entry.expires {
            self.by_expiry.remove(&(at, key.clone()));
        }
        if let Some(at) = expires {
            self.by_expiry.insert((at, key.clone()));
        }
        if let Some(entry) = self.entries.get_mut(&key) {
            entry.json = updated.into();
            entry.expires = expires;
        }
        true
    }

    pub fn destroy(&mut self, sid: &str) {
        self.remove(sid);
    }

    pub fn clear(&mut self) {
        self.entries = HashMap::new();
        self.by_expiry.clear();
        self.by_write.clear();
    }

    /// Live sessions, after dropping the expired ones.
    pub fn len(&mut self, now: i64) -> usize {
        self.sweep(now, usize::MAX);
        self.entries.len()
    }

    pub fn is_empty(&mut self, now: i64) -> bool {
        self.len(now) == 0
    }

    /// Every live session as `(sid, json)`, after dropping the expired ones.
    pub fn all(&mut self, now: i64) -> impl Iterator<Item = (&str, &str)> {
        self.sweep(now, usize::MAX);
        self.entries
            .iter()
            .map(|(sid, entry)| (&**sid, &*entry.json))
    }

    /// Drops at most `budget` expired sessions, soonest-expired first; returns how many.
    pub fn sweep(&mut self, now: i64, budget: usize) -> usize {
        let mut dropped = 0;
        while dropped < budget {
            let Some((at, sid)) = self.by_expiry.first().cloned() else {
                break;
            };
            if at > now {
                break;
            }
            self.remove(&sid);
            dropped += 1;
        }
        if dropped > 0 {
            self.shrink_if_sparse();
        }
        dropped
    }

    /// Gives back the table space of sessions that are gone, once most of it is
    /// empty, so memory follows the live sessions after a peak.
    fn shrink_if_sparse(&mut self) {
        let capacity = self.entries.capacity();
        if capacity > 1024 && self.entries.len() * 4 < capacity {
            self.entries.shrink_to(self.entries.len() * 2);
        }
    }

    fn is_expired(&self, sid: &str, now: i64) -> bool {
        matches!(self.entries.get(sid), Some(Entry { expires: Some(at), .. }) if *at <= now)
    }

    fn remove(&mut self, sid: &str) {
        if let Some((key, entry)) = self.entries.remove_entry(sid) {
            if let Some(at) = entry.expires {
                self.by_expiry.remove(&(at, key));
            }
            self.by_write.remove(&entry.written);
        }
    }

    fn evict_over_max(&mut self) {
        let Some(max) = self.max else { return };
        while self.entries.len() > max {
            let Some((_, oldest)) = self.by_write.pop_first() else {
                break;
            };
            self.remove(&oldest);
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
        assert_eq!(map.get("a", NOW), Some(r#"{"cookie":{},"n":1}"#));
        assert_eq!(map.get("b", NOW), None);
        assert_eq!(map.len(NOW), 1);
    }

    #[test]
    fn expired_sessions_are_not_returned_and_are_dropped() {
        let mut map = SessionMap::new(None);
        map.set("a", "{}", Some(NOW));
        map.set("b", "{}", Some(NOW + 1));
        assert_eq!(map.get("a", NOW), None);
        assert_eq!(map.get("b", NOW), Some("{}"));
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
        assert_eq!(map.entries.len(), 6);
        assert_eq!(map.by_expiry.len(), 5);
    }

    #[test]
    fn sweeping_most_sessions_shrinks_the_table() {
        let mut map = SessionMap::new(None);
        for i in 0..10_000 {
            map.set(&format!("s{i}"), "{}", Some(NOW + i64::from(i >= 9_000)));
        }
        let before = map.entries.capacity();
        assert_eq!(map.sweep(NOW, usize::MAX), 9_000);
        assert!(
            map.entries.capacity() < before / 2,
            "{} of {before}",
            map.entries.capacity()
        );
        assert_eq!(map.len(NOW), 1_000);
    }

    #[test]
    fn rewriting_moves_the_expiry() {
        let mut map = SessionMap::new(None);
        map.set("a", "{}", Some(NOW));
        map.set("a", "{}", Some(NOW + 100));
        assert_eq!(map.sweep(NOW + 50, 10), 0);
        assert_eq!(map.get("a", NOW + 50), Some("{}"));
    }

    #[test]
    fn touch_replaces_only_the_cookie() {
        let mut map = SessionMap::new(None);
        map.set("a", r#"{"cookie":{"x":1},"n":1}"#, Some(NOW + 10));
        assert!(map.touch("a", r#"{"x":2}"#, Some(NOW + 100), NOW));
        assert_eq!(map.get("a", NOW + 50), Some(r#"{"cookie":{"x":2},"n":1}"#));
        assert!(!map.touch("missing", "{}", None, NOW));
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
        assert_eq!(map.by_expiry.len(), 0);
        map.clear();
        assert!(map.is_empty(NOW));
        assert!(map.by_write.is_empty());
    }
}
