//! Time-based one-time passwords (RFC 6238, HMAC-SHA1, 6 digits, 30-second steps) and
//! recovery codes.
//!
//! Written here rather than taken from a crate because the replay rule needs the matched
//! time step (a code is refused once its step, or an earlier one, has been used) and the
//! domain may not read the clock; the arithmetic is a few lines checked against the RFC's
//! own test vectors below.

use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use unicode_normalization::UnicodeNormalization;

pub const STEP_SECONDS: i64 = 30;
pub const DIGITS: u32 = 6;
/// Steps accepted either side of now, for clocks that drift a little.
pub const WINDOW: i64 = 1;
pub const SECRET_BYTES: usize = 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TotpError {
    #[error("確認コードは6桁の数字で入力してください。")]
    Format,
    #[error("確認コードが正しくないか、有効期限が切れています。")]
    Mismatch,
    #[error("この確認コードはすでに使われています。次のコードが表示されるまでお待ちください。")]
    Reused,
}

impl TotpError {
    pub fn code(self) -> &'static str {
        match self {
            TotpError::Format => "totp_format",
            TotpError::Mismatch => "totp_mismatch",
            TotpError::Reused => "totp_reused",
        }
    }
}

/// The HOTP value of `counter` (RFC 4226 §5.3).
pub fn hotp(secret: &[u8], counter: u64) -> u32 {
    let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(secret) else {
        return 0;
    };
    mac.update(&counter.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest.get(19).copied().unwrap_or(0) & 0x0f);
    let word = digest
        .get(offset..offset + 4)
        .map_or(0, |b| u32::from_be_bytes([b[0] & 0x7f, b[1], b[2], b[3]]));
    word % 10u32.pow(DIGITS)
}

pub fn step_of(unix_seconds: i64) -> i64 {
    unix_seconds.div_euclid(STEP_SECONDS)
}

/// Checks `input` against the steps around `unix_seconds`. Returns the matched step, which
/// the caller stores: a step at or before the last one used is refused as a replay.
pub fn verify(
    secret: &[u8],
    input: &str,
    unix_seconds: i64,
    last_used_step: Option<i64>,
) -> Result<i64, TotpError> {
    let digits: String = input
        .nfkc()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    if digits.len() != DIGITS as usize || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(TotpError::Format);
    }
    let Ok(value) = digits.parse::<u32>() else {
        return Err(TotpError::Format);
    };
    let now = step_of(unix_seconds);
    let matched = (now - WINDOW..=now + WINDOW)
        .filter(|s| *s >= 0)
        .find(|s| hotp(secret, u64::try_from(*s).unwrap_or(0)) == value);
    match matched {
        None => Err(TotpError::Mismatch),
        Some(step) if last_used_step.is_some_and(|last| step <= last) => Err(TotpError::Reused),
        Some(step) => Ok(step),
    }
}

pub fn encode_secret(secret: &[u8]) -> String {
    base32::encode(base32::Alphabet::Rfc4648 { padding: false }, secret)
}

pub fn decode_secret(text: &str) -> Option<Vec<u8>> {
    base32::decode(base32::Alphabet::Rfc4648 { padding: false }, text)
}

/// The `otpauth://` URI that authenticator apps read from the enrolment QR code.
pub fn provisioning_uri(secret: &[u8], account: &str, issuer: &str) -> String {
    let enc = |s: &str| -> String {
        s.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                    char::from(b).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect()
    };
    format!(
        "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}",
        enc(issuer),
        enc(account),
        encode_secret(secret),
        enc(issuer)
    )
}

/// Recovery codes are shown once, as `XXXXX-XXXXX`, and stored only as a SHA-256 digest;
/// 50 random bits each make a slow hash unnecessary.
pub const RECOVERY_CODES: usize = 10;

pub fn format_recovery_code(random: &[u8; 7]) -> String {
    let s = base32::encode(base32::Alphabet::Crockford, random);
    let s: String = s.chars().take(10).collect();
    format!("{}-{}", &s[..5], &s[5..])
}

pub fn normalise_recovery_code(input: &str) -> String {
    input
        .nfkc()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

pub fn recovery_code_digest(input: &str) -> String {
    hex::encode(Sha256::digest(normalise_recovery_code(input).as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 6238 Appendix B, SHA-1 seed, 8-digit values reduced to 6 digits.
    const SEED: &[u8] = b"12345678901234567890";

    #[test]
    fn matches_the_rfc_6238_vectors() {
        for (t, eight) in [
            (59_i64, 94_287_082_u32),
            (1_111_111_109, 7_081_804),
            (1_111_111_111, 14_050_471),
            (1_234_567_890, 89_005_924),
            (2_000_000_000, 69_279_037),
            (20_000_000_000, 65_353_130),
        ] {
            let step = u64::try_from(step_of(t)).unwrap();
            assert_eq!(hotp(SEED, step), eight % 1_000_000, "t = {t}");
        }
    }

    #[test]
    fn accepts_a_neighbouring_step_and_returns_it() {
        let t = 1_234_567_890;
        let code = format!("{:06}", hotp(SEED, u64::try_from(step_of(t) - 1).unwrap()));
        assert_eq!(verify(SEED, &code, t, None), Ok(step_of(t) - 1));
        let far = format!("{:06}", hotp(SEED, u64::try_from(step_of(t) - 3).unwrap()));
        assert_eq!(verify(SEED, &far, t, None), Err(TotpError::Mismatch));
    }

    #[test]
    fn a_used_code_is_refused() {
        let t = 1_234_567_890;
        let code = format!("{:06}", hotp(SEED, u64::try_from(step_of(t)).unwrap()));
        let step = verify(SEED, &code, t, None).unwrap();
        assert_eq!(
            verify(SEED, &code, t + 5, Some(step)),
            Err(TotpError::Reused)
        );
        // an older code within the window is refused too once a later one was used
        let older = format!("{:06}", hotp(SEED, u64::try_from(step - 1).unwrap()));
        assert_eq!(verify(SEED, &older, t, Some(step)), Err(TotpError::Reused));
    }

    #[test]
    fn full_width_digits_and_spaces_are_accepted() {
        let t = 59;
        let code = format!("{:06}", hotp(SEED, 1));
        let wide: String = code
            .chars()
            .map(|c| char::from_u32(u32::from(c) - u32::from('0') + 0xFF10).unwrap())
            .collect();
        let spaced = format!("{} {}", &wide[..9], &wide[9..]);
        assert_eq!(verify(SEED, &spaced, t, None), Ok(1));
        assert_eq!(verify(SEED, "12345", t, None), Err(TotpError::Format));
        assert_eq!(verify(SEED, "abcdef", t, None), Err(TotpError::Format));
    }

    #[test]
    fn secrets_round_trip_through_base32() {
        let s = [7u8; SECRET_BYTES];
        assert_eq!(decode_secret(&encode_secret(&s)).unwrap(), s.to_vec());
        let uri = provisioning_uri(&s, "tanaka@example", "Ryoritsu");
        assert!(uri.starts_with("otpauth://totp/Ryoritsu:tanaka%40example?secret="));
        assert!(uri.contains("period=30"));
    }

    #[test]
    fn recovery_codes_normalise_before_hashing() {
        let code = format_recovery_code(&[1, 2, 3, 4, 5, 6, 7]);
        assert_eq!(code.len(), 11);
        assert_eq!(
            recovery_code_digest(&code),
            recovery_code_digest(&code.to_lowercase().replace('-', " "))
        );
    }
}
