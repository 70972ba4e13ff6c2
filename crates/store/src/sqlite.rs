//! The embedded SQLite implementation of [`Store`].

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::{params, Connection, ErrorCode, OptionalExtension, TransactionBehavior};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::store::*;

/// `PRAGMA application_id` of suit databases ("SUIT").
const APPLICATION_ID: i64 = 0x5355_4954;

/// How long a writer waits for another process's lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Schema migrations; `PRAGMA user_version` is the number applied.
pub(crate) const MIGRATIONS: &[&str] = &[
    // 1: sessions, journal, memories, blobs, checkpoints, baselines.
    r#"
    CREATE TABLE sessions (
        id INTEGER PRIMARY KEY,
        task TEXT NOT NULL,
        repo_root TEXT NOT NULL,
        autonomy TEXT NOT NULL,
        created_ms INTEGER NOT NULL,
        ended_ms INTEGER,
        status TEXT NOT NULL
    );
    CREATE INDEX sessions_repo ON sessions(repo_root, id);
    CREATE TABLE events (
        session_id INTEGER NOT NULL REFERENCES sessions(id),
        seq INTEGER NOT NULL,
        at_ms INTEGER NOT NULL,
        kind TEXT NOT NULL,
        payload TEXT NOT NULL,
        PRIMARY KEY (session_id, seq)
    ) WITHOUT ROWID;
    CREATE TRIGGER events_no_update BEFORE UPDATE ON events
        BEGIN SELECT RAISE(ABORT, 'the event journal is append-only'); END;
    CREATE TRIGGER events_no_delete BEFORE DELETE ON events
        BEGIN SELECT RAISE(ABORT, 'the event journal is append-only'); END;
    CREATE TABLE memories (
        repo TEXT NOT NULL,
        key TEXT NOT NULL,
        text TEXT NOT NULL,
        provenance TEXT NOT NULL,
        pinned INTEGER NOT NULL,
        updated_ms INTEGER NOT NULL,
        PRIMARY KEY (repo, key)
    ) WITHOUT ROWID;
    CREATE TABLE blobs (
        hash TEXT PRIMARY KEY,
        size INTEGER NOT NULL,
        data BLOB NOT NULL
    );
    CREATE TABLE checkpoints (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        repo TEXT NOT NULL,
        session_id INTEGER REFERENCES sessions(id),
        created_ms INTEGER NOT NULL,
        description TEXT NOT NULL,
        state TEXT NOT NULL
    );
    CREATE INDEX checkpoints_repo ON checkpoints(repo, id);
    CREATE TABLE checkpoint_files (
        checkpoint_id INTEGER NOT NULL REFERENCES checkpoints(id),
        ord INTEGER NOT NULL,
        path TEXT NOT NULL,
        before_hash TEXT REFERENCES blobs(hash),
        before_mode INTEGER,
        after_hash TEXT REFERENCES blobs(hash),
        after_mode INTEGER,
        created_dirs TEXT NOT NULL,
        PRIMARY KEY (checkpoint_id, ord)
    ) WITHOUT ROWID;
    CREATE TABLE baseline_files (
        session_id INTEGER NOT NULL REFERENCES sessions(id),
        path TEXT NOT NULL,
        hash TEXT REFERENCES blobs(hash),
        mode INTEGER,
        PRIMARY KEY (session_id, path)
    ) WITHOUT ROWID;
    CREATE TABLE baseline_git (
        session_id INTEGER PRIMARY KEY REFERENCES sessions(id),
        head TEXT,
        status TEXT NOT NULL,
        stash TEXT
    );
    "#,
    // 2: API keys of `suit serve` (the secret's sha256, never the secret),
    // their limits, and their usage.
    r#"
    CREATE TABLE api_keys (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL,
        secret_sha256 BLOB NOT NULL UNIQUE,
        created_ms INTEGER NOT NULL,
        revoked_ms INTEGER,
        max_tokens INTEGER,
        max_cost_usd REAL,
        rpm INTEGER
    );
    CREATE UNIQUE INDEX api_keys_active_name ON api_keys(name) WHERE revoked_ms IS NULL;
    CREATE TABLE api_key_usage (
        key_id INTEGER PRIMARY KEY REFERENCES api_keys(id),
        requests INTEGER NOT NULL DEFAULT 0,
        prompt_tokens INTEGER NOT NULL DEFAULT 0,
        completion_tokens INTEGER NOT NULL DEFAULT 0,
        cost_usd REAL NOT NULL DEFAULT 0,
        last_used_ms INTEGER
    );
    "#,
];

/// The newest schema version this build understands.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// [`Store`] on a SQLite file (WAL mode), safe to share between threads.
/// Several processes may open the same file: readers never block.
pub struct SqliteStore {
    path: PathBuf,
    conn: Mutex<Connection>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").field("path", &self.path).finish()
    }
}

impl SqliteStore {
    /// The default database location of a repository: `<repo>/.suit/suit.db`.
    pub fn default_path(repo_root: &Path) -> PathBuf {
        repo_root.join(".suit").join("suit.db")
    }

    /// Opens (creating it and its parent directories if needed) the database
    /// at `path`, checks it is a suit database of a known schema version and
    /// applies pending migrations.
    pub fn open(path: &Path) -> Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| Error::io("create directory", dir, e))?;
        }
        let conn = Connection::open(path).map_err(|e| map_err(path, e))?;
        let store = SqliteStore { path: path.to_path_buf(), conn: Mutex::new(conn) };
        store.init()?;
        Ok(store)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn init(&self) -> Result<()> {
        let mut conn = self.lock();
        let p = self.path.clone();
        let e = |err| map_err(&p, err);
        conn.busy_timeout(BUSY_TIMEOUT).map_err(e)?;
        // The first read of the header reveals a file that is not SQLite.
        let app_id: i64 = conn.query_row("PRAGMA application_id", [], |r| r.get(0)).map_err(e)?;
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(e)?;
        let tables: i64 =
            conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0)).map_err(e)?;
        if tables > 0 && app_id != APPLICATION_ID {
            return Err(Error::Corrupt {
                path: p.clone(),
                detail: format!(
                    "a SQLite database of another application (application_id {app_id})"
                ),
            });
        }
        if version > SCHEMA_VERSION {
            return Err(Error::NewerSchema {
                path: p.clone(),
                found: version,
                supported: SCHEMA_VERSION,
            });
        }
        let mode: String =
            conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0)).map_err(e)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(Error::Corrupt {
                path: p.clone(),
                detail: format!("cannot switch to WAL journal mode (got {mode})"),
            });
        }
        conn.execute_batch("PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;").map_err(e)?;
        if version < SCHEMA_VERSION {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Exclusive).map_err(e)?;
            // Re-read inside the lock: another process may have migrated meanwhile.
            let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(e)?;
            for (i, sql) in MIGRATIONS.iter().enumerate().skip(version.max(0) as usize) {
                tx.execute_batch(sql).map_err(e)?;
                tx.pragma_update(None, "user_version", (i + 1) as i64).map_err(e)?;
            }
            tx.pragma_update(None, "application_id", APPLICATION_ID).map_err(e)?;
            tx.commit().map_err(e)?;
        }
        // A quick structural check catches damaged pages early.
        let check: String = conn.query_row("PRAGMA quick_check(1)", [], |r| r.get(0)).map_err(e)?;
        if check != "ok" {
            return Err(Error::Corrupt { path: p, detail: check });
        }
        Ok(())
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave a transaction open
        // (rusqlite rolls back on drop), so a poisoned lock is still usable.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn write<T>(
        &self,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> rusqlite::Result<T>,
    ) -> Result<T> {
        let mut conn = self.lock();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| map_err(&self.path, e))?;
        let out = f(&tx).map_err(|e| map_err(&self.path, e))?;
        tx.commit().map_err(|e| map_err(&self.path, e))?;
        Ok(out)
    }

    pub(crate) fn read<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T> {
        let conn = self.lock();
        f(&conn).map_err(|e| map_err(&self.path, e))
    }
}

/// Maps SQLite failures to the typed errors users can act on.
fn map_err(path: &Path, err: rusqlite::Error) -> Error {
    if let rusqlite::Error::SqliteFailure(f, ref msg) = err {
        match f.code {
            ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt => {
                return Error::Corrupt {
                    path: path.to_path_buf(),
                    detail: msg.clone().unwrap_or_else(|| f.to_string()),
                }
            }
            ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => {
                return Error::Locked {
                    path: path.to_path_buf(),
                    waited_ms: BUSY_TIMEOUT.as_millis() as u64,
                }
            }
            _ => {}
        }
    }
    Error::Sqlite { path: path.to_path_buf(), cause: err }
}

pub(crate) fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// sha256 of `bytes`, lower-case hex.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

fn insert_blob(tx: &rusqlite::Transaction<'_>, bytes: &[u8]) -> rusqlite::Result<String> {
    let hash = sha256_hex(bytes);
    tx.execute(
        "INSERT OR IGNORE INTO blobs (hash, size, data) VALUES (?1, ?2, ?3)",
        params![hash, bytes.len() as i64, bytes],
    )?;
    Ok(hash)
}

fn insert_state(
    tx: &rusqlite::Transaction<'_>,
    state: &FileState,
) -> rusqlite::Result<(Option<String>, Option<u32>)> {
    Ok(match state {
        FileState::Absent => (None, None),
        FileState::Present { bytes, mode } => (Some(insert_blob(tx, bytes)?), Some(*mode)),
    })
}

fn stored(hash: Option<String>, mode: Option<u32>) -> StoredState {
    match hash {
        Some(hash) => StoredState::Present { hash, mode: mode.unwrap_or(0o644) },
        None => StoredState::Absent,
    }
}

fn session_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Session> {
    Ok(Session {
        id: r.get(0)?,
        task: r.get(1)?,
        repo_root: r.get(2)?,
        autonomy: r.get(3)?,
        created_ms: r.get(4)?,
        ended_ms: r.get(5)?,
        status: r.get(6)?,
    })
}

const SESSION_COLS: &str = "id, task, repo_root, autonomy, created_ms, ended_ms, status";

fn load_checkpoint_files(conn: &Connection, id: i64) -> rusqlite::Result<Vec<CheckpointFile>> {
    let mut stmt = conn.prepare_cached(
        "SELECT path, before_hash, before_mode, after_hash, after_mode, created_dirs
         FROM checkpoint_files WHERE checkpoint_id = ?1 ORDER BY ord",
    )?;
    let rows = stmt.query_map([id], |r| {
        Ok(CheckpointFile {
            path: r.get(0)?,
            before: stored(r.get(1)?, r.get(2)?),
            after: stored(r.get(3)?, r.get(4)?),
            created_dirs: split_dirs(&r.get::<_, String>(5)?),
        })
    })?;
    rows.collect()
}

fn append_event_tx(
    tx: &rusqlite::Transaction<'_>,
    session: SessionId,
    kind: &str,
    payload: &serde_json::Value,
) -> rusqlite::Result<i64> {
    let seq: i64 = tx.query_row(
        "SELECT COALESCE(MAX(seq), 0) + 1 FROM events WHERE session_id = ?1",
        [session],
        |r| r.get(0),
    )?;
    tx.execute(
        "INSERT INTO events (session_id, seq, at_ms, kind, payload) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![session, seq, now_ms(), kind, payload.to_string()],
    )?;
    Ok(seq)
}

fn split_dirs(s: &str) -> Vec<String> {
    s.split('\n').filter(|d| !d.is_empty()).map(str::to_string).collect()
}

fn bad_state(s: String) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        0,
        rusqlite::types::Type::Text,
        format!("unknown checkpoint state `{s}`").into(),
    )
}

impl Store for SqliteStore {
    fn create_session(&self, new: &NewSession) -> Result<SessionId> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO sessions (task, repo_root, autonomy, created_ms, status)
                 VALUES (?1, ?2, ?3, ?4, 'running')",
                params![new.task, new.repo_root, new.autonomy, now_ms()],
            )?;
            Ok(tx.last_insert_rowid())
        })
    }

    fn end_session(&self, id: SessionId, status: &str) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "UPDATE sessions SET ended_ms = ?2, status = ?3 WHERE id = ?1",
                params![id, now_ms(), status],
            )?;
            Ok(())
        })
    }

    fn session(&self, id: SessionId) -> Result<Option<Session>> {
        self.read(|c| {
            c.query_row(
                &format!("SELECT {SESSION_COLS} FROM sessions WHERE id = ?1"),
                [id],
                session_row,
            )
            .optional()
        })
    }

    fn sessions(&self, repo_root: &str) -> Result<Vec<Session>> {
        self.read(|c| {
            let mut stmt = c.prepare(&format!(
                "SELECT {SESSION_COLS} FROM sessions WHERE repo_root = ?1 ORDER BY id DESC"
            ))?;
            let rows = stmt.query_map([repo_root], session_row)?;
            rows.collect()
        })
    }

    fn append_event(
        &self,
        session: SessionId,
        kind: &str,
        payload: &serde_json::Value,
    ) -> Result<i64> {
        self.write(|tx| append_event_tx(tx, session, kind, payload))
    }

    fn events(&self, session: SessionId, after_seq: i64) -> Result<Vec<Event>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT seq, at_ms, kind, payload FROM events
                 WHERE session_id = ?1 AND seq > ?2 ORDER BY seq",
            )?;
            let rows = stmt.query_map(params![session, after_seq], |r| {
                let text: String = r.get(3)?;
                let payload = serde_json::from_str(&text).map_err(|e| {
                    rusqlite::Error::FromSqlConversionFailure(
                        3,
                        rusqlite::types::Type::Text,
                        e.into(),
                    )
                })?;
                Ok(Event { session, seq: r.get(0)?, at_ms: r.get(1)?, kind: r.get(2)?, payload })
            })?;
            rows.collect()
        })
    }

    fn put_memory(&self, repo: &str, m: &Memory) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO memories (repo, key, text, provenance, pinned, updated_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (repo, key) DO UPDATE SET text = excluded.text,
                   provenance = excluded.provenance, pinned = excluded.pinned,
                   updated_ms = excluded.updated_ms",
                params![repo, m.key, m.text, m.provenance, m.pinned, now_ms()],
            )?;
            Ok(())
        })
    }

    fn memories(&self, repo: &str) -> Result<Vec<Memory>> {
        self.read(|c| {
            let mut stmt = c.prepare(
                "SELECT key, text, provenance, pinned FROM memories
                 WHERE repo = ?1 ORDER BY pinned DESC, key",
            )?;
            let rows = stmt.query_map([repo], |r| {
                Ok(Memory {
                    key: r.get(0)?,
                    text: r.get(1)?,
                    provenance: r.get(2)?,
                    pinned: r.get(3)?,
                })
            })?;
            rows.collect()
        })
    }

    fn forget_memory(&self, repo: &str, key: &str) -> Result<bool> {
        self.write(|tx| {
            Ok(tx
                .execute("DELETE FROM memories WHERE repo = ?1 AND key = ?2", params![repo, key])?
                > 0)
        })
    }

    fn put_blob(&self, bytes: &[u8]) -> Result<String> {
        self.write(|tx| insert_blob(tx, bytes))
    }

    fn blob(&self, hash: &str) -> Result<Option<Vec<u8>>> {
        let data: Option<Vec<u8>> = self.read(|c| {
            c.query_row("SELECT data FROM blobs WHERE hash = ?1", [hash], |r| r.get(0)).optional()
        })?;
        match data {
            Some(d) if sha256_hex(&d) != hash => {
                Err(Error::MissingBlob { hash: hash.to_string(), path: self.path.clone() })
            }
            other => Ok(other),
        }
    }

    fn record_checkpoint(&self, new: &NewCheckpoint) -> Result<Checkpoint> {
        let created_ms = now_ms();
        self.write(|tx| {
            tx.execute(
                "INSERT INTO checkpoints (repo, session_id, created_ms, description, state)
                 VALUES (?1, ?2, ?3, ?4, 'pending')",
                params![new.repo, new.session, created_ms, new.description],
            )?;
            let id = tx.last_insert_rowid();
            let mut files = Vec::with_capacity(new.files.len());
            for (ord, f) in new.files.iter().enumerate() {
                let (bh, bm) = insert_state(tx, &f.before)?;
                let (ah, am) = insert_state(tx, &f.after)?;
                tx.execute(
                    "INSERT INTO checkpoint_files (checkpoint_id, ord, path,
                     before_hash, before_mode, after_hash, after_mode, created_dirs)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                    params![id, ord as i64, f.path, bh, bm, ah, am, f.created_dirs.join("\n")],
                )?;
                if let Some(s) = new.session {
                    // The first record of a path in a session is its starting state.
                    tx.execute(
                        "INSERT OR IGNORE INTO baseline_files (session_id, path, hash, mode)
                         VALUES (?1, ?2, ?3, ?4)",
                        params![s, f.path, bh, bm],
                    )?;
                }
                files.push(CheckpointFile {
                    path: f.path.clone(),
                    before: stored(bh, bm),
                    after: stored(ah, am),
                    created_dirs: f.created_dirs.clone(),
                });
            }
            if let (Some(s), Some(g)) = (new.session, &new.git) {
                tx.execute(
                    "INSERT OR IGNORE INTO baseline_git (session_id, head, status, stash)
                     VALUES (?1, ?2, ?3, ?4)",
                    params![s, g.head, g.status, g.stash],
                )?;
            }
            Ok(Checkpoint {
                id,
                repo: new.repo.clone(),
                session: new.session,
                created_ms,
                description: new.description.clone(),
                state: CheckpointState::Pending,
                files,
            })
        })
    }

    fn set_checkpoint_state(
        &self,
        id: i64,
        from: CheckpointState,
        to: CheckpointState,
    ) -> Result<bool> {
        self.write(|tx| {
            let changed = tx.execute(
                "UPDATE checkpoints SET state = ?3 WHERE id = ?1 AND state = ?2",
                params![id, from.as_str(), to.as_str()],
            )? == 1;
            let session: Option<(Option<i64>, String)> = tx
                .query_row(
                    "SELECT session_id, description FROM checkpoints WHERE id = ?1",
                    [id],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            if let (true, Some((Some(session), description))) = (changed, session) {
                let paths: Vec<String> = tx
                    .prepare_cached(
                        "SELECT path FROM checkpoint_files WHERE checkpoint_id = ?1 ORDER BY ord",
                    )?
                    .query_map([id], |r| r.get(0))?
                    .collect::<rusqlite::Result<_>>()?;
                let payload = serde_json::json!({
                    "checkpoint": id,
                    "from": from.as_str(),
                    "description": description,
                    "files": paths,
                });
                append_event_tx(tx, session, &format!("checkpoint.{}", to.as_str()), &payload)?;
            }
            Ok(changed)
        })
    }

    fn checkpoints(&self, repo: &str) -> Result<Vec<Checkpoint>> {
        self.read(|c| {
            let mut stmt = c.prepare(
                "SELECT id, session_id, created_ms, description, state
                 FROM checkpoints WHERE repo = ?1 ORDER BY id",
            )?;
            let heads = stmt
                .query_map([repo], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, Option<i64>>(1)?,
                        r.get::<_, i64>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, String>(4)?,
                    ))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            heads
                .into_iter()
                .map(|(id, session, created_ms, description, state)| {
                    Ok(Checkpoint {
                        id,
                        repo: repo.to_string(),
                        session,
                        created_ms,
                        description,
                        state: CheckpointState::parse(&state).ok_or_else(|| bad_state(state))?,
                        files: load_checkpoint_files(c, id)?,
                    })
                })
                .collect()
        })
    }

    fn has_baseline(&self, session: SessionId) -> Result<bool> {
        self.read(|c| {
            c.query_row(
                "SELECT EXISTS (SELECT 1 FROM baseline_git WHERE session_id = ?1)
                     OR EXISTS (SELECT 1 FROM baseline_files WHERE session_id = ?1)",
                [session],
                |r| r.get(0),
            )
        })
    }

    fn baseline(&self, session: SessionId) -> Result<Option<SessionBaseline>> {
        self.read(|c| {
            let git = c
                .query_row(
                    "SELECT head, status, stash FROM baseline_git WHERE session_id = ?1",
                    [session],
                    |r| Ok(GitSnapshot { head: r.get(0)?, status: r.get(1)?, stash: r.get(2)? }),
                )
                .optional()?;
            let mut stmt = c.prepare(
                "SELECT path, hash, mode FROM baseline_files WHERE session_id = ?1 ORDER BY path",
            )?;
            let files = stmt
                .query_map([session], |r| Ok((r.get(0)?, stored(r.get(1)?, r.get(2)?))))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok((git.is_some() || !files.is_empty()).then_some(SessionBaseline { git, files }))
        })
    }
}
