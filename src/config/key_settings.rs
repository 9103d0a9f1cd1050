//! The signing keys' settings: the key-encryption key and automatic rotation.

use std::path::Path;
use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};

use crate::crypto::kek::{KEK_ENV, KEK_FILE_SETTING, Kek};

/// A setting's name and what is wrong with it.
pub(super) type Invalid = (&'static str, String);

/// The key-encryption key: `LOCALIDP_KEY_ENCRYPTION_KEY` wins over
/// `key_encryption_key_file`.
pub(super) fn key_encryption_key(
    text: Option<&SecretString>,
    file: Option<&Path>,
) -> Result<Option<Arc<Kek>>, Invalid> {
    let kek = match (text, file) {
        (Some(text), _) => {
            Kek::parse(text.expose_secret(), KEK_ENV).map_err(|reason| (KEK_ENV, reason))?
        }
        (None, Some(path)) => {
            Kek::from_file(path, KEK_FILE_SETTING).map_err(|reason| (KEK_FILE_SETTING, reason))?
        }
        (None, None) => return Ok(None),
    };
    Ok(Some(Arc::new(kek)))
}

/// `key_rotation_days` (0 or absent: off) and `key_publish_ahead` (hours, default 48,
/// less than the rotation period).
pub(super) fn rotation(days: Option<u32>, ahead_hours: Option<i64>) -> Result<(u32, i64), Invalid> {
    let days = days.unwrap_or(0);
    if days > 3650 {
        return Err(("key_rotation_days", "must be 0 (off) to 3650".into()));
    }
    let ahead = ahead_hours.unwrap_or(48);
    if ahead < 0 || (days > 0 && ahead >= i64::from(days) * 24) {
        return Err((
            "key_publish_ahead",
            format!(
                "{ahead} hours: must be at least 0 and less than key_rotation_days ({days} days)"
            ),
        ));
    }
    Ok((days, ahead))
}
