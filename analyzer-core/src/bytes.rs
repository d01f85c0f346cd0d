//! [`SmallBytes`]: the short byte strings every OSCORE message carries (Sender IDs, Partial
//! IVs, nonces, flag bytes), kept inline so that reading one costs no allocation.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;

/// Bytes kept inline up to this length.
const INLINE: usize = 22;

/// A byte string stored inline when at most 22 bytes long (an OSCORE kid, Partial IV, AEAD
/// nonce or flag bytes almost always is), on the heap otherwise. Dereferences to `[u8]`;
/// compares, orders and hashes as its bytes, whichever way it is stored.
#[derive(Clone)]
pub struct SmallBytes(Repr);

#[derive(Clone)]
enum Repr {
    Inline { len: u8, buf: [u8; INLINE] },
    Heap(Box<[u8]>),
}

impl SmallBytes {
    pub const fn new() -> Self {
        SmallBytes(Repr::Inline { len: 0, buf: [0; INLINE] })
    }

    /// `len` zero bytes.
    pub fn zeroed(len: usize) -> Self {
        match u8::try_from(len) {
            Ok(l) if len <= INLINE => SmallBytes(Repr::Inline { len: l, buf: [0; INLINE] }),
            _ => SmallBytes(Repr::Heap(vec![0; len].into())),
        }
    }

    pub fn as_slice(&self) -> &[u8] {
        self
    }

    /// Appends one byte (moving to the heap past the inline length).
    pub fn push(&mut self, b: u8) {
        if let Repr::Inline { len, buf } = &mut self.0
            && let Some(slot) = buf.get_mut(usize::from(*len))
        {
            *slot = b;
            *len += 1;
            return;
        }
        let mut v = self.to_vec();
        v.push(b);
        self.0 = Repr::Heap(v.into());
    }
}

impl Default for SmallBytes {
    fn default() -> Self {
        Self::new()
    }
}

impl From<&[u8]> for SmallBytes {
    fn from(bytes: &[u8]) -> Self {
        let mut buf = [0; INLINE];
        match (buf.get_mut(..bytes.len()), u8::try_from(bytes.len())) {
            (Some(dst), Ok(len)) => {
                dst.copy_from_slice(bytes);
                SmallBytes(Repr::Inline { len, buf })
            }
            _ => SmallBytes(Repr::Heap(bytes.into())),
        }
    }
}

impl<const N: usize> From<[u8; N]> for SmallBytes {
    fn from(bytes: [u8; N]) -> Self {
        Self::from(&bytes[..])
    }
}

impl From<Vec<u8>> for SmallBytes {
    fn from(bytes: Vec<u8>) -> Self {
        if bytes.len() <= INLINE {
            Self::from(bytes.as_slice())
        } else {
            SmallBytes(Repr::Heap(bytes.into()))
        }
    }
}

impl From<SmallBytes> for Vec<u8> {
    fn from(bytes: SmallBytes) -> Self {
        bytes.to_vec()
    }
}

impl Deref for SmallBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match &self.0 {
            Repr::Inline { len, buf } => buf.get(..usize::from(*len)).unwrap_or_default(),
            Repr::Heap(b) => b,
        }
    }
}

impl std::ops::DerefMut for SmallBytes {
    fn deref_mut(&mut self) -> &mut [u8] {
        match &mut self.0 {
            Repr::Inline { len, buf } => buf.get_mut(..usize::from(*len)).unwrap_or_default(),
            Repr::Heap(b) => b,
        }
    }
}

impl AsRef<[u8]> for SmallBytes {
    fn as_ref(&self) -> &[u8] {
        self
    }
}

impl std::borrow::Borrow<[u8]> for SmallBytes {
    fn borrow(&self) -> &[u8] {
        self
    }
}

impl fmt::Debug for SmallBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl PartialEq for SmallBytes {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl Eq for SmallBytes {}

impl PartialEq<[u8]> for SmallBytes {
    fn eq(&self, other: &[u8]) -> bool {
        **self == *other
    }
}

impl PartialEq<&[u8]> for SmallBytes {
    fn eq(&self, other: &&[u8]) -> bool {
        **self == **other
    }
}

impl PartialEq<Vec<u8>> for SmallBytes {
    fn eq(&self, other: &Vec<u8>) -> bool {
        **self == **other
    }
}

impl<const N: usize> PartialEq<[u8; N]> for SmallBytes {
    fn eq(&self, other: &[u8; N]) -> bool {
        **self == other[..]
    }
}

impl PartialOrd for SmallBytes {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for SmallBytes {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (**self).cmp(&**other)
    }
}

impl Hash for SmallBytes {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (**self).hash(state);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::hash_map::DefaultHasher;

    fn hash_of(b: &[u8]) -> u64 {
        let mut h = DefaultHasher::new();
        b.hash(&mut h);
        h.finish()
    }

    #[test]
    fn inline_and_heap_hold_the_same_bytes() {
        for len in [0, 1, 5, 13, 21, 22, 23, 64, 300] {
            let v: Vec<u8> = (0..len).map(|i| (i * 7 + 1) as u8).collect();
            let a = SmallBytes::from(v.as_slice());
            let b = SmallBytes::from(v.clone());
            assert_eq!(&*a, v.as_slice(), "len {len}");
            assert_eq!(a, b);
            assert_eq!(a, v);
            assert_eq!(hash_of(&a), hash_of(&v));
            assert_eq!(matches!(a.0, Repr::Inline { .. }), len <= INLINE, "len {len}");
            assert_eq!(Vec::from(a), v);
        }
        assert_eq!(SmallBytes::new().len(), 0);
        for len in [0, 13, 22, 23, 40] {
            let mut z = SmallBytes::zeroed(len);
            assert_eq!(&*z, vec![0u8; len].as_slice());
            z.iter_mut().for_each(|b| *b = 9);
            assert_eq!(&*z, vec![9u8; len].as_slice());
        }
        let mut p = SmallBytes::new();
        for i in 0..30u8 {
            p.push(i);
            assert_eq!(&*p, (0..=i).collect::<Vec<u8>>().as_slice());
        }
        let (short, long) = (SmallBytes::from([1, 2]), SmallBytes::from([1, 2, 0]));
        assert!(short < long);
        assert_eq!(format!("{:?}", SmallBytes::from([0x25u8])), "[37]");
    }
}
