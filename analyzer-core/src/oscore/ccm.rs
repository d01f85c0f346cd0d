//! AES-CCM (RFC 3610, NIST SP 800-38C) for the eight COSE CCM algorithms, on one AES backend
//! call per message.
//!
//! Why not the `ccm` crate: it runs every CBC-MAC block through its own block-cipher call, and
//! on CPUs with VAES the `aes` crate prepares its 512-bit round keys (704 bytes) on each call,
//! so a 100-byte OSCORE message paid that preparation about ten times (perf over 1M decrypted
//! messages: AES-CCM went from 13% to 10% of `kudoscope stats`). Here the whole message (CTR
//! keystream, CBC-MAC, tag) runs inside one [`BlockCipherEncClosure`], which keeps the
//! backend's single-block AES-NI path and prepares keys once. The `ccm` crate stays as the
//! second opinion in the tests (same outputs on random keys, nonces, AADs and lengths, every
//! tag and nonce size).
//!
//! Formatting (RFC 3610 §2.2-2.3), with L = 15 - nonce length and M the tag length:
//! - B_0 = flags (Adata << 6 | (M-2)/2 << 3 | L-1) || nonce || l(m) in L bytes;
//! - the AAD, prefixed by its length (2 bytes below 0xFF00, else 0xFFFE + 4 bytes, else
//!   0xFFFF + 8 bytes), zero-padded to whole blocks; then the message, zero-padded;
//! - T = the first M bytes of the CBC-MAC; A_i = (L-1) || nonce || i in L bytes; the message is
//!   XORed with E(A_1), E(A_2), ... and the tag is T XOR E(A_0).

use aes::cipher::consts::U16;
use aes::cipher::{BlockCipherEncBackend, BlockCipherEncClosure, BlockCipherEncrypt, BlockSizeUser};

/// An AES key in CCM mode with one tag length and one nonce length.
#[derive(Clone)]
pub(crate) struct Ccm<C> {
    cipher: C,
    tag_len: usize,
    nonce_len: usize,
}

/// Why a CCM operation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CcmError {
    /// The tag does not verify.
    Tag,
    /// Wrong nonce or tag length, or a message longer than L length bytes can say.
    Length,
}

impl<C> Ccm<C> {
    /// `tag_len` 4..=16 and even, `nonce_len` 7..=13 (RFC 3610 §2); COSE uses 8/16 and 7/13.
    /// Other lengths fail every operation with [`CcmError::Length`].
    pub(crate) fn new(cipher: C, tag_len: usize, nonce_len: usize) -> Ccm<C> {
        Ccm { cipher, tag_len, nonce_len }
    }
}

impl<C: BlockCipherEncrypt + BlockSizeUser<BlockSize = U16>> Ccm<C> {
    pub(crate) fn tag_len(&self) -> usize {
        self.tag_len
    }

    /// The longest message: 2^(8L) - 1 bytes, L = 15 - nonce length.
    pub(crate) fn max_len(&self) -> u64 {
        let l = 15 - self.nonce_len.clamp(7, 13);
        if l >= 8 { u64::MAX } else { (1u64 << (8 * l)) - 1 }
    }

    fn check(&self, nonce: &[u8], len: usize) -> Result<(), CcmError> {
        let tag_ok = (4..=16).contains(&self.tag_len) && self.tag_len.is_multiple_of(2);
        let nonce_ok = (7..=13).contains(&self.nonce_len) && nonce.len() == self.nonce_len;
        if !tag_ok || !nonce_ok || len as u64 > self.max_len() {
            return Err(CcmError::Length);
        }
        Ok(())
    }

    /// Encrypts `buf` in place and returns the tag (its first `tag_len` bytes).
    pub(crate) fn seal(&self, nonce: &[u8], aad: &[u8], buf: &mut [u8]) -> Result<[u8; 16], CcmError> {
        self.check(nonce, buf.len())?;
        let mut tag = [0; 16];
        self.cipher.encrypt_with_backend(Job { ccm: self, nonce, aad, buf, seal: true, tag: &mut tag });
        Ok(tag)
    }

    /// Decrypts `buf` in place and verifies `tag`. On failure `buf` holds the unverified
    /// decryption: callers must not use it.
    pub(crate) fn open(&self, nonce: &[u8], aad: &[u8], buf: &mut [u8], tag: &[u8]) -> Result<(), CcmError> {
        self.check(nonce, buf.len())?;
        if tag.len() != self.tag_len {
            return Err(CcmError::Tag);
        }
        let mut expected = [0; 16];
        self.cipher.encrypt_with_backend(Job { ccm: self, nonce, aad, buf, seal: false, tag: &mut expected });
        // Constant time over the tag bytes.
        let diff = expected.iter().zip(tag).fold(0u8, |d, (a, b)| d | (a ^ b));
        if diff == 0 { Ok(()) } else { Err(CcmError::Tag) }
    }
}

/// One message, run with the backend.
struct Job<'a, C> {
    ccm: &'a Ccm<C>,
    nonce: &'a [u8],
    aad: &'a [u8],
    buf: &'a mut [u8],
    seal: bool,
    /// Out: the encrypted tag (T XOR E(A_0)), `tag_len` bytes used.
    tag: &'a mut [u8; 16],
}

impl<C> BlockSizeUser for Job<'_, C> {
    type BlockSize = U16;
}

type Blk = aes::Block;

/// `x ^= y`, 16 bytes at once.
fn xor16(x: &mut Blk, y: [u8; 16]) {
    let v = u128::from_ne_bytes((*x).into()) ^ u128::from_ne_bytes(y);
    *x = v.to_ne_bytes().into();
}

/// Copies `data` into `b` from byte `at` on (what fits).
fn put(b: &mut [u8; 16], at: usize, data: &[u8]) {
    for (d, s) in b.iter_mut().skip(at).zip(data) {
        *d = *s;
    }
}

/// Up to 16 bytes, zero-padded to a block.
fn padded(data: &[u8]) -> [u8; 16] {
    if let Ok(full) = <[u8; 16]>::try_from(data) {
        return full;
    }
    let mut b = [0; 16];
    put(&mut b, 0, data);
    b
}

/// `flags || nonce || number`: `template` is the nonce in bytes 1..16-l (zeros around it) and
/// the number goes in the last `l` bytes, big-endian (`l <= 8`; what does not fit is cut, as
/// the length checks make sure nothing is). Arithmetic on one word, no byte copies.
fn block(template: u128, flags: u8, number: u64, l: usize) -> Blk {
    let mask = (1u128 << (8 * l)) - 1;
    (template | (u128::from(flags) << 120) | (u128::from(number) & mask)).to_be_bytes().into()
}

impl<C> BlockCipherEncClosure for Job<'_, C> {
    fn call<B: BlockCipherEncBackend<BlockSize = U16>>(self, backend: &B) {
        let Job { ccm, nonce, aad, buf, seal, tag } = self;
        // Checked by `Ccm::check`: 7 <= n <= 13, so 2 <= l <= 8.
        let n = nonce.len();
        let l = 15 - n;
        // B_0 and A_i share the layout: flags || nonce || a number in the last L bytes.
        let mut nonce_at_1 = [0u8; 16];
        put(&mut nonce_at_1, 1, nonce);
        let template = u128::from_be_bytes(nonce_at_1);
        let ctr = |buf: &mut [u8]| {
            for (i, chunk) in buf.chunks_mut(16).enumerate() {
                let mut s = block(template, (l - 1) as u8, i as u64 + 1, l);
                backend.encrypt_block_inplace(&mut s);
                xor16(&mut s, padded(chunk));
                match <&mut [u8; 16]>::try_from(&mut *chunk) {
                    Ok(full) => *full = s.into(),
                    Err(_) => {
                        for (d, v) in chunk.iter_mut().zip(s.iter()) {
                            *d = *v;
                        }
                    }
                }
            }
        };
        // Decryption: the MAC is over the plaintext, so the keystream goes first.
        if !seal {
            ctr(buf);
        }

        // CBC-MAC over B_0, the length-prefixed AAD and the plaintext.
        let adata = u8::from(!aad.is_empty()) << 6;
        let m = ((ccm.tag_len as u8).saturating_sub(2) / 2) << 3;
        let mut x = block(template, adata | m | (l - 1) as u8, buf.len() as u64, l);
        backend.encrypt_block_inplace(&mut x);
        if !aad.is_empty() {
            // The first block: the length prefix (2 bytes below 0xFF00, else 0xFFFE + 4 bytes,
            // else 0xFFFF + 8 bytes), then as much AAD as fits.
            let a = aad.len() as u64;
            let mut first = [0u8; 16];
            let plen = if a < 0xff00 {
                put(&mut first, 0, &(a as u16).to_be_bytes());
                2
            } else if a <= u64::from(u32::MAX) {
                put(&mut first, 0, &[0xff, 0xfe]);
                put(&mut first, 2, &(a as u32).to_be_bytes());
                6
            } else {
                put(&mut first, 0, &[0xff, 0xff]);
                put(&mut first, 2, &a.to_be_bytes());
                10
            };
            let (head, rest) = aad.split_at((16 - plen).min(aad.len()));
            put(&mut first, plen, head);
            xor16(&mut x, first);
            backend.encrypt_block_inplace(&mut x);
            for chunk in rest.chunks(16) {
                xor16(&mut x, padded(chunk));
                backend.encrypt_block_inplace(&mut x);
            }
        }
        for chunk in buf.chunks(16) {
            xor16(&mut x, padded(chunk));
            backend.encrypt_block_inplace(&mut x);
        }

        let mut s0 = block(template, (l - 1) as u8, 0, l);
        backend.encrypt_block_inplace(&mut s0);
        xor16(&mut s0, x.into());
        *tag = s0.into();
        if seal {
            ctr(buf);
        }
    }
}
