//! The data directory's own files: private by default.

use std::path::Path;

use crate::AppError;

/// Creates `dir` (and its parents) if missing and makes it mode 0700: the
/// data directory holds the store (webhook secrets, key hashes), the TLS
/// and feed-signing keys.
pub fn private_dir(dir: &Path) -> Result<(), AppError> {
    let io = |source| AppError::Io {
        path: dir.to_owned(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(io)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(io)?;
    }
    Ok(())
}

/// Writes a file only its owner reads (mode 0600): private keys.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<(), AppError> {
    use std::io::Write;
    let io = |source| AppError::Io {
        path: path.to_owned(),
        source,
    };
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path).map_err(io)?;
    f.write_all(bytes).map_err(io)
}
