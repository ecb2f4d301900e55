//! The catalog snapshot: every relation of the user's schemas with its columns, indexes,
//! constraints, triggers and the foreign keys pointing at it, read in one `READ ONLY`
//! (repeatable-read) transaction.
//!
//! A fixed handful of queries whatever the size of the database — relations, columns, column
//! statistics, indexes, constraints, triggers (and partitions when there are partitioned tables)
//! — each returning flat rows that are grouped by table oid here. No per-table query: 2,000
//! tables load in a few tens of milliseconds (see `benches/live_snapshot.rs`).
//!
//! Sizes come from `pg_total_relation_size` / `pg_relation_size`, which wait for a lock on each
//! relation; when a migration holds an ACCESS EXCLUSIVE lock and the short `lock_timeout` fires,
//! the snapshot is taken again with sizes estimated from `relpages` (lock-free).

use std::collections::{BTreeMap, HashMap};
use std::time::{Instant, SystemTime};

use tokio_postgres::types::FromSql;
use tokio_postgres::Row;

use super::connect::{LiveClient, LiveError, ReadTxn};
use super::{
    ForeignKeyRef, LiveColumn, LiveConstraint, LiveConstraintKind, LiveIndex, LiveSnapshot, LiveTable, RelationKind,
};

/// Relations of the user's schemas: not the system catalogs, TOAST or temporary schemas.
const USER_RELATIONS: &str = "c.relkind IN ('r', 'p', 'v', 'm', 'f') \
     AND n.nspname <> ALL (ARRAY['pg_catalog', 'information_schema']) \
     AND n.nspname !~ '^pg_(toast|temp_)'";

/// Reads the catalog of the database `client` is connected to.
pub async fn load_snapshot(client: &LiveClient) -> Result<LiveSnapshot, LiveError> {
    let started = Instant::now();
    let snapshot = match load_once(client, Sizes::Exact).await {
        // A lock held by someone else (a migration running now): sizes without locks.
        Err(LiveError::Timeout { .. }) => load_once(client, Sizes::Estimated).await,
        other => other,
    };
    snapshot.map(|mut s| {
        s.took = started.elapsed();
        s.taken_at = Some(SystemTime::now());
        s
    })
}

/// `pg_stats`' `inherited`, `null_frac` and `n_distinct` of a column.
type ColumnStats = (bool, Option<f32>, Option<f32>);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sizes {
    /// `pg_total_relation_size` (takes an ACCESS SHARE lock on each relation, briefly).
    Exact,
    /// `relpages × block_size` (as of the last VACUUM/ANALYZE; no lock).
    Estimated,
}

async fn load_once(client: &LiveClient, sizes: Sizes) -> Result<LiveSnapshot, LiveError> {
    let txn = client.read().await?;
    let result = load_in(&txn, sizes).await;
    let finished = txn.finish().await;
    let snapshot = result?;
    finished?;
    Ok(snapshot)
}

fn get<'a, T: FromSql<'a>>(row: &'a Row, index: usize) -> Result<T, LiveError> {
    row.try_get(index).map_err(|e| LiveError::QueryFailed {
        code: String::new(),
        message: format!("unexpected catalog value in column {index}: {e}"),
    })
}

/// `name` in `public`, else `schema.name`, as [`crate::sql::facts::QualifiedName::key`].
pub fn table_key(schema: &str, name: &str) -> String {
    if schema == "public" {
        name.to_string()
    } else {
        format!("{schema}.{name}")
    }
}

async fn load_in(txn: &ReadTxn, sizes: Sizes) -> Result<LiveSnapshot, LiveError> {
    let row = txn
        .query_one(
            "SELECT current_setting('server_version'), current_setting('server_version_num')::int4, \
             current_database()::text, current_setting('block_size')::int8",
            &[],
        )
        .await?;
    let version: String = get(&row, 0)?;
    let version_num: i32 = get(&row, 1)?;
    let database: String = get(&row, 2)?;
    let mut snapshot = LiveSnapshot {
        server_version: version.split_whitespace().next().unwrap_or_default().to_string(),
        server_version_num: u32::try_from(version_num).unwrap_or(0),
        database,
        ..LiveSnapshot::default()
    };
    let v = snapshot.server_version_num;

    // Relations.
    let size = match sizes {
        Sizes::Exact => "CASE WHEN c.relkind IN ('r', 'm') THEN pg_total_relation_size(c.oid) ELSE 0 END",
        Sizes::Estimated => "c.relpages::int8 * current_setting('block_size')::int8",
    };
    let sql = format!(
        "SELECT c.oid, n.nspname::text, c.relname::text, c.relkind::text, c.reltuples::float8, ({size})::int8 \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE {USER_RELATIONS}"
    );
    let mut tables: HashMap<u32, LiveTable> = HashMap::new();
    let mut partitioned = false;
    for row in txn.query(&sql, &[]).await? {
        let oid: u32 = get(&row, 0)?;
        let schema: String = get(&row, 1)?;
        let name: String = get(&row, 2)?;
        let relkind: String = get(&row, 3)?;
        let reltuples: f64 = get(&row, 4)?;
        let bytes: i64 = get(&row, 5)?;
        let kind = match relkind.as_str() {
            "r" => RelationKind::Table,
            "p" => RelationKind::PartitionedTable,
            "v" => RelationKind::View,
            "m" => RelationKind::MaterializedView,
            _ => RelationKind::ForeignTable,
        };
        partitioned |= kind == RelationKind::PartitionedTable;
        let has_rows = matches!(kind, RelationKind::Table | RelationKind::MaterializedView);
        tables.insert(
            oid,
            LiveTable {
                key: table_key(&schema, &name),
                schema,
                name,
                kind,
                row_estimate: (has_rows && reltuples >= 0.0).then_some(reltuples),
                total_bytes: u64::try_from(bytes).unwrap_or(0),
                columns: Vec::new(),
                indexes: Vec::new(),
                constraints: Vec::new(),
                triggers: Vec::new(),
                referenced_by: Vec::new(),
            },
        );
    }

    // Columns, in order.
    let identity = if v >= 100_000 { "a.attidentity::text" } else { "''::text" };
    let sql = format!(
        "SELECT a.attrelid, a.attname::text, format_type(a.atttypid, a.atttypmod), a.attnotnull, \
                pg_get_expr(d.adbin, d.adrelid), {identity} \
         FROM pg_attribute a \
         JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
         LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
         WHERE {USER_RELATIONS} AND a.attnum > 0 AND NOT a.attisdropped \
         ORDER BY a.attrelid, a.attnum"
    );
    for row in txn.query(&sql, &[]).await? {
        let oid: u32 = get(&row, 0)?;
        let Some(table) = tables.get_mut(&oid) else { continue };
        let identity: String = get(&row, 5)?;
        table.columns.push(LiveColumn {
            name: get(&row, 1)?,
            type_sql: get(&row, 2)?,
            not_null: get(&row, 3)?,
            default: get(&row, 4)?,
            identity: identity.chars().next(),
            null_frac: None,
            n_distinct: None,
        });
    }

    // Column statistics (after ANALYZE). A partitioned table has only inherited ones.
    let sql = "SELECT s.schemaname::text, s.tablename::text, s.attname::text, s.inherited, s.null_frac, s.n_distinct \
               FROM pg_stats s \
               WHERE s.schemaname <> ALL (ARRAY['pg_catalog', 'information_schema']) \
                 AND s.schemaname !~ '^pg_(toast|temp_)'";
    let mut stats: HashMap<(String, String, String), ColumnStats> = HashMap::new();
    for row in txn.query(sql, &[]).await? {
        let key = (get(&row, 0)?, get(&row, 1)?, get(&row, 2)?);
        let inherited: bool = get(&row, 3)?;
        let entry = (inherited, get(&row, 4)?, get(&row, 5)?);
        match stats.get(&key) {
            Some(existing) if !existing.0 => {}
            _ => {
                stats.insert(key, entry);
            }
        }
    }
    if !stats.is_empty() {
        for table in tables.values_mut() {
            for column in &mut table.columns {
                let key = (table.schema.clone(), table.name.clone(), column.name.clone());
                if let Some(&(_, null_frac, n_distinct)) = stats.get(&key) {
                    column.null_frac = null_frac;
                    column.n_distinct = n_distinct;
                }
            }
        }
    }

    // Indexes, with their key columns (an expression as its text) and backing constraint.
    let key_count = if v >= 110_000 { "i.indnkeyatts" } else { "i.indnatts" };
    let index_size = match sizes {
        Sizes::Exact => "pg_relation_size(i.indexrelid)",
        Sizes::Estimated => "ic.relpages::int8 * current_setting('block_size')::int8",
    };
    let sql = format!(
        "SELECT i.indrelid, ic.relname::text, pg_get_indexdef(i.indexrelid), i.indisunique, i.indisprimary, \
                i.indisvalid, i.indpred IS NOT NULL, \
                ARRAY(SELECT CASE WHEN k.attnum = 0 THEN pg_get_indexdef(i.indexrelid, k.ord::int4, true) \
                                  ELSE a.attname::text END \
                      FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord) \
                      LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum \
                      WHERE k.ord <= {key_count} ORDER BY k.ord), \
                con.conname::text, ({index_size})::int8 \
         FROM pg_index i \
         JOIN pg_class ic ON ic.oid = i.indexrelid \
         JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
         LEFT JOIN pg_constraint con ON con.conindid = i.indexrelid AND con.conrelid = i.indrelid \
                                    AND con.contype IN ('p', 'u', 'x') \
         WHERE {USER_RELATIONS} \
         ORDER BY i.indrelid, ic.relname"
    );
    for row in txn.query(&sql, &[]).await? {
        let oid: u32 = get(&row, 0)?;
        let Some(table) = tables.get_mut(&oid) else { continue };
        let bytes: i64 = get(&row, 9)?;
        table.indexes.push(LiveIndex {
            name: get(&row, 1)?,
            definition: get(&row, 2)?,
            unique: get(&row, 3)?,
            primary: get(&row, 4)?,
            valid: get(&row, 5)?,
            partial: get(&row, 6)?,
            columns: get(&row, 7)?,
            constraint: get(&row, 8)?,
            bytes: u64::try_from(bytes).unwrap_or(0),
        });
    }

    // Constraints. A foreign key's copies on partitions (PostgreSQL 11+) stay with the original.
    let not_a_clone = if v >= 110_000 { "AND NOT (con.contype = 'f' AND con.conparentid <> 0)" } else { "" };
    let sql = format!(
        "SELECT con.conrelid, con.conname::text, con.contype::text, \
                ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord) \
                      JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum ORDER BY k.ord), \
                pg_get_constraintdef(con.oid), con.convalidated, fn.nspname::text, fc.relname::text, \
                ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY AS k(attnum, ord) \
                      JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum ORDER BY k.ord) \
         FROM pg_constraint con \
         JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
         LEFT JOIN pg_class fc ON fc.oid = con.confrelid LEFT JOIN pg_namespace fn ON fn.oid = fc.relnamespace \
         WHERE {USER_RELATIONS} {not_a_clone} \
         ORDER BY con.conrelid, con.conname"
    );
    let mut references: Vec<(String, ForeignKeyRef)> = Vec::new();
    for row in txn.query(&sql, &[]).await? {
        let oid: u32 = get(&row, 0)?;
        let Some(table) = tables.get_mut(&oid) else { continue };
        let name: String = get(&row, 1)?;
        let contype: String = get(&row, 2)?;
        let columns: Vec<String> = get(&row, 3)?;
        let kind = match contype.as_str() {
            "p" => LiveConstraintKind::PrimaryKey,
            "u" => LiveConstraintKind::Unique,
            "c" => LiveConstraintKind::Check,
            "x" => LiveConstraintKind::Exclusion,
            "f" => {
                let ref_schema: Option<String> = get(&row, 6)?;
                let ref_name: Option<String> = get(&row, 7)?;
                let ref_columns: Vec<String> = get(&row, 8)?;
                match (ref_schema, ref_name) {
                    (Some(schema), Some(target)) => {
                        let target = table_key(&schema, &target);
                        references.push((
                            target.clone(),
                            ForeignKeyRef {
                                constraint: name.clone(),
                                table: table.key.clone(),
                                columns: columns.clone(),
                            },
                        ));
                        LiveConstraintKind::ForeignKey { table: target, columns: ref_columns }
                    }
                    _ => LiveConstraintKind::Other,
                }
            }
            _ => LiveConstraintKind::Other,
        };
        table.constraints.push(LiveConstraint {
            name,
            kind,
            columns,
            definition: get(&row, 4)?,
            validated: get(&row, 5)?,
        });
    }

    // Triggers (not the internal ones behind foreign keys).
    let sql = format!(
        "SELECT t.tgrelid, t.tgname::text, pg_get_triggerdef(t.oid), t.tgenabled <> 'D' \
         FROM pg_trigger t \
         JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE {USER_RELATIONS} AND NOT t.tgisinternal \
         ORDER BY t.tgrelid, t.tgname"
    );
    for row in txn.query(&sql, &[]).await? {
        let oid: u32 = get(&row, 0)?;
        let Some(table) = tables.get_mut(&oid) else { continue };
        table.triggers.push(super::LiveTrigger {
            name: get(&row, 1)?,
            definition: get(&row, 2)?,
            enabled: get(&row, 3)?,
        });
    }

    // A partitioned table's rows and bytes are its partitions'.
    if partitioned {
        let rows = txn
            .query(
                "SELECT i.inhrelid, i.inhparent FROM pg_inherits i \
                 JOIN pg_class p ON p.oid = i.inhparent WHERE p.relkind = 'p'",
                &[],
            )
            .await?;
        let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
        for row in rows {
            let child: u32 = get(&row, 0)?;
            let parent: u32 = get(&row, 1)?;
            children.entry(parent).or_default().push(child);
        }
        let parents: Vec<u32> =
            tables.iter().filter(|(_, t)| t.kind == RelationKind::PartitionedTable).map(|(oid, _)| *oid).collect();
        for parent in parents {
            let (rows, bytes) = partition_totals(parent, &children, &tables);
            if let Some(table) = tables.get_mut(&parent) {
                table.row_estimate = rows;
                table.total_bytes = bytes;
            }
        }
    }

    let mut by_key: BTreeMap<String, LiveTable> = tables.into_values().map(|t| (t.key.clone(), t)).collect();
    for (target, reference) in references {
        if let Some(table) = by_key.get_mut(&target) {
            table.referenced_by.push(reference);
        }
    }
    for table in by_key.values_mut() {
        table.referenced_by.sort_by(|a, b| (&a.table, &a.constraint).cmp(&(&b.table, &b.constraint)));
    }
    snapshot.tables = by_key;
    Ok(snapshot)
}

/// Rows (when every leaf partition was analysed) and bytes of a partitioned table's leaves.
fn partition_totals(
    parent: u32,
    children: &HashMap<u32, Vec<u32>>,
    tables: &HashMap<u32, LiveTable>,
) -> (Option<f64>, u64) {
    let mut rows = Some(0.0);
    let mut bytes = 0u64;
    let mut stack = vec![parent];
    let mut seen = 0usize;
    while let Some(oid) = stack.pop() {
        seen += 1;
        if seen > 100_000 {
            break;
        }
        match children.get(&oid) {
            Some(kids) => stack.extend(kids.iter().copied()),
            None if oid != parent => {
                let leaf = tables.get(&oid);
                bytes += leaf.map_or(0, |t| t.total_bytes);
                rows = match (rows, leaf.and_then(|t| t.row_estimate)) {
                    (Some(sum), Some(n)) => Some(sum + n),
                    _ => None,
                };
            }
            None => {}
        }
    }
    (rows, bytes)
}
