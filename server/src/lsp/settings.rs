//! Where the server's configuration comes from: the workspace's `safemig.toml`, then the client's
//! `initializationOptions`, then the latest `workspace/didChangeConfiguration` settings.

use std::path::PathBuf;

use crate::config::{Config, ConfigProblem, FILE_NAME};

pub(crate) const INIT_OPTIONS_SOURCE: &str = "initializationOptions";
pub(crate) const SETTINGS_SOURCE: &str = "workspace/didChangeConfiguration";

#[derive(Debug, Default)]
pub(crate) struct ConfigSources {
    /// The workspace root (`workspaceFolders[0]` or `rootUri`); `None` for a single-file session.
    pub root: Option<PathBuf>,
    pub init_options: Option<serde_json::Value>,
    pub settings: Option<serde_json::Value>,
}

/// The effective configuration and what was wrong in its sources.
#[derive(Debug, Default)]
pub(crate) struct LoadedConfig {
    pub config: Config,
    pub problems: ConfigProblems,
}

#[derive(Debug, Default)]
pub(crate) struct ConfigProblems {
    /// Problems in `safemig.toml`, shown as diagnostics on that file.
    pub in_file: Vec<ConfigProblem>,
    /// Problems in the client's settings, shown as a message (they have no file).
    pub in_settings: Vec<ConfigProblem>,
}

impl ConfigSources {
    /// Where the workspace's `safemig.toml` is (whether or not it exists).
    pub fn toml_path(&self) -> Option<PathBuf> {
        self.root.as_ref().map(|root| root.join(FILE_NAME))
    }

    /// Reads `safemig.toml` afresh and applies the client's settings on top.
    pub fn load(&self) -> LoadedConfig {
        let (mut config, _, in_file) = match &self.root {
            Some(root) => Config::discover(root),
            None => (Config::default(), None, Vec::new()),
        };
        let mut in_settings = Vec::new();
        if let Some(options) = &self.init_options {
            in_settings.extend(config.merge_json(options, INIT_OPTIONS_SOURCE));
        }
        if let Some(settings) = &self.settings {
            in_settings.extend(config.merge_json(settings, SETTINGS_SOURCE));
        }
        LoadedConfig { config, problems: ConfigProblems { in_file, in_settings } }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::RuleLevel;
    use crate::rules::Severity;

    #[test]
    fn settings_override_options_which_override_the_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join(FILE_NAME), "lock_timeout = \"2s\"\n[rules]\ndrop-table = \"off\"\n")
            .expect("write safemig.toml");
        let sources = ConfigSources {
            root: Some(dir.path().to_path_buf()),
            init_options: Some(serde_json::json!({"lock_timeout": "3s", "rules": {"drop-table": "hint"}})),
            settings: Some(serde_json::json!({"safemig": {"lock_timeout": "4s", "bogus": 1}})),
        };
        let loaded = sources.load();
        assert!(loaded.problems.in_file.is_empty(), "{:?}", loaded.problems.in_file);
        assert_eq!(loaded.config.lock_timeout, "4s");
        assert_eq!(loaded.config.rules.get("drop-table"), Some(&RuleLevel::Severity(Severity::Hint)));
        assert_eq!(loaded.problems.in_settings.len(), 1);
        assert_eq!(loaded.problems.in_settings[0].source, SETTINGS_SOURCE);
    }
}
