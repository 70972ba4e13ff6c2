use ring::Ring;

#[test]
fn empty() {
    let ring: Ring<i32> = Ring::new(3);
    assert!(ring.is_empty());
    assert_eq!(ring.last(), None);
    assert_eq!(ring.to_vec(), Vec::<i32>::new());
}

#[test]
fn not_yet_full() {
    let mut ring = Ring::new(3);
    ring.push("a");
    ring.push("b");
    assert_eq!(ring.len(), 2);
    assert_eq!(ring.to_vec(), vec!["a", "b"]);
    assert_eq!(ring.last(), Some(&"b"));
}

#[test]
fn keeps_the_newest_items_in_order() {
    let mut ring = Ring::new(3);
    for i in 1..=5 {
        ring.push(i);
    }
    assert_eq!(ring.len(), 3);
    assert_eq!(ring.to_vec(), vec![3, 4, 5]);
    assert_eq!(ring.last(), Some(&5));
}

#[test]
fn wraps_many_times() {
    let mut ring = Ring::new(4);
    for i in 0..103 {
        ring.push(i);
        assert_eq!(ring.last(), Some(&i));
    }
    assert_eq!(ring.to_vec(), vec![99, 100, 101, 102]);
}

#[test]
fn capacity_one() {
    let mut ring = Ring::new(1);
    ring.push('x');
    ring.push('y');
    assert_eq!(ring.to_vec(), vec!['y']);
}
