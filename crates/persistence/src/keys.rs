//! Random keys: API token keys and auth-epoch markers.

/// 160 random bits as 40 hex characters, the shape of DRF's keys.
pub fn generate_key() -> String {
    hex::encode(rand::random::<[u8; 20]>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_160_bit_hex_and_differ() {
        let key = generate_key();
        assert_eq!(key.len(), 40);
        assert!(key.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(key, generate_key());
    }
}
