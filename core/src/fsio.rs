//! Crash-safe file replacement, one way for every file memacct writes (pool
//! checkpoints, saved dictionaries): a new temporary file beside the target,
//! created exclusively under a random name (`.NAME.tmp-<16 hex>`, never written
//! through a file or symlink planted there), filled, fsynced, renamed over the
//! target, then the directory fsynced. Readers see the old file or the new
//! one, never a partial one; a failed write leaves no temporary file behind.

use std::collections::hash_map::RandomState;
use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::hash::BuildHasher;
use std::io;
use std::path::{Path, PathBuf};

/// Replaces `path` with what `fill` writes into the temporary file. The
/// errors are the OS's own (`raw_os_error()` set where the OS gave a number:
/// the reason this is not `tempfile`, which wraps them), for the caller to
/// put in context.
pub fn write_atomically(
    path: &Path,
    fill: impl FnOnce(&mut File) -> io::Result<()>,
) -> io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path.file_name().ok_or_else(|| {
        let what = if path.as_os_str().is_empty() {
            "the path is empty".to_owned()
        } else {
            format!("{} names no file", path.display())
        };
        io::Error::new(io::ErrorKind::InvalidInput, what)
    })?;
    refuse_special(path)?;
    let (tmp, mut file) = create_temporary(dir, name)?;
    let written = fill(&mut file)
        .and_then(|()| file.sync_all())
        .and_then(|()| fs::rename(&tmp, path));
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    sync_dir(dir)
}

/// Refuses to replace anything at `path` but a regular file or a symlink
/// (which the rename replaces, not its target): renaming over a device, FIFO
/// or socket would swap it for a regular file (`/dev/null`, say).
fn refuse_special(path: &Path) -> io::Result<()> {
    match fs::symlink_metadata(path) {
        Ok(meta) if !meta.is_file() && !meta.file_type().is_symlink() => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "{} exists and is not a regular file; it is never replaced",
                path.display()
            ),
        )),
        _ => Ok(()),
    }
}

/// A new file `.NAME.tmp-XXXXXXXXXXXXXXXX` in `dir` (random suffix),
/// created exclusively (`O_EXCL`: an existing file or symlink there is never
/// opened) and readable by its owner only.
fn create_temporary(dir: &Path, name: &std::ffi::OsStr) -> io::Result<(PathBuf, File)> {
    let random = RandomState::new();
    let mut attempt = 0u64;
    loop {
        let mut tmp_name = OsString::from(".");
        tmp_name.push(name);
        tmp_name.push(format!(".tmp-{:016x}", random.hash_one(attempt)));
        let tmp = dir.join(tmp_name);
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        match options.open(&tmp) {
            Ok(file) => return Ok((tmp, file)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && attempt < 16 => attempt += 1,
            Err(e) => return Err(e),
        }
    }
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> io::Result<()> {
    // Directories cannot be opened for syncing here; the rename is the commit.
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn a_failed_fill_keeps_the_old_file_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        write_atomically(&p, |f| f.write_all(b"old")).unwrap();
        let err = write_atomically(&p, |f| {
            f.write_all(b"partial")?;
            Err(io::Error::other("stop"))
        })
        .unwrap_err();
        assert_eq!(err.to_string(), "stop");
        assert_eq!(std::fs::read(&p).unwrap(), b"old");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        let none = write_atomically(Path::new("/"), |_| Ok(())).unwrap_err();
        assert_eq!(none.kind(), io::ErrorKind::InvalidInput);
        let empty = write_atomically(Path::new(""), |_| Ok(())).unwrap_err();
        assert_eq!(empty.to_string(), "the path is empty");
        // A missing directory is the OS's error, with its number.
        let missing = dir.path().join("no").join("f");
        let err = write_atomically(&missing, |_| Ok(())).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert!(err.raw_os_error().is_some(), "{err:?}");
    }
}
