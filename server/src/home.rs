//! Where the server's own files (the page, the client package, the pinned CLI) are when no flag
//! says: installed, in `share/claude-agent-server/` beside the executable's `bin/` (the image's
//! `/usr/local`); run from a checkout's `target/<profile>/`, in that checkout. Found from the
//! executable at run time, so no path of the build machine is compiled in.

use std::path::{Path, PathBuf};

/// The folder the server's files are in, by how it was installed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Home {
    /// `<prefix>/share/claude-agent-server`, for `<prefix>/bin/claude-agent-server`.
    Installed(PathBuf),
    /// The repository whose `target/` holds the executable.
    Checkout(PathBuf),
}

impl Home {
    /// The running executable's.
    pub(crate) fn current() -> Self {
        let exe = std::env::current_exe().unwrap_or_default();
        Self::of(&exe.canonicalize().unwrap_or(exe))
    }

    /// That of the executable at `exe` (a real path): a checkout if an ancestor (up to its
    /// `target/<profile>/`) is this repository, else the installed layout, there or not.
    pub(crate) fn of(exe: &Path) -> Self {
        let bin = exe.parent().unwrap_or(Path::new("/"));
        let share = bin
            .parent()
            .unwrap_or(bin)
            .join("share/claude-agent-server");
        if share.is_dir() {
            return Self::Installed(share);
        }
        bin.ancestors()
            .take(3)
            .find(|dir| dir.join("Cargo.toml").is_file() && dir.join("www/index.html").is_file())
            .map_or(Self::Installed(share), |dir| Self::Checkout(dir.to_owned()))
    }

    /// The demo page's folder.
    pub(crate) fn www(&self) -> PathBuf {
        match self {
            Self::Installed(share) => share.join("www"),
            Self::Checkout(repo) => repo.join("www"),
        }
    }

    /// The built npm package's folder (its `web.js`, `events.js` and `pkg/`).
    pub(crate) fn client(&self) -> PathBuf {
        match self {
            Self::Installed(share) => share.join("client"),
            Self::Checkout(repo) => repo.join("npm"),
        }
    }

    /// The CLI that `npm ci --prefix claude-code` pins in a checkout; an install puts `claude`
    /// on PATH instead.
    pub(crate) fn pinned_claude(&self) -> Option<PathBuf> {
        match self {
            Self::Installed(_) => None,
            Self::Checkout(repo) => Some(repo.join("claude-code/node_modules/.bin/claude")),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;

    fn touch(path: &Path) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, "").unwrap();
    }

    #[test]
    fn an_installed_server_finds_its_files_in_share_beside_bin() {
        let root = tempfile::tempdir().unwrap();
        let share = root.path().join("usr/local/share/claude-agent-server");
        fs::create_dir_all(&share).unwrap();
        let home = Home::of(&root.path().join("usr/local/bin/claude-agent-server"));
        assert_eq!(home, Home::Installed(share.clone()));
        assert_eq!(home.www(), share.join("www"));
        assert_eq!(home.client(), share.join("client"));
        assert_eq!(home.pinned_claude(), None);
    }

    #[test]
    fn a_server_built_in_a_checkout_finds_the_checkout() {
        let repo = tempfile::tempdir().unwrap();
        touch(&repo.path().join("Cargo.toml"));
        touch(&repo.path().join("www/index.html"));
        let home = Home::of(&repo.path().join("target/release/claude-agent-server"));
        assert_eq!(home, Home::Checkout(repo.path().to_owned()));
        assert_eq!(home.client(), repo.path().join("npm"));
        let pinned = repo.path().join("claude-code/node_modules/.bin/claude");
        assert_eq!(home.pinned_claude(), Some(pinned));
    }

    #[test]
    fn a_lone_binary_looks_where_an_install_would_put_its_files() {
        let root = tempfile::tempdir().unwrap();
        let home = Home::of(&root.path().join("opt/claude-agent-server"));
        assert_eq!(
            home.www(),
            root.path().join("share/claude-agent-server/www")
        );
        assert!(!home.www().exists());
    }
}
