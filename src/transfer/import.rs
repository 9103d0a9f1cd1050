//! `import`: an export file into a database, a batch of rows of one kind per
//! transaction. A row whose key is stored with the same columns is left as it is
//! (importing a file twice changes nothing); one whose key is stored with other
//! columns, or that another stored row blocks (a taken name, a missing parent), is
//! refused and counted. Blocking: call from a blocking thread.

use std::collections::HashMap;
use std::io::BufRead;

use diesel::Connection;
use diesel::result::Error as DieselError;

use super::error::TransferError;
use super::format::{self, Batch, BatchVisitor, Counts, FORMAT, Header, Record, VERSION};
use crate::db::transfer::TransferRow;
use crate::db::{self, DbConnection};

/// Told while an import runs.
pub trait ImportObserver {
    /// A row was refused (after its batch committed).
    fn refused(&mut self, refused: &Refused);
    /// `rows` rows of the file are done; `total` from the header when it says.
    fn progress(&mut self, rows: u64, total: Option<u64>, kind: &str);
}

/// A row not written, and why.
#[derive(Debug, Clone)]
pub struct Refused {
    pub line: usize,
    pub kind: &'static str,
    pub key: String,
    pub reason: String,
}

/// What an import did, per kind.
#[derive(Debug, Default, Clone)]
pub struct ImportReport {
    pub header: Option<Header>,
    /// The trailer's counts.
    pub expected: Counts,
    pub inserted: Counts,
    pub unchanged: Counts,
    pub refused: Counts,
    /// The rows of each kind in the database at the end.
    pub found: Counts,
    /// Kinds whose count in the database is not the file's: (kind, file, database).
    pub mismatches: Vec<(String, u64, u64)>,
}

impl ImportReport {
    pub fn total(counts: &Counts) -> u64 {
        counts.values().sum()
    }
}

/// Reads `input` (an export) into the database, `batch_rows` rows per transaction,
/// then counts each kind in the database and compares with the trailer.
pub fn import(
    conn: &mut DbConnection,
    input: &mut dyn BufRead,
    batch_rows: usize,
    observer: &mut dyn ImportObserver,
) -> Result<ImportReport, TransferError> {
    db::transfer::prepare_import(conn)?;
    let mut report = ImportReport::default();
    let mut text = String::new();
    let mut line = 0usize;
    let header = read_header(input, &mut text, &mut line)?;
    let total = header.rows;
    report.header = Some(header);
    let mut read = Counts::new();
    let mut pending: Option<(Batch, Vec<usize>)> = None;
    let mut done = 0u64;
    let mut trailer = None;
    loop {
        text.clear();
        if input.read_line(&mut text)? == 0 {
            break;
        }
        line += 1;
        if text.trim().is_empty() {
            continue;
        }
        if trailer.is_some() {
            return Err(invalid(line, "a line after the trailer"));
        }
        let record: Record = serde_json::from_str(&text).map_err(|e| {
            invalid(
                line,
                &format!("not a row of a localidp export ({e}); the file may be cut short"),
            )
        })?;
        if let Record::End(t) = record {
            trailer = Some(t);
            continue;
        }
        *read.entry(record.kind().to_owned()).or_default() += 1;
        let record = match pending.as_mut() {
            Some((batch, lines)) if batch.len() < batch_rows.max(1) => match batch.push(record) {
                Ok(()) => {
                    lines.push(line);
                    continue;
                }
                Err(other) => other,
            },
            _ => record,
        };
        if let Some((batch, lines)) = pending.take() {
            done += batch.len() as u64;
            write_batch(conn, batch, &lines, &mut report, observer)?;
            observer.progress(done, total, record.kind());
        }
        pending = Batch::start(record).map(|b| (b, vec![line]));
    }
    let Some(trailer) = trailer else {
        let unwritten = pending.as_ref().map_or(0, |(b, _)| b.len());
        return Err(invalid(
            line + 1,
            &format!(
                "the file ends without its trailer line (it is cut short); the {unwritten} row(s) read since the last written batch were not written"
            ),
        ));
    };
    if let Some((batch, lines)) = pending.take() {
        done += batch.len() as u64;
        write_batch(conn, batch, &lines, &mut report, observer)?;
        observer.progress(done, total, "end");
    }
    for kind in format::KINDS {
        let said = trailer.counts.get(*kind).copied().unwrap_or(0);
        let held = read.get(*kind).copied().unwrap_or(0);
        if said != held {
            return Err(TransferError::Invalid(format!(
                "the trailer counts {said} {kind} row(s), the file holds {held}: the file was altered"
            )));
        }
    }
    report.expected = trailer.counts;
    report.found = format::count_all(conn)?;
    for kind in format::KINDS {
        let expected = report.expected.get(*kind).copied().unwrap_or(0);
        let found = report.found.get(*kind).copied().unwrap_or(0);
        if expected != found {
            report
                .mismatches
                .push(((*kind).to_owned(), expected, found));
        }
    }
    Ok(report)
}

fn invalid(line: usize, what: &str) -> TransferError {
    TransferError::Invalid(format!("line {line}: {what}"))
}

fn read_header(
    input: &mut dyn BufRead,
    text: &mut String,
    line: &mut usize,
) -> Result<Header, TransferError> {
    if input.read_line(text)? == 0 {
        return Err(invalid(1, "the file is empty (no header line)"));
    }
    *line = 1;
    let header: Header = serde_json::from_str(text).map_err(|_| {
        invalid(
            1,
            "not the header of a localidp export ({\"format\":\"localidp-export\",\"version\":1,...})",
        )
    })?;
    if header.format != FORMAT {
        return Err(invalid(
            1,
            &format!("the format is {:?}, not {FORMAT:?}", header.format),
        ));
    }
    if header.version > VERSION {
        return Err(TransferError::Invalid(format!(
            "the file is version {} of the export format; this localidp reads version {VERSION} and older: import it with a newer localidp",
            header.version
        )));
    }
    Ok(header)
}

/// Writes one batch in one transaction; its refused rows are told after it commits.
fn write_batch(
    conn: &mut DbConnection,
    batch: Batch,
    lines: &[usize],
    report: &mut ImportReport,
    observer: &mut dyn ImportObserver,
) -> Result<(), TransferError> {
    let mut writer = BatchWriter {
        conn,
        lines,
        refused: Vec::new(),
        inserted: 0,
        unchanged: 0,
        kind: "",
    };
    batch.visit(&mut writer)?;
    let (kind, inserted, unchanged) = (writer.kind, writer.inserted, writer.unchanged);
    *report.inserted.entry(kind.to_owned()).or_default() += inserted;
    *report.unchanged.entry(kind.to_owned()).or_default() += unchanged;
    for r in &writer.refused {
        *report.refused.entry(kind.to_owned()).or_default() += 1;
        observer.refused(r);
    }
    Ok(())
}

struct BatchWriter<'a> {
    conn: &'a mut DbConnection,
    lines: &'a [usize],
    refused: Vec<Refused>,
    inserted: u64,
    unchanged: u64,
    kind: &'static str,
}

impl BatchVisitor for BatchWriter<'_> {
    type Out = Result<(), TransferError>;

    fn rows<T: TransferRow>(&mut self, rows: Vec<T>) -> Self::Out {
        self.kind = T::KIND;
        let lines = self.lines;
        let (refused, inserted, unchanged) =
            db::write_tx(self.conn, |conn| write_rows(conn, rows, lines))?;
        self.refused = refused;
        self.inserted = inserted;
        self.unchanged = unchanged;
        Ok(())
    }
}

type Written = (Vec<Refused>, u64, u64);

/// Inside the batch's transaction: leaves equal rows, refuses differing ones, inserts
/// the rest together, or one by one (each in a savepoint) to find the one the
/// database refuses.
fn write_rows<T: TransferRow>(
    conn: &mut DbConnection,
    rows: Vec<T>,
    lines: &[usize],
) -> Result<Written, TransferError> {
    let stored: HashMap<String, T> = T::existing(conn, &rows)?
        .into_iter()
        .map(|r| (r.key(), r))
        .collect();
    let mut refused = Vec::new();
    let mut unchanged = 0;
    let mut new = Vec::new();
    let mut new_lines = Vec::new();
    for (mut row, &line) in rows.into_iter().zip(lines) {
        row.clear_transient();
        let there = stored.get(&row.key()).map(|r| {
            let mut r = r.clone();
            r.clear_transient();
            r
        });
        match there.as_ref() {
            Some(there) if *there == row => unchanged += 1,
            Some(there) => refused.push(Refused {
                line,
                kind: T::KIND,
                key: row.key(),
                reason: format!(
                    "a different row with this key is there ({} differ)",
                    differing_fields(there, &row).join(", ")
                ),
            }),
            None => {
                new.push(row);
                new_lines.push(line);
            }
        }
    }
    let together = conn.transaction::<_, DieselError, _>(|c| T::insert_many(c, &new));
    let inserted = match together {
        Ok(n) => n as u64,
        Err(DieselError::DatabaseError(..)) => {
            let mut n = 0;
            for (row, line) in new.iter().zip(new_lines) {
                match conn.transaction::<_, DieselError, _>(|c| {
                    T::insert_many(c, std::slice::from_ref(row))
                }) {
                    Ok(_) => n += 1,
                    Err(DieselError::DatabaseError(kind, info)) => refused.push(Refused {
                        line,
                        kind: T::KIND,
                        key: row.key(),
                        reason: format!("the database refuses it ({kind:?}: {})", info.message()),
                    }),
                    Err(other) => return Err(other.into()),
                }
            }
            n
        }
        Err(other) => return Err(other.into()),
    };
    Ok((refused, inserted, unchanged))
}

/// The names of the columns two rows differ in (never their values: some are hashes).
fn differing_fields<T: TransferRow>(a: &T, b: &T) -> Vec<String> {
    let (serde_json::Value::Object(a), serde_json::Value::Object(b)) = (
        serde_json::to_value(a).unwrap_or_default(),
        serde_json::to_value(b).unwrap_or_default(),
    ) else {
        return Vec::new();
    };
    a.iter()
        .filter(|(k, v)| b.get(*k) != Some(*v))
        .map(|(k, _)| k.clone())
        .collect()
}
