//! Token-bucket rate limiter. The caller passes the current time in
//! milliseconds, so the limiter needs no clock of its own.

pub struct RateLimiter {
    capacity: u32,
    tokens: f64,
    refill_per_sec: f64,
    last_ms: u64,
}

impl RateLimiter {
    /// A full bucket of `capacity` tokens, refilled at `refill_per_sec`
    /// tokens per second, starting at time `now_ms`.
    pub fn new(capacity: u32, refill_per_sec: f64, now_ms: u64) -> Self {
        RateLimiter { capacity, tokens: capacity as f64, refill_per_sec, last_ms: now_ms }
    }

    fn refill(&mut self, now_ms: u64) {
        let elapsed = now_ms.saturating_sub(self.last_ms) as f64 / 1000.0;
        self.tokens += elapsed * self.refill_per_sec;
        self.last_ms = self.last_ms.max(now_ms);
    }

    /// Takes one token if one is available at `now_ms`.
    pub fn try_acquire(&mut self, now_ms: u64) -> bool {
        self.refill(now_ms);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// Whole tokens available at `now_ms`.
    pub fn available(&mut self, now_ms: u64) -> u32 {
        self.refill(now_ms);
        self.tokens as u32
    }

    pub fn capacity(&self) -> u32 {
        self.capacity
    }
}
