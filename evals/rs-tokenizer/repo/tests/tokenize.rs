use calc_lexer::{tokenize, Token};

fn ident(s: &str) -> Token {
    Token::Ident(s.to_string())
}

#[test]
fn numbers_and_operators() {
    assert_eq!(
        tokenize("1 + 2.5*(3)").unwrap(),
        vec![
            Token::Num(1.0),
            Token::Op('+'),
            Token::Num(2.5),
            Token::Op('*'),
            Token::LParen,
            Token::Num(3.0),
            Token::RParen,
        ]
    );
}

#[test]
fn identifiers_with_underscores_and_digits() {
    assert_eq!(
        tokenize("max_len + 1").unwrap(),
        vec![ident("max_len"), Token::Op('+'), Token::Num(1.0)]
    );
    assert_eq!(tokenize("_tmp2/x_1_").unwrap(), vec![ident("_tmp2"), Token::Op('/'), ident("x_1_")]);
    assert_eq!(tokenize("__").unwrap(), vec![ident("__")]);
}

#[test]
fn digit_starts_a_number() {
    assert_eq!(tokenize("2x").unwrap(), vec![Token::Num(2.0), ident("x")]);
}

#[test]
fn unicode_identifiers() {
    assert_eq!(tokenize("größe*2").unwrap(), vec![ident("größe"), Token::Op('*'), Token::Num(2.0)]);
}

#[test]
fn errors() {
    assert_eq!(tokenize("1 $ 2"), Err("unexpected `$` at 2".to_string()));
    assert!(tokenize("1.2.3").is_err());
}
