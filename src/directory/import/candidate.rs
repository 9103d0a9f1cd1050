//! A row checked and made into the user it would create, before anything is hashed
//! or looked up; and the names and ids seen so far in the file.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::sync::Arc;

use secrecy::SecretString;

use super::report::RefusedRow;
use super::rows::{ImportedUser, SourceRow};
use crate::crypto::password::PasswordHasher;
use crate::db::tenants::{self, Tenant};
use crate::db::users::User;
use crate::db::{DbConnection, DbResult};
use crate::directory::users::{NewUser, new_user_row};

/// A row that parsed and checked out: the user it would create (`password_hash` the
/// given hash, checked; a plain password waits in `password`), and what it gave.
pub struct Candidate {
    pub line: usize,
    pub text: String,
    pub tenant: Arc<Tenant>,
    pub row: User,
    pub oid_given: bool,
    pub password: Option<SecretString>,
    pub given: ImportedUser,
}

/// The tenants rows name, looked up once each.
pub struct Tenants {
    default: Arc<Tenant>,
    named: HashMap<String, Option<Arc<Tenant>>>,
}

impl Tenants {
    pub fn new(default: Tenant) -> Tenants {
        Tenants {
            default: Arc::new(default),
            named: HashMap::new(),
        }
    }

    fn get(
        &mut self,
        conn: &mut DbConnection,
        named: Option<&str>,
    ) -> DbResult<Option<Arc<Tenant>>> {
        let Some(named) = named.map(str::trim).filter(|t| !t.is_empty()) else {
            return Ok(Some(self.default.clone()));
        };
        let key = named.to_ascii_lowercase();
        if let Some(t) = self.named.get(&key) {
            return Ok(t.clone());
        }
        let found = tenants::find(conn, &key)?.map(Arc::new);
        self.named.insert(key, found.clone());
        Ok(found)
    }
}

/// The sign-in names and ids seen so far in the file, each as a 64-bit hash with its
/// first line: 16 bytes a key, not the key itself, so ten million rows fit. (Two
/// different keys with one hash are as likely as 1 in 10^5 at ten million keys; the
/// refusal would name both lines, so it can be checked.)
#[derive(Default)]
pub struct SeenKeys {
    first_line: HashMap<u64, u32, BuildHasherDefault<PassThrough>>,
}

impl SeenKeys {
    fn hash(kind: &str, tenant_id: &str, key: &str) -> u64 {
        let mut h = std::hash::DefaultHasher::new();
        (kind, tenant_id, key).hash(&mut h);
        h.finish()
    }

    /// The candidate's keys: names within its tenant, the oid everywhere.
    fn keys(c: &Candidate) -> impl Iterator<Item = (String, u64)> + '_ {
        let names = [&c.row.email_normalized, &c.row.username_normalized]
            .into_iter()
            .flatten()
            .map(|n| (n.clone(), Self::hash("name", &c.tenant.id, n)));
        let oid = c
            .oid_given
            .then(|| (c.row.id.clone(), Self::hash("oid", "", &c.row.id)));
        names.chain(oid)
    }

    /// Keys held so far.
    pub fn len(&self) -> usize {
        self.first_line.len()
    }

    /// Makes room for `keys` in all, at once: growing the table step by step would
    /// hold the old and the new one together at each step.
    pub fn reserve_total(&mut self, keys: usize) {
        self.first_line
            .reserve(keys.saturating_sub(self.first_line.len()));
    }

    /// Records the candidate's keys, or says which one an earlier line has.
    fn check(&mut self, c: &Candidate) -> Result<(), String> {
        if let Some((key, first)) =
            Self::keys(c).find_map(|(key, h)| self.first_line.get(&h).map(|first| (key, *first)))
        {
            return Err(format!("{key} is already on line {first}"));
        }
        let line = u32::try_from(c.line).unwrap_or(u32::MAX);
        for (_, h) in Self::keys(c) {
            self.first_line.insert(h, line);
        }
        Ok(())
    }
}

/// A hasher for keys that are hashes already.
#[derive(Default)]
struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 << 8) | u64::from(*b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// A row read from the file as a candidate, or the refusal of it.
pub fn prepare(
    conn: &mut DbConnection,
    hasher: &PasswordHasher,
    tenants: &mut Tenants,
    seen: &mut SeenKeys,
    source: SourceRow,
    now: i64,
) -> DbResult<Result<Candidate, RefusedRow>> {
    let refuse = |reason: String, text: String| {
        Ok(Err(RefusedRow {
            line: source.line,
            reason,
            text,
        }))
    };
    let given = match source.user {
        Ok(u) => u,
        Err(reason) => return refuse(reason, source.text),
    };
    let tenant = match tenants.get(conn, given.tenant.as_deref())? {
        Some(t) => t,
        None => {
            let named = given.tenant.clone().unwrap_or_default();
            return refuse(format!("no tenant {named}"), source.text);
        }
    };
    let candidate = match candidate(hasher, &tenant, given, now) {
        Ok((row, password, given)) => Candidate {
            line: source.line,
            oid_given: given.oid.is_some(),
            text: source.text,
            tenant,
            row,
            password,
            given,
        },
        Err(reason) => return refuse(reason, source.text),
    };
    match seen.check(&candidate) {
        Ok(()) => Ok(Ok(candidate)),
        Err(reason) => refuse(reason, candidate.text),
    }
}

type Checked = (User, Option<SecretString>, ImportedUser);

/// The user a row would create, its plain password (not hashed yet), and the row.
fn candidate(
    hasher: &PasswordHasher,
    tenant: &Tenant,
    mut given: ImportedUser,
    now: i64,
) -> Result<Checked, String> {
    use secrecy::ExposeSecret;
    let password_hash = match (&given.password_hash, &given.keycloak_credential) {
        (Some(_), Some(_)) => {
            return Err("give password_hash or keycloak_credential, not both".into());
        }
        (hash, credential) => hash.clone().or(credential.as_ref().map(|c| c.to_string())),
    };
    let password = given.password.take().map(SecretString::from);
    match (&password, &password_hash) {
        (Some(_), Some(_)) => return Err("give a password or a password hash, not both".into()),
        (Some(pw), None) if pw.expose_secret().is_empty() => {
            return Err("the password is empty".into());
        }
        _ => {}
    }
    for list in [&mut given.roles, &mut given.groups].into_iter().flatten() {
        list.iter_mut().for_each(|s| *s = s.trim().to_owned());
        if list.iter().any(String::is_empty) {
            return Err("a role or group name is empty".into());
        }
    }
    let new = NewUser {
        email: given.email.clone(),
        username: given.username.clone(),
        password: None,
        password_hash,
        display_name: given.name.clone(),
        given_name: given.given_name.clone(),
        family_name: given.family_name.clone(),
        roles: given.roles.clone().unwrap_or_default(),
        groups: Vec::new(),
        oid: given.oid.clone(),
        disabled: given.disabled.unwrap_or(false),
        force_change_password: false,
    };
    // No password in `new`: nothing is hashed here.
    let row = new_user_row(hasher, tenant, &new, now).map_err(|e| e.to_string())?;
    // The normalised hash is what is stored and compared.
    given.password_hash = row.password_hash.clone();
    given.keycloak_credential = None;
    Ok((row, password, given))
}
