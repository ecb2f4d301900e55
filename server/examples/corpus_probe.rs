// Scratch probe (not committed).
use safemig::sql::{Dialect, ParseOutcome, SqlFile};
fn main() {
    let dir = std::path::Path::new("/work/shared/corpus");
    let idx = std::fs::read_to_string(dir.join("files.tsv")).unwrap();
    let mut labels = std::collections::BTreeMap::<String, usize>::new();
    for line in idx.lines().skip(1) {
        let c: Vec<&str> = line.split('\t').collect();
        if c[3] != "sql" || c[1] != "postgres" { continue; }
        let text = std::fs::read_to_string(dir.join(c[4])).unwrap();
        let f = SqlFile::parse(&text, Dialect::Postgres, None);
        for s in &f.statements {
            match &s.parsed.outcome {
                ParseOutcome::Unsupported { message, .. } => { *labels.entry(format!("U {} :: {}", s.facts().label, &message[..message.len().min(60)])).or_default() += 1; }
                ParseOutcome::Invalid { message, .. } => { *labels.entry(format!("I {} {}", c[4].split('/').nth(1).unwrap(), &message[..message.len().min(70)])).or_default() += 1; }
                _ => {}
            }
        }
    }
    for (k, v) in labels { println!("{v:5} {k}"); }
}
