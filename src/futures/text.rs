//! Short texts made without allocating: worker names and status messages.

use std::fmt;

/// A text of at most `N` bytes on the stack; what does not fit is cut at a character boundary.
pub struct StackText<const N: usize> {
    buf: [u8; N],
    len: usize,
}

impl<const N: usize> StackText<N> {
    pub fn new() -> StackText<N> {
        StackText {
            buf: [0; N],
            len: 0,
        }
    }

    pub fn as_str(&self) -> &str {
        // SAFETY: only whole characters of `&str`s are ever copied in (see `write_str`).
        unsafe { std::str::from_utf8_unchecked(&self.buf[..self.len]) }
    }
}

impl<const N: usize> Default for StackText<N> {
    fn default() -> Self {
        StackText::new()
    }
}

impl<const N: usize> fmt::Write for StackText<N> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        crate::status::append_cut(&mut self.buf, &mut self.len, s);
        Ok(())
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::fmt::Write;

    #[test]
    fn texts_are_cut_at_a_character_boundary() {
        let mut t = StackText::<5>::new();
        let tail = "cdé";
        write!(t, "ab{tail}").unwrap();
        assert_eq!(t.as_str(), "abcd");
        let mut u = StackText::<16>::new();
        let (prefix, n) = ("pool", 12);
        write!(u, "{prefix}_{n}").unwrap();
        assert_eq!(u.as_str(), "pool_12");
    }
}
