//! The job scheduler's run queue: a binary heap of jobs ordered by priority.
//! Higher priorities come out first; jobs with equal priority come out in
//! the order they were pushed.

struct Entry<T> {
    priority: u32,
    /// Push order: 0 for the first job ever pushed, then 1, 2, ...
    seq: u64,
    item: T,
}

/// A max-heap stored in a Vec: the children of index i are 2i+1 and 2i+2,
/// and no entry comes out before its parent.
pub struct TaskQueue<T> {
    heap: Vec<Entry<T>>,
    next_seq: u64,
}

impl<T> Default for TaskQueue<T> {
    fn default() -> Self {
        TaskQueue::new()
    }
}

impl<T> TaskQueue<T> {
    pub fn new() -> Self {
        TaskQueue { heap: Vec::new(), next_seq: 0 }
    }

    pub fn len(&self) -> usize {
        self.heap.len()
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    /// Whether the entry at index `a` comes out before the one at `b`: a
    /// higher priority, or the same priority and pushed earlier.
    fn before(&self, a: usize, b: usize) -> bool {
        todo!()
    }

    /// Move the entry at index `i` up while it comes out before its parent.
    fn sift_up(&mut self, i: usize) {
        todo!()
    }

    /// Move the entry at index `i` down while one of its children comes
    /// out before it (swapping with the child that comes out first).
    fn sift_down(&mut self, i: usize) {
        todo!()
    }

    /// Add `item` with `priority`.
    pub fn push(&mut self, priority: u32, item: T) {
        todo!()
    }

    /// The priority and item that `pop` would return, without removing it.
    pub fn peek(&self) -> Option<(u32, &T)> {
        todo!()
    }

    /// Remove and return the job that comes out first, with its priority.
    pub fn pop(&mut self) -> Option<(u32, T)> {
        todo!()
    }
}
