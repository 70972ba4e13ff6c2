use runqueue::TaskQueue;

fn drain<T>(q: &mut TaskQueue<T>) -> Vec<(u32, T)> {
    let mut out = Vec::new();
    while let Some(entry) = q.pop() {
        out.push(entry);
    }
    out
}

#[test]
fn empty_queue() {
    let mut q: TaskQueue<&str> = TaskQueue::new();
    assert!(q.is_empty());
    assert_eq!(q.peek(), None);
    assert_eq!(q.pop(), None);
}

#[test]
fn highest_priority_first() {
    let mut q = TaskQueue::new();
    q.push(2, "backup");
    q.push(9, "page oncall");
    q.push(5, "send mail");
    q.push(1, "vacuum");
    assert_eq!(q.len(), 4);
    assert_eq!(q.peek(), Some((9, &"page oncall")));
    assert_eq!(q.len(), 4);
    assert_eq!(
        drain(&mut q),
        vec![(9, "page oncall"), (5, "send mail"), (2, "backup"), (1, "vacuum")]
    );
    assert!(q.is_empty());
}

#[test]
fn equal_priorities_keep_push_order() {
    let mut q = TaskQueue::new();
    for name in ["a", "b", "c", "d", "e", "f", "g"] {
        q.push(3, name);
    }
    q.push(4, "urgent");
    let names: Vec<&str> = drain(&mut q).into_iter().map(|(_, n)| n).collect();
    assert_eq!(names, ["urgent", "a", "b", "c", "d", "e", "f", "g"]);
}

#[test]
fn interleaved_push_and_pop() {
    let mut q = TaskQueue::new();
    q.push(1, "low");
    q.push(5, "high");
    assert_eq!(q.pop(), Some((5, "high")));
    q.push(3, "mid");
    q.push(1, "low again");
    assert_eq!(q.pop(), Some((3, "mid")));
    q.push(0, "idle");
    assert_eq!(drain(&mut q), vec![(1, "low"), (1, "low again"), (0, "idle")]);
}

#[test]
fn many_jobs_match_a_stable_sort() {
    let mut q = TaskQueue::new();
    let mut expected = Vec::new();
    let mut x: u64 = 12345;
    for i in 0..500u32 {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let priority = ((x >> 33) % 20) as u32;
        q.push(priority, i);
        expected.push((priority, i));
    }
    // stable: equal priorities stay in push order
    expected.sort_by(|a, b| b.0.cmp(&a.0));
    assert_eq!(q.len(), 500);
    assert_eq!(drain(&mut q), expected);
}
