//! Field errors in DRF's shape: every failing field at once, in declaration order.

use serde::Serialize;
use serde::ser::SerializeMap;

/// DRF's message texts, byte for byte; clients match on them.
pub mod messages {
    use crate::limits::MAX_RECIPIENTS;

    pub const REQUIRED: &str = "This field is required.";
    pub const NULL: &str = "This field may not be null.";
    pub const BLANK: &str = "This field may not be blank.";
    pub const NOT_A_STRING: &str = "Not a valid string.";
    pub const INVALID_INTEGER: &str = "A valid integer is required.";
    pub const INVALID_BOOLEAN: &str = "Must be a valid boolean.";
    pub const INVALID_EMAIL: &str = "Enter a valid email address.";
    pub const INVALID_HOST: &str = "Enter a valid hostname or IP address.";
    pub const NAME_TAKEN: &str = "email notifier with this name already exists.";
    pub const PASSWORD_AGAIN: &str =
        "Enter the password again when changing the host, port or TLS settings.";
    pub const STRING_TOO_LARGE: &str = "String value too large.";
    pub const EMPTY_LIST: &str = "This list may not be empty.";
    pub const SINGLE_LINE_SUBJECT: &str = "The subject must be a single line.";

    pub fn not_a_list(type_name: &str) -> String {
        format!("Expected a list of items but got type \"{type_name}\".")
    }

    pub fn too_many_recipients() -> String {
        format!("At most {MAX_RECIPIENTS} recipients in all.")
    }

    pub fn too_long(max: usize) -> String {
        format!("Ensure this field has no more than {max} characters.")
    }
    pub fn at_most(max: i64) -> String {
        format!("Ensure this value is less than or equal to {max}.")
    }
    /// DRF `ChoiceField`'s `invalid_choice`, `input` being Python's `str()` of the value.
    pub fn invalid_choice(input: &str) -> String {
        format!("\"{input}\" is not a valid choice.")
    }
    pub fn at_least(min: i64) -> String {
        format!("Ensure this value is greater than or equal to {min}.")
    }
}

/// One field's errors: messages, or (for list fields) messages per failing item index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldError {
    Messages(Vec<String>),
    Items(Vec<(usize, Vec<String>)>),
    /// A nested object's own field errors, as DRF nests a nested serializer's.
    Nested(FieldErrors),
}

/// Errors per field, kept in the order fields were checked (DRF's serializer order).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FieldErrors(Vec<(String, FieldError)>);

impl FieldErrors {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        let message = message.into();
        match self.0.iter_mut().find(|(name, _)| name == field) {
            Some((_, FieldError::Messages(list))) => list.push(message),
            // A list field's item errors and a message never mix in DRF; keep the first.
            Some((_, FieldError::Items(_) | FieldError::Nested(_))) => {}
            None => self
                .0
                .push((field.to_owned(), FieldError::Messages(vec![message]))),
        }
    }

    /// Errors of the items of a list field, keyed by index as DRF's ListField reports them.
    pub fn add_items(&mut self, field: &str, items: Vec<(usize, Vec<String>)>) {
        self.0.push((field.to_owned(), FieldError::Items(items)));
    }

    /// Errors of a nested object's fields, under `field`.
    pub fn add_nested(&mut self, field: &str, errors: FieldErrors) {
        self.0.push((field.to_owned(), FieldError::Nested(errors)));
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

    /// Field names with their plain messages (item errors yield an empty slice).
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[String])> {
        self.0.iter().map(|(name, error)| match error {
            FieldError::Messages(list) => (name.as_str(), list.as_slice()),
            FieldError::Items(_) | FieldError::Nested(_) => (name.as_str(), &[][..]),
        })
    }
}

impl Serialize for FieldErrors {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (field, error) in &self.0 {
            match error {
                FieldError::Messages(list) => map.serialize_entry(field, list)?,
                FieldError::Items(items) => map.serialize_entry(field, &ItemErrors(items))?,
                FieldError::Nested(errors) => map.serialize_entry(field, errors)?,
            }
        }
        map.end()
    }
}

/// `{"0": [...], "2": [...]}`: DRF's shape for a list field's failing items.
struct ItemErrors<'a>(&'a [(usize, Vec<String>)]);

impl Serialize for ItemErrors<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (index, list) in self.0 {
            map.serialize_entry(&index.to_string(), list)?;
        }
        map.end()
    }
}
