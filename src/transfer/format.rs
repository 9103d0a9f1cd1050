//! The export file: JSON Lines, a header line, one line per row with its `"kind"`,
//! and a trailer line with the count of each kind.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::db::transfer::*;
use crate::db::{DbConnection, DbResult};

pub const FORMAT: &str = "localidp-export";
/// The format version this build writes and reads (and reads no newer one).
pub const VERSION: u32 = 1;

/// The first line.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Header {
    pub format: String,
    pub version: u32,
    /// RFC 3339, UTC.
    #[serde(default)]
    pub exported_at: String,
    /// The source database's last migration.
    #[serde(default)]
    pub source_schema: Option<String>,
    /// The rows that follow (for progress).
    #[serde(default)]
    pub rows: Option<u64>,
}

/// Rows per kind: what the trailer says and what a database holds.
pub type Counts = BTreeMap<String, u64>;

/// The last line: `{"kind":"end","counts":{...}}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Trailer {
    pub counts: Counts,
}

/// What is done with a batch of one kind's rows.
pub trait BatchVisitor {
    type Out;
    fn rows<T: TransferRow>(&mut self, rows: Vec<T>) -> Self::Out;
}

/// Lists every kind once, in the order a file holds them (parents before the rows
/// that name them), as `Variant(Row) = "kind"`.
macro_rules! kinds {
    ($($variant:ident($row:ident)),+ $(,)?) => {
        /// One line after the header.
        #[derive(Debug, Clone, Deserialize)]
        #[serde(tag = "kind", rename_all = "snake_case")]
        pub enum Record {
            $($variant($row),)+
            End(Trailer),
        }

        /// The kinds, in file order.
        pub const KINDS: &[&str] = &[$(<$row as TransferRow>::KIND),+];

        impl Record {
            pub fn kind(&self) -> &'static str {
                match self {
                    $(Record::$variant(_) => <$row as TransferRow>::KIND,)+
                    Record::End(_) => "end",
                }
            }

            /// The row's key, for messages.
            pub fn key(&self) -> String {
                match self {
                    $(Record::$variant(r) => r.key(),)+
                    Record::End(_) => String::new(),
                }
            }
        }

        /// Rows of one kind, read and written together.
        pub enum Batch {
            $($variant(Vec<$row>),)+
        }

        impl Batch {
            /// A batch that starts with this record (`None` for the trailer).
            pub fn start(record: Record) -> Option<Batch> {
                match record {
                    $(Record::$variant(r) => Some(Batch::$variant(vec![r])),)+
                    Record::End(_) => None,
                }
            }

            /// Adds a record of the same kind; gives it back if it is of another (by
            /// value: it starts the next batch at once, no copy is made).
            #[allow(clippy::result_large_err)]
            pub fn push(&mut self, record: Record) -> Result<(), Record> {
                match (self, record) {
                    $((Batch::$variant(rows), Record::$variant(r)) => {
                        rows.push(r);
                        Ok(())
                    })+
                    (_, other) => Err(other),
                }
            }

            pub fn len(&self) -> usize {
                match self {
                    $(Batch::$variant(rows) => rows.len(),)+
                }
            }

            pub fn is_empty(&self) -> bool {
                self.len() == 0
            }

            /// Hands the rows, typed, to `visitor`.
            pub fn visit<V: BatchVisitor>(self, visitor: &mut V) -> V::Out {
                match self {
                    $(Batch::$variant(rows) => visitor.rows(rows),)+
                }
            }
        }

        /// The rows of each kind the database holds.
        pub fn count_all(conn: &mut DbConnection) -> DbResult<Counts> {
            let mut counts = Counts::new();
            $(counts.insert(<$row as TransferRow>::KIND.to_owned(), <$row as TransferRow>::count(conn)? as u64);)+
            Ok(counts)
        }
    };
}

kinds!(
    Tenant(TenantRow),
    UserFlow(UserFlowRow),
    User(UserRow),
    Group(GroupRow),
    Membership(MembershipRow),
    Client(ClientRow),
    ClientSecret(ClientSecretRow),
    AppRoleAssignment(AppRoleAssignmentRow),
    DirectoryRoleMember(DirectoryRoleRow),
    FederationLink(FederationLinkRow),
    GraphPermission(GraphPermissionRow),
    ApiKey(ApiKeyRow),
    SigningKey(SigningKeyRow),
    RefreshToken(RefreshTokenRow),
    RevokedAccessToken(RevokedAccessTokenRow),
);

/// A row as its line: `{"kind":"user",` then the row's own fields.
pub fn line_of<T: TransferRow>(row: &T) -> String {
    let fields = serde_json::to_string(row).expect("a row always serialises");
    format!("{{\"kind\":\"{}\",{}", T::KIND, &fields[1..])
}
