//! Reading an import file one row at a time: JSON Lines (one object a line) or CSV
//! (RFC 4180, a header row naming the same fields), each row with its line number and
//! its text as given (for `--errors`).

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use crate::directory::{DirectoryError, DirectoryResult};

/// The file formats `user import` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    JsonLines,
    Csv,
}

impl Format {
    /// From the file's extension: `.csv`, or `.jsonl`, `.ndjson`, `.json`.
    pub fn of_path(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "csv" => Some(Format::Csv),
            "jsonl" | "ndjson" | "json" => Some(Format::JsonLines),
            _ => None,
        }
    }
}

/// One row of an import file as given: a field that is absent (or, in CSV, empty)
/// is `None`, which `--on-conflict update` leaves as it is.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportedUser {
    pub email: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub password_hash: Option<String>,
    /// A Keycloak realm export's credential object, instead of `password_hash`.
    pub keycloak_credential: Option<serde_json::Value>,
    pub name: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub oid: Option<String>,
    /// The tenant's name or GUID; absent: the tenant of `--tenant` (or the default).
    pub tenant: Option<String>,
    pub roles: Option<Vec<String>>,
    /// Group names or object ids; a name no group has makes a new group.
    pub groups: Option<Vec<String>>,
    pub disabled: Option<bool>,
}

/// The fields of a row, as CSV columns.
pub const FIELDS: [&str; 13] = [
    "email",
    "username",
    "password",
    "password_hash",
    "keycloak_credential",
    "name",
    "given_name",
    "family_name",
    "oid",
    "tenant",
    "roles",
    "groups",
    "disabled",
];

/// A row read from the file: where it starts, its text, and its fields or why they
/// cannot be read.
pub struct SourceRow {
    pub line: usize,
    pub text: String,
    pub user: Result<ImportedUser, String>,
}

/// A reader that counts the bytes it has handed on (the progress display's basis).
struct Counted {
    file: File,
    read: u64,
}

impl Read for Counted {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.file.read(buf)?;
        self.read += n as u64;
        Ok(n)
    }
}

enum Source {
    JsonLines {
        reader: BufReader<Counted>,
        line: usize,
        buf: Vec<u8>,
    },
    Csv {
        reader: Box<csv::Reader<Counted>>,
        columns: Vec<&'static str>,
        record: csv::ByteRecord,
    },
}

/// The rows of an import file, in order.
pub struct RowReader {
    source: Source,
    total: u64,
    header: Option<String>,
}

impl RowReader {
    /// Opens the file; a CSV header naming a column that is not a field is refused
    /// here, before any row is read.
    pub fn open(path: &Path, format: Format) -> DirectoryResult<RowReader> {
        let cannot = |e: std::io::Error| {
            DirectoryError::Invalid(format!("cannot open {}: {e}", path.display()))
        };
        let file = File::open(path).map_err(cannot)?;
        let total = file.metadata().map_err(cannot)?.len();
        let counted = Counted { file, read: 0 };
        let (source, header) = match format {
            Format::JsonLines => (
                Source::JsonLines {
                    reader: BufReader::with_capacity(256 * 1024, counted),
                    line: 0,
                    buf: Vec::new(),
                },
                None,
            ),
            Format::Csv => {
                // Flexible: a row with the wrong number of fields is read (and refused
                // here, as it was), not an error without its text.
                let mut reader = csv::ReaderBuilder::new()
                    .buffer_capacity(256 * 1024)
                    .flexible(true)
                    .from_reader(counted);
                let headers = reader.headers().map_err(|e| csv_error(path, e))?.clone();
                let columns = columns(&headers)?;
                let header = record_text(headers.iter());
                (
                    Source::Csv {
                        reader: Box::new(reader),
                        columns,
                        record: csv::ByteRecord::new(),
                    },
                    Some(header),
                )
            }
        };
        Ok(RowReader {
            source,
            total,
            header,
        })
    }

    /// The CSV header row (to head the `--errors` file); `None` for JSON Lines.
    pub fn header(&self) -> Option<&str> {
        self.header.as_deref()
    }

    /// Bytes read so far and the file's size.
    pub fn position(&self) -> (u64, u64) {
        let read = match &self.source {
            Source::JsonLines { reader, .. } => reader.get_ref().read,
            Source::Csv { reader, .. } => reader.get_ref().read,
        };
        (read.min(self.total), self.total)
    }

    /// The next row that is not blank; `None` at the end. An error only when the file
    /// cannot be read on.
    pub fn next_row(&mut self) -> DirectoryResult<Option<SourceRow>> {
        let read_error = |line: usize, e: &dyn std::fmt::Display| {
            DirectoryError::Invalid(format!("line {line}: cannot read on: {e}"))
        };
        match &mut self.source {
            Source::JsonLines { reader, line, buf } => loop {
                buf.clear();
                *line += 1;
                let n = reader
                    .read_until(b'\n', buf)
                    .map_err(|e| read_error(*line, &e))?;
                if n == 0 {
                    return Ok(None);
                }
                let text = String::from_utf8_lossy(buf)
                    .trim_end_matches(['\n', '\r'])
                    .to_owned();
                if text.trim().is_empty() {
                    continue;
                }
                let user = match std::str::from_utf8(buf) {
                    Ok(_) => serde_json::from_str(&text).map_err(|e| e.to_string()),
                    Err(_) => Err("the line is not UTF-8".to_owned()),
                };
                return Ok(Some(SourceRow {
                    line: *line,
                    text,
                    user,
                }));
            },
            Source::Csv {
                reader,
                columns,
                record,
            } => loop {
                let line = reader.position().line() as usize;
                match reader.read_byte_record(record) {
                    Ok(false) => return Ok(None),
                    Ok(true) => {
                        let line = record.position().map_or(line, |p| p.line() as usize);
                        if record.iter().all(|v| v.trim_ascii().is_empty()) {
                            continue;
                        }
                        return Ok(Some(csv_row(line, columns, record)));
                    }
                    Err(e) => {
                        let line = e.position().map_or(line, |p| p.line() as usize);
                        return Err(read_error(line, &e));
                    }
                }
            },
        }
    }
}

/// A CSV record as a row: its text as read (for `--errors`), and its fields unless it
/// has the wrong number of them or is not UTF-8.
fn csv_row(line: usize, columns: &[&'static str], record: &csv::ByteRecord) -> SourceRow {
    let text = record_text(record.iter().map(String::from_utf8_lossy));
    let user = if record.len() != columns.len() {
        Err(format!(
            "{} fields where the header has {}",
            record.len(),
            columns.len()
        ))
    } else {
        match csv::StringRecord::from_byte_record(record.clone()) {
            Ok(fields) => csv_user(columns, &fields),
            Err(_) => Err("the row is not UTF-8".to_owned()),
        }
    };
    SourceRow { line, text, user }
}

fn csv_error(path: &Path, e: csv::Error) -> DirectoryError {
    DirectoryError::Invalid(format!("{}: {}", path.display(), csv_reason(&e)))
}

fn csv_reason(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Utf8 { .. } => "the header row is not UTF-8".to_owned(),
        _ => e.to_string(),
    }
}

/// The header's columns as fields; an unknown or repeated column is refused by name.
fn columns(headers: &csv::StringRecord) -> DirectoryResult<Vec<&'static str>> {
    let mut columns = Vec::new();
    for h in headers.iter() {
        let name = h.trim().trim_start_matches('\u{feff}');
        let Some(field) = FIELDS.iter().find(|f| f.eq_ignore_ascii_case(name)) else {
            return Err(DirectoryError::Invalid(format!(
                "unknown column `{name}` in the CSV header (the columns: {})",
                FIELDS.join(", ")
            )));
        };
        if columns.contains(field) {
            return Err(DirectoryError::Invalid(format!(
                "the column `{field}` is in the CSV header twice"
            )));
        }
        columns.push(*field);
    }
    Ok(columns)
}

/// A CSV row as a row's fields: lists `;`-separated, booleans
/// `true`/`false`/`1`/`0`/`yes`/`no`/`t`/`f`, an empty cell absent.
fn csv_user(columns: &[&'static str], record: &csv::StringRecord) -> Result<ImportedUser, String> {
    let mut u = ImportedUser::default();
    for (field, value) in columns.iter().zip(record.iter()) {
        let value = value.trim();
        if value.is_empty() {
            continue;
        }
        let text = Some(value.to_owned());
        match *field {
            "email" => u.email = text,
            "username" => u.username = text,
            "password" => u.password = text,
            "password_hash" => u.password_hash = text,
            "keycloak_credential" => {
                u.keycloak_credential = Some(
                    serde_json::from_str(value).map_err(|e| format!("keycloak_credential: {e}"))?,
                );
            }
            "name" => u.name = text,
            "given_name" => u.given_name = text,
            "family_name" => u.family_name = text,
            "oid" => u.oid = text,
            "tenant" => u.tenant = text,
            "roles" => u.roles = Some(list(value)),
            "groups" => u.groups = Some(list(value)),
            "disabled" => u.disabled = Some(boolean(field, value)?),
            _ => return Err(format!("unknown column `{field}`")),
        }
    }
    Ok(u)
}

fn list(value: &str) -> Vec<String> {
    value
        .split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

fn boolean(field: &str, value: &str) -> Result<bool, String> {
    match value.to_ascii_lowercase().as_str() {
        // `t`/`f`: PostgreSQL's text form, as `psql \copy … csv` writes booleans.
        "true" | "1" | "yes" | "t" => Ok(true),
        "false" | "0" | "no" | "f" => Ok(false),
        _ => Err(format!(
            "{field}: `{value}` is not true, false, 1, 0, yes, no, t or f"
        )),
    }
}

/// Fields written back as one CSV row (quoted as RFC 4180 asks).
fn record_text<S: AsRef<str>>(fields: impl Iterator<Item = S>) -> String {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .flexible(true)
        .from_writer(Vec::new());
    let fields: Vec<String> = fields.map(|f| f.as_ref().to_owned()).collect();
    if w.write_record(&fields).is_err() {
        return fields.join(",");
    }
    let bytes = w.into_inner().unwrap_or_default();
    String::from_utf8_lossy(&bytes).trim_end().to_owned()
}
