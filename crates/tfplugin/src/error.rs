//! The crate's one error type: decoding, encoding and serving failures.

use crate::AttributePath;

/// Everything that can go wrong inside tfplugin outside of provider logic.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A msgpack or JSON value did not match the type it was decoded with.
    #[error("value at {path} does not match type {expected}: {found}")]
    TypeMismatch {
        /// Where in the value the mismatch was found.
        path: AttributePath,
        /// The expected type, in Terraform's type syntax.
        expected: String,
        /// What was found instead.
        found: String,
    },
    /// An object value lacks an attribute its type requires.
    #[error("object at {path} lacks attribute {attribute:?}")]
    MissingAttribute {
        /// The object's path.
        path: AttributePath,
        /// The missing attribute's name.
        attribute: String,
    },
    /// A number could not be parsed or represented.
    #[error("invalid number {0:?}")]
    InvalidNumber(String),
    /// The msgpack bytes were malformed.
    #[error("malformed msgpack: {0}")]
    Msgpack(String),
    /// The JSON bytes were malformed.
    #[error("malformed json: {0}")]
    Json(#[from] serde_json::Error),
    /// A type description (JSON type syntax) was malformed.
    #[error("invalid type description {0:?}")]
    InvalidType(String),
    /// A value contained an unknown where only known values are allowed.
    #[error("value at {0} is unknown")]
    Unknown(AttributePath),
    /// A typed model could not be converted to or from a value (at `path`, the whole value when
    /// empty).
    #[error("{}{message}", if path.is_empty() { String::new() } else { format!("{path}: ") })]
    Model {
        /// Where in the value.
        path: AttributePath,
        /// What was wrong.
        message: String,
    },
    /// The magic cookie was missing or wrong: the binary was not launched by Terraform.
    #[error("this binary is a terraform plugin and is not meant to be executed directly")]
    NotLaunchedByTerraform,
    /// Terraform offered no protocol version this runtime speaks.
    #[error("terraform offered plugin protocol versions {0:?}, this provider speaks only 6")]
    UnsupportedProtocol(String),
    /// Terraform sent no client certificate (it runs with `TF_DISABLE_PLUGIN_TLS`) and plaintext gRPC
    /// was not allowed through [`crate::DANGER_ALLOW_PLAINTEXT`].
    #[error(
        "Terraform sent no client certificate (PLUGIN_CLIENT_CERT), so the plugin channel would be plaintext \
         gRPC; refusing. Unset TF_DISABLE_PLUGIN_TLS so that Terraform and the provider use mutual TLS, or, \
         on a machine you trust, set TFPLUGIN_DANGER_ALLOW_PLAINTEXT_GRPC=1"
    )]
    PlaintextRefused,
    /// `PLUGIN_CLIENT_CERT` was not a usable PEM certificate.
    #[error("invalid PLUGIN_CLIENT_CERT: {0}")]
    ClientCert(String),
    /// The TLS setup (server certificate or rustls configuration) failed.
    #[error("tls setup failed: {0}")]
    Tls(String),
    /// Binding the listener or serving gRPC failed.
    #[error("io error while serving: {0}")]
    Io(#[from] std::io::Error),
    /// The gRPC server failed.
    #[error("grpc transport failed: {0}")]
    Transport(String),
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
