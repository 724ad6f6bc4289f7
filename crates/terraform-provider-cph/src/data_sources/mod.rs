//! The provider's data sources.

pub(crate) mod phones;
