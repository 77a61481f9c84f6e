//! Demo clean file metadata: 24,000 known-good files of ten vendors'
//! products (file names, sizes, versions as a software catalogue has them)
//! from two sources — a generated NSRL-style release and a vendor
//! catalogue — plus the running `isx` binary itself, so that
//! `isx scan <dir with isx>` finds one known-good file at once. Hashes of
//! generated files are digests of their descriptions (SHA-1 and MD5 are
//! taken from further digests: demo values, not files you can find).
//! Fixed seed: every demo looks the same.

use std::io::Read;

use isx_cleanfiles::{CleanFile, Md5, Sha1};
use isx_domain::Timestamp;
use sha2::{Digest, Sha256};

use super::demo_urls::Rng;
use super::Ctx;

/// (vendor, product, versions, file names)
const CATALOGUE: &[(&str, &str, &[&str], &[&str])] = &[
    (
        "Microsoft Corporation",
        "Windows 11",
        &["22H2", "23H2", "24H2"],
        &[
            "kernel32.dll",
            "ntdll.dll",
            "user32.dll",
            "explorer.exe",
            "svchost.exe",
            "lsass.exe",
            "winlogon.exe",
            "advapi32.dll",
            "combase.dll",
            "msvcp_win.dll",
        ],
    ),
    (
        "Microsoft Corporation",
        "Microsoft 365 Apps",
        &["2408", "2409", "2410"],
        &[
            "WINWORD.EXE",
            "EXCEL.EXE",
            "OUTLOOK.EXE",
            "mso.dll",
            "mso20win32client.dll",
        ],
    ),
    (
        "Canonical Ltd.",
        "Ubuntu",
        &["22.04", "24.04"],
        &[
            "libc.so.6",
            "bash",
            "systemd",
            "sshd",
            "libssl.so.3",
            "python3.12",
            "coreutils",
        ],
    ),
    (
        "Red Hat, Inc.",
        "Red Hat Enterprise Linux",
        &["8.10", "9.4"],
        &["libc.so.6", "httpd", "openssl", "sudo", "rpm"],
    ),
    (
        "Mozilla Foundation",
        "Firefox",
        &["128.3.0", "131.0.2", "132.0"],
        &["firefox.exe", "xul.dll", "nss3.dll", "mozglue.dll"],
    ),
    (
        "Google LLC",
        "Chrome",
        &["129.0.6668.100", "130.0.6723.92"],
        &["chrome.exe", "chrome.dll", "chrome_elf.dll"],
    ),
    (
        "Adobe Inc.",
        "Acrobat Reader",
        &["24.003.20180", "24.004.20219"],
        &["AcroRd32.exe", "AcroRd32.dll", "Acrobat.dll"],
    ),
    (
        "Oracle Corporation",
        "Java SE Runtime",
        &["8u431", "21.0.5", "23.0.1"],
        &["java.exe", "jvm.dll", "javaw.exe"],
    ),
    (
        "Apple Inc.",
        "macOS",
        &["14.7", "15.1"],
        &["launchd", "WindowServer", "Safari", "libSystem.B.dylib"],
    ),
    (
        "Cisco Systems, Inc.",
        "Secure Client",
        &["5.1.5.65", "5.1.6.103"],
        &["vpnagent.exe", "vpnui.exe", "vpnapi.dll"],
    ),
];

fn digest(text: &str) -> [u8; 32] {
    Sha256::digest(text.as_bytes()).into()
}

/// The demo files, `count` of them, plus the running binary.
pub fn generate(count: usize, now: Timestamp) -> Vec<CleanFile> {
    let mut rng = Rng(0xc1ea_f11e);
    let mut out = Vec::with_capacity(count + 1);
    for i in 0..count {
        let (vendor, product, versions, names) = rng.pick(CATALOGUE);
        let version = rng.pick(versions);
        let name = rng.pick(names);
        // Builds and language packs make several files of one name.
        let build = rng.below(400);
        let described = format!("{vendor}/{product}/{version}/{build}/{name}/{i}");
        let sha1: [u8; 32] = digest(&format!("sha1:{described}"));
        let md5: [u8; 32] = digest(&format!("md5:{described}"));
        let source = if i % 4 == 0 {
            "Vendor catalogue (demo)"
        } else {
            "NSRL RDS 2025.09.1 (demo)"
        };
        out.push(CleanFile {
            sha256: isx_cleanfiles::Sha256(digest(&described)),
            sha1: Sha1::from_slice(&sha1[..20]),
            md5: Md5::from_slice(&md5[..16]),
            size: Some(4096 + rng.below(40 << 20)),
            file_name: (*name).to_owned(),
            product: Some((*product).to_owned()),
            version: Some((*version).to_owned()),
            vendor: Some((*vendor).to_owned()),
            source: source.to_owned(),
            published: Some(now.add_secs(-(rng.below(400) as i64) * 86_400)),
            // The CRC32 and OS NSRL gives (synthetic, like the hashes).
            crc32: (i % 4 != 0).then(|| {
                let d = digest(&format!("crc32:{described}"));
                u32::from_be_bytes([d[0], d[1], d[2], d[3]])
            }),
            os_name: Some(os_of(product).to_owned()),
            os_version: None,
            special_code: None,
            // Each file ships in its product's installer package.
            parents: vec![package_of(vendor, product, version).sha256],
        });
    }
    // The installer packages themselves: known-good files whose children
    // are the files above (hashlookup's `/children`).
    let mut packages: Vec<CleanFile> = CATALOGUE
        .iter()
        .flat_map(|(vendor, product, versions, _)| {
            versions.iter().map(move |v| {
                let mut p = package_of(vendor, product, v);
                p.published = Some(now.add_secs(-30 * 86_400));
                p
            })
        })
        .collect();
    out.append(&mut packages);
    if let Some(me) = this_binary(now) {
        out.push(me);
    }
    out
}

/// The operating system a demo product ships for.
fn os_of(product: &str) -> &'static str {
    match product {
        "macOS" => "macOS",
        "Java SE Runtime" => "Windows",
        _ if product.contains("Ubuntu") || product.contains("Linux") => "Linux",
        _ => "Windows",
    }
}

/// The installer package of a demo product version.
fn package_of(vendor: &str, product: &str, version: &str) -> CleanFile {
    let described = format!("package:{vendor}/{product}/{version}");
    let sha1 = digest(&format!("sha1:{described}"));
    let md5 = digest(&format!("md5:{described}"));
    let mut p = CleanFile::bare(
        isx_cleanfiles::Sha256(digest(&described)),
        "Vendor catalogue (demo)",
    );
    p.sha1 = Sha1::from_slice(&sha1[..20]);
    p.md5 = Md5::from_slice(&md5[..16]);
    p.file_name = format!("{}-{version}-installer.pkg", product.replace(' ', "-"));
    p.product = Some(product.to_owned());
    p.version = Some(version.to_owned());
    p.vendor = Some(vendor.to_owned());
    p.size = Some(64 << 20);
    p
}

/// The running `isx` executable as a known-good file.
fn this_binary(now: Timestamp) -> Option<CleanFile> {
    let path = std::env::current_exe().ok()?;
    let mut f = std::fs::File::open(&path).ok()?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let n = f.read(&mut buf).ok()?;
        if n == 0 {
            break;
        }
        size += n as u64;
        h.update(&buf[..n]);
    }
    let mut file = CleanFile::bare(
        isx_cleanfiles::Sha256(h.finalize().into()),
        "isx build (demo)",
    );
    file.file_name = path.file_name()?.to_string_lossy().into_owned();
    file.size = Some(size);
    file.product = Some("isx".into());
    file.version = Some(env!("CARGO_PKG_VERSION").into());
    file.vendor = Some("isx project".into());
    file.published = Some(now);
    Some(file)
}

pub async fn seed(ctx: &Ctx) -> anyhow::Result<()> {
    let now = ctx.clock.now();
    let files = generate(24_000, now);
    for chunk in files.chunks(10_000) {
        ctx.store.import_clean_files(chunk, now).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_files_are_valid_and_distinct() {
        let files = generate(2_000, Timestamp::from_secs(1_800_000_000));
        let mut seen = std::collections::HashSet::new();
        for f in &files {
            assert_eq!(f.clone().normalise().ok().as_ref(), Some(f));
            assert!(seen.insert(f.sha256), "one record per SHA-256");
        }
        assert!(files.len() >= 2_000);
    }
}
