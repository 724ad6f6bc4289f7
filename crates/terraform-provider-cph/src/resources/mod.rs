//! The provider's resources: the action resources (one [`action::Action`] each, served by
//! [`action::ActionResource`]) and the declared-state resources `cph_phone_property` and
//! `cph_phone_power`.

pub(crate) mod action;
pub(crate) mod phone_backup;
pub(crate) mod phone_power;
pub(crate) mod phone_property;
pub(crate) mod phone_reset;
pub(crate) mod phone_restart;
pub(crate) mod phone_restore;
