//! A fixed-capacity ring buffer that keeps the most recent items
//! (e.g. the last N lines of a build log).

pub struct Ring<T> {
    items: Vec<Option<T>>,
    head: usize, // index of the oldest item
    len: usize,
}

impl<T: Clone> Ring<T> {
    pub fn new(capacity: usize) -> Self {
        assert!(capacity > 0, "capacity must be positive");
        Ring { items: vec![None; capacity], head: 0, len: 0 }
    }

    pub fn capacity(&self) -> usize {
        self.items.len()
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends `item`; when the ring is full, the oldest item is dropped.
    pub fn push(&mut self, item: T) {
        let tail = (self.head + self.len) % self.capacity();
        self.items[tail] = Some(item);
        if self.len < self.capacity() {
            self.len += 1;
        }
    }

    /// The most recently pushed item.
    pub fn last(&self) -> Option<&T> {
        if self.len == 0 {
            return None;
        }
        self.items[(self.head + self.len - 1) % self.capacity()].as_ref()
    }

    /// The items from oldest to newest.
    pub fn to_vec(&self) -> Vec<T> {
        (0..self.len)
            .map(|i| self.items[(self.head + i) % self.capacity()].clone().unwrap())
            .collect()
    }
}
