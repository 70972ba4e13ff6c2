use wordfreq::WordCounts;

const TEXT: &str = "The cat sat. The dog sat! THE end; a cat's tale, the cat.";

fn owned(list: &[(&str, usize)]) -> Vec<(String, usize)> {
    list.iter().map(|(w, c)| (w.to_string(), *c)).collect()
}

#[test]
fn counting() {
    let wc = WordCounts::from_text(TEXT);
    assert_eq!(wc.count("the"), 4);
    assert_eq!(wc.count("Cat"), 2);
    assert_eq!(wc.count("cat's"), 1);
    assert_eq!(wc.total(), 13);
}

#[test]
fn top_words_most_frequent_first() {
    let wc = WordCounts::from_text(TEXT);
    assert_eq!(wc.top(3), owned(&[("the", 4), ("cat", 2), ("sat", 2)]));
    assert_eq!(wc.top(1), owned(&[("the", 4)]));
}

#[test]
fn ties_are_alphabetical() {
    let wc = WordCounts::from_text("pear fig apple fig pear apple kiwi");
    assert_eq!(wc.top(4), owned(&[("apple", 2), ("fig", 2), ("pear", 2), ("kiwi", 1)]));
}

#[test]
fn asking_for_more_or_nothing() {
    let wc = WordCounts::from_text(TEXT);
    assert_eq!(wc.top(100).len(), wc.distinct());
    assert!(wc.top(0).is_empty());
    assert!(WordCounts::from_text("").top(5).is_empty());
}
