//! Counting words.

use std::collections::HashMap;

use crate::words::words;

#[derive(Debug, Default)]
pub struct WordCounts {
    counts: HashMap<String, usize>,
    total: usize,
}

impl WordCounts {
    pub fn from_text(text: &str) -> WordCounts {
        let mut wc = WordCounts::default();
        for word in words(text) {
            *wc.counts.entry(word).or_insert(0) += 1;
            wc.total += 1;
        }
        wc
    }

    /// How often `word` occurs (case-insensitive).
    pub fn count(&self, word: &str) -> usize {
        self.counts.get(&word.to_lowercase()).copied().unwrap_or(0)
    }

    /// Number of words in the text.
    pub fn total(&self) -> usize {
        self.total
    }

    /// Number of different words.
    pub fn distinct(&self) -> usize {
        self.counts.len()
    }
}
