//! `export`: every row that carries the directory, read from one snapshot of the
//! source (a read-only transaction: the source is never written), written as JSON
//! Lines a page at a time. Blocking: call from a blocking thread.

use std::io::Write;
use std::path::Path;

use diesel::Connection;

use super::error::TransferError;
use super::format::{self, Counts, FORMAT, Header, Trailer, VERSION, line_of};
use crate::crypto::kek;
use crate::db::transfer::{self as rows, SigningKeyRow, TransferRow};
use crate::db::{self, DbConnection};

/// Rows read per query.
const PAGE: i64 = 1000;

/// What an export wrote.
#[derive(Debug, Default, Clone)]
pub struct ExportReport {
    pub counts: Counts,
    /// Said to the operator: keys copied unencrypted, key files that are missing.
    pub warnings: Vec<String>,
}

/// Writes the database's directory to `out`. `keys_dir` is where the source keeps
/// private keys that are not in its database (their text is carried in the row).
pub fn export(
    conn: &mut DbConnection,
    keys_dir: &Path,
    now: i64,
    out: &mut dyn Write,
) -> Result<ExportReport, TransferError> {
    // One transaction, only read in (made read-only first): one snapshot of the source.
    conn.transaction::<_, TransferError, _>(|conn| {
        db::transfer::read_only_snapshot(conn)?;
        let schema = db::transfer::schema_state(conn)?;
        if !schema.current {
            return Err(TransferError::Invalid(format!(
                "the source database's schema is at {}, this localidp's at {}: export with the localidp that last served it, or start this version's server on it once (which migrates it)",
                schema.last_applied.as_deref().unwrap_or("no migration"),
                schema.last_known
            )));
        }
        let total: u64 = format::count_all(conn)?.values().sum();
        let header = Header {
            format: FORMAT.to_owned(),
            version: VERSION,
            exported_at: chrono::DateTime::from_timestamp(now, 0)
                .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
                .unwrap_or_default(),
            source_schema: schema.last_applied,
            rows: Some(total),
        };
        writeln!(out, "{}", serde_json::to_string(&header).expect("header serialises"))?;
        let mut report = ExportReport::default();
        let mut run = Run {
            conn,
            out: &mut *out,
            report: &mut report,
        };
        run.kind::<rows::TenantRow>(|_, _| ())?;
        run.kind::<rows::UserFlowRow>(|_, _| ())?;
        run.kind::<rows::UserRow>(|_, _| ())?;
        run.kind::<rows::GroupRow>(|_, _| ())?;
        run.kind::<rows::MembershipRow>(|_, _| ())?;
        run.kind::<rows::ClientRow>(|_, _| ())?;
        run.kind::<rows::ClientSecretRow>(|_, _| ())?;
        run.kind::<rows::AppRoleAssignmentRow>(|_, _| ())?;
        run.kind::<rows::DirectoryRoleRow>(|_, _| ())?;
        run.kind::<rows::FederationLinkRow>(|_, _| ())?;
        run.kind::<rows::GraphPermissionRow>(|_, _| ())?;
        run.kind::<rows::ApiKeyRow>(|_, _| ())?;
        run.kind::<rows::SigningKeyRow>(|key, warnings| carry_key(key, keys_dir, warnings))?;
        run.kind::<rows::RefreshTokenRow>(|_, _| ())?;
        run.kind::<rows::RevokedAccessTokenRow>(|_, _| ())?;
        let trailer = Trailer {
            counts: report.counts.clone(),
        };
        writeln!(
            out,
            "{{\"kind\":\"end\",{}",
            &serde_json::to_string(&trailer).expect("trailer serialises")[1..]
        )?;
        out.flush()?;
        Ok(report)
    })
}

struct Run<'a> {
    conn: &'a mut DbConnection,
    out: &'a mut dyn Write,
    report: &'a mut ExportReport,
}

impl Run<'_> {
    /// Writes every row of `T`, in key order, after `fix` (which may warn).
    fn kind<T: TransferRow>(
        &mut self,
        mut fix: impl FnMut(&mut T, &mut Vec<String>),
    ) -> Result<(), TransferError> {
        let mut last: Option<T> = None;
        let mut n = 0u64;
        loop {
            let page = T::page(self.conn, last.as_ref(), PAGE)?;
            let Some(tail) = page.last().cloned() else {
                break;
            };
            for mut row in page {
                row.clear_transient();
                fix(&mut row, &mut self.report.warnings);
                writeln!(self.out, "{}", line_of(&row))?;
                n += 1;
            }
            last = Some(tail);
        }
        self.report.counts.insert(T::KIND.to_owned(), n);
        Ok(())
    }
}

/// A key kept in `keys/{kid}.pem` travels in its row, as the file holds it (sealed
/// under the key-encryption key, or a PEM when there was none: said in a warning).
fn carry_key(key: &mut SigningKeyRow, keys_dir: &Path, warnings: &mut Vec<String>) {
    if key.private_key_pem.is_none() {
        let path = keys_dir.join(format!("{}.pem", key.kid));
        match std::fs::read_to_string(&path) {
            Ok(text) => key.private_key_pem = Some(text),
            Err(e) => {
                warnings.push(format!(
                    "signing key {}: {} cannot be read ({e}); its row is copied without the private key (give --keys-dir, or copy the file to the target's keys directory)",
                    key.kid,
                    path.display()
                ));
                return;
            }
        }
    }
    if let Some(text) = &key.private_key_pem
        && !kek::is_sealed(text)
    {
        warnings.push(format!(
            "signing key {} is not encrypted (no key-encryption key was set when it was stored): it is copied as a plain PEM; keep the file private, and set a key-encryption key on the target (LOCALIDP_KEY_ENCRYPTION_KEY) to seal it",
            key.kid
        ));
    }
}
