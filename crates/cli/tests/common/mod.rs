//! Helpers shared by the CLI's black-box tests: the models cache every test
//! uses, and a scratch home to run the `suit` binary in.
#![allow(dead_code)] // each test file uses a different part

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The models cache the whole test suite shares (`SUIT_TEST_MODELS`, else
/// the workspace's `target/test-models`).
pub fn shared_models() -> PathBuf {
    std::env::var_os("SUIT_TEST_MODELS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/test-models"))
}

/// A scratch home: its own config and cache dirs, a models dir that links to
/// the shared cache so no test downloads twice, and a working directory `work/`.
pub struct Home {
    dir: tempfile::TempDir,
}

impl Home {
    /// An empty home with an empty working directory.
    pub fn new() -> Self {
        Self::with_files(&[])
    }

    /// A home whose working directory holds these files.
    pub fn with_files(files: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let shared = shared_models();
        std::fs::create_dir_all(&shared).unwrap();
        std::os::unix::fs::symlink(&shared, dir.path().join("models")).unwrap();
        let home = Self { dir };
        std::fs::create_dir_all(home.work()).unwrap();
        for (path, text) in files {
            home.write(path, text);
        }
        home
    }

    /// The working directory `suit` runs in.
    pub fn work(&self) -> PathBuf {
        self.dir.path().join("work")
    }

    /// Writes a file under the working directory.
    pub fn write(&self, path: &str, text: &str) {
        std::fs::write(self.work().join(path), text).unwrap();
    }

    /// Reads a file under the working directory.
    pub fn read(&self, path: &str) -> String {
        std::fs::read_to_string(self.work().join(path)).unwrap()
    }

    /// Runs `suit ARGS` in the working directory with `stdin` piped in.
    pub fn suit(&self, args: &[&str], stdin: &str) -> Output {
        let mut child = Command::new(env!("CARGO_BIN_EXE_suit"))
            .args(args)
            .current_dir(self.work())
            .env("SUIT_HOME", self.dir.path())
            .env("XDG_CONFIG_HOME", self.dir.path().join("config"))
            .env("SUIT_CACHE_DIR", self.dir.path().join("cache"))
            .env_remove("SUIT_LOG")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    }
}

/// Bytes a command printed, as text.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
