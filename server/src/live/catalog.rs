//! The catalog snapshot: every relation of the user's schemas with its columns, indexes,
//! constraints, triggers and the foreign keys pointing at it, read in one `READ ONLY`
//! (repeatable-read) transaction.
//!
//! A fixed handful of queries whatever the size of the database — relations, columns, column
//! statistics, indexes, constraints, triggers, partitions — each returning flat rows that are
//! grouped by table oid here; key columns come back as attribute numbers and are named from the
//! columns query. No per-table query: 2,000 tables load in about a third of a second, most of it
//! the server's `pg_get_indexdef` and size functions (see `benches/live_snapshot.rs`).
//!
//! Sizes come from `pg_total_relation_size` / `pg_relation_size`. They, like `pg_get_expr`,
//! `pg_get_indexdef` and `pg_get_constraintdef`, take (and at once release) an ACCESS SHARE lock
//! on each relation, so a table locked ACCESS EXCLUSIVE by a running migration stops the snapshot
//! at the short `lock_timeout` (see [`load_snapshot`]).

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
///
/// While another session holds an ACCESS EXCLUSIVE lock on a table (a migration running now),
/// the server's deparse and size functions wait for it: after the short `lock_timeout` this
/// returns [`LiveError::Timeout`] with `lock: true`, and the caller keeps its last snapshot and
/// tries again later (a snapshot in the middle of a migration would be half-applied anyway).
pub async fn load_snapshot(client: &LiveClient) -> Result<LiveSnapshot, LiveError> {
    let started = Instant::now();
    let txn = client.read().await?;
    let result = load_in(&txn).await;
    let finished = txn.finish().await;
    let mut snapshot = match result {
        Err(LiveError::Timeout { after, lock: true, .. }) => {
            let reason = "a table is locked by another session (a migration may be running); try again once it is done"
                .to_string();
            return Err(LiveError::Timeout { after, reason, lock: true });
        }
        other => other?,
    };
    finished?;
    snapshot.took = started.elapsed();
    snapshot.taken_at = Some(SystemTime::now());
    Ok(snapshot)
}

/// `pg_stats`' `inherited`, `null_frac` and `n_distinct` of a column.
type ColumnStats = (bool, Option<f32>, Option<f32>);

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

async fn load_in(txn: &ReadTxn) -> Result<LiveSnapshot, LiveError> {
    let row = txn
        .query_one(
            "SELECT current_setting('server_version'), current_setting('server_version_num')::int4, \
             current_database()::text",
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

    let size = "CASE WHEN c.relkind IN ('r', 'm') THEN pg_total_relation_size(c.oid) ELSE 0 END";
    let relations_sql = format!(
        "SELECT c.oid, n.nspname::text, c.relname::text, c.relkind::text, c.reltuples::float8, ({size})::int8 \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE {USER_RELATIONS}"
    );
    let identity = if v >= 100_000 { "a.attidentity::text" } else { "''::text" };
    let columns_sql = format!(
        "SELECT a.attrelid, a.attnum, a.attname::text, format_type(a.atttypid, a.atttypmod), a.attnotnull, \
                pg_get_expr(d.adbin, d.adrelid), {identity} \
         FROM pg_attribute a \
         JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
         LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
         WHERE {USER_RELATIONS} AND a.attnum > 0 AND NOT a.attisdropped \
         ORDER BY a.attrelid, a.attnum"
    );
    // Column statistics (after ANALYZE). A partitioned table has only inherited ones.
    let stats_sql = "SELECT s.schemaname::text, s.tablename::text, s.attname::text, s.inherited, s.null_frac, \
                            s.n_distinct \
                     FROM pg_stats s \
                     WHERE s.schemaname <> ALL (ARRAY['pg_catalog', 'information_schema']) \
                       AND s.schemaname !~ '^pg_(toast|temp_)'";
    // Key columns are attribute numbers, named from the columns query; only an expression key
    // (attnum 0) needs its text from the server.
    let key_count = if v >= 110_000 { "i.indnkeyatts" } else { "i.indnatts" };
    let index_size = "pg_relation_size(i.indexrelid)";
    let indexes_sql = format!(
        "SELECT i.indrelid, i.indexrelid, ic.relname::text, pg_get_indexdef(i.indexrelid), i.indisunique, \
                i.indisprimary, i.indisvalid, i.indpred IS NOT NULL, i.indkey::int2[], {key_count}::int4, \
                CASE WHEN 0 = ANY (i.indkey::int2[]) THEN \
                    ARRAY(SELECT pg_get_indexdef(i.indexrelid, k, true) \
                          FROM generate_series(1, {key_count}::int4) AS k ORDER BY k) END, \
                ({index_size})::int8 \
         FROM pg_index i \
         JOIN pg_class ic ON ic.oid = i.indexrelid \
         JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE {USER_RELATIONS} \
         ORDER BY i.indrelid, ic.relname"
    );
    // A foreign key's copies on partitions (PostgreSQL 11+) stay with the original.
    let not_a_clone = if v >= 110_000 { "AND NOT (con.contype = 'f' AND con.conparentid <> 0)" } else { "" };
    let constraints_sql = format!(
        "SELECT con.conrelid, con.conname::text, con.contype::text, con.conkey, pg_get_constraintdef(con.oid), \
                con.convalidated, con.conindid, con.confrelid, con.confkey \
         FROM pg_constraint con \
         JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE {USER_RELATIONS} {not_a_clone} \
         ORDER BY con.conrelid, con.conname"
    );
    // Triggers (not the internal ones behind foreign keys).
    let triggers_sql = format!(
        "SELECT t.tgrelid, t.tgname::text, pg_get_triggerdef(t.oid), t.tgenabled <> 'D' \
         FROM pg_trigger t \
         JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE {USER_RELATIONS} AND NOT t.tgisinternal \
         ORDER BY t.tgrelid, t.tgname"
    );
    let partitions_sql = "SELECT i.inhrelid, i.inhparent FROM pg_inherits i \
                          JOIN pg_class p ON p.oid = i.inhparent WHERE p.relkind = 'p'";
    // Functions by name with their most volatile overload ('i' < 's' < 'v'), for defaults that
    // call a function the migrations do not define; bounded.
    let functions_sql = "SELECT n.nspname::text, p.proname::text, max(p.provolatile::text) \
                         FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
                         WHERE n.nspname <> 'information_schema' AND n.nspname !~ '^pg_(toast|temp_)' \
                         GROUP BY 1, 2 LIMIT 50000";
    let extensions_sql = "SELECT extname::text FROM pg_extension LIMIT 10000";
    // One after the other: each statement is bounded by the transaction's statement_timeout.
    let relations = txn.query(&relations_sql, &[]).await?;
    let columns = txn.query(&columns_sql, &[]).await?;
    let stats_rows = txn.query(stats_sql, &[]).await?;
    let indexes = txn.query(&indexes_sql, &[]).await?;
    let constraints = txn.query(&constraints_sql, &[]).await?;
    let triggers = txn.query(&triggers_sql, &[]).await?;
    let partitions = txn.query(partitions_sql, &[]).await?;
    let functions = txn.query(functions_sql, &[]).await?;
    let extensions = txn.query(extensions_sql, &[]).await?;
    for row in &functions {
        let schema: String = get(row, 0)?;
        let name: String = get(row, 1)?;
        let provolatile: String = get(row, 2)?;
        let volatility = provolatile.chars().next().and_then(crate::sql::facts::Volatility::from_provolatile);
        if let Some(v) = volatility {
            snapshot.functions.insert(table_key(&schema, &name), v);
        }
    }
    for row in &extensions {
        snapshot.extensions.insert(get(row, 0)?);
    }

    // Relations.
    let mut tables: HashMap<u32, LiveTable> = HashMap::with_capacity(relations.len());
    let mut partitioned = false;
    for row in &relations {
        let oid: u32 = get(row, 0)?;
        let schema: String = get(row, 1)?;
        let name: String = get(row, 2)?;
        let relkind: String = get(row, 3)?;
        let reltuples: f64 = get(row, 4)?;
        let bytes: i64 = get(row, 5)?;
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
    let mut attnames: HashMap<(u32, i16), String> = HashMap::with_capacity(columns.len());
    for row in &columns {
        let oid: u32 = get(row, 0)?;
        let Some(table) = tables.get_mut(&oid) else { continue };
        let attnum: i16 = get(row, 1)?;
        let name: String = get(row, 2)?;
        let identity: String = get(row, 6)?;
        attnames.insert((oid, attnum), name.clone());
        table.columns.push(LiveColumn {
            name,
            type_sql: get(row, 3)?,
            not_null: get(row, 4)?,
            default: get(row, 5)?,
            identity: identity.chars().next(),
            null_frac: None,
            n_distinct: None,
        });
    }
    let names_of = |oid: u32, attnums: &[i16]| -> Vec<String> {
        attnums.iter().filter_map(|n| attnames.get(&(oid, *n)).cloned()).collect()
    };

    let mut stats: HashMap<(String, String, String), ColumnStats> = HashMap::new();
    for row in &stats_rows {
        let key = (get(row, 0)?, get(row, 1)?, get(row, 2)?);
        let inherited: bool = get(row, 3)?;
        let entry = (inherited, get(row, 4)?, get(row, 5)?);
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

    // Constraints (before indexes: an index names the constraint it backs).
    let mut backing: HashMap<u32, String> = HashMap::new();
    let mut references: Vec<(String, ForeignKeyRef)> = Vec::new();
    let mut parsed = Vec::with_capacity(constraints.len());
    for row in &constraints {
        let oid: u32 = get(row, 0)?;
        let name: String = get(row, 1)?;
        let contype: String = get(row, 2)?;
        let conkey: Option<Vec<i16>> = get(row, 3)?;
        let definition: String = get(row, 4)?;
        let validated: bool = get(row, 5)?;
        let conindid: u32 = get(row, 6)?;
        let confrelid: u32 = get(row, 7)?;
        let confkey: Option<Vec<i16>> = get(row, 8)?;
        let columns = names_of(oid, conkey.as_deref().unwrap_or_default());
        let kind = match contype.as_str() {
            "p" => LiveConstraintKind::PrimaryKey,
            "u" => LiveConstraintKind::Unique,
            "c" => LiveConstraintKind::Check,
            "x" => LiveConstraintKind::Exclusion,
            "f" => match tables.get(&confrelid) {
                Some(parent) => LiveConstraintKind::ForeignKey {
                    table: parent.key.clone(),
                    columns: names_of(confrelid, confkey.as_deref().unwrap_or_default()),
                },
                None => LiveConstraintKind::Other,
            },
            _ => LiveConstraintKind::Other,
        };
        if matches!(kind, LiveConstraintKind::PrimaryKey | LiveConstraintKind::Unique | LiveConstraintKind::Exclusion)
            && conindid != 0
        {
            backing.insert(conindid, name.clone());
        }
        parsed.push((oid, LiveConstraint { name, kind, columns, definition, validated }));
    }
    for (oid, constraint) in parsed {
        let Some(table) = tables.get_mut(&oid) else { continue };
        if let LiveConstraintKind::ForeignKey { table: target, .. } = &constraint.kind {
            let reference = ForeignKeyRef {
                constraint: constraint.name.clone(),
                table: table.key.clone(),
                columns: constraint.columns.clone(),
            };
            references.push((target.clone(), reference));
        }
        table.constraints.push(constraint);
    }

    // Indexes, with their key columns (an expression as its text) and backing constraint.
    for row in &indexes {
        let oid: u32 = get(row, 0)?;
        if !tables.contains_key(&oid) {
            continue;
        }
        let index_oid: u32 = get(row, 1)?;
        let indkey: Vec<i16> = get(row, 8)?;
        let key_count: i32 = get(row, 9)?;
        let expressions: Option<Vec<String>> = get(row, 10)?;
        let bytes: i64 = get(row, 11)?;
        let key_count = usize::try_from(key_count).unwrap_or(0);
        let columns = indkey
            .iter()
            .take(key_count)
            .enumerate()
            .map(|(i, attnum)| match (attnum, &expressions) {
                (0, Some(texts)) => texts.get(i).cloned().unwrap_or_default(),
                (n, _) => attnames.get(&(oid, *n)).cloned().unwrap_or_default(),
            })
            .collect();
        let index = LiveIndex {
            name: get(row, 2)?,
            definition: get(row, 3)?,
            unique: get(row, 4)?,
            primary: get(row, 5)?,
            valid: get(row, 6)?,
            partial: get(row, 7)?,
            columns,
            constraint: backing.get(&index_oid).cloned(),
            bytes: u64::try_from(bytes).unwrap_or(0),
        };
        if let Some(table) = tables.get_mut(&oid) {
            table.indexes.push(index);
        }
    }

    for row in &triggers {
        let oid: u32 = get(row, 0)?;
        let Some(table) = tables.get_mut(&oid) else { continue };
        table.triggers.push(super::LiveTrigger { name: get(row, 1)?, definition: get(row, 2)?, enabled: get(row, 3)? });
    }

    // A partitioned table's rows and bytes are its partitions'.
    if partitioned {
        let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
        for row in &partitions {
            let child: u32 = get(row, 0)?;
            let parent: u32 = get(row, 1)?;
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
