//! Deciding which records to write, from a spec like "info,net=debug".

use crate::level::Level;

/// A default minimum level plus per-module minimums. A record passes if its
/// level is at least the minimum for its module.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    default: Level,
    modules: Vec<(String, Level)>,
}

impl Filter {
    pub fn new(default: Level) -> Filter {
        Filter { default, modules: Vec::new() }
    }

    /// Parse "LEVEL[,MODULE=LEVEL]...", e.g. "warn,net=debug,net::tls=trace".
    pub fn parse(spec: &str) -> Result<Filter, String> {
        let mut filter = Filter::new(Level::Info);
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match part.split_once('=') {
                Some((module, level)) => {
                    let level = Level::parse(level).ok_or(format!("unknown level in {part:?}"))?;
                    filter.modules.push((module.trim().to_string(), level));
                }
                None => {
                    filter.default = Level::parse(part).ok_or(format!("unknown level {part:?}"))?;
                }
            }
        }
        Ok(filter)
    }

    /// The minimum level for `module`: that of the longest configured module
    /// path equal to it or a parent of it ("net" covers "net::tls").
    pub fn min_level(&self, module: &str) -> Level {
        self.modules
            .iter()
            .filter(|(m, _)| module == m || module.starts_with(&format!("{m}::")))
            .max_by_key(|(m, _)| m.len())
            .map(|(_, level)| *level)
            .unwrap_or(self.default)
    }

    /// Whether a record at `level` from `module` gets written.
    pub fn allows(&self, module: &str, level: Level) -> bool {
        level >= self.min_level(module)
    }

    /// The most verbose level that any module can get through, so callers
    /// can skip building records that nobody would write.
    pub fn most_verbose(&self) -> Level {
        self.modules.iter().map(|(_, l)| *l).chain([self.default]).min().unwrap()
    }
}
