//! Handles: a slot's address plus the slot's generation, packed in a `u64`.
//!
//! Layout (most significant first): generation (32 bits) | shard (8 bits) |
//! slot index within the shard (24 bits). Generations start at 1, so no live
//! handle is 0, and a slot whose generation would wrap is retired for good:
//! a stale handle can never name a later occupant of its slot.

use std::fmt;

/// Bits of the slot index: a shard holds at most 2^24 slots.
pub(crate) const INDEX_BITS: u32 = 24;
/// Bits of the shard number: a pool has at most 256 shards.
pub(crate) const SHARD_BITS: u32 = 8;
/// Slots per shard.
pub(crate) const MAX_SLOTS_PER_SHARD: usize = 1 << INDEX_BITS;
/// Shards per pool.
pub const MAX_SHARDS: usize = 1 << SHARD_BITS;

/// The address of one pool entry. Copyable; it is the plain `u64` the
/// bindings pass around ([`Handle::to_raw`], [`Handle::from_raw`]). Once its
/// entry is released, evicted, expired or reclaimed, every operation on it is
/// [`crate::Error::StaleHandle`].
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Handle(u64);

impl Handle {
    pub(crate) fn new(shard: usize, index: u32, generation: u32) -> Handle {
        debug_assert!(shard < MAX_SHARDS && (index as usize) < MAX_SLOTS_PER_SHARD);
        Handle((u64::from(generation) << 32) | ((shard as u64) << INDEX_BITS) | u64::from(index))
    }

    /// The handle's wire form.
    pub fn to_raw(self) -> u64 {
        self.0
    }

    /// A handle from its wire form. Any value is accepted; one the pool did
    /// not issue (or no longer honours) is `StaleHandle` when used.
    pub fn from_raw(raw: u64) -> Handle {
        Handle(raw)
    }

    pub(crate) fn shard(self) -> usize {
        ((self.0 >> INDEX_BITS) & ((1 << SHARD_BITS) - 1)) as usize
    }

    pub(crate) fn index(self) -> u32 {
        (self.0 & ((1 << INDEX_BITS) - 1)) as u32
    }

    pub(crate) fn generation(self) -> u32 {
        (self.0 >> 32) as u32
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Handle(shard {}, slot {}, gen {})",
            self.shard(),
            self.index(),
            self.generation()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packs_and_unpacks() {
        let h = Handle::new(255, (1 << 24) - 1, u32::MAX);
        assert_eq!(
            (h.shard(), h.index(), h.generation()),
            (255, (1 << 24) - 1, u32::MAX)
        );
        let h = Handle::from_raw(Handle::new(3, 7, 1).to_raw());
        assert_eq!((h.shard(), h.index(), h.generation()), (3, 7, 1));
        assert_ne!(h.to_raw(), 0);
    }
}
