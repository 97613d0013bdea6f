//! Intrusive doubly linked lists over slab indices: the links live in the
//! nodes (one `Links` per node and per list kind), a list is three integers.

/// "No node": the end of a list, or a node in no list.
pub(crate) const NIL: u32 = u32::MAX;

/// The two links a node holds for one kind of list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Links {
    pub(crate) prev: u32,
    pub(crate) next: u32,
}

impl Default for Links {
    fn default() -> Self {
        Links {
            prev: NIL,
            next: NIL,
        }
    }
}

/// A node that carries `Links` for the list kind at hand.
pub(crate) trait Linked {
    /// The node's links.
    fn links(&self) -> &Links;
    /// The node's links, mutably.
    fn links_mut(&mut self) -> &mut Links;
}

impl Linked for Links {
    fn links(&self) -> &Links {
        self
    }
    fn links_mut(&mut self) -> &mut Links {
        self
    }
}

/// Head, tail and length of one list; the nodes are in a slice indexed by `u32`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct List {
    head: u32,
    tail: u32,
    len: u32,
}

impl Default for List {
    fn default() -> Self {
        List::EMPTY
    }
}

impl List {
    /// The empty list.
    pub(crate) const EMPTY: List = List {
        head: NIL,
        tail: NIL,
        len: 0,
    };

    /// Number of nodes in the list.
    pub(crate) fn len(&self) -> usize {
        self.len as usize
    }

    /// Whether the list has no node.
    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The first (oldest) node.
    pub(crate) fn front(&self) -> Option<u32> {
        (self.head != NIL).then_some(self.head)
    }

    /// Appends node `i` (which must be in no list of this kind). O(1).
    pub(crate) fn push_back<T: Linked>(&mut self, nodes: &mut [T], i: u32) {
        let tail = self.tail;
        *nodes[i as usize].links_mut() = Links {
            prev: tail,
            next: NIL,
        };
        if tail == NIL {
            self.head = i;
        } else {
            nodes[tail as usize].links_mut().next = i;
        }
        self.tail = i;
        self.len += 1;
    }

    /// Unlinks node `i` (which must be in this list). O(1).
    pub(crate) fn remove<T: Linked>(&mut self, nodes: &mut [T], i: u32) {
        let Links { prev, next } = *nodes[i as usize].links();
        if prev == NIL {
            self.head = next;
        } else {
            nodes[prev as usize].links_mut().next = next;
        }
        if next == NIL {
            self.tail = prev;
        } else {
            nodes[next as usize].links_mut().prev = prev;
        }
        *nodes[i as usize].links_mut() = Links::default();
        self.len -= 1;
    }

    /// Moves node `i` (in this list) to the back. O(1).
    pub(crate) fn move_to_back<T: Linked>(&mut self, nodes: &mut [T], i: u32) {
        if self.tail != i {
            self.remove(nodes, i);
            self.push_back(nodes, i);
        }
    }

    /// The nodes front to back (collect before mutating the list).
    pub(crate) fn iter<'a, T: Linked>(&self, nodes: &'a [T]) -> impl Iterator<Item = u32> + 'a {
        let mut at = self.head;
        std::iter::from_fn(move || {
            (at != NIL).then(|| {
                let i = at;
                at = nodes[i as usize].links().next;
                i
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_remove_move() {
        let mut nodes = vec![Links::default(); 4];
        let mut l = List::EMPTY;
        for i in 0..4 {
            l.push_back(&mut nodes, i);
        }
        l.remove(&mut nodes, 1);
        l.move_to_back(&mut nodes, 0);
        assert_eq!(l.iter(&nodes).collect::<Vec<_>>(), [2, 3, 0]);
        assert_eq!((l.len(), l.front()), (3, Some(2)));
        l.remove(&mut nodes, 2);
        l.remove(&mut nodes, 0);
        l.remove(&mut nodes, 3);
        assert!(l.is_empty() && l.front().is_none());
        assert_eq!(l, List::EMPTY);
    }
}
