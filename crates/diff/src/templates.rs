//! Where templates come from: files, or templates built into the program.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use esl_render::Template;

use crate::error::DiffError;

/// Where a label's template is read from. The registry stores it as text
/// ([`TemplateSource::key`]): `file:<absolute path>` or `builtin:<name>`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TemplateSource {
    /// A template file, by absolute path. It is read again at every run, so editing the file
    /// re-renders its labels.
    File(PathBuf),
    /// A template built into the program ([`TemplateLibrary::with_builtin`]).
    Builtin(String),
}

impl TemplateSource {
    /// The text stored in the registry.
    #[must_use]
    pub fn key(&self) -> String {
        match self {
            TemplateSource::File(p) => format!("file:{}", p.display()),
            TemplateSource::Builtin(n) => format!("builtin:{n}"),
        }
    }

    /// Reads a stored key back; `None` for text that is not one.
    #[must_use]
    pub fn from_key(key: &str) -> Option<TemplateSource> {
        if let Some(p) = key.strip_prefix("file:") {
            Some(TemplateSource::File(PathBuf::from(p)))
        } else {
            key.strip_prefix("builtin:")
                .map(|n| TemplateSource::Builtin(n.to_owned()))
        }
    }
}

impl fmt::Display for TemplateSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TemplateSource::File(p) => write!(f, "{}", p.display()),
            TemplateSource::Builtin(n) => write!(f, "{n} (built in)"),
        }
    }
}

/// A loaded template with what the diff stage needs of it.
#[derive(Debug)]
pub struct LoadedTemplate {
    /// Where it came from.
    pub source: TemplateSource,
    /// The template.
    pub template: Template,
    /// [`Template::content_hash`]: its JSON and its pictures' pixels. A change marks the
    /// template's labels for the next run, which binds them and compares scene fingerprints.
    pub content_hash: [u8; 32],
}

/// Finds templates by reference: file paths, names in template folders, and templates built
/// into the program.
///
/// A reference (the `template` column of a label-bindings file) is resolved in this order:
/// 1. `builtin:NAME`: the built-in template `NAME`;
/// 2. a path to an existing file, relative to the bindings file's folder, else to the
///    current directory (or absolute);
/// 3. a name in the template folders ([`TemplateLibrary::with_dir`]), as `DIR/NAME` or
///    `DIR/NAME.json`, folders in the order added;
/// 4. a built-in template of that name (with or without `.json`).
///
/// A [confined](TemplateLibrary::confined) library skips step 2: a reference is then only a
/// name inside its folders or a built-in name, so a bindings file received over the network
/// cannot make the registry read files elsewhere.
///
/// ```
/// use esl_diff::{TemplateLibrary, TemplateSource};
/// let lib = TemplateLibrary::new().with_builtin("tiny", br#"{"version": 1, "models": ["SL121"],
///     "elements": [{"type": "text", "box": {"x": 0, "y": 0, "w": 50, "h": 20}, "field": "name", "size": 12}]}"#.to_vec());
/// let source = lib.resolve("tiny.json", None)?;
/// assert_eq!(source, TemplateSource::Builtin("tiny".into()));
/// assert!(lib.load(&source)?.template.supports(esl_model::Model::Sl121));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct TemplateLibrary {
    builtins: BTreeMap<String, Arc<[u8]>>,
    dirs: Vec<PathBuf>,
    confined: bool,
}

impl TemplateLibrary {
    /// An empty library: only paths to files resolve.
    #[must_use]
    pub fn new() -> TemplateLibrary {
        TemplateLibrary::default()
    }

    /// Adds a built-in template (its JSON) under `name`; a `.json` suffix of the name is
    /// dropped.
    #[must_use]
    pub fn with_builtin(mut self, name: &str, json: impl Into<Arc<[u8]>>) -> TemplateLibrary {
        let name = name.strip_suffix(".json").unwrap_or(name);
        self.builtins.insert(name.to_owned(), json.into());
        self
    }

    /// Adds a folder where templates are looked up by name.
    #[must_use]
    pub fn with_dir(mut self, dir: impl Into<PathBuf>) -> TemplateLibrary {
        self.dirs.push(dir.into());
        self
    }

    /// Confines references to the template folders and the built-in templates: absolute
    /// paths, paths relative to the bindings file or the current directory, `..`, and files
    /// that resolve (through links) outside their folder are not found.
    #[must_use]
    pub fn confined(mut self) -> TemplateLibrary {
        self.confined = true;
        self
    }

    /// The names of the built-in templates.
    pub fn builtin_names(&self) -> impl Iterator<Item = &str> {
        self.builtins.keys().map(String::as_str)
    }

    /// Resolves a reference (see the type's docs); `base_dir` is the folder of the file that
    /// holds the reference.
    ///
    /// # Errors
    /// [`DiffError::TemplateNotFound`] with the places looked at.
    pub fn resolve(
        &self,
        reference: &str,
        base_dir: Option<&Path>,
    ) -> Result<TemplateSource, DiffError> {
        let reference = reference.trim();
        if let Some(name) = reference.strip_prefix("builtin:") {
            let name = name.strip_suffix(".json").unwrap_or(name);
            if self.builtins.contains_key(name) {
                return Ok(TemplateSource::Builtin(name.to_owned()));
            }
            return Err(self.not_found(reference, Vec::new()));
        }
        let mut searched = Vec::new();
        if !reference.is_empty() {
            let given = Path::new(reference);
            let mut candidates = Vec::new();
            if self.confined {
                let plain = given
                    .components()
                    .all(|c| matches!(c, std::path::Component::Normal(_)));
                if plain && !reference.contains('\\') {
                    for dir in &self.dirs {
                        candidates.push(dir.join(given));
                        if !reference.ends_with(".json") {
                            candidates.push(dir.join(format!("{reference}.json")));
                        }
                    }
                } else {
                    searched.push(
                        "no paths: this library takes only names of templates in its folders"
                            .to_owned(),
                    );
                }
            } else if given.is_absolute() {
                candidates.push(given.to_path_buf());
            } else {
                if let Some(base) = base_dir {
                    candidates.push(base.join(given));
                }
                candidates.push(given.to_path_buf());
                for dir in &self.dirs {
                    candidates.push(dir.join(given));
                    // Not `extension().is_none()`: "shelf-2.13" has the extension "13".
                    if !reference.ends_with(".json") {
                        candidates.push(dir.join(format!("{reference}.json")));
                    }
                }
            }
            for c in candidates {
                if c.is_file() {
                    let abs = std::fs::canonicalize(&c).map_err(|source| DiffError::Io {
                        path: c.display().to_string(),
                        source,
                    })?;
                    if !self.confined || self.inside_a_dir(&abs) {
                        return Ok(TemplateSource::File(abs));
                    }
                }
                searched.push(c.display().to_string());
            }
        }
        let name = reference.strip_suffix(".json").unwrap_or(reference);
        if self.builtins.contains_key(name) {
            return Ok(TemplateSource::Builtin(name.to_owned()));
        }
        Err(self.not_found(reference, searched))
    }

    /// Whether a canonical path lies inside one of the template folders.
    fn inside_a_dir(&self, abs: &Path) -> bool {
        self.dirs
            .iter()
            .any(|d| std::fs::canonicalize(d).is_ok_and(|d| abs.starts_with(d)))
    }

    fn not_found(&self, reference: &str, mut searched: Vec<String>) -> DiffError {
        if !self.builtins.is_empty() {
            searched.push(format!(
                "the built-in templates ({})",
                self.builtin_names().collect::<Vec<_>>().join(", ")
            ));
        }
        if searched.is_empty() {
            searched.push("nothing: no template folders or built-in templates".to_owned());
        }
        DiffError::TemplateNotFound {
            reference: reference.to_owned(),
            searched: searched.join(", "),
        }
    }

    /// Loads a template.
    ///
    /// # Errors
    /// [`DiffError::Io`] when the file cannot be read, [`DiffError::Template`] when it is not
    /// a valid template, [`DiffError::TemplateNotFound`] for an unknown built-in name.
    pub fn load(&self, source: &TemplateSource) -> Result<LoadedTemplate, DiffError> {
        let template = match source {
            TemplateSource::File(path) => {
                let bytes = std::fs::read(path).map_err(|e| DiffError::Io {
                    path: path.display().to_string(),
                    source: e,
                })?;
                Template::from_json(&bytes, &path.display().to_string(), path.parent())?
            }
            TemplateSource::Builtin(name) => {
                let bytes = self
                    .builtins
                    .get(name)
                    .ok_or_else(|| self.not_found(&format!("builtin:{name}"), Vec::new()))?;
                Template::from_json(bytes, &format!("{name}.json"), None)?
            }
        };
        Ok(LoadedTemplate {
            source: source.clone(),
            content_hash: template.content_hash(),
            template,
        })
    }
}
