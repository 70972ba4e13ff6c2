use latency_stats::{mean, median, percentile};

#[test]
fn mean_of_samples() {
    assert_eq!(mean(&[1.0, 2.0, 6.0]), Some(3.0));
    assert_eq!(mean(&[]), None);
}

#[test]
fn median_odd_count() {
    assert_eq!(median(&[5.0, 1.0, 3.0]), Some(3.0));
    assert_eq!(median(&[7.0]), Some(7.0));
}

#[test]
fn median_even_count() {
    assert_eq!(median(&[1.0, 2.0, 3.0, 4.0]), Some(2.5));
    assert_eq!(median(&[10.0, 2.0]), Some(6.0));
    assert_eq!(median(&[4.0, 1.0, 1.0, 9.0, 3.0, 8.0]), Some(3.5));
}

#[test]
fn median_of_nothing() {
    assert_eq!(median(&[]), None);
}

#[test]
fn percentiles() {
    let samples: Vec<f64> = (1..=10).map(|n| n as f64 * 10.0).collect();
    assert_eq!(percentile(&samples, 50.0), Some(50.0));
    assert_eq!(percentile(&samples, 95.0), Some(100.0));
    assert_eq!(percentile(&samples, 0.0), Some(10.0));
    assert_eq!(percentile(&samples, 101.0), None);
    assert_eq!(percentile(&[], 50.0), None);
}
