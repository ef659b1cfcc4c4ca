//! Signing keys: generation, the public JWK, and sealing the private half at rest.
//!
//! One key has one algorithm, fixed when it is made; verification takes the algorithm from the
//! key a token's `kid` names, never from the token.

use std::fmt;

use std::sync::Arc;

use aws_lc_rs::{
    aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey},
    encoding::{AsDer, Pkcs8V1Der},
    rand::{SecureRandom, SystemRandom},
    rsa::KeySize,
    signature::{
        ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RSA_PKCS1_SHA256,
        RsaKeyPair,
    },
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use serde_json::{Value, json};
use zeroize::Zeroizing;

/// The algorithms hallpass signs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SigningAlg {
    /// Ed25519 (the default).
    EdDSA,
    /// ECDSA P-256 with SHA-256.
    ES256,
    /// RSASSA-PKCS1-v1_5 with SHA-256 and a 2048-bit key, for clients that know nothing newer.
    RS256,
    /// HMAC-SHA-256 with a 256-bit secret: no public key, so no JWKS; only hallpass itself (or
    /// whoever is given the secret) can verify.
    HS256,
}

impl SigningAlg {
    /// The JOSE name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::EdDSA => "EdDSA",
            Self::ES256 => "ES256",
            Self::RS256 => "RS256",
            Self::HS256 => "HS256",
        }
    }

    /// Parses a JOSE name (exact case).
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "EdDSA" => Some(Self::EdDSA),
            "ES256" => Some(Self::ES256),
            "RS256" => Some(Self::RS256),
            "HS256" => Some(Self::HS256),
            _ => None,
        }
    }

    /// The jsonwebtoken algorithm.
    pub fn jose(self) -> Algorithm {
        match self {
            Self::EdDSA => Algorithm::EdDSA,
            Self::ES256 => Algorithm::ES256,
            Self::RS256 => Algorithm::RS256,
            Self::HS256 => Algorithm::HS256,
        }
    }

    /// Whether the key has a public half to publish in the JWKS.
    pub fn is_public(self) -> bool {
        self != Self::HS256
    }
}

/// A key could not be made, opened or used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The cryptographic library refused.
    #[error("key operation failed: {0}")]
    Crypto(&'static str),
    /// A sealed key did not open: wrong secret key, or the stored bytes were altered.
    #[error("a signing key cannot be decrypted with this secret key")]
    WrongSecret,
    /// The stored key names an algorithm this version does not know.
    #[error("unknown signing algorithm {0:?}")]
    UnknownAlg(String),
}

/// A key pair as generated or as stored: the private half as PKCS#8 DER, the public half as a JWK.
pub struct KeyMaterial {
    /// Key id.
    pub kid: String,
    /// Its one algorithm.
    pub alg: SigningAlg,
    /// PKCS#8 DER of the private key.
    pub private_pkcs8: Zeroizing<Vec<u8>>,
    /// The public JWK (with `kid`, `alg`, `use`).
    pub public_jwk: Value,
}

impl fmt::Debug for KeyMaterial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyMaterial")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("private_pkcs8", &"[redacted]")
            .finish()
    }
}

impl KeyMaterial {
    /// A fresh key pair.
    pub fn generate(
        alg: SigningAlg,
        kid: String,
        rng: &dyn SecureRandom,
    ) -> Result<Self, KeyError> {
        let fail = |_| KeyError::Crypto("key generation");
        let (pkcs8, jwk) = match alg {
            SigningAlg::EdDSA => {
                let pkcs8 = Ed25519KeyPair::generate_pkcs8(rng).map_err(fail)?;
                let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref())
                    .map_err(|_| KeyError::Crypto("Ed25519 key"))?;
                let x = URL_SAFE_NO_PAD.encode(pair.public_key().as_ref());
                (
                    pkcs8.as_ref().to_vec(),
                    json!({ "kty": "OKP", "crv": "Ed25519", "x": x }),
                )
            }
            SigningAlg::ES256 => {
                let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, rng)
                    .map_err(fail)?;
                let pair =
                    EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref())
                        .map_err(|_| KeyError::Crypto("P-256 key"))?;
                // Uncompressed point: 0x04 ‖ x (32) ‖ y (32).
                let point = pair.public_key().as_ref();
                let (x, y) = point
                    .get(1..33)
                    .zip(point.get(33..65))
                    .ok_or(KeyError::Crypto("P-256 public key"))?;
                let jwk = json!({ "kty": "EC", "crv": "P-256", "x": URL_SAFE_NO_PAD.encode(x), "y": URL_SAFE_NO_PAD.encode(y) });
                (pkcs8.as_ref().to_vec(), jwk)
            }
            SigningAlg::RS256 => {
                let pair = RsaKeyPair::generate(KeySize::Rsa2048).map_err(fail)?;
                let pkcs8 = AsDer::<Pkcs8V1Der>::as_der(&pair).map_err(fail)?;
                let public = pair.public_key();
                let jwk = json!({
                    "kty": "RSA",
                    "n": URL_SAFE_NO_PAD.encode(public.modulus().big_endian_without_leading_zero()),
                    "e": URL_SAFE_NO_PAD.encode(public.exponent().big_endian_without_leading_zero()),
                });
                (pkcs8.as_ref().to_vec(), jwk)
            }
            SigningAlg::HS256 => {
                let mut secret = vec![0u8; 32];
                rng.fill(&mut secret).map_err(fail)?;
                (secret, json!({ "kty": "oct" }))
            }
        };
        let mut public_jwk = jwk;
        public_jwk["kid"] = Value::from(kid.clone());
        public_jwk["alg"] = Value::from(alg.as_str());
        public_jwk["use"] = Value::from("sig");
        Ok(Self {
            kid,
            alg,
            private_pkcs8: Zeroizing::new(pkcs8),
            public_jwk,
        })
    }

    /// Encrypts the private key for storage with AES-256-GCM under `key`, binding it to its kid
    /// and algorithm (a sealed key moved to another row does not open). Output: nonce ‖ ciphertext.
    pub fn seal(&self, key: &[u8; 32], rng: &dyn SecureRandom) -> Result<Vec<u8>, KeyError> {
        let mut nonce = [0u8; NONCE_LEN];
        rng.fill(&mut nonce)
            .map_err(|_| KeyError::Crypto("nonce"))?;
        let sealing = aead_key(key)?;
        let mut in_out = self.private_pkcs8.to_vec();
        sealing
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad(&self.kid, self.alg)),
                &mut in_out,
            )
            .map_err(|_| KeyError::Crypto("seal"))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&in_out);
        Ok(out)
    }

    /// Opens a stored key.
    pub fn open(
        kid: String,
        alg: SigningAlg,
        sealed: &[u8],
        public_jwk: Value,
        key: &[u8; 32],
    ) -> Result<Self, KeyError> {
        let (nonce, ciphertext) = sealed
            .split_at_checked(NONCE_LEN)
            .ok_or(KeyError::WrongSecret)?;
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| KeyError::WrongSecret)?;
        let mut in_out = Zeroizing::new(ciphertext.to_vec());
        let plain = aead_key(key)?
            .open_in_place(nonce, Aad::from(aad(&kid, alg)), &mut in_out)
            .map_err(|_| KeyError::WrongSecret)?;
        Ok(Self {
            private_pkcs8: Zeroizing::new(plain.to_vec()),
            kid,
            alg,
            public_jwk,
        })
    }
}

fn aead_key(key: &[u8; 32]) -> Result<LessSafeKey, KeyError> {
    UnboundKey::new(&AES_256_GCM, key)
        .map(LessSafeKey::new)
        .map_err(|_| KeyError::Crypto("AES key"))
}

fn aad(kid: &str, alg: SigningAlg) -> Vec<u8> {
    format!("hallpass signing key\0{kid}\0{}", alg.as_str()).into_bytes()
}

/// The public half of a key: all a verifier needs, built from the key itself or its JWK.
#[derive(Clone)]
pub struct VerifyingKey {
    /// Key id.
    pub kid: String,
    /// Its one algorithm.
    pub alg: SigningAlg,
    /// For verifying.
    pub decoding: DecodingKey,
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyingKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

impl VerifyingKey {
    /// Reads a public JWK as published in the JWKS; `kid` and `alg` are required, and the key
    /// type must fit the algorithm.
    pub fn from_jwk(jwk: &Value) -> Result<Self, KeyError> {
        let text = |name: &str| {
            jwk[name]
                .as_str()
                .ok_or(KeyError::Crypto("JWK member missing"))
        };
        let alg = SigningAlg::parse(text("alg")?)
            .ok_or_else(|| KeyError::UnknownAlg(jwk["alg"].to_string()))?;
        let curve = jwk["crv"].as_str().unwrap_or_default();
        let decoding = match (alg, text("kty")?, curve) {
            (SigningAlg::EdDSA, "OKP", "Ed25519") => DecodingKey::from_ed_components(text("x")?),
            (SigningAlg::ES256, "EC", "P-256") => {
                DecodingKey::from_ec_components(text("x")?, text("y")?)
            }
            (SigningAlg::RS256, "RSA", "") => {
                DecodingKey::from_rsa_components(text("n")?, text("e")?)
            }
            _ => return Err(KeyError::Crypto("JWK key type does not fit its algorithm")),
        }
        .map_err(|_| KeyError::Crypto("JWK key material"))?;
        Ok(Self {
            kid: text("kid")?.to_owned(),
            alg,
            decoding,
        })
    }
}

/// How a key signs. jsonwebtoken signs RSA only from PKCS#1 DER, which aws-lc-rs does not
/// export, so RS256 signs with aws-lc-rs directly (verification still goes through jsonwebtoken).
#[derive(Clone)]
enum Signer {
    Jose(EncodingKey),
    Rsa(Arc<RsaKeyPair>),
}

/// A key ready to sign and verify.
#[derive(Clone)]
pub struct SigningKey {
    /// Key id.
    pub kid: String,
    /// Its one algorithm.
    pub alg: SigningAlg,
    signer: Signer,
    /// For verifying.
    pub decoding: DecodingKey,
    /// The public JWK (`{"kty": "oct"}` without the secret for HS256, which is never published).
    pub public_jwk: Value,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Prepares key material for use.
    pub fn new(material: &KeyMaterial) -> Result<Self, KeyError> {
        let field = |name: &str| {
            material.public_jwk[name]
                .as_str()
                .map(str::to_owned)
                .ok_or(KeyError::Crypto("public JWK"))
        };
        let (signer, decoding) = match material.alg {
            SigningAlg::EdDSA => (
                Signer::Jose(EncodingKey::from_ed_der(&material.private_pkcs8)),
                DecodingKey::from_ed_components(&field("x")?)
                    .map_err(|_| KeyError::Crypto("Ed25519 JWK"))?,
            ),
            SigningAlg::ES256 => (
                Signer::Jose(EncodingKey::from_ec_der(&material.private_pkcs8)),
                DecodingKey::from_ec_components(&field("x")?, &field("y")?)
                    .map_err(|_| KeyError::Crypto("P-256 JWK"))?,
            ),
            SigningAlg::RS256 => (
                Signer::Rsa(Arc::new(
                    RsaKeyPair::from_pkcs8(&material.private_pkcs8)
                        .map_err(|_| KeyError::Crypto("RSA key"))?,
                )),
                DecodingKey::from_rsa_components(&field("n")?, &field("e")?)
                    .map_err(|_| KeyError::Crypto("RSA JWK"))?,
            ),
            SigningAlg::HS256 => (
                Signer::Jose(EncodingKey::from_secret(&material.private_pkcs8)),
                DecodingKey::from_secret(&material.private_pkcs8),
            ),
        };
        Ok(Self {
            kid: material.kid.clone(),
            alg: material.alg,
            signer,
            decoding,
            public_jwk: material.public_jwk.clone(),
        })
    }

    /// The public half.
    pub fn verifying(&self) -> VerifyingKey {
        VerifyingKey {
            kid: self.kid.clone(),
            alg: self.alg,
            decoding: self.decoding.clone(),
        }
    }

    /// Signs `claims` as a compact JWS with header `{typ: "at+jwt", alg, kid}`.
    pub fn sign(&self, claims: &super::AccessClaims) -> Result<String, KeyError> {
        let header = json!({ "typ": "at+jwt", "alg": self.alg.as_str(), "kid": self.kid });
        let claims = serde_json::to_vec(claims).map_err(|_| KeyError::Crypto("claims"))?;
        let message = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims)
        );
        let signature = self.sign_message(message.as_bytes())?;
        Ok(format!("{message}.{signature}"))
    }

    /// The base64url signature of a JWS signing input (`header.payload`).
    pub fn sign_message(&self, message: &[u8]) -> Result<String, KeyError> {
        match &self.signer {
            Signer::Jose(key) => jsonwebtoken::crypto::sign(message, key, self.alg.jose())
                .map_err(|_| KeyError::Crypto("signing")),
            Signer::Rsa(pair) => {
                let mut signature = vec![0u8; pair.public_modulus_len()];
                pair.sign(
                    &RSA_PKCS1_SHA256,
                    &SystemRandom::new(),
                    message,
                    &mut signature,
                )
                .map_err(|_| KeyError::Crypto("RSA signing"))?;
                Ok(URL_SAFE_NO_PAD.encode(signature))
            }
        }
    }
}
