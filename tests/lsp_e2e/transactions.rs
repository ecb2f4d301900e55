//! Quick fixes for statements in the wrong transaction: a concurrent statement inside one, a
//! VALIDATE in the transaction of its NOT VALID add.

use super::*;

#[test]
fn statements_leave_the_transaction_through_the_editor() {
    let shop = "CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint, total numeric);\n";
    // goose: the opt-out in the header.
    fix_in_editor(
        &[
            ("db/migrations/00001_shop.sql", goose_file(shop)),
            (
                "db/migrations/00002_index.sql",
                goose_file("CREATE INDEX CONCURRENTLY orders_customer_idx ON orders (customer_id);"),
            ),
        ],
        "db/migrations/00002_index.sql",
        "concurrently-in-transaction",
        "Run it outside a transaction block, outside the migration's transaction: add `-- +goose NO TRANSACTION`",
    );
    // golang-migrate: the VALIDATE in a new migration.
    fix_in_editor(
        &[
            ("db/migrations/0001_shop.up.sql", shop.into()),
            (
                "db/migrations/0002_check.up.sql",
                "ALTER TABLE orders ADD CONSTRAINT orders_total_check CHECK (total >= 0) NOT VALID;\nALTER TABLE orders VALIDATE CONSTRAINT orders_total_check;\n".into(),
            ),
        ],
        "db/migrations/0002_check.up.sql",
        "validate-in-same-transaction",
        "Move the VALIDATE of `orders_total_check` in a new migration 0003_validate_orders_total_check.up.sql",
    );
}
