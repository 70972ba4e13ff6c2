use rate_limit::RateLimiter;

fn burst(limiter: &mut RateLimiter, now_ms: u64) -> u32 {
    let mut passed = 0;
    while limiter.try_acquire(now_ms) {
        passed += 1;
        assert!(passed <= 1000, "limiter never says no");
    }
    passed
}

#[test]
fn starts_full_and_runs_dry() {
    let mut limiter = RateLimiter::new(5, 1.0, 0);
    assert_eq!(limiter.available(0), 5);
    assert_eq!(burst(&mut limiter, 0), 5);
    assert!(!limiter.try_acquire(0));
}

#[test]
fn refills_over_time() {
    let mut limiter = RateLimiter::new(5, 2.0, 0);
    burst(&mut limiter, 0);
    assert!(!limiter.try_acquire(400));
    assert!(limiter.try_acquire(500));
    assert_eq!(limiter.available(1500), 2);
}

#[test]
fn idle_time_never_fills_past_capacity() {
    let mut limiter = RateLimiter::new(5, 1.0, 0);
    assert_eq!(limiter.available(60_000), 5);
    assert_eq!(burst(&mut limiter, 60_000), 5);

    let mut limiter = RateLimiter::new(3, 10.0, 1_000);
    burst(&mut limiter, 1_000);
    assert_eq!(burst(&mut limiter, 3_600_000), 3);
}

#[test]
fn clock_going_backwards_is_harmless() {
    let mut limiter = RateLimiter::new(2, 1.0, 10_000);
    burst(&mut limiter, 10_000);
    assert!(!limiter.try_acquire(5_000));
    assert!(limiter.try_acquire(11_000));
}
