use textwrap_lite::{center, wrap, wrap_paragraphs};

#[test]
fn wraps_ascii() {
    assert_eq!(
        wrap("the quick brown fox jumps over the lazy dog", 10),
        ["the quick", "brown fox", "jumps over", "the lazy", "dog"]
    );
    assert_eq!(wrap("  spaced   out  ", 20), ["spaced out"]);
    assert!(wrap("", 10).is_empty());
}

#[test]
fn long_words_get_their_own_line() {
    assert_eq!(wrap("a supercalifragilistic b", 8), ["a", "supercalifragilistic", "b"]);
}

#[test]
fn accented_letters_are_one_column() {
    assert_eq!(wrap("café crème brûlée", 11), ["café crème", "brûlée"]);
    assert_eq!(wrap("naïve résumé", 12), ["naïve résumé"]);
    assert_eq!(wrap("über öl ärger", 7), ["über öl", "ärger"]);
    for line in wrap("Größenänderung für Übergrößen möglich", 15) {
        assert!(line.chars().count() <= 15, "{line:?} is too wide");
    }
    assert_eq!(
        wrap("Größenänderung für Übergrößen möglich", 15),
        ["Größenänderung", "für Übergrößen", "möglich"]
    );
}

#[test]
fn centred_headings() {
    assert_eq!(center("Menü", 8), "  Menü  ");
    assert_eq!(center("Café", 7), " Café  ");
}

#[test]
fn paragraphs() {
    assert_eq!(
        wrap_paragraphs("one two three\n\nfour five", 7),
        ["one two", "three", "", "four", "five"]
    );
}
