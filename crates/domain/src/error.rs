//! Field errors in DRF's shape: every failing field at once, in declaration order.

use serde::Serialize;
use serde::ser::SerializeMap;

/// DRF's message texts, byte for byte; clients match on them.
pub mod messages {
    pub const REQUIRED: &str = "This field is required.";
    pub const NULL: &str = "This field may not be null.";
    pub const BLANK: &str = "This field may not be blank.";
    pub const NOT_A_STRING: &str = "Not a valid string.";
    pub const INVALID_INTEGER: &str = "A valid integer is required.";
    pub const INVALID_BOOLEAN: &str = "Must be a valid boolean.";
    pub const INVALID_EMAIL: &str = "Enter a valid email address.";
    pub const INVALID_HOST: &str = "Enter a valid hostname or IP address.";
    pub const NAME_TAKEN: &str = "email notifier with this name already exists.";
    pub const STRING_TOO_LARGE: &str = "String value too large.";

    pub fn too_long(max: usize) -> String {
        format!("Ensure this field has no more than {max} characters.")
    }
    pub fn at_most(max: i64) -> String {
        format!("Ensure this value is less than or equal to {max}.")
    }
    pub fn at_least(min: i64) -> String {
        format!("Ensure this value is greater than or equal to {min}.")
    }
}

/// Messages per field, kept in the order fields were checked (DRF's serializer order).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FieldErrors(Vec<(String, Vec<String>)>);

impl FieldErrors {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        let message = message.into();
        match self.0.iter_mut().find(|(name, _)| name == field) {
            Some((_, list)) => list.push(message),
            None => self.0.push((field.to_owned(), vec![message])),
        }
    }

    pub fn single(field: &str, message: impl Into<String>) -> Self {
        let mut errors = Self::default();
        errors.add(field, message);
        errors
    }

    pub fn has(&self, field: &str) -> bool {
        self.0.iter().any(|(name, _)| name == field)
    }

    /// Fields listed in `order` first, in that order, then any others.
    pub fn sorted_by(mut self, order: &[&str]) -> Self {
        let rank = |name: &str| order.iter().position(|o| *o == name).unwrap_or(order.len());
        self.0.sort_by_key(|(name, _)| rank(name));
        self
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &[String])> {
        self.0
            .iter()
            .map(|(name, list)| (name.as_str(), list.as_slice()))
    }
}

impl Serialize for FieldErrors {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (field, list) in &self.0 {
            map.serialize_entry(field, list)?;
        }
        map.end()
    }
}
