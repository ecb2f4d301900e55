//! A PostgreSQL database of one test, on the server at 127.0.0.1:5432 (user `postgres`, trust):
//! created under a unique name and dropped when the test ends, also when it fails.

#![allow(dead_code)] // Each test binary uses the part it needs.

use std::sync::atomic::{AtomicUsize, Ordering};

pub const ADMIN: &str = "host=127.0.0.1 port=5432 user=postgres dbname=postgres";

pub struct TestDb {
    pub name: String,
}

impl TestDb {
    /// A new, empty database named after `tag` (and this process, so runs never collide).
    pub fn new(tag: &str) -> TestDb {
        static N: AtomicUsize = AtomicUsize::new(0);
        let name = format!("safemig_{tag}_{}_{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst));
        let mut admin = postgres::Client::connect(ADMIN, postgres::NoTls).expect("PostgreSQL at 127.0.0.1:5432");
        // Two messages: a multi-statement string is one implicit transaction, which DROP DATABASE refuses.
        admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).expect("drop a leftover");
        admin.batch_execute(&format!("CREATE DATABASE {name}")).expect("create the test database");
        TestDb { name }
    }

    /// A new database with `setup` run in it (tests may write; safemig never does).
    pub fn with(tag: &str, setup: &str) -> TestDb {
        let db = TestDb::new(tag);
        if !setup.is_empty() {
            db.setup(setup);
        }
        db
    }

    /// libpq key=value parameters; timestamps without a time zone read as UTC.
    pub fn conninfo(&self) -> String {
        format!("host=127.0.0.1 port=5432 user=postgres dbname={} options='-c TimeZone=UTC'", self.name)
    }

    /// A URL, for safemig's own connection.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:5432/{}", self.name)
    }

    pub fn sync(&self) -> postgres::Client {
        postgres::Client::connect(&self.conninfo(), postgres::NoTls).expect("connect to the test database")
    }

    pub fn setup(&self, sql: &str) {
        self.sync().batch_execute(sql).unwrap_or_else(|e| panic!("test setup failed: {e}\n{sql}"));
    }

    /// Drops the database now (ending its sessions), as if it went away under safemig.
    pub fn drop_now(&self) {
        if let Ok(mut admin) = postgres::Client::connect(ADMIN, postgres::NoTls) {
            let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name));
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        self.drop_now();
    }
}
