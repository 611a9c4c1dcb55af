//! LEB128 unsigned integers: seven bits a byte, low bits first, the high bit
//! set on every byte but the last. The lengths inside stored records use them,
//! so that the usual short lengths take one byte.
//!
//! Reading never trusts its input: a varint that is cut short, runs longer than
//! a `usize` can take, or holds bits beyond it reads as `None`.

/// The most bytes a `usize` takes.
pub const MAX_LEN: usize = (usize::BITS as usize).div_ceil(7);

/// One encoded value.
#[derive(Clone, Copy)]
pub struct Encoded {
    bytes: [u8; MAX_LEN],
    len: u8,
}

impl Encoded {
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }
}

pub fn encode(mut value: usize) -> Encoded {
    let mut bytes = [0u8; MAX_LEN];
    let mut len = 0;
    while value >= 0x80 {
        bytes[len] = (value as u8) | 0x80;
        value >>= 7;
        len += 1;
    }
    bytes[len] = value as u8;
    Encoded {
        bytes,
        len: len as u8 + 1,
    }
}

/// Appends `value` encoded.
pub fn push(out: &mut Vec<u8>, value: usize) {
    out.extend_from_slice(encode(value).as_bytes());
}

/// The value encoded at `bytes[*at..]`, moving `at` past it; `None` (and `at`
/// left alone) when there is no whole, valid varint there.
pub fn read(bytes: &[u8], at: &mut usize) -> Option<usize> {
    let mut value = 0usize;
    for (i, &byte) in bytes.get(*at..)?.iter().take(MAX_LEN).enumerate() {
        let shift = 7 * i as u32;
        let bits = usize::from(byte & 0x7f);
        // On the last byte that fits, bits shifted out would be lost.
        if (bits << shift) >> shift != bits {
            return None;
        }
        value |= bits << shift;
        if byte < 0x80 {
            *at += i + 1;
            return Some(value);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(value: usize) -> usize {
        let encoded = encode(value);
        let mut at = 0;
        assert_eq!(read(encoded.as_bytes(), &mut at), Some(value));
        assert_eq!(at, encoded.as_bytes().len());
        at
    }

    #[test]
    fn values_come_back_in_as_few_bytes_as_they_need() {
        assert_eq!(round_trip(0), 1);
        assert_eq!(round_trip(0x7f), 1);
        assert_eq!(round_trip(0x80), 2);
        assert_eq!(round_trip(300), 2);
        assert_eq!(round_trip(0x3fff), 2);
        assert_eq!(round_trip(0x4000), 3);
        assert_eq!(round_trip(usize::MAX), MAX_LEN);
        assert_eq!(encode(300).as_bytes(), [0xac, 0x02]);
    }

    #[test]
    fn push_appends() {
        let mut out = vec![9];
        push(&mut out, 300);
        push(&mut out, 1);
        assert_eq!(out, [9, 0xac, 0x02, 1]);
        let mut at = 1;
        assert_eq!(read(&out, &mut at), Some(300));
        assert_eq!(read(&out, &mut at), Some(1));
        assert_eq!(at, out.len());
        assert_eq!(read(&out, &mut at), None);
    }

    #[test]
    fn malformed_input_reads_as_none() {
        let mut at = 0;
        assert_eq!(read(&[], &mut at), None);
        assert_eq!(read(&[0x80], &mut at), None);
        assert_eq!(read(&[0xff, 0xff], &mut at), None);
        // Longer than any usize, even if it ends.
        let mut long = vec![0x80; MAX_LEN];
        long.push(0);
        assert_eq!(read(&long, &mut at), None);
        // As long as usize::MAX, with one bit more on the last byte.
        let mut over = encode(usize::MAX).as_bytes().to_vec();
        *over.last_mut().unwrap() <<= 1;
        assert_eq!(read(&over, &mut at), None);
        assert_eq!(at, 0);
        assert_eq!(read(&[1], &mut 5), None);
    }

    #[test]
    fn every_byte_string_reads_without_panicking() {
        for first in 0..=255u8 {
            for second in 0..=255u8 {
                let bytes = [first, second, 0xff];
                let mut at = 0;
                if let Some(value) = read(&bytes, &mut at) {
                    assert!(at <= 2);
                    assert!(encode(value).as_bytes().len() <= at);
                }
            }
        }
    }
}
