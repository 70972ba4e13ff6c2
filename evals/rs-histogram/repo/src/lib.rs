//! Latency histograms for the load tester's report.

/// Counts of values in equal-width buckets spanning `min..=max`.
#[derive(Debug, Clone)]
pub struct Histogram {
    min: f64,
    max: f64,
    counts: Vec<u64>,
}

impl Histogram {
    /// Panics if `buckets` is 0 or the range is empty.
    pub fn new(min: f64, max: f64, buckets: usize) -> Histogram {
        assert!(buckets > 0, "a histogram needs at least one bucket");
        assert!(min < max, "empty range {min}..={max}");
        Histogram { min, max, counts: vec![0; buckets] }
    }

    /// Count `value`; returns false (and counts nothing) if it is outside
    /// the range.
    pub fn add(&mut self, value: f64) -> bool {
        if !(self.min..=self.max).contains(&value) {
            return false;
        }
        let width = (self.max - self.min) / self.counts.len() as f64;
        let i = ((value - self.min) / width) as usize;
        self.counts[i] += 1;
        true
    }

    pub fn counts(&self) -> &[u64] {
        &self.counts
    }

    /// The range of bucket `i`: from its lower bound up to the next one.
    pub fn bucket_range(&self, i: usize) -> (f64, f64) {
        let width = (self.max - self.min) / self.counts.len() as f64;
        (self.min + width * i as f64, self.min + width * (i + 1) as f64)
    }
}
