//! Short human labels for map keys, in Erlang syntax, for per-field reports.

use crate::etf::{Reader, Token};

/// Renders the term at the reader's cursor as a label: atoms, integers,
/// binaries and strings in Erlang syntax; anything else by its kind.
pub fn key_label(r: &mut Reader<'_>) -> String {
    match r.next() {
        Ok(Token::Atom(a)) => atom(&a.name()),
        Ok(Token::Int(v)) => v.to_string(),
        Ok(Token::Binary(b)) => match std::str::from_utf8(b) {
            Ok(s) if s.chars().count() <= 64 => format!("<<\"{}\">>", s.escape_default()),
            _ => format!("<<{} bytes>>", b.len()),
        },
        Ok(Token::String(s)) => match std::str::from_utf8(s) {
            Ok(t) => format!("\"{}\"", t.escape_default()),
            Err(_) => format!("[{} bytes]", s.len()),
        },
        Ok(Token::Tuple(n)) => format!("{{...}}/{n}"),
        Ok(Token::Map(n)) => format!("#{{...}}/{n}"),
        Ok(Token::List(n)) => format!("[...]/{n}"),
        Ok(Token::Nil) => "[]".to_string(),
        Ok(Token::Float(f)) => format!("{f:?}"),
        Ok(Token::Big { .. }) => "<bignum>".to_string(),
        Ok(Token::Pid { .. }) => "<pid>".to_string(),
        Ok(Token::Port { .. }) => "<port>".to_string(),
        Ok(Token::Ref { .. }) => "<reference>".to_string(),
        Ok(Token::Fun { .. } | Token::Export { .. }) => "<fun>".to_string(),
        Ok(Token::BitBinary { bytes, .. }) => format!("<<{} bytes, bits>>", bytes.len()),
        Err(_) => "<invalid>".to_string(),
    }
}

/// An atom in Erlang syntax, quoted when it needs quotes.
pub fn atom(name: &str) -> String {
    let plain = name.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '@');
    if plain {
        name.to_string()
    } else {
        format!("'{}'", name.replace('\\', "\\\\").replace('\'', "\\'"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels() {
        assert_eq!(key_label(&mut Reader::new(&[119, 2, b'i', b'd'], 0)), "id");
        assert_eq!(key_label(&mut Reader::new(&[119, 1, b'A'], 0)), "'A'");
        assert_eq!(
            key_label(&mut Reader::new(&[109, 0, 0, 0, 1, b'x'], 0)),
            "<<\"x\">>"
        );
        assert_eq!(key_label(&mut Reader::new(&[97, 7], 0)), "7");
    }
}
