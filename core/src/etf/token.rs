//! One token per term header, read without recursion or copying.

use super::tag;
use crate::error::{Error, Result};

/// An atom's text as it appears in the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Atom<'a> {
    /// The encoded bytes.
    pub bytes: &'a [u8],
    /// Whether `bytes` are UTF-8 (else Latin-1).
    pub utf8: bool,
}

impl Atom<'_> {
    /// The atom's name as UTF-8 text (Latin-1 input is converted).
    pub fn name(&self) -> String {
        if self.utf8 {
            // Validated when read.
            String::from_utf8_lossy(self.bytes).into_owned()
        } else {
            self.bytes.iter().map(|&b| b as char).collect()
        }
    }

    /// Whether this atom's name is `name` (no allocation).
    pub fn is(&self, name: &str) -> bool {
        if self.utf8 || self.bytes.is_ascii() {
            self.bytes == name.as_bytes()
        } else {
            self.bytes.iter().map(|&b| b as char).eq(name.chars())
        }
    }

    /// Whether two atoms name the same atom, whatever their encodings.
    pub fn same_as(&self, other: &Atom<'_>) -> bool {
        if self.utf8 == other.utf8 {
            self.bytes == other.bytes
        } else {
            self.name() == other.name()
        }
    }
}

/// The header of one term. Containers are followed by their sub-terms in
/// order: a tuple by `n` elements, a list by `n` elements and a tail, a map by
/// `n` key/value pairs, a fun by its creator pid and `num_free` free variables.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Token<'a> {
    /// An integer that fits 32 bits (SMALL_INTEGER_EXT, INTEGER_EXT).
    Int(i64),
    /// A bignum: sign and little-endian magnitude with high zero bytes trimmed
    /// (empty for zero).
    Big {
        /// Whether the value is negative.
        negative: bool,
        /// Little-endian magnitude, no trailing (high) zero bytes.
        magnitude: &'a [u8],
    },
    /// A finite float.
    Float(f64),
    /// An atom.
    Atom(Atom<'a>),
    /// A tuple header; `arity` elements follow.
    Tuple(u32),
    /// `[]`.
    Nil,
    /// A list of bytes (STRING_EXT); nothing follows.
    String(&'a [u8]),
    /// A list header; `n` elements and then a tail follow.
    List(u32),
    /// A binary.
    Binary(&'a [u8]),
    /// A bitstring whose last byte holds `bits` (1..=8) significant bits.
    BitBinary {
        /// All bytes, the last one partial.
        bytes: &'a [u8],
        /// Significant bits in the last byte.
        bits: u8,
    },
    /// A map header; `n` key/value pairs follow.
    Map(u32),
    /// A pid.
    Pid {
        /// Node name.
        node: Atom<'a>,
        /// Pid number.
        id: u32,
        /// Pid serial.
        serial: u32,
        /// Node creation.
        creation: u32,
    },
    /// A port.
    Port {
        /// Node name.
        node: Atom<'a>,
        /// Port number.
        id: u64,
        /// Node creation.
        creation: u32,
    },
    /// A reference.
    Ref {
        /// Node name.
        node: Atom<'a>,
        /// Node creation.
        creation: u32,
        /// The id words, 4 bytes each, big-endian.
        ids: &'a [u8],
    },
    /// A closure header; its creator (a pid) and `num_free` free variables follow.
    Fun {
        /// Apparent arity.
        arity: u8,
        /// Index of the fun in its module.
        index: u32,
        /// Number of free variables.
        num_free: u32,
        /// Defining module.
        module: Atom<'a>,
        /// Old-style index.
        old_index: i64,
        /// Old-style uniq.
        old_uniq: i64,
    },
    /// `fun M:F/A`.
    Export {
        /// Module.
        module: Atom<'a>,
        /// Function.
        function: Atom<'a>,
        /// Arity.
        arity: u8,
    },
}

impl Token<'_> {
    /// How many sub-terms follow this header.
    pub fn children(&self) -> u64 {
        match *self {
            Token::Tuple(n) => u64::from(n),
            Token::List(n) => u64::from(n) + 1,
            Token::Map(n) => 2 * u64::from(n),
            Token::Fun { num_free, .. } => 1 + u64::from(num_free),
            _ => 0,
        }
    }
}

/// A cursor over term bytes.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    base: usize,
}

impl<'a> Reader<'a> {
    /// A reader over `bytes`; error offsets are reported as `base + position`.
    pub fn new(bytes: &'a [u8], base: usize) -> Self {
        Reader {
            bytes,
            pos: 0,
            base,
        }
    }

    /// Current position within the bytes.
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// Moves the cursor (used to re-read a sub-term).
    pub fn seek(&mut self, pos: usize) {
        self.pos = pos.min(self.bytes.len());
    }

    /// Offset for error messages.
    pub fn offset(&self) -> usize {
        self.base + self.pos
    }

    /// The underlying bytes.
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// Bytes left after the cursor.
    pub fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if self.remaining() < n {
            return Err(Error::Truncated {
                offset: self.offset(),
                needed: n - self.remaining(),
            });
        }
        let s = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn u8(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> Result<u16> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    fn u32(&mut self) -> Result<u32> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn u64(&mut self) -> Result<u64> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_be_bytes(a))
    }

    /// Reads a length, refusing one that needs more than the remaining bytes
    /// (`min_bytes_each` is the least each counted item occupies).
    fn length(&mut self, declared: u64, min_bytes_each: u64) -> Result<u32> {
        self.length_plus(declared, min_bytes_each, 0)
    }

    /// [`Self::length`] for items followed by `extra` more bytes at least (a
    /// list's tail); the error reports the length as declared.
    fn length_plus(&mut self, declared: u64, min_bytes_each: u64, extra: u64) -> Result<u32> {
        let available = self.remaining();
        if declared
            .saturating_mul(min_bytes_each)
            .saturating_add(extra)
            > available as u64
        {
            return Err(Error::LengthTooLarge {
                offset: self.offset(),
                declared,
                available,
            });
        }
        Ok(declared as u32)
    }

    fn bytes_of(&mut self, declared: u64) -> Result<&'a [u8]> {
        self.length(declared, 1)?;
        self.take(declared as usize)
    }

    /// Reads one atom encoding (used for node names, fun modules and atom terms).
    pub fn atom(&mut self) -> Result<Atom<'a>> {
        let at = self.offset();
        let t = self.u8()?;
        let (len, utf8) = match t {
            tag::ATOM => (u64::from(self.u16()?), false),
            tag::SMALL_ATOM => (u64::from(self.u8()?), false),
            tag::ATOM_UTF8 => (u64::from(self.u16()?), true),
            tag::SMALL_ATOM_UTF8 => (u64::from(self.u8()?), true),
            tag::ATOM_CACHE_REF => return Err(Error::AtomCacheRef { offset: at }),
            _ => {
                return Err(Error::InvalidValue {
                    what: "atom (expected an atom tag)",
                    offset: at,
                })
            }
        };
        let bytes = self.bytes_of(len)?;
        if utf8 {
            let text = std::str::from_utf8(bytes).map_err(|_| Error::InvalidValue {
                what: "atom text (not UTF-8)",
                offset: at,
            })?;
            // At most 255 bytes is at most 255 characters: count only above.
            if bytes.len() > 255 && text.chars().count() > 255 {
                return Err(Error::InvalidValue {
                    what: "atom (over 255 characters)",
                    offset: at,
                });
            }
        } else if bytes.len() > 255 {
            // Latin-1, or ASCII UTF-8: one byte per character.
            return Err(Error::InvalidValue {
                what: "atom (over 255 characters)",
                offset: at,
            });
        }
        Ok(Atom { bytes, utf8 })
    }

    /// Reads an integer term that must be small (fun old index / old uniq).
    fn small_int_term(&mut self) -> Result<i64> {
        let at = self.offset();
        match self.next()? {
            Token::Int(v) => Ok(v),
            Token::Big { magnitude: [], .. } => Ok(0),
            _ => Err(Error::InvalidValue {
                what: "fun index (expected a small integer)",
                offset: at,
            }),
        }
    }

    /// Reads the next term header.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Result<Token<'a>> {
        let at = self.offset();
        let t = self.u8()?;
        Ok(match t {
            tag::SMALL_INTEGER => Token::Int(i64::from(self.u8()?)),
            tag::INTEGER => Token::Int(i64::from(self.u32()? as i32)),
            tag::SMALL_BIG | tag::LARGE_BIG => {
                let n = if t == tag::SMALL_BIG {
                    u64::from(self.u8()?)
                } else {
                    u64::from(self.u32()?)
                };
                // Any non-zero sign byte means negative, as the VM reads it.
                let negative = self.u8()? != 0;
                let digits = self.bytes_of(n)?;
                let significant = digits.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
                Token::Big {
                    negative,
                    magnitude: &digits[..significant],
                }
            }
            tag::NEW_FLOAT => {
                let v = f64::from_bits(self.u64()?);
                if !v.is_finite() {
                    return Err(Error::InvalidValue {
                        what: "float (not finite)",
                        offset: at,
                    });
                }
                Token::Float(v)
            }
            tag::FLOAT => {
                let raw = self.take(31)?;
                let v = float_ext(raw).ok_or(Error::InvalidValue {
                    what: "float string",
                    offset: at,
                })?;
                Token::Float(v)
            }
            tag::ATOM
            | tag::SMALL_ATOM
            | tag::ATOM_UTF8
            | tag::SMALL_ATOM_UTF8
            | tag::ATOM_CACHE_REF => {
                self.pos -= 1;
                Token::Atom(self.atom()?)
            }
            tag::SMALL_TUPLE => {
                let n = u64::from(self.u8()?);
                Token::Tuple(self.length(n, 1)?)
            }
            tag::LARGE_TUPLE => {
                let n = u64::from(self.u32()?);
                Token::Tuple(self.length(n, 1)?)
            }
            tag::NIL => Token::Nil,
            tag::STRING => {
                let n = u64::from(self.u16()?);
                Token::String(self.bytes_of(n)?)
            }
            tag::LIST => {
                let n = u64::from(self.u32()?);
                // n elements plus a tail, one byte each at least.
                self.length_plus(n, 1, 1)?;
                Token::List(n as u32)
            }
            tag::BINARY => {
                let n = u64::from(self.u32()?);
                Token::Binary(self.bytes_of(n)?)
            }
            tag::BIT_BINARY => {
                let n = u64::from(self.u32()?);
                let bits = self.u8()?;
                if (bits == 0) != (n == 0) || bits > 8 {
                    return Err(Error::InvalidValue {
                        what: "bitstring bit count",
                        offset: at,
                    });
                }
                Token::BitBinary {
                    bytes: self.bytes_of(n)?,
                    bits,
                }
            }
            tag::MAP => {
                let n = u64::from(self.u32()?);
                Token::Map(self.length(n, 2)?)
            }
            tag::PID | tag::NEW_PID => {
                let node = self.atom()?;
                let id = self.u32()?;
                let serial = self.u32()?;
                let creation = if t == tag::PID {
                    let c = u32::from(self.u8()?);
                    if c > 3 {
                        return Err(Error::InvalidValue {
                            what: "pid creation",
                            offset: at,
                        });
                    }
                    c
                } else {
                    self.u32()?
                };
                Token::Pid {
                    node,
                    id,
                    serial,
                    creation,
                }
            }
            tag::PORT | tag::NEW_PORT | tag::V4_PORT => {
                let node = self.atom()?;
                let id = if t == tag::V4_PORT {
                    self.u64()?
                } else {
                    u64::from(self.u32()?)
                };
                let creation = if t == tag::PORT {
                    let c = u32::from(self.u8()?);
                    if c > 3 {
                        return Err(Error::InvalidValue {
                            what: "port creation",
                            offset: at,
                        });
                    }
                    c
                } else {
                    self.u32()?
                };
                Token::Port { node, id, creation }
            }
            tag::REFERENCE => {
                let node = self.atom()?;
                let ids = self.take(4)?;
                let c = u32::from(self.u8()?);
                if c > 3 {
                    return Err(Error::InvalidValue {
                        what: "reference creation",
                        offset: at,
                    });
                }
                Token::Ref {
                    node,
                    creation: c,
                    ids,
                }
            }
            tag::NEW_REFERENCE | tag::NEWER_REFERENCE => {
                let words = self.u16()?;
                if words == 0 || words > 5 {
                    return Err(Error::InvalidValue {
                        what: "reference length",
                        offset: at,
                    });
                }
                let node = self.atom()?;
                let creation = if t == tag::NEW_REFERENCE {
                    let c = u32::from(self.u8()?);
                    if c > 3 {
                        return Err(Error::InvalidValue {
                            what: "reference creation",
                            offset: at,
                        });
                    }
                    c
                } else {
                    self.u32()?
                };
                Token::Ref {
                    node,
                    creation,
                    ids: self.take(4 * usize::from(words))?,
                }
            }
            tag::NEW_FUN => {
                let size = u64::from(self.u32()?);
                // The size field counts itself; the rest must be present.
                if size < 4 || size - 4 > self.remaining() as u64 {
                    return Err(Error::LengthTooLarge {
                        offset: at + 1,
                        declared: size,
                        available: self.remaining(),
                    });
                }
                let arity = self.u8()?;
                self.take(16)?; // uniq (MD5 of the module)
                let index = self.u32()?;
                let num_free = self.u32()?;
                if num_free > 255 {
                    return Err(Error::InvalidValue {
                        what: "fun free-variable count",
                        offset: at,
                    });
                }
                self.length(u64::from(num_free), 1)?;
                let module = self.atom()?;
                let old_index = self.small_int_term()?;
                let old_uniq = self.small_int_term()?;
                Token::Fun {
                    arity,
                    index,
                    num_free,
                    module,
                    old_index,
                    old_uniq,
                }
            }
            tag::EXPORT => {
                let module = self.atom()?;
                let function = self.atom()?;
                let arity_at = self.offset();
                let arity = match self.next()? {
                    Token::Int(a) if (0..=255).contains(&a) => a as u8,
                    _ => {
                        return Err(Error::InvalidValue {
                            what: "export fun arity",
                            offset: arity_at,
                        })
                    }
                };
                Token::Export {
                    module,
                    function,
                    arity,
                }
            }
            tag::COMPRESSED => {
                return Err(Error::InvalidValue {
                    what: "nested compressed term",
                    offset: at,
                })
            }
            tag::FUN => {
                return Err(Error::Unsupported {
                    what: "FUN_EXT (pre-R13 fun encoding, rejected since OTP 23)",
                })
            }
            other => {
                return Err(Error::UnknownTag {
                    tag: other,
                    offset: at,
                })
            }
        })
    }
}

/// The value of a `FLOAT_EXT` string (31 bytes), as the VM's
/// `sys_chars_to_double` reads it: `[+-]digits[.,]digits([eE][+-]digits)`
/// ending in a NUL, and finite. Anything else (`"1."`, `"1"`, `"+.5"`, `"
/// 1.0"`, `"inf"`) is refused, as `binary_to_term/1` refuses it. (The VM
/// reads past the 31 bytes when they hold no NUL; such input is refused here.)
fn float_ext(raw: &[u8]) -> Option<f64> {
    let end = raw.iter().position(|&b| b == 0)?;
    let text = &raw[..end];
    let mut i = usize::from(matches!(text.first(), Some(b'+' | b'-')));
    let digits = |i: &mut usize| {
        let start = *i;
        while text.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i > start
    };
    if !digits(&mut i) || !matches!(text.get(i), Some(b'.' | b',')) {
        return None;
    }
    let point = i;
    i += 1;
    if !digits(&mut i) {
        return None;
    }
    if matches!(text.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(text.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if !digits(&mut i) {
            return None;
        }
    }
    if i != text.len() {
        return None;
    }
    let mut s = String::from_utf8(text.to_vec()).ok()?;
    s.replace_range(point..=point, ".");
    s.parse::<f64>().ok().filter(|v| v.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(bytes: &[u8]) -> Result<Token<'_>> {
        Reader::new(bytes, 1).next()
    }

    #[test]
    fn integers() {
        assert_eq!(one(&[97, 200]).unwrap(), Token::Int(200));
        assert_eq!(one(&[98, 255, 255, 255, 255]).unwrap(), Token::Int(-1));
        assert_eq!(
            one(&[110, 3, 1, 5, 0, 0]).unwrap(),
            Token::Big {
                negative: true,
                magnitude: &[5]
            }
        );
    }

    #[test]
    fn float_ext_follows_the_vm_grammar() {
        let f = |s: &str| {
            let mut raw = [0u8; 31];
            raw[..s.len()].copy_from_slice(s.as_bytes());
            float_ext(&raw)
        };
        assert_eq!(f("1.5"), Some(1.5));
        assert_eq!(f("-2,25e+1"), Some(-22.5));
        assert_eq!(f("1.00000000000000000000e+00"), Some(1.0));
        for bad in [
            "1.", "1", "+.5", " 1.0", "1.0 ", "inf", "1.0e", "1e5", "", "1.0e999",
        ] {
            assert_eq!(f(bad), None, "{bad:?}");
        }
        assert_eq!(float_ext(&[b'1'; 31]), None, "no NUL");
    }

    #[test]
    fn lengths_are_checked_before_use() {
        assert!(matches!(
            one(&[108, 255, 255, 255, 255]),
            Err(Error::LengthTooLarge {
                declared: 0xFFFF_FFFF,
                ..
            })
        ));
        // A list of one element needs its tail too.
        assert!(matches!(
            one(&[108, 0, 0, 0, 1, 106]),
            Err(Error::LengthTooLarge { declared: 1, .. })
        ));
        assert!(matches!(
            one(&[109, 0, 0, 0, 9, 1]),
            Err(Error::LengthTooLarge { .. })
        ));
        assert!(matches!(
            one(&[116, 0, 0, 0, 1, 106]),
            Err(Error::LengthTooLarge { .. })
        ));
        assert!(matches!(
            one(&[105, 0, 0, 0, 2, 106]),
            Err(Error::LengthTooLarge { .. })
        ));
    }

    #[test]
    fn bad_atoms() {
        assert!(matches!(
            one(&[119, 2, 0xC3, 0x28]),
            Err(Error::InvalidValue { .. })
        ));
        assert_eq!(
            one(&[82, 1]).unwrap_err(),
            Error::AtomCacheRef { offset: 1 }
        );
    }

    #[test]
    fn floats_must_be_finite() {
        let mut b = vec![70];
        b.extend_from_slice(&f64::INFINITY.to_bits().to_be_bytes());
        assert!(matches!(one(&b), Err(Error::InvalidValue { .. })));
    }

    #[test]
    fn unknown_tag() {
        assert_eq!(
            one(&[1]).unwrap_err(),
            Error::UnknownTag { tag: 1, offset: 1 }
        );
    }
}
