//! A row checked and made into the user it would create, before anything is hashed
//! or looked up; and the names and ids seen so far in the file.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use secrecy::SecretString;

use super::report::RefusedRow;
use super::rows::{ImportedUser, SourceRow};
use crate::crypto::password::PasswordHasher;
use crate::db::tenants::{self, Tenant};
use crate::db::users::User;
use crate::db::{DbConnection, DbResult, import_keys};
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

/// Object ids for rows that give none: time-ordered (UUID v7, from the import's
/// clock and a counter), so that a large import adds to the end of the id indexes
/// instead of touching a random page of each for every row (with random v4 ids the
/// writes of each batch grew with the table).
pub struct NewIds {
    context: uuid::ContextV7,
    now: u64,
}

impl NewIds {
    pub fn new(now: i64) -> NewIds {
        NewIds {
            context: uuid::ContextV7::new(),
            now: u64::try_from(now).unwrap_or(0),
        }
    }

    fn next(&self) -> String {
        let ts = uuid::Timestamp::from_unix(&self.context, self.now, 0);
        uuid::Uuid::new_v7(ts).to_string()
    }
}

/// Rows that repeat an email, user name or oid of an earlier row of the file.
/// Within a batch, found here. Across batches, in a written import, by the user the
/// earlier row reached (`import_users`, see [`import_keys`] and `batch.rs`): the
/// process holds one batch's keys, not the file's. A dry run writes no user to find
/// again, so it keeps a 64-bit hash of every key with its first line in `import_keys`
/// (slower: the hashes fall all over that table). (Two different keys with one hash
/// are as likely as 1 in 10^5 at ten million keys; the refusal names both lines, so
/// it can be checked.)
pub struct SeenKeys {
    whole_file: bool,
    /// A written import: the keys the last batch's rows brought, by line, until the
    /// batch's refusals are known ([`Self::remember_refused`]).
    batch_keys: Vec<(i64, i64)>,
    /// A written import put the keys of refused rows into `import_keys`: later
    /// batches look there too.
    refused_recorded: bool,
}

impl SeenKeys {
    /// Empty tables on this connection; `dry_run`: keys kept for the whole file.
    pub fn new(conn: &mut DbConnection, dry_run: bool) -> DbResult<SeenKeys> {
        import_keys::create(conn)?;
        Ok(SeenKeys {
            whole_file: dry_run,
            batch_keys: Vec::new(),
            refused_recorded: false,
        })
    }

    /// Drops the tables.
    pub fn finish(self, conn: &mut DbConnection) -> DbResult<()> {
        import_keys::drop(conn)
    }

    fn hash(kind: &str, tenant_id: &str, key: &str) -> i64 {
        let mut h = std::hash::DefaultHasher::new();
        (kind, tenant_id, key).hash(&mut h);
        h.finish() as i64
    }

    /// The candidate's keys: names within its tenant, the oid everywhere.
    fn keys(c: &Candidate) -> Vec<(String, i64)> {
        let names = [&c.row.email_normalized, &c.row.username_normalized]
            .into_iter()
            .flatten()
            .map(|n| (n.clone(), Self::hash("name", &c.tenant.id, n)));
        let oid = c
            .oid_given
            .then(|| (c.row.id.clone(), Self::hash("oid", "", &c.row.id)));
        names.chain(oid).collect()
    }

    /// The batch's candidates whose keys no earlier line of the batch (of the file,
    /// in a dry run) has; the others refused, naming the earlier line.
    pub fn check(
        &mut self,
        conn: &mut DbConnection,
        batch: Vec<Candidate>,
        refused: &mut Vec<RefusedRow>,
    ) -> DbResult<Vec<Candidate>> {
        let keyed: Vec<(Candidate, Vec<(String, i64)>)> = batch
            .into_iter()
            .map(|c| {
                let keys = Self::keys(&c);
                (c, keys)
            })
            .collect();
        let all: Vec<i64> = keyed
            .iter()
            .flat_map(|(_, k)| k.iter().map(|k| k.1))
            .collect();
        let mut first: HashMap<i64, i64> = if self.whole_file || self.refused_recorded {
            import_keys::lines(conn, &all)?.into_iter().collect()
        } else {
            HashMap::new()
        };
        let mut new = Vec::new();
        let mut kept = Vec::with_capacity(keyed.len());
        for (c, keys) in keyed {
            if let Some((key, line)) = keys
                .iter()
                .find_map(|(key, h)| first.get(h).map(|line| (key, *line)))
            {
                refused.push(RefusedRow {
                    reason: format!("{key} is already on line {line}"),
                    line: c.line,
                    text: c.text,
                });
                continue;
            }
            let line = c.line as i64;
            for (_, h) in keys {
                // An email that is also the user name is one key.
                if first.insert(h, line).is_none() {
                    new.push((h, line));
                }
            }
            kept.push(c);
        }
        if self.whole_file {
            import_keys::insert(conn, &new)?;
        } else {
            self.batch_keys = new;
        }
        Ok(kept)
    }

    /// A written import: keeps the keys of the batch's rows refused after [`Self::check`]
    /// (they reached no user, so `import_users` cannot name them), so that a later
    /// batch's repeat of one is refused as it is within a batch and in a dry run.
    pub fn remember_refused(
        &mut self,
        conn: &mut DbConnection,
        refused: &[RefusedRow],
    ) -> DbResult<()> {
        let batch_keys = std::mem::take(&mut self.batch_keys);
        if self.whole_file || refused.is_empty() {
            return Ok(());
        }
        let lines: std::collections::HashSet<i64> = refused.iter().map(|r| r.line as i64).collect();
        let keys: Vec<(i64, i64)> = batch_keys
            .into_iter()
            .filter(|(_, line)| lines.contains(line))
            .collect();
        if !keys.is_empty() {
            import_keys::insert(conn, &keys)?;
            self.refused_recorded = true;
        }
        Ok(())
    }
}

/// A row read from the file as a candidate, or the refusal of it.
pub fn prepare(
    conn: &mut DbConnection,
    hasher: &PasswordHasher,
    tenants: &mut Tenants,
    ids: &NewIds,
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
    match candidate(hasher, &tenant, given, now) {
        Ok((mut row, password, given)) => {
            let oid_given = given.oid.is_some();
            if !oid_given {
                row.id = ids.next();
            }
            Ok(Ok(Candidate {
                line: source.line,
                oid_given,
                text: source.text,
                tenant,
                row,
                password,
                given,
            }))
        }
        Err(reason) => refuse(reason, source.text),
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
