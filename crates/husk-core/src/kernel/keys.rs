//! Keys: how a kernel is locked ([`Lock`]: X25519 recipients or a passphrase) and opened
//! ([`Key`]: X25519 identities or a passphrase), identity files in the stock `age-keygen`
//! format, and the age layer's header checks (work factor, version) done before age runs.

use super::error::KernelError;
use super::fsutil;
use super::Result;
use age::secrecy::{ExposeSecret, SecretString};
use std::io::{self, BufRead, Read, Write};
use std::path::Path;
use std::str::FromStr;

/// scrypt work factor (log2 N) used when writing a passphrase kernel.
pub const WRITE_WORK_FACTOR: u8 = 18;
/// Largest scrypt work factor accepted when reading; anything above is refused at once.
pub const MAX_WORK_FACTOR: u8 = 20;

/// How a kernel is locked.
pub enum Lock {
    /// To one or more X25519 recipients (`age1…`).
    Recipients(Vec<age::x25519::Recipient>),
    /// To a passphrase (scrypt, work factor [`WRITE_WORK_FACTOR`]).
    Passphrase(SecretString),
}

/// How a kernel is opened.
pub enum Key {
    /// With X25519 identities (`AGE-SECRET-KEY-1…`).
    Identities(Vec<age::x25519::Identity>),
    /// With a passphrase.
    Passphrase(SecretString),
}

impl std::fmt::Debug for Lock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Lock::Recipients(r) => write!(f, "Lock::Recipients({} recipients)", r.len()),
            Lock::Passphrase(_) => f.write_str("Lock::Passphrase(..)"),
        }
    }
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Key::Identities(i) => write!(f, "Key::Identities({} identities)", i.len()),
            Key::Passphrase(_) => f.write_str("Key::Passphrase(..)"),
        }
    }
}

/// A fresh X25519 identity: the secret (`AGE-SECRET-KEY-1…`) and its recipient (`age1…`).
pub fn generate_identity() -> (SecretString, String) {
    let id = age::x25519::Identity::generate();
    (id.to_string(), id.to_public().to_string())
}

/// Write a fresh identity to `path` (mode 0600, never overwriting) in the `age-keygen` format
/// that the stock `age -d -i` reads. Returns the recipient.
pub fn write_identity_file(path: &Path, created: &str) -> Result<String> {
    let (secret, recipient) = generate_identity();
    let mut text = zeroize::Zeroizing::new(String::new());
    text.push_str(&format!("# created: {created}\n# public key: {recipient}\n"));
    text.push_str(secret.expose_secret());
    text.push('\n');
    fsutil::write_new_private(path, text.as_bytes())?;
    Ok(recipient)
}

/// Parse identities from `age-keygen` text: comments and blank lines are skipped, every other
/// line must be an `AGE-SECRET-KEY-1…` X25519 identity.
pub fn parse_identities(text: &str, path: &Path) -> Result<Vec<age::x25519::Identity>> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match age::x25519::Identity::from_str(line) {
            Ok(id) => out.push(id),
            Err(_) => return Err(KernelError::InvalidIdentity { path: path.to_path_buf(), line: i + 1 }),
        }
    }
    if out.is_empty() {
        return Err(KernelError::InvalidIdentity { path: path.to_path_buf(), line: 0 });
    }
    Ok(out)
}

/// Read an identity file.
pub fn read_identity_file(path: &Path) -> Result<Key> {
    let mut f = std::fs::File::open(path).map_err(|e| KernelError::io("open", path, e))?;
    let mut text = zeroize::Zeroizing::new(String::new());
    f.read_to_string(&mut text).map_err(|e| KernelError::io("read", path, e))?;
    Ok(Key::Identities(parse_identities(&text, path)?))
}

/// Parse recipients, one per line (`#` comments and blank lines skipped).
pub fn parse_recipients(text: &str) -> Result<Vec<age::x25519::Recipient>> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        out.push(
            age::x25519::Recipient::from_str(line)
                .map_err(|_| KernelError::InvalidRecipient { line: i + 1 })?,
        );
    }
    if out.is_empty() {
        return Err(KernelError::NoKey { detail: "the recipient list is empty" });
    }
    Ok(out)
}

/// Wrap `out` in an age encryptor for `lock`.
pub(crate) fn encrypt_to<W: Write>(lock: &Lock, out: W) -> Result<age::stream::StreamWriter<W>> {
    let enc = match lock {
        Lock::Recipients(rs) => {
            if rs.is_empty() {
                return Err(KernelError::NoKey { detail: "no recipient" });
            }
            age::Encryptor::with_recipients(rs.iter().map(|r| r as &dyn age::Recipient))
                .map_err(|e| KernelError::Encrypt { detail: e.to_string() })?
        }
        Lock::Passphrase(p) => {
            if p.expose_secret().is_empty() {
                return Err(KernelError::NoKey { detail: "the passphrase is empty" });
            }
            let mut r = age::scrypt::Recipient::new(p.clone());
            r.set_work_factor(WRITE_WORK_FACTOR);
            age::Encryptor::with_recipients(std::iter::once(&r as &dyn age::Recipient))
                .map_err(|e| KernelError::Encrypt { detail: e.to_string() })?
        }
    };
    enc.wrap_output(out).map_err(|e| KernelError::io("write", "<kernel stream>", e))
}

/// What the header pre-scan learned.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct HeaderScan {
    /// Byte length of the binary header including the `---` line (None: not found / armored).
    #[allow(dead_code)]
    pub header_len: Option<usize>,
    /// Whitespace before an armored file, to be skipped (age's armor reader does not).
    pub skip: usize,
    /// The input starts with the binary age v1 version line.
    pub binary_v1: bool,
}

/// Look at the start of the file before age parses it: refuse an scrypt work factor above
/// [`MAX_WORK_FACTOR`] at once, and tell "not age", "other version" and "cut inside the
/// header" apart. Armored input is left to age.
pub(crate) fn precheck_header<R: BufRead>(input: &mut R) -> Result<HeaderScan> {
    // Fill up to 64 KiB without consuming it: BufReader::fill_buf returns one read's worth.
    let buf = input.fill_buf().map_err(|e| KernelError::io("read", "<kernel>", e))?;
    if buf.is_empty() {
        return Err(KernelError::NotAgeFile { detail: "the file is empty" });
    }
    let start = buf.iter().position(|b| !b" \t\r\n".contains(b)).unwrap_or(buf.len());
    if buf[start..].starts_with(b"-----BEGIN AGE ENCRYPTED FILE-----") {
        return Ok(HeaderScan { header_len: None, skip: start, binary_v1: false });
    }
    const V1: &[u8] = b"age-encryption.org/v1\n";
    const PREFIX: &[u8] = b"age-encryption.org/";
    if !buf.starts_with(V1) {
        if buf.starts_with(PREFIX) && buf.len() > PREFIX.len() && !V1.starts_with(buf) {
            let end = buf.iter().position(|&b| b == b'\n').unwrap_or(buf.len()).min(64);
            let found = String::from_utf8_lossy(&buf[..end]).into_owned();
            return Err(KernelError::UnsupportedVersion { found });
        }
        if V1.starts_with(buf) {
            return Err(KernelError::NotAgeFile {
                detail: "the header is incomplete (the file is truncated)",
            });
        }
        return Err(KernelError::NotAgeFile { detail: "it does not start with the age v1 header line" });
    }
    let mut pos = 0usize;
    let mut header_len = None;
    let mut in_body = false;
    for line in buf[V1.len()..].split_inclusive(|&b| b == b'\n') {
        pos += line.len();
        let bare = line.strip_suffix(b"\n").unwrap_or(line);
        if in_body {
            // Stanza bodies are 64-column base64 lines ending with a shorter (maybe empty) one.
            if bare.starts_with(b"-") {
                return Err(KernelError::NotAgeFile {
                    detail: "a header stanza lacks its final short body line",
                });
            }
            if bare.len() < 64 {
                in_body = false;
            }
            continue;
        }
        if line.starts_with(b"---") {
            header_len = Some(V1.len() + pos);
            break;
        }
        in_body = line.starts_with(b"-> ");
        if let Some(rest) = line.strip_prefix(b"-> scrypt ") {
            let rest = rest.strip_suffix(b"\n").unwrap_or(rest);
            let args: Vec<&[u8]> = rest.split(|&b| b == b' ').collect();
            if let Some(wf) = args.get(1) {
                if !wf.is_empty() && wf.iter().all(u8::is_ascii_digit) && !(wf.len() > 1 && wf[0] == b'0') {
                    let found =
                        std::str::from_utf8(wf).ok().and_then(|s| s.parse::<u64>().ok()).unwrap_or(u64::MAX);
                    if found > u64::from(MAX_WORK_FACTOR) {
                        return Err(KernelError::WorkFactorTooHigh { found, max: MAX_WORK_FACTOR });
                    }
                }
            }
        }
    }
    Ok(HeaderScan { header_len, skip: 0, binary_v1: true })
}

/// Map age's header-stage errors onto Husk's classes.
pub(crate) fn map_decrypt_error(e: age::DecryptError) -> KernelError {
    use age::DecryptError as D;
    match e {
        D::NoMatchingKeys | D::DecryptionFailed | D::KeyDecryptionFailed => KernelError::WrongKey,
        D::ExcessiveWork { required, .. } => {
            KernelError::WorkFactorTooHigh { found: u64::from(required), max: MAX_WORK_FACTOR }
        }
        D::InvalidHeader => KernelError::NotAgeFile { detail: "the age header is malformed" },
        D::InvalidMac => KernelError::Tampered { detail: "the header MAC does not match" },
        D::UnknownFormat => KernelError::UnsupportedVersion { found: "an unknown age format version".into() },
        D::Io(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
            KernelError::NotAgeFile { detail: "the header is incomplete (the file is truncated)" }
        }
        D::Io(e) => map_stream_error(&e, "<kernel>"),
        #[allow(unreachable_patterns)]
        _ => KernelError::NotAgeFile { detail: "age rejected the header" },
    }
}

/// Map an error raised while reading decrypted payload (or the header) onto Husk's classes.
pub(crate) fn map_stream_error(e: &io::Error, path: &str) -> KernelError {
    match e.kind() {
        io::ErrorKind::UnexpectedEof => {
            KernelError::Truncated { detail: "the encrypted stream ends before its final chunk" }
        }
        io::ErrorKind::InvalidData => {
            let m = e.to_string();
            if m == "decryption error" || m.contains("chunk") || m.contains("STREAM") {
                KernelError::Tampered { detail: "a payload chunk failed authentication" }
            } else {
                KernelError::NotAgeFile { detail: "the ASCII armor is malformed" }
            }
        }
        _ => KernelError::io("read", path, io::Error::new(e.kind(), e.to_string())),
    }
}

/// Decrypt `input` with `key`, after the header pre-scan.
/// `binary_v1`: the pre-scan saw the v1 version line, so age's "unknown format" can only mean
/// a malformed v1 header.
pub(crate) fn open<R: Read>(
    input: R,
    key: &Key,
    binary_v1: bool,
) -> Result<age::stream::StreamReader<age::armor::ArmoredReader<io::BufReader<R>>>> {
    let map_decrypt_error = |e: age::DecryptError| match e {
        age::DecryptError::UnknownFormat if binary_v1 => {
            KernelError::NotAgeFile { detail: "the age header is malformed" }
        }
        e => map_decrypt_error(e),
    };
    let dec = age::Decryptor::new(age::armor::ArmoredReader::new(input)).map_err(map_decrypt_error)?;
    match key {
        Key::Identities(ids) => {
            if ids.is_empty() {
                return Err(KernelError::NoKey { detail: "no identity" });
            }
            dec.decrypt(ids.iter().map(|i| i as &dyn age::Identity)).map_err(map_decrypt_error)
        }
        Key::Passphrase(p) => {
            let mut id = age::scrypt::Identity::new(p.clone());
            id.set_max_work_factor(MAX_WORK_FACTOR);
            dec.decrypt(std::iter::once(&id as &dyn age::Identity)).map_err(map_decrypt_error)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_factor_above_twenty_is_refused_before_age_runs() {
        let hdr = b"age-encryption.org/v1\n-> scrypt rF0/NwblUHHTpgQgRpe5CQ 23\nqW9eVsT0NVb/Vswtw8kPIxUnaYmm9Px1dYmq2+4+qZA\n--- 38TpQMxQRRNMfmYYpBX6DDrPx4/QY5UmJnhPyarm\n";
        let mut r = io::BufReader::new(&hdr[..]);
        match precheck_header(&mut r) {
            Err(KernelError::WorkFactorTooHigh { found: 23, max: 20 }) => {}
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn header_classes() {
        let mut r = io::BufReader::new(&b"age-encryption.org/v2\n-> x\n"[..]);
        assert!(matches!(precheck_header(&mut r), Err(KernelError::UnsupportedVersion { .. })));
        let mut r = io::BufReader::new(&b"age-encrypt"[..]);
        assert!(matches!(precheck_header(&mut r), Err(KernelError::NotAgeFile { .. })));
        let mut r = io::BufReader::new(&b"hello world"[..]);
        assert!(matches!(precheck_header(&mut r), Err(KernelError::NotAgeFile { .. })));
    }

    #[test]
    fn recipients_parse_and_reject() {
        let (_, r) = generate_identity();
        assert_eq!(parse_recipients(&format!("# mine\n{r}\n\n")).unwrap().len(), 1);
        assert!(matches!(parse_recipients("age1nope\n"), Err(KernelError::InvalidRecipient { line: 1 })));
    }

    #[test]
    fn debug_never_shows_secrets() {
        let (s, _) = generate_identity();
        let k = Key::Passphrase(SecretString::from("hunter2".to_string()));
        assert!(!format!("{k:?}").contains("hunter2"));
        let k = Key::Identities(parse_identities(s.expose_secret(), Path::new("k")).unwrap());
        assert!(!format!("{k:?}").contains("AGE-SECRET"));
    }
}
