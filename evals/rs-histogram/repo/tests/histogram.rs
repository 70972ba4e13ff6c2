use latency_hist::Histogram;

#[test]
fn values_land_in_their_bucket() {
    let mut h = Histogram::new(0.0, 100.0, 4);
    for v in [0.0, 10.0, 24.9, 25.0, 60.0, 99.9] {
        assert!(h.add(v));
    }
    assert_eq!(h.counts(), &[3, 1, 1, 1]);
}

#[test]
fn top_of_range_goes_in_last_bucket() {
    let mut h = Histogram::new(0.0, 100.0, 4);
    assert!(h.add(100.0));
    assert_eq!(h.counts(), &[0, 0, 0, 1]);

    let mut h = Histogram::new(0.1, 0.7, 3);
    assert!(h.add(0.7));
    assert!(h.add(0.1));
    assert_eq!(h.counts(), &[1, 0, 1]);
}

#[test]
fn outside_values_are_refused() {
    let mut h = Histogram::new(10.0, 20.0, 2);
    assert!(!h.add(9.99));
    assert!(!h.add(20.01));
    assert!(!h.add(f64::NAN));
    assert_eq!(h.counts(), &[0, 0]);
}

#[test]
fn bucket_ranges() {
    let h = Histogram::new(0.0, 100.0, 4);
    assert_eq!(h.bucket_range(0), (0.0, 25.0));
    assert_eq!(h.bucket_range(3), (75.0, 100.0));
}
