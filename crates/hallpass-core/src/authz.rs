//! Authorization: what an authenticated user may do. Authentication answers "who is calling";
//! these rules answer "may they do this", by role and by ownership, in one place so that no
//! handler decides it with an `if` of its own.

use crate::user::{Role, User, UserId};

/// Why an authenticated user may not do something.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    /// The action needs a role the user does not hold.
    #[error("this needs the {0:?} role")]
    MissingRole(String),
    /// The resource belongs to someone else, and the user is not an administrator.
    #[error("only its owner or an administrator may change this")]
    NotOwner,
}

/// Something that belongs to one user.
pub trait Owned {
    /// The user it belongs to.
    fn owner(&self) -> UserId;
}

impl Owned for crate::post::Post {
    fn owner(&self) -> UserId {
        self.author
    }
}

/// The user must hold `role`.
pub fn require_role(user: &User, role: &Role) -> Result<(), Denied> {
    if user.has_role(role) {
        Ok(())
    } else {
        Err(Denied::MissingRole(role.as_str().to_owned()))
    }
}

/// The user may change or delete `resource`: they own it, or they are an administrator.
pub fn may_modify(user: &User, resource: &impl Owned) -> Result<(), Denied> {
    if resource.owner() == user.id || user.is_admin() {
        Ok(())
    } else {
        Err(Denied::NotOwner)
    }
}

/// Whether [`may_modify`] allows it, for pages deciding which buttons to show.
pub fn can_modify(user: &User, resource: &impl Owned) -> bool {
    may_modify(user, resource).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::password::PasswordHash;
    use time::OffsetDateTime;
    use uuid::Uuid;

    fn user(n: u128, roles: Vec<Role>) -> User {
        User {
            id: UserId(Uuid::from_u128(n)),
            username: format!("user{n}"),
            email: None,
            email_verified: false,
            roles,
            disabled: false,
            password_hash: PasswordHash::from_phc(String::new()),
            created_at: OffsetDateTime::UNIX_EPOCH,
        }
    }

    struct Thing(UserId);
    impl Owned for Thing {
        fn owner(&self) -> UserId {
            self.0
        }
    }

    #[test]
    fn owners_and_admins_may_modify_others_may_not() {
        let alice = user(1, vec![]);
        let bob = user(2, vec![]);
        let root = user(3, vec![Role::admin()]);
        let alices = Thing(alice.id);
        assert_eq!(may_modify(&alice, &alices), Ok(()));
        assert_eq!(may_modify(&root, &alices), Ok(()));
        assert_eq!(may_modify(&bob, &alices), Err(Denied::NotOwner));
        assert!(!can_modify(&bob, &alices));
    }

    #[test]
    fn roles_are_required_exactly() {
        let alice = user(1, vec![]);
        let root = user(3, vec![Role::admin()]);
        assert_eq!(require_role(&root, &Role::admin()), Ok(()));
        assert!(matches!(
            require_role(&alice, &Role::admin()),
            Err(Denied::MissingRole(role)) if role == "admin"
        ));
    }
}
