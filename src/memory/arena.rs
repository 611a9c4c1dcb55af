//! Session records packed end to end in 64 KiB pages instead of one heap
//! allocation each.
//!
//! A malloc'd record pays a header and rounding (a 174-byte record takes 192)
//! and lands between the short-lived allocations of the rest of the process,
//! whose holes keep RSS up. Here a record costs its bytes plus a 4-byte owner and
//! a length. Replacing or removing a record leaves a hole; a page that is mostly
//! holes has its live records moved to the page being filled and is freed, and a
//! page with nothing left is freed at once.
//!
//! Entry layout: `owner: u32 LE`, `varint(len)`, `len` bytes. The owner (the
//! store's slot number) is how compaction tells the store where a record went.

use crate::varint;

const PAGE: usize = 64 * 1024;

/// Where a record is. `page == u32::MAX` is nowhere.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Place {
    page: u32,
    offset: u32,
}

impl Place {
    pub const NONE: Place = Place {
        page: u32::MAX,
        offset: 0,
    };

    pub fn is_none(self) -> bool {
        self.page == u32::MAX
    }
}

#[derive(Default)]
struct Page {
    bytes: Vec<u8>,
    /// Bytes of entries still in use.
    live: usize,
    /// Queued for compaction.
    queued: bool,
}

#[derive(Default)]
pub struct RecordArena {
    pages: Vec<Page>,
    /// Pages whose buffer was freed, for reuse.
    spare: Vec<u32>,
    current: Option<u32>,
    /// Pages that became mostly holes.
    sparse: Vec<u32>,
}

impl RecordArena {
    /// Stores `record` for `owner`.
    pub fn insert(&mut self, owner: u32, record: &[u8]) -> Place {
        let len = varint::encode(record.len());
        let size = 4 + len.as_bytes().len() + record.len();
        let page = self.page_with_room(size);
        let p = &mut self.pages[page as usize];
        let offset = p.bytes.len() as u32;
        p.bytes.extend_from_slice(&owner.to_le_bytes());
        p.bytes.extend_from_slice(len.as_bytes());
        p.bytes.extend_from_slice(record);
        p.live += size;
        Place { page, offset }
    }

    pub fn get(&self, place: Place) -> &[u8] {
        self.entry(place).map_or(&[][..], |(_, record, _)| record)
    }

    /// The record at `place`, to change in place (its length stays).
    pub fn get_mut(&mut self, place: Place) -> &mut [u8] {
        let Some((_, record, size)) = self.entry(place) else {
            return &mut [];
        };
        let (len, start) = (record.len(), place.offset as usize + size - record.len());
        &mut self.pages[place.page as usize].bytes[start..start + len]
    }

    pub fn remove(&mut self, place: Place) {
        let Some((_, _, size)) = self.entry(place) else {
            return;
        };
        let page = place.page;
        let p = &mut self.pages[page as usize];
        p.live = p.live.saturating_sub(size);
        if Some(page) == self.current {
            return;
        }
        if p.live == 0 {
            self.free_page(page);
        } else if p.live * 4 < p.bytes.len() && !p.queued {
            p.queued = true;
            self.sparse.push(page);
        }
    }

    /// Moves the live records of mostly-empty pages (at most `limit` pages)
    /// together and frees those pages. `place_of(owner)` is where the store
    /// has that owner's record; `moved(owner, place)` tells it the new place.
    pub fn compact(
        &mut self,
        limit: usize,
        place_of: impl Fn(u32) -> Place,
        mut moved: impl FnMut(u32, Place),
    ) {
        for _ in 0..limit {
            let Some(page) = self.sparse.pop() else {
                return;
            };
            self.pages[page as usize].queued = false;
            if Some(page) == self.current || self.pages[page as usize].bytes.is_empty() {
                continue;
            }
            let bytes = std::mem::take(&mut self.pages[page as usize].bytes);
            let mut offset = 0;
            while let Some((owner, record, size)) = parse_entry(&bytes, offset) {
                let here = Place {
                    page,
                    offset: offset as u32,
                };
                if place_of(owner) == here {
                    moved(owner, self.insert(owner, record));
                }
                offset += size;
            }
            self.pages[page as usize].bytes = bytes;
            self.free_page(page);
        }
    }

    /// Bytes held by pages, for tests and sizing.
    pub fn reserved(&self) -> usize {
        self.pages.iter().map(|p| p.bytes.capacity()).sum()
    }

    fn entry(&self, place: Place) -> Option<(u32, &[u8], usize)> {
        let page = self.pages.get(place.page as usize)?;
        parse_entry(&page.bytes, place.offset as usize)
    }

    fn page_with_room(&mut self, size: usize) -> u32 {
        if let Some(current) = self.current {
            let p = &self.pages[current as usize];
            if p.bytes.capacity() - p.bytes.len() >= size {
                return current;
            }
            // The filled page may already be mostly holes.
            if p.live == 0 {
                self.free_page(current);
            } else if p.live * 4 < p.bytes.len() && !p.queued {
                self.pages[current as usize].queued = true;
                self.sparse.push(current);
            }
        }
        let bytes = Vec::with_capacity(size.max(PAGE));
        let page = match self.spare.pop() {
            Some(page) => {
                self.pages[page as usize].bytes = bytes;
                page
            }
            None => {
                self.pages.push(Page {
                    bytes,
                    ..Page::default()
                });
                (self.pages.len() - 1) as u32
            }
        };
        self.pages[page as usize].live = 0;
        self.current = Some(page);
        page
    }

    fn free_page(&mut self, page: u32) {
        let p = &mut self.pages[page as usize];
        p.bytes = Vec::new();
        p.live = 0;
        if self.current == Some(page) {
            self.current = None;
        }
        self.spare.push(page);
    }
}

fn parse_entry(bytes: &[u8], offset: usize) -> Option<(u32, &[u8], usize)> {
    let owner = u32::from_le_bytes(bytes.get(offset..offset.checked_add(4)?)?.try_into().ok()?);
    let mut at = offset + 4;
    let len = varint::read(bytes, &mut at)?;
    let record = bytes.get(at..at.checked_add(len)?)?;
    Some((owner, record, at + len - offset))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_come_back_and_emptied_pages_are_freed() {
        let mut arena = RecordArena::default();
        let mut places: Vec<Place> = (0..2000u32)
            .map(|i| arena.insert(i, format!("record {i} {}", "x".repeat(100)).as_bytes()))
            .collect();
        for (i, &place) in places.iter().enumerate() {
            assert!(arena
                .get(place)
                .starts_with(format!("record {i} ").as_bytes()));
        }
        let full = arena.reserved();
        // Drop most, keep every tenth: the sparse pages get compacted.
        for (i, place) in places.iter_mut().enumerate() {
            if i % 10 != 0 {
                arena.remove(*place);
                *place = Place::NONE;
            }
        }
        let current = places.clone();
        let mut updates = Vec::new();
        arena.compact(
            usize::MAX,
            |owner| current[owner as usize],
            |owner, place| updates.push((owner, place)),
        );
        for (owner, place) in updates {
            places[owner as usize] = place;
        }
        for (i, &place) in places.iter().enumerate() {
            if i % 10 == 0 {
                assert!(arena
                    .get(place)
                    .starts_with(format!("record {i} ").as_bytes()));
            }
        }
        assert!(
            arena.reserved() < full / 2,
            "{} of {full}",
            arena.reserved()
        );
    }

    #[test]
    fn a_record_larger_than_a_page_gets_its_own() {
        let mut arena = RecordArena::default();
        let big = vec![7u8; PAGE * 2];
        let place = arena.insert(1, &big);
        assert_eq!(arena.get(place), &big[..]);
        arena.remove(place);
        assert_eq!(arena.get(Place::NONE), b"");
    }
}
