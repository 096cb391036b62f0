//! Users and the principal a request acts as.

use crate::Permission;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub is_active: bool,
    pub is_staff: bool,
    pub is_admin: bool,
}

/// Django's username rule: 1 to 150 letters, digits or `@.+-_`.
pub fn validate_username(name: &str) -> Result<(), &'static str> {
    let allowed = |c: char| c.is_alphanumeric() || "@.+-_".contains(c);
    if name.is_empty() || name.chars().count() > 150 || !name.chars().all(allowed) {
        return Err("a username is 1 to 150 letters, digits or @.+-_ characters");
    }
    Ok(())
}

/// An authenticated user with the codes granted to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub user: User,
    pub granted: Vec<Permission>,
}

impl Principal {
    /// The contract's rule: active, and admin or staff holding the code.
    pub fn may(&self, permission: Permission) -> bool {
        self.user.is_active
            && (self.user.is_admin || (self.user.is_staff && self.granted.contains(&permission)))
    }

    /// Admin-only operations (methods no action maps to), as DRF's permission class decides.
    pub fn is_admin(&self) -> bool {
        self.user.is_active && self.user.is_admin
    }

    /// The codes this principal may exercise, ascending.
    pub fn effective_permissions(&self) -> Vec<Permission> {
        Permission::ALL
            .into_iter()
            .filter(|p| self.may(*p))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(is_staff: bool, is_admin: bool, granted: Vec<Permission>) -> Principal {
        let user = User {
            id: 1,
            username: "u".into(),
            is_active: true,
            is_staff,
            is_admin,
        };
        Principal { user, granted }
    }

    #[test]
    fn staff_needs_the_exact_code_and_admin_needs_none() {
        let staff = principal(true, false, vec![Permission::ListNotifiers]);
        assert!(staff.may(Permission::ListNotifiers));
        assert!(!staff.may(Permission::CreateNotifier));
        assert!(principal(false, true, vec![]).may(Permission::DeleteNotifier));
        assert!(
            !principal(false, false, vec![Permission::ListNotifiers])
                .may(Permission::ListNotifiers)
        );
    }

    #[test]
    fn usernames_follow_django_rules() {
        assert!(validate_username("ops.team+1@x").is_ok());
        for bad in ["", "has space", "tab\t", &"x".repeat(151)] {
            assert!(validate_username(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn inactive_users_may_nothing() {
        let mut admin = principal(true, true, vec![]);
        admin.user.is_active = false;
        assert!(admin.effective_permissions().is_empty());
    }
}
