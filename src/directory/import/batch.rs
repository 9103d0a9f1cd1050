//! One batch of candidates: matched against the users there, passwords hashed on a
//! few threads, and written in one transaction.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};

use secrecy::SecretString;

use super::candidate::Candidate;
use super::report::{ImportOptions, ImportReport, OnConflict, RefusedRow, UserUpdate};
use crate::crypto::password::{HashError, PasswordCheck, PasswordHasher};
use crate::db::tenants::Tenant;
use crate::db::users::{self, NameChanges, User};
use crate::db::{DbConnection, DbError, decode_list, groups, import_keys, status_changes};
use crate::directory::{DirectoryError, DirectoryResult, ensure_group};

/// What a candidate becomes once its user is looked up.
enum Action {
    Create(Candidate),
    Update(Candidate, Box<User>),
}

/// A hashing thread's results: (action index, new hash).
type Hashed = Vec<(usize, Option<String>)>;

/// What differs between a row and its user.
#[derive(Default)]
struct Diff {
    names: NameChanges,
    roles: Option<Vec<String>>,
    /// Groups to join (names or ids, made if missing) and group ids to leave.
    join: Vec<String>,
    leave: Vec<String>,
    disabled: Option<bool>,
    password_hash: Option<String>,
}

impl Diff {
    fn fields(&self) -> Vec<&'static str> {
        let n = &self.names;
        [
            (n.display_name.is_some(), "name"),
            (n.given_name.is_some(), "given_name"),
            (n.family_name.is_some(), "family_name"),
            (self.roles.is_some(), "roles"),
            (!self.join.is_empty() || !self.leave.is_empty(), "groups"),
            (self.disabled.is_some(), "disabled"),
            (self.password_hash.is_some(), "password"),
        ]
        .into_iter()
        .filter_map(|(changed, field)| changed.then_some(field))
        .collect()
    }
}

/// An import under way: its options, its counts, and the groups its rows named.
pub struct Run<'a> {
    hasher: &'a PasswordHasher,
    options: ImportOptions,
    now: i64,
    pub report: ImportReport,
    /// (tenant id, name or id as the row gave it) → group id.
    groups: HashMap<(String, String), String>,
    /// The users this batch's rows reached (created, updated, found), with the lines.
    reached: HashMap<String, i64>,
}

impl<'a> Run<'a> {
    pub fn new(hasher: &'a PasswordHasher, options: ImportOptions, now: i64) -> Self {
        Run {
            hasher,
            options,
            now,
            report: ImportReport::default(),
            groups: HashMap::new(),
            reached: HashMap::new(),
        }
    }

    /// Matches, hashes and writes one batch; refusals are added to `refused`, in line
    /// order. Returns the users it changed.
    pub fn batch(
        &mut self,
        conn: &mut DbConnection,
        batch: Vec<Candidate>,
        refused: &mut Vec<RefusedRow>,
    ) -> DirectoryResult<Vec<UserUpdate>> {
        let found = existing(conn, &batch, !self.options.dry_run)?;
        self.reached.clear();
        let (actions, stop) = self.decide(batch, &found, refused);
        if let Some(stop) = stop {
            // Rows from the conflict on are not part of this import.
            refused.retain(|r| r.line < stop);
        }
        refused.sort_by_key(|r| r.line);
        let hashes = self.passwords(&actions)?;
        let mut creates = Vec::new();
        let mut updates = Vec::new();
        for (action, hash) in actions.into_iter().zip(hashes) {
            match action {
                Action::Create(mut c) => {
                    if hash.is_some() {
                        c.row.password_hash = hash;
                    }
                    creates.push(c);
                }
                Action::Update(c, user) => {
                    let diff = self.diff(conn, &c, &user, hash)?;
                    if diff.fields().is_empty() {
                        self.report.unchanged += 1;
                    } else {
                        updates.push((c, *user, diff));
                    }
                }
            }
        }
        self.report.created += creates.len();
        self.report.updated += updates.len();
        if self.options.dry_run {
            return Ok(Vec::new());
        }
        let reached: Vec<(&str, i64)> = self
            .reached
            .iter()
            .map(|(id, l)| (id.as_str(), *l))
            .collect();
        import_keys::add_users(conn, &reached)?;
        if creates.is_empty() && updates.is_empty() {
            return Ok(Vec::new());
        }
        crate::db::write_tx(conn, |conn| self.write(conn, &creates, &updates)).map_err(
            |e| match e {
                DirectoryError::Conflict(_) => DirectoryError::Conflict(
                    "a user of this file (added meanwhile by someone else)".to_owned(),
                ),
                other => other,
            },
        )?;
        Ok(updates
            .into_iter()
            .map(|(c, user, diff)| UserUpdate {
                tenant_id: c.tenant.id.clone(),
                user_id: user.id,
                fields: diff.fields(),
                password: diff.password_hash.is_some(),
                disabled: diff.disabled,
            })
            .collect())
    }

    /// Create, skip, update, stop, or refuse each candidate.
    fn decide(
        &mut self,
        batch: Vec<Candidate>,
        found: &Found,
        refused: &mut Vec<RefusedRow>,
    ) -> (Vec<Action>, Option<usize>) {
        let mut actions = Vec::with_capacity(batch.len());
        for c in batch {
            let by_oid = c
                .oid_given
                .then(|| found.by_id.get(&c.row.id))
                .flatten()
                .map(|i| &found.users[*i]);
            if let Some(user) = by_oid.filter(|u| u.tenant_id != c.tenant.id) {
                let reason = format!("the oid {} belongs to a user of another tenant", user.id);
                refused.push(refuse(c, reason));
                continue;
            }
            let mut matched: Vec<&User> = by_oid.into_iter().collect();
            for name in [&c.row.email_normalized, &c.row.username_normalized]
                .into_iter()
                .flatten()
            {
                let key = (c.tenant.id.clone(), name.clone());
                if let Some(u) = found.by_name.get(&key).map(|i| &found.users[*i])
                    && !matched.iter().any(|m| m.id == u.id)
                {
                    matched.push(u);
                }
            }
            // A user an earlier row reached: this row repeats it.
            if let Some((user, line)) = matched.iter().find_map(|u| {
                let line = found.reached.get(&u.id).or(self.reached.get(&u.id))?;
                Some((*u, *line))
            }) {
                let reason = format!("{} is already on line {line}", shared_key(&c, user));
                refused.push(refuse(c, reason));
                continue;
            }
            let line = c.line as i64;
            for user in &matched {
                self.reached.insert(user.id.clone(), line);
            }
            match (matched.as_slice(), self.options.on_conflict) {
                ([], _) => {
                    self.reached.insert(c.row.id.clone(), line);
                    actions.push(Action::Create(c));
                }
                (_, OnConflict::Skip) => self.report.existing += 1,
                (_, OnConflict::Fail) => {
                    self.report.stopped = Some(format!(
                        "line {}: a user with this oid, email address or user name is already there",
                        c.line
                    ));
                    return (actions, Some(c.line));
                }
                ([user], OnConflict::Update) if !c.oid_given || user.id == c.row.id => {
                    actions.push(Action::Update(c, Box::new((*user).clone())));
                }
                ([user], OnConflict::Update) => {
                    let reason = format!(
                        "{} is the user {}, not the row's oid {}",
                        user.sign_in_name(),
                        user.id,
                        c.row.id
                    );
                    refused.push(refuse(c, reason));
                }
                (users, OnConflict::Update) => {
                    let ids: Vec<&str> = users.iter().map(|u| u.id.as_str()).collect();
                    let reason = format!("the row matches more than one user: {}", ids.join(", "));
                    refused.push(refuse(c, reason));
                }
            }
        }
        (actions, None)
    }

    /// Each action's new hash, `None` when it needs none: plain passwords hashed (and,
    /// for an existing user, first checked against the stored hash) on up to
    /// `threads` threads, results in the order of `actions`.
    fn passwords(&self, actions: &[Action]) -> Result<Vec<Option<String>>, HashError> {
        let jobs: Vec<(usize, &SecretString, Option<&str>)> = actions
            .iter()
            .enumerate()
            .filter_map(|(i, a)| match a {
                Action::Create(c) => c.password.as_ref().map(|p| (i, p, None)),
                Action::Update(c, user) => c
                    .password
                    .as_ref()
                    .map(|p| (i, p, Some(user.password_hash.as_deref()))),
            })
            .map(|(i, p, stored)| (i, p, stored.flatten()))
            .collect();
        let mut out = vec![None; actions.len()];
        if jobs.is_empty() {
            return Ok(out);
        }
        let hasher = self.hasher;
        let work = |(i, password, stored): &(usize, &SecretString, Option<&str>)| {
            if stored.is_some()
                && let PasswordCheck::Valid { .. } = hasher.verify_blocking(password, *stored)?
            {
                return Ok((*i, None));
            }
            Ok((*i, Some(hasher.hash_blocking(password)?)))
        };
        let next = AtomicUsize::new(0);
        let threads = self.options.threads.clamp(1, jobs.len());
        let results: Vec<Result<Hashed, HashError>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|_| {
                    s.spawn(|| {
                        let mut done = Vec::new();
                        loop {
                            let j = next.fetch_add(1, Ordering::Relaxed);
                            let Some(job) = jobs.get(j) else {
                                return Ok(done);
                            };
                            done.push(work(job)?);
                        }
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join().unwrap_or_else(|_| {
                        Err(HashError::Internal("a hashing thread panicked".into()))
                    })
                })
                .collect()
        });
        for done in results {
            for (i, hash) in done? {
                out[i] = hash;
            }
        }
        Ok(out)
    }

    /// What the row gives that its user does not have.
    fn diff(
        &mut self,
        conn: &mut DbConnection,
        c: &Candidate,
        user: &User,
        password_hash: Option<String>,
    ) -> DirectoryResult<Diff> {
        let g = &c.given;
        let differs = |given: &Option<String>, stored: Option<&str>| {
            given
                .as_deref()
                .filter(|v| Some(*v) != stored)
                .map(str::to_owned)
        };
        let mut diff = Diff {
            names: NameChanges {
                display_name: differs(&g.name, Some(&user.display_name)),
                given_name: differs(&g.given_name, user.given_name.as_deref()),
                family_name: differs(&g.family_name, user.family_name.as_deref()),
            },
            roles: g
                .roles
                .clone()
                .filter(|r| decode_list(&user.roles).ok().as_ref() != Some(r)),
            disabled: g.disabled.filter(|d| *d != user.is_disabled()),
            password_hash: password_hash.or_else(|| {
                differs(&g.password_hash, user.password_hash.as_deref())
                    .filter(|given| !upgraded(given, user.password_hash.as_deref()))
            }),
            ..Diff::default()
        };
        if let Some(wanted) = &g.groups {
            let current: HashSet<String> = users::group_ids(conn, &user.id)?.into_iter().collect();
            let mut kept = HashSet::new();
            for entry in wanted {
                match self.group_id(conn, &c.tenant, entry, false)? {
                    Some(id) if current.contains(&id) => {
                        kept.insert(id);
                    }
                    _ => diff.join.push(entry.clone()),
                }
            }
            diff.leave = current.difference(&kept).cloned().collect();
        }
        Ok(diff)
    }

    /// The group a row names (by object id or name) in the tenant; with `create`, a
    /// name no group has makes one.
    fn group_id(
        &mut self,
        conn: &mut DbConnection,
        tenant: &Tenant,
        entry: &str,
        create: bool,
    ) -> DirectoryResult<Option<String>> {
        let key = (tenant.id.clone(), entry.to_owned());
        if let Some(id) = self.groups.get(&key) {
            return Ok(Some(id.clone()));
        }
        let by_id = match uuid::Uuid::parse_str(entry) {
            Ok(id) => groups::find(conn, &tenant.id, &id.to_string())?,
            Err(_) => None,
        };
        let group = match by_id {
            Some(g) => Some(g),
            None => groups::find_by_name(conn, &tenant.id, entry)?,
        };
        let id = match group {
            Some(g) => g.id,
            None if create => ensure_group(conn, tenant, entry, None, self.now)?.id,
            None => return Ok(None),
        };
        self.groups.insert(key, id.clone());
        Ok(Some(id))
    }

    /// Writes the batch (inside its transaction).
    fn write(
        &mut self,
        conn: &mut DbConnection,
        creates: &[Candidate],
        updates: &[(Candidate, User, Diff)],
    ) -> DirectoryResult<()> {
        let now = self.now;
        // Ids given in the file may be those of deleted users.
        let given: Vec<&str> = creates
            .iter()
            .filter(|c| c.oid_given)
            .map(|c| c.row.id.as_str())
            .collect();
        status_changes::users_recreated(conn, &given, now)?;
        let rows: Vec<User> = creates.iter().map(|c| c.row.clone()).collect();
        users::insert_many(conn, &rows)?;
        for c in creates {
            for entry in c.given.groups.iter().flatten() {
                if let Some(gid) = self.group_id(conn, &c.tenant, entry, true)? {
                    groups::add_member(conn, &gid, &c.row.id)?;
                }
            }
        }
        for (c, user, diff) in updates {
            let n = &diff.names;
            if n.display_name.is_some() || n.given_name.is_some() || n.family_name.is_some() {
                users::update_names(conn, &user.id, n, now)?;
            }
            if let Some(roles) = &diff.roles {
                users::set_roles(conn, &user.id, roles, now)?;
            }
            if let Some(hash) = &diff.password_hash {
                // As `user set-password` does: a new password ends a demand for one.
                users::set_password_hash(conn, &user.id, hash, false, now)?;
            }
            if let Some(disabled) = diff.disabled {
                // Logged in the token status, as `user disable` does.
                users::set_disabled(conn, &user.id, disabled, now)?;
            }
            for entry in &diff.join {
                if let Some(gid) = self.group_id(conn, &c.tenant, entry, true)? {
                    groups::add_member(conn, &gid, &user.id)?;
                }
            }
            for gid in &diff.leave {
                groups::remove_member(conn, gid, &user.id)?;
            }
        }
        Ok(())
    }
}

/// Whether the stored hash is argon2id where the row's is another format: the user
/// signed in since and the hash was upgraded (sign-in re-hashes imported formats), so
/// the row's old hash is no change to undo it with.
fn upgraded(given: &str, stored: Option<&str>) -> bool {
    stored.is_some_and(|s| s.starts_with("$argon2id$")) && !given.starts_with("$argon2")
}

fn refuse(c: Candidate, reason: String) -> RefusedRow {
    RefusedRow {
        line: c.line,
        reason,
        text: c.text,
    }
}

/// The users a batch's rows name: by id (any tenant) and by sign-in name (in the
/// row's tenant).
struct Found {
    users: Vec<User>,
    by_id: HashMap<String, usize>,
    by_name: HashMap<(String, String), usize>,
    /// Those of them an earlier batch's rows reached, with the lines.
    reached: HashMap<String, i64>,
}

/// With `written`, also which of the users earlier batches reached.
fn existing(conn: &mut DbConnection, batch: &[Candidate], written: bool) -> Result<Found, DbError> {
    let mut per_tenant: HashMap<&str, (Vec<String>, Vec<String>)> = HashMap::new();
    for c in batch {
        let (ids, names) = per_tenant.entry(c.tenant.id.as_str()).or_default();
        if c.oid_given {
            ids.push(c.row.id.clone());
        }
        names.extend(
            [&c.row.email_normalized, &c.row.username_normalized]
                .into_iter()
                .flatten()
                .cloned(),
        );
    }
    let mut found = Found {
        users: Vec::new(),
        by_id: HashMap::new(),
        by_name: HashMap::new(),
        reached: HashMap::new(),
    };
    for (tenant_id, (ids, names)) in per_tenant {
        for user in users::matching(conn, tenant_id, &ids, &names)? {
            if found.by_id.contains_key(&user.id) {
                continue;
            }
            let i = found.users.len();
            found.by_id.insert(user.id.clone(), i);
            for name in [&user.email_normalized, &user.username_normalized]
                .into_iter()
                .flatten()
            {
                found
                    .by_name
                    .insert((user.tenant_id.clone(), name.clone()), i);
            }
            found.users.push(user);
        }
    }
    if written && !found.users.is_empty() {
        let ids: Vec<&str> = found.users.iter().map(|u| u.id.as_str()).collect();
        found.reached = import_keys::user_lines(conn, &ids)?.into_iter().collect();
    }
    Ok(found)
}

/// The row's key (email, user name or oid) that names this user.
fn shared_key(c: &Candidate, user: &User) -> String {
    if c.oid_given && c.row.id == user.id {
        return c.row.id.clone();
    }
    let names = [&user.email_normalized, &user.username_normalized];
    [&c.row.email_normalized, &c.row.username_normalized]
        .into_iter()
        .flatten()
        .find(|n| names.iter().any(|m| m.as_ref() == Some(*n)))
        .unwrap_or(&user.id)
        .clone()
}
