//! Where a path of the files API leads, and whether it may lead there: relative paths start in
//! the session's `cwd`; wherever a path leads, links followed, must be inside the `cwd` or one of
//! the config's `additionalDirectories`.

use std::{
    fs, io,
    path::{Component, Path, PathBuf},
};

use super::FilesError;

/// Linux's `PATH_MAX` and `NAME_MAX`: past them the kernel refuses with a vaguer error.
const MAX_PATH: usize = 4096;
const MAX_NAME: usize = 255;

/// The folders a session's files may be in, links resolved.
#[derive(Debug)]
pub(crate) struct Roots {
    /// Where relative paths start.
    cwd: PathBuf,
    /// `cwd`, then the additional directories.
    all: Vec<PathBuf>,
}

impl Roots {
    /// The folders of an agent working in `cwd` (relative: to the server's own working
    /// directory, as the agent is started) with `additional` directories (relative: to `cwd`).
    pub(crate) fn new(cwd: &Path, additional: &[String]) -> Result<Self, FilesError> {
        let cwd = std::path::absolute(cwd).map_err(|e| FilesError::io(cwd, e))?;
        let cwd = real(&cwd)?;
        let mut all = vec![cwd.clone()];
        for dir in additional {
            all.push(real(&cwd.join(dir))?);
        }
        Ok(Self { cwd, all })
    }

    /// Where `path` leads, links followed.
    pub(crate) fn resolve(&self, path: &str) -> Result<PathBuf, FilesError> {
        let resolved = real(&self.join(path)?)?;
        self.check(path, &resolved)?;
        Ok(resolved)
    }

    /// The entry `path` names itself: a link there is not followed (removing it removes the
    /// link), the folders it is in are. Never one of the roots.
    pub(crate) fn entry(&self, path: &str) -> Result<PathBuf, FilesError> {
        let joined = self.join(path)?;
        let (Some(parent), Some(name)) = (joined.parent(), joined.file_name()) else {
            return Err(bad(path, "it names no entry"));
        };
        let entry = real(parent)?.join(name);
        self.check(path, &entry)?;
        if self.all.contains(&entry) {
            return Err(bad(path, "it is one of the session's folders"));
        }
        Ok(entry)
    }

    /// `path` checked, and made absolute.
    fn join(&self, path: &str) -> Result<PathBuf, FilesError> {
        if path.is_empty() {
            return Err(bad(path, "it is empty"));
        }
        if path.contains('\0') {
            return Err(bad(path, "it holds a NUL"));
        }
        if path.len() > MAX_PATH {
            return Err(bad(path, "it is over 4096 bytes"));
        }
        let path = Path::new(path);
        for component in path.components() {
            match component {
                // Refused even where it would stay inside: `..` after a link goes where the
                // link leads, not back where it was written.
                Component::ParentDir => return Err(bad(path, "it holds a `..`")),
                Component::Normal(name) if name.len() > MAX_NAME => {
                    return Err(bad(path, "a name in it is over 255 bytes"));
                }
                _ => {}
            }
        }
        // Through `components`, which drops the `.`s and a trailing `/`.
        Ok(self.cwd.join(path).components().collect())
    }

    fn check(&self, path: &str, resolved: &Path) -> Result<(), FilesError> {
        if self.all.iter().any(|root| resolved.starts_with(root)) {
            return Ok(());
        }
        let roots: Vec<_> = self
            .all
            .iter()
            .map(|root| root.display().to_string())
            .collect();
        Err(FilesError::Outside {
            path: path.to_owned(),
            roots: roots.join(", "),
        })
    }
}

fn bad(path: impl AsRef<Path>, reason: &'static str) -> FilesError {
    FilesError::BadPath {
        path: path.as_ref().display().to_string(),
        reason,
    }
}

/// `path` (absolute) with every link in it resolved, as far as it exists; the rest, which has
/// no link to follow, as it is written.
fn real(path: &Path) -> Result<PathBuf, FilesError> {
    match fs::canonicalize(path) {
        Ok(real) => Ok(real),
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            match (path.parent(), path.file_name()) {
                (Some(parent), Some(name)) => Ok(real(parent)?.join(name)),
                _ => Ok(path.to_owned()),
            }
        }
        Err(error) => Err(FilesError::io(path, error)),
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::symlink;

    use super::*;

    fn roots(cwd: &Path, additional: &[&Path]) -> Roots {
        let additional: Vec<String> = additional
            .iter()
            .map(|dir| dir.display().to_string())
            .collect();
        Roots::new(cwd, &additional).unwrap()
    }

    #[test]
    fn relative_paths_start_in_the_cwd_and_need_not_exist() {
        let dir = tempfile::tempdir().unwrap();
        let cwd = dir.path().canonicalize().unwrap();
        let roots = roots(&cwd, &[]);
        assert_eq!(roots.resolve("a/./b.txt/").unwrap(), cwd.join("a/b.txt"));
        assert_eq!(roots.resolve(".").unwrap(), cwd);
    }

    #[test]
    fn a_missing_cwd_is_a_root_all_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let cwd = dir.path().canonicalize().unwrap().join("later/ws");
        let roots = roots(&cwd, &[]);
        assert_eq!(roots.resolve("x").unwrap(), cwd.join("x"));
        assert!(matches!(
            roots.resolve(&dir.path().join("later/y").display().to_string()),
            Err(FilesError::Outside { .. })
        ));
    }

    #[test]
    fn refused_paths_say_why() {
        let dir = tempfile::tempdir().unwrap();
        let roots = roots(dir.path(), &[]);
        let long_name = "n".repeat(256);
        let long_path = "d/".repeat(2049);
        for (path, reason) in [
            ("", "it is empty"),
            ("a/../b", "it holds a `..`"),
            ("..", "it holds a `..`"),
            ("a\0b", "it holds a NUL"),
            (long_name.as_str(), "a name in it is over 255 bytes"),
            (long_path.as_str(), "it is over 4096 bytes"),
        ] {
            match roots.resolve(path) {
                Err(FilesError::BadPath { reason: why, .. }) => assert_eq!(why, reason, "{path}"),
                other => panic!("{path:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn links_are_followed_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().canonicalize().unwrap();
        let (cwd, out) = (base.join("ws"), base.join("out"));
        fs::create_dir_all(cwd.join("sub")).unwrap();
        fs::create_dir(&out).unwrap();
        symlink(&out, cwd.join("away")).unwrap();
        symlink(cwd.join("sub"), cwd.join("here")).unwrap();
        let roots = roots(&cwd, &[]);
        assert!(matches!(
            roots.resolve("away/new.txt"),
            Err(FilesError::Outside { .. })
        ));
        assert_eq!(roots.resolve("here/x").unwrap(), cwd.join("sub/x"));
        // Removing a link removes the link, wherever it leads.
        assert_eq!(roots.entry("away").unwrap(), cwd.join("away"));
        assert!(matches!(
            roots.entry("away/x"),
            Err(FilesError::Outside { .. })
        ));
    }

    #[test]
    fn additional_directories_are_roots_too_but_no_root_is_an_entry() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().canonicalize().unwrap();
        let (cwd, extra) = (base.join("ws"), base.join("extra"));
        let roots = roots(&cwd, &[&extra]);
        let inside = extra.join("a.txt");
        assert_eq!(
            roots.resolve(&inside.display().to_string()).unwrap(),
            inside
        );
        for root in [".", extra.to_str().unwrap()] {
            assert!(
                matches!(roots.entry(root), Err(FilesError::BadPath { .. })),
                "{root}"
            );
        }
    }
}
