//! Secrets and credentials: [`Secret`] keeps a secret key or token out of `Debug` output and logs;
//! [`Credentials`] is the choice between AK/SK signing and an IAM token.

pub use cph_types::Secret;

/// How requests authenticate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Credentials {
    /// `SDK-HMAC-SHA256` signing with an access key and secret key; temporary credentials add a
    /// security token, sent (and signed) as `X-Security-Token`.
    AkSk {
        /// The access key id (not secret: it names the key, like a user name).
        access_key: String,
        /// The secret key the signature is keyed with.
        secret_key: Secret,
        /// The security token of temporary credentials.
        security_token: Option<Secret>,
    },
    /// An IAM token sent as `X-Auth-Token`.
    Token(Secret),
}

impl Credentials {
    /// Permanent AK/SK credentials.
    pub fn ak_sk(access_key: impl Into<String>, secret_key: impl Into<Secret>) -> Self {
        Credentials::AkSk {
            access_key: access_key.into(),
            secret_key: secret_key.into(),
            security_token: None,
        }
    }

    /// Temporary AK/SK credentials with their security token.
    pub fn temporary(
        access_key: impl Into<String>,
        secret_key: impl Into<Secret>,
        security_token: impl Into<Secret>,
    ) -> Self {
        Credentials::AkSk {
            access_key: access_key.into(),
            secret_key: secret_key.into(),
            security_token: Some(security_token.into()),
        }
    }

    /// An IAM token (`X-Auth-Token`).
    pub fn token(token: impl Into<Secret>) -> Self {
        Credentials::Token(token.into())
    }

    /// What is missing or malformed, if anything, as (setting, reason).
    pub(crate) fn problem(&self) -> Option<(&'static str, String)> {
        match self {
            Credentials::AkSk {
                access_key,
                secret_key,
                security_token,
            } => {
                if access_key.is_empty() {
                    Some(("access_key", "must not be empty".to_owned()))
                } else if !access_key
                    .bytes()
                    .all(|b| b.is_ascii_graphic() && b != b',')
                {
                    Some((
                        "access_key",
                        format!("{access_key:?} must be printable ASCII without `,` or spaces"),
                    ))
                } else if secret_key.is_empty() {
                    Some(("secret_key", "must not be empty".to_owned()))
                } else if security_token.as_ref().is_some_and(|t| !header_safe(t)) {
                    Some((
                        "security_token",
                        "must be non-empty printable ASCII".to_owned(),
                    ))
                } else {
                    None
                }
            }
            Credentials::Token(token) => (!header_safe(token))
                .then(|| ("auth_token", "must be non-empty printable ASCII".to_owned())),
        }
    }
}

fn header_safe(secret: &Secret) -> bool {
    !secret.is_empty() && secret.expose().bytes().all(|b| b.is_ascii_graphic())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_secret_values() {
        let creds = Credentials::temporary("AKID", "my-secret-key", "my-security-token");
        let text = format!("{creds:?}");
        assert!(text.contains("AKID"));
        assert!(!text.contains("my-secret-key"));
        assert!(!text.contains("my-security-token"));
        assert_eq!(format!("{:?}", Credentials::token("tok-123")), "Token(***)");
        assert_eq!(Secret::new("x").to_string(), "***");
    }

    #[test]
    fn empty_or_unsafe_credentials_are_a_problem() {
        assert_eq!(
            Credentials::ak_sk("", "sk").problem().map(|p| p.0),
            Some("access_key")
        );
        assert_eq!(
            Credentials::ak_sk("ak", "").problem().map(|p| p.0),
            Some("secret_key")
        );
        assert_eq!(
            Credentials::ak_sk("a k", "sk").problem().map(|p| p.0),
            Some("access_key")
        );
        assert_eq!(
            Credentials::token("").problem().map(|p| p.0),
            Some("auth_token")
        );
        assert_eq!(
            Credentials::token("a\nb").problem().map(|p| p.0),
            Some("auth_token")
        );
        assert!(
            Credentials::temporary("ak", "sk", "tok")
                .problem()
                .is_none()
        );
        assert!(Credentials::token("tok").problem().is_none());
    }
}
