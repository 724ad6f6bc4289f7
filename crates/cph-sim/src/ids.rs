//! Seeded id generation: every id the simulator issues (phones, servers, images, jobs, requests)
//! is 32 lower-case hex characters, like the real service's, and the same seed gives the same ids
//! in the same order.

use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};

/// Issues 32-lower-hex ids from a seeded generator.
#[derive(Debug)]
pub(crate) struct IdGenerator {
    rng: StdRng,
}

impl IdGenerator {
    /// A generator whose sequence is fixed by `seed`.
    pub(crate) fn new(seed: u64) -> Self {
        IdGenerator {
            rng: StdRng::seed_from_u64(seed),
        }
    }

    /// The next id.
    pub(crate) fn next_id(&mut self) -> String {
        let mut bytes = [0u8; 16];
        self.rng.fill_bytes(&mut bytes);
        hex::encode(bytes)
    }

    /// The next 15-digit decimal string (IMEIs).
    pub(crate) fn next_digits15(&mut self) -> String {
        let n = self.rng.next_u64() % 1_000_000_000_000_000;
        format!("{n:015}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_32_lower_hex_and_reproducible_per_seed() {
        let mut a = IdGenerator::new(7);
        let mut b = IdGenerator::new(7);
        let mut c = IdGenerator::new(8);
        let first = a.next_id();
        assert_eq!(first.len(), 32);
        assert!(
            first
                .bytes()
                .all(|x| x.is_ascii_digit() || (b'a'..=b'f').contains(&x))
        );
        assert_eq!(first, b.next_id());
        assert_ne!(first, c.next_id());
        assert_ne!(a.next_id(), first);
        assert_eq!(a.next_digits15().len(), 15);
    }
}
