//! The `EmailNotifierPermission` family of codes.

use std::fmt;

/// One permission code of the contract; handlers name these, never bare integers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Permission {
    ListNotifiers,
    CreateNotifier,
    RetrieveNotifier,
    UpdateNotifier,
    DeleteNotifier,
    SendWithNotifier,
    /// The delivery log (§9): list and retrieve deliveries.
    ViewDeliveries,
    /// The audit log (§12): list its records.
    ViewAudit,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown permission code: {0} (expected 2830-2837)")]
pub struct UnknownPermission(pub String);

impl Permission {
    pub const ALL: [Permission; 8] = [
        Permission::ListNotifiers,
        Permission::CreateNotifier,
        Permission::RetrieveNotifier,
        Permission::UpdateNotifier,
        Permission::DeleteNotifier,
        Permission::SendWithNotifier,
        Permission::ViewDeliveries,
        Permission::ViewAudit,
    ];

    pub const fn code(self) -> u16 {
        match self {
            Permission::ListNotifiers => 2830,
            Permission::CreateNotifier => 2831,
            Permission::RetrieveNotifier => 2832,
            Permission::UpdateNotifier => 2833,
            Permission::DeleteNotifier => 2834,
            Permission::SendWithNotifier => 2835,
            Permission::ViewDeliveries => 2836,
            Permission::ViewAudit => 2837,
        }
    }

    pub fn from_code(code: i64) -> Option<Self> {
        Self::ALL.into_iter().find(|p| i64::from(p.code()) == code)
    }
}

impl std::str::FromStr for Permission {
    type Err = UnknownPermission;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        text.trim()
            .parse::<i64>()
            .ok()
            .and_then(Self::from_code)
            .ok_or_else(|| UnknownPermission(text.to_owned()))
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_reject_neighbours() {
        for p in Permission::ALL {
            assert_eq!(p.to_string().parse::<Permission>(), Ok(p));
        }
        assert!("2829".parse::<Permission>().is_err());
        assert!("2838".parse::<Permission>().is_err());
        assert!("abc".parse::<Permission>().is_err());
    }
}
