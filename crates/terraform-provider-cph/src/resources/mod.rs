//! The provider's resources: the action resources (one [`action::Action`] each, served by
//! [`action::ActionResource`]) and the drift-aware `cph_phone_property`.

pub(crate) mod action;
pub(crate) mod phone_backup;
pub(crate) mod phone_property;
pub(crate) mod phone_reset;
pub(crate) mod phone_restart;
pub(crate) mod phone_restore;
