//! Random tokens and password hashing.

use argon2::{Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version};
use sha2::{Digest, Sha256};

use crate::PasswordCost;
use crate::error::AppError;

/// 256 random bits as lower-case hex: session ids, invitation tokens, CSRF tokens.
pub fn random_token() -> Result<String, AppError> {
    Ok(hex::encode(random_bytes::<32>()?))
}

pub fn random_bytes<const N: usize>() -> Result<[u8; N], AppError> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).map_err(|e| AppError::Internal(format!("random: {e}")))?;
    Ok(b)
}

/// Tokens are stored only as their SHA-256: 256 random bits need no slow hash.
pub fn token_digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn hasher(cost: PasswordCost) -> Result<Argon2<'static>, AppError> {
    let params = Params::new(cost.memory_kib, cost.iterations, cost.parallelism, None)
        .map_err(|e| AppError::Internal(format!("argon2 params: {e}")))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

pub fn hash_password_sync(password: &str, cost: PasswordCost) -> Result<String, AppError> {
    let salt = random_bytes::<16>()?;
    hasher(cost)?
        .hash_password_with_salt(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::Internal(format!("argon2: {e}")))
}

/// Hashing takes tens of milliseconds of CPU: keep it off the async workers.
pub async fn hash_password(password: String, cost: PasswordCost) -> Result<String, AppError> {
    tokio::task::spawn_blocking(move || hash_password_sync(&password, cost))
        .await
        .map_err(|e| AppError::Internal(format!("join: {e}")))?
}

/// Verifies against the parameters stored in the PHC string itself, so a change of cost
/// keeps old hashes valid.
pub async fn verify_password(password: String, phc: String) -> Result<bool, AppError> {
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .verify_password(password.as_bytes(), phc.as_str())
            .is_ok()
    })
    .await
    .map_err(|e| AppError::Internal(format!("join: {e}")))
}
