//! Where private signing keys are kept — PEM files in a directory (the default,
//! `keys/`) or the `signing_keys` table — and, with a key-encryption key, encrypted
//! ([`super::kek`]) in either place.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::kek::{self, Kek};
use super::keys::{KeyError, KeyRing, SigningKey, pem_decode};
use crate::db::signing_keys::{self, SigningKeyRow};
use crate::db::{self, DbConnection};

/// The place of the private keys.
#[derive(Debug, Clone)]
pub enum KeyPlace {
    Directory(PathBuf),
    Database,
}

/// The private keys' place, and the key-encryption key they are (to be) sealed with.
#[derive(Debug, Clone)]
pub struct KeyStore {
    pub place: KeyPlace,
    kek: Option<Arc<Kek>>,
}

/// What [`KeyStore::rewrap`] did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RewrapReport {
    /// Keys now sealed under the new key-encryption key by this run.
    pub rewrapped: Vec<String>,
    /// Keys that were already (an interrupted run, a replica that did it first).
    pub already: usize,
    /// Keys whose file is gone (`keys/`; long-expired keys someone deleted).
    pub missing: Vec<String>,
}

impl KeyStore {
    pub fn new(place: KeyPlace, kek: Option<Arc<Kek>>) -> Self {
        KeyStore { place, kek }
    }

    pub fn kek(&self) -> Option<&Kek> {
        self.kek.as_deref()
    }

    fn key_path(dir: &Path, kid: &str) -> PathBuf {
        dir.join(format!("{kid}.pem"))
    }

    fn io(path: &Path) -> impl FnOnce(std::io::Error) -> KeyError {
        let path = path.to_owned();
        move |source| KeyError::Io { path, source }
    }

    /// The form a new key is stored in: sealed with the KEK, else its PEM.
    fn stored_form(&self, kid: &str, pem: &str) -> Result<String, KeyError> {
        let invalid = |reason| KeyError::Invalid {
            kid: kid.to_owned(),
            reason,
        };
        match &self.kek {
            None => Ok(pem.to_owned()),
            Some(kek) => kek.seal(kid, &pem_decode(pem, "PRIVATE KEY").map_err(invalid)?),
        }
        .map_err(invalid)
    }

    /// Writes a new key; the text for its row's `private_key_pem` (`None`: in a file).
    fn persist(&self, kid: &str, pem: &str) -> Result<Option<String>, KeyError> {
        let stored = self.stored_form(kid, pem)?;
        match &self.place {
            KeyPlace::Database => Ok(Some(stored)),
            KeyPlace::Directory(dir) => {
                std::fs::create_dir_all(dir).map_err(Self::io(dir))?;
                let path = Self::key_path(dir, kid);
                let mut file = private_file()
                    .create_new(true)
                    .open(&path)
                    .map_err(Self::io(&path))?;
                file.write_all(stored.as_bytes()).map_err(Self::io(&path))?;
                file.sync_all().map_err(Self::io(&path))?;
                Ok(None)
            }
        }
    }

    /// The stored text of a key: its row's, or its file's.
    fn read_stored(&self, row: &SigningKeyRow) -> Result<String, KeyError> {
        match (&row.private_key_pem, &self.place) {
            (Some(text), _) => Ok(text.clone()),
            (None, KeyPlace::Directory(dir)) => {
                let path = Self::key_path(dir, &row.kid);
                std::fs::read_to_string(&path).map_err(Self::io(&path))
            }
            (None, KeyPlace::Database) => Err(KeyError::Invalid {
                kid: row.kid.clone(),
                reason: "its PEM is in the keys directory, not the database".into(),
            }),
        }
    }

    fn load(&self, row: &SigningKeyRow) -> Result<SigningKey, KeyError> {
        let invalid = |reason| KeyError::Invalid {
            kid: row.kid.clone(),
            reason,
        };
        let stored = self.read_stored(row)?;
        let der = kek::open_stored(self.kek(), &row.kid, &stored).map_err(invalid)?;
        let mut key =
            SigningKey::from_pkcs8_der(&der, row.created_at, row.retired_at).map_err(invalid)?;
        key.activates_at = row.activates_at;
        if key.kid != row.kid {
            return Err(invalid(format!("its thumbprint is {}", key.kid)));
        }
        Ok(key)
    }

    /// Generates a key and stores it, signing from `activates_at` (`None`: at once).
    pub(crate) fn create(
        &self,
        conn: &mut DbConnection,
        now: i64,
        activates_at: Option<i64>,
        generated: Option<(SigningKey, String)>,
    ) -> Result<String, KeyError> {
        let (key, pem) = match generated {
            Some(g) => g,
            None => SigningKey::generate(now)?,
        };
        let stored_pem = self.persist(&key.kid, &pem)?;
        signing_keys::insert(
            conn,
            &SigningKeyRow {
                kid: key.kid.clone(),
                private_key_pem: stored_pem,
                created_at: key.created_at,
                retired_at: None,
                activates_at,
            },
        )?;
        Ok(key.kid)
    }

    /// Generates a key, stores it, and makes it the active one: under the rotation
    /// lock (a replica's automatic rotation waits), and only when the live keys (those
    /// retired after `live_since`, or not at all) are stored as this store would store
    /// the new one ([`Self::check_kek`]). The key is generated before the transaction,
    /// which would otherwise hold the lock (and SQLite's only writer) through RSA key
    /// generation; a key file written for a transaction that then fails is removed.
    pub fn create_active(
        &self,
        conn: &mut DbConnection,
        now: i64,
        live_since: i64,
    ) -> Result<String, KeyError> {
        let generated = SigningKey::generate(now)?;
        let file = match &self.place {
            KeyPlace::Directory(dir) => Some(Self::key_path(dir, &generated.0.kid)),
            KeyPlace::Database => None,
        };
        let result = db::write_tx(conn, |conn| {
            signing_keys::lock_for_rotation(conn)?;
            self.check_kek(conn, live_since)?;
            let kid = self.create(conn, now, None, Some(generated))?;
            signing_keys::retire_others(conn, &kid, now)?;
            Ok(kid)
        });
        if let (Err(_), Some(file)) = (&result, file) {
            // A fresh key's thumbprint names no other file.
            let _ = std::fs::remove_file(file);
        }
        result
    }

    /// Refuses, naming the first such key, when a live key is stored otherwise than
    /// this store stores: sealed under another key-encryption key, sealed while this
    /// store has none (a new key would be in the clear beside it), or in the clear
    /// while this store has one (servers started without a key-encryption key could
    /// not open the new key). Expired keys verify nothing and are not looked at.
    pub(crate) fn check_kek(
        &self,
        conn: &mut DbConnection,
        live_since: i64,
    ) -> Result<(), KeyError> {
        for row in signing_keys::live(conn, live_since)? {
            let stored = self.read_stored(&row)?;
            let reason = match (kek::sealed_under(&stored), self.kek()) {
                (None, None) => continue,
                (Some(under), Some(ours)) if under == ours.id() => continue,
                (Some(under), Some(ours)) => format!(
                    "it is encrypted under key-encryption key {under}, not the one given ({}); give the servers' key",
                    ours.id()
                ),
                (Some(under), None) => format!(
                    "it is encrypted under key-encryption key {under}, and none was given ({}); a new key would be stored unencrypted",
                    kek::KEK_ENV
                ),
                (None, Some(ours)) => format!(
                    "it is not encrypted, and a key-encryption key was given ({}): start the servers with it first (they encrypt the keys), or run `localidp keys rewrap`",
                    ours.id()
                ),
            };
            return Err(KeyError::Invalid {
                kid: row.kid,
                reason,
            });
        }
        Ok(())
    }

    /// Loads every key that may still verify a live token. Keys retired longer ago
    /// than `retention` seconds are left out of the JWKS.
    pub fn load_ring(
        &self,
        conn: &mut DbConnection,
        now: i64,
        retention: i64,
    ) -> Result<KeyRing, KeyError> {
        let rows = signing_keys::live(conn, now - retention)?;
        let mut keys = Vec::with_capacity(rows.len());
        for row in &rows {
            keys.push(Arc::new(self.load(row)?));
        }
        KeyRing::new(keys, now)
    }

    /// First start: make sure one active key exists; the `kid` of the key it made.
    pub fn ensure_active(
        &self,
        conn: &mut DbConnection,
        now: i64,
    ) -> Result<Option<String>, KeyError> {
        let any_active = signing_keys::live(conn, i64::MAX)?;
        if any_active.is_empty() {
            return Ok(Some(self.create_active(conn, now, i64::MAX)?));
        }
        Ok(None)
    }

    /// Seals every stored private key under `new`: keys sealed under this store's KEK
    /// are opened with it, unencrypted keys are read as they are, keys already under
    /// `new` are left alone (so a run that was interrupted can run again). Keys in the
    /// database change in one transaction; files are replaced one by one, each
    /// atomically (written aside, synced, renamed over the old one).
    pub fn rewrap(&self, conn: &mut DbConnection, new: &Kek) -> Result<RewrapReport, KeyError> {
        db::write_tx(conn, |conn| {
            // A rotation on a running replica waits: it would add a key under the old
            // key-encryption key while the others are rewrapped.
            signing_keys::lock_for_rotation(conn)?;
            let mut report = RewrapReport::default();
            for row in signing_keys::all(conn)? {
                let stored = match self.read_stored(&row) {
                    Ok(text) => text,
                    Err(KeyError::Io { source, .. })
                        if source.kind() == std::io::ErrorKind::NotFound =>
                    {
                        report.missing.push(row.kid.clone());
                        continue;
                    }
                    Err(e) => return Err(e),
                };
                if kek::sealed_under(&stored) == Some(new.id()) {
                    report.already += 1;
                    continue;
                }
                self.reseal(conn, &row, &stored, new)?;
                report.rewrapped.push(row.kid);
            }
            Ok(report)
        })
    }

    /// Seals one stored key under `new`, in its row or its file.
    fn reseal(
        &self,
        conn: &mut DbConnection,
        row: &SigningKeyRow,
        stored: &str,
        new: &Kek,
    ) -> Result<(), KeyError> {
        let invalid = |reason| KeyError::Invalid {
            kid: row.kid.clone(),
            reason,
        };
        let der = kek::open_stored(self.kek(), &row.kid, stored).map_err(invalid)?;
        let sealed = new.seal(&row.kid, &der).map_err(invalid)?;
        match (&row.private_key_pem, &self.place) {
            (Some(was), _) => {
                signing_keys::replace_private_key(conn, &row.kid, was, &sealed)?;
            }
            (None, KeyPlace::Directory(dir)) => {
                replace_file(&Self::key_path(dir, &row.kid), &sealed)?;
            }
            (None, KeyPlace::Database) => unreachable!("read_stored refused it"),
        }
        Ok(())
    }

    /// With a key-encryption key, at start: seals the keys still stored unencrypted.
    /// Keys already sealed are left to [`Self::load_ring`] (which refuses a live key
    /// under another key-encryption key). A key retired before `live_since` (it
    /// verifies nothing any more) that cannot be read or sealed is logged and left as
    /// it is rather than stopping the start.
    pub fn seal_unencrypted(
        &self,
        conn: &mut DbConnection,
        live_since: i64,
    ) -> Result<Vec<String>, KeyError> {
        let Some(kek) = self.kek.clone() else {
            return Ok(Vec::new());
        };
        db::write_tx(conn, |conn| {
            signing_keys::lock_for_rotation(conn)?;
            // A live key under another key-encryption key stops the start before
            // anything is sealed under this one (the store would be left mixed).
            for row in signing_keys::live(conn, live_since)? {
                let stored = self.read_stored(&row)?;
                kek::open_stored(Some(&*kek), &row.kid, &stored).map_err(|reason| {
                    KeyError::Invalid {
                        kid: row.kid.clone(),
                        reason,
                    }
                })?;
            }
            let mut sealed = Vec::new();
            for row in signing_keys::all(conn)? {
                let live = row.retired_at.is_none_or(|at| at > live_since);
                let result = self.read_stored(&row).and_then(|stored| {
                    if kek::is_sealed(&stored) {
                        return Ok(false);
                    }
                    self.reseal(conn, &row, &stored, &kek).map(|()| true)
                });
                match result {
                    Ok(true) => sealed.push(row.kid),
                    Ok(false) => {}
                    Err(e) if !live => {
                        tracing::warn!(kid = %row.kid, error = %e, "expired signing key left as it is");
                    }
                    Err(e) => return Err(e),
                }
            }
            Ok(sealed)
        })
    }
}

fn private_file() -> std::fs::OpenOptions {
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
}

/// Replaces a file's content atomically: a reader (or a crash) sees the old content
/// or the new, never a mix.
fn replace_file(path: &Path, text: &str) -> Result<(), KeyError> {
    let io = KeyStore::io;
    let aside = path.with_extension("pem.new");
    let mut file = private_file()
        .create(true)
        .truncate(true)
        .open(&aside)
        .map_err(io(&aside))?;
    file.write_all(text.as_bytes()).map_err(io(&aside))?;
    file.sync_all().map_err(io(&aside))?;
    drop(file);
    std::fs::rename(&aside, path).map_err(io(path))?;
    if let Some(dir) = path.parent() {
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io(dir))?;
    }
    Ok(())
}
