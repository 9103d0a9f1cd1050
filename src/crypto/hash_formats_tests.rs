//! Vectors made by the real libraries: passlib 1.7.4 (`bcrypt_sha256`,
//! `pbkdf2_sha256/512`, `pbkdf2_sha1`) and Django 5.2 (`make_password`,
//! `PBKDF2PasswordHasher().encode`), all for the password "correct horse";
//! ASP.NET Core Identity and Keycloak ones from tests/interop/foreign_hash_vectors.py.

use super::*;

const PW: &[u8] = b"correct horse";

const PASSLIB: &[&str] = &[
    "$bcrypt-sha256$v=2,t=2b,r=4$iemlx7FUg.aG1aZWzYCfau$80hvTOxZRUeOJjPu5x/FP1majrcjpfW",
    "$bcrypt-sha256$2b,4$uPJJ59o6Td9gHPSzJYQLfe$arZy9/X0gUNWxhogKMNPJuMGDXL7SeO",
    "$pbkdf2-sha256$1000$YCzFOAfAmDPGOIeQktI6hw$Lj1vvC2rpWHw.QT/DkDH57U4IW./dO3lreCcSK7pUYQ",
    "$pbkdf2-sha512$1000$IcS413rv/T.n1Nrb2/s/xw$9OI5ztzi8/nAaZypRsmq2uWDRf1G4cN13DYKDGCBgJ8/RXqRk9UH6Iw9wxn5VJHVG5xU3OQOCLA.rB8YXIQ.bQ",
    "$pbkdf2$1000$7R0DwLhXyhkDgFDqPcc4Rw$o6kKDfxaodpuatgwaDJ5gKMESII",
];

const DJANGO: &[&str] = &[
    "pbkdf2_sha256$1000$seasalt2024abc$s5HY4eKr8G/cGOmnuLRS2xIAtzPbnFodgA8Fe6LXang=",
    "pbkdf2_sha1$1000$seasalt2024abc$Bj6YsfoyrxgjoRptFcFp9J0wUBI=",
    // make_password's default: 1,000,000 iterations.
    "pbkdf2_sha256$1000000$jjbWSIcu1X0EwpbDQ7VIZj$SXSydRtXKtTKeXj59b+38TlyyS5OW8w91JH5+H450m8=",
];

const ASPNET: &[&str] = &[
    // v2
    "AAABAgMEBQYHCAkKCwwNDg+d2FbDdriytxO2vgdAVMuIpGVW4BGF6o0NJn8znGUhaQ==",
    // v3 SHA-256 10000, SHA-512 100000, SHA-1 1000
    "AQAAAAEAACcQAAAAEAABAgMEBQYHCAkKCwwNDg/lFQcOA1On2wE5YZhLh7q7ntzP9Krf9NCBoM//wxbovw==",
    "AQAAAAIAAYagAAAAEAABAgMEBQYHCAkKCwwNDg8LJ1+nXP1HCEVtkGVQ8YRRub3RhgjMuQMQ6K7+XxmQVQ==",
    "AQAAAAAAAAPoAAAAEAABAgMEBQYHCAkKCwwNDg+d2FbDdriytxO2vgdAVMuIpGVW4BGF6o0NJn8znGUhaQ==",
];

const KEYCLOAK: &[&str] = &[
    r#"{"type":"password","secretData":"{\"value\":\"qnA427fe69fAjkevcHZvnm7vp3MewnxKL4g2WLfI7U6teQVH1eR2L5DfcV0psPIfjGPtlZbkpnogYX+2TaSl6w==\",\"salt\":\"AAECAwQFBgcICQoLDA0ODw==\",\"additionalParameters\":{}}","credentialData":"{\"hashIterations\":27500,\"algorithm\":\"pbkdf2-sha256\",\"additionalParameters\":{}}"}"#,
    r#"{"type":"password","secretData":"{\"value\":\"yzcbocDEMOl5/MTYnR/zPaPet3GxOxmiMmRUZ1SniVigMZlYh+XCTqbLAzoJhAQe4nvLfcCZUgzkOW4RY6HwZA==\",\"salt\":\"AAECAwQFBgcICQoLDA0ODw==\",\"additionalParameters\":{}}","credentialData":"{\"hashIterations\":30000,\"algorithm\":\"pbkdf2-sha512\",\"additionalParameters\":{}}"}"#,
    r#"{"type":"password","secretData":"{\"value\":\"fniHe4wujMvABtTa8nlrXUNDmQbEVpEAOGSrBOKjUxr8fq0EhOTrbtwxv0kDHkCeZpDFXImqFMKFND2GDrIqXQ==\",\"salt\":\"AAECAwQFBgcICQoLDA0ODw==\",\"additionalParameters\":{}}","credentialData":"{\"hashIterations\":20000,\"algorithm\":\"pbkdf2\",\"additionalParameters\":{}}"}"#,
    // The data as objects rather than JSON strings.
    r#"{"secretData":{"value":"qnA427fe69fAjkevcHZvnm7vp3MewnxKL4g2WLfI7U6teQVH1eR2L5DfcV0psPIfjGPtlZbkpnogYX+2TaSl6w==","salt":"AAECAwQFBgcICQoLDA0ODw=="},"credentialData":{"hashIterations":27500,"algorithm":"pbkdf2-sha256"}}"#,
];

fn all() -> impl Iterator<Item = &'static str> {
    [PASSLIB, DJANGO, ASPNET, KEYCLOAK]
        .into_iter()
        .flatten()
        .copied()
}

#[test]
fn every_vector_verifies_as_given_and_once_stored() {
    for input in all() {
        let parsed = ForeignHash::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
        assert!(parsed.verify(PW), "{input}");
        assert!(!parsed.verify(b"correct horsE"), "{input}");
        assert!(!parsed.verify(b""), "{input}");
        let stored = normalize(input).unwrap();
        assert_eq!(
            verify(&stored, PW),
            Some(true),
            "{input} stored as {stored}"
        );
        assert_eq!(verify(&stored, b"wrong"), Some(false), "{stored}");
        // The stored form reads back as itself.
        assert_eq!(normalize(&stored).unwrap(), stored);
    }
}

#[test]
fn canonical_forms() {
    assert_eq!(
        normalize(DJANGO[0]).unwrap(),
        "$pbkdf2-sha256$i=1000,l=32$c2Vhc2FsdDIwMjRhYmM$s5HY4eKr8G/cGOmnuLRS2xIAtzPbnFodgA8Fe6LXang"
    );
    assert_eq!(
        normalize(PASSLIB[2]).unwrap(),
        "$pbkdf2-sha256$i=1000,l=32$YCzFOAfAmDPGOIeQktI6hw$Lj1vvC2rpWHw+QT/DkDH57U4IW+/dO3lreCcSK7pUYQ"
    );
    assert!(
        normalize(ASPNET[0])
            .unwrap()
            .starts_with("$pbkdf2-sha1$i=1000,l=32$AAECAwQFBgcICQoLDA0ODw$")
    );
    assert!(
        normalize(KEYCLOAK[0])
            .unwrap()
            .starts_with("$pbkdf2-sha256$i=27500,l=64$")
    );
    // passlib's bcrypt_sha256 strings are kept as they are.
    assert_eq!(normalize(PASSLIB[0]).unwrap(), PASSLIB[0]);
    assert_eq!(normalize(PASSLIB[1]).unwrap(), PASSLIB[1]);
}

#[test]
fn kinds_carry_algorithm_and_cost() {
    let kinds: Vec<String> = [PASSLIB[0], PASSLIB[1], DJANGO[2], ASPNET[1], KEYCLOAK[1]]
        .iter()
        .map(|h| kind(&normalize(h).unwrap()).unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "$bcrypt-sha256$v=2,t=2b,r=4",
            "$bcrypt-sha256$2b,4",
            "$pbkdf2-sha256$i=1000000,l=32",
            "$pbkdf2-sha256$i=10000,l=32",
            "$pbkdf2-sha512$i=30000,l=64",
        ]
    );
}

#[test]
fn unknown_or_broken_hashes_are_refused_with_a_reason() {
    for (input, reason) in [
        ("plaintext", "no accepted format"),
        ("$1$abc$def", "no accepted format"),
        ("md5$salt$hash", "no accepted format"),
        ("pbkdf2_md5$1000$salt$aGFzaA==", "unknown Django hasher"),
        ("pbkdf2_sha256$lots$salt$aGFzaA==", "not a number"),
        (
            "$pbkdf2-sha256$0$YWJj$Lj1vvC2rpWHw.QT/DkDH57U4IW./dO3lreCcSK7pUYQ",
            "iteration count 0",
        ),
        (
            "$pbkdf2-sha384$1000$YWJj$Lj1vvC2rpWHw.QT/DkDH57U4IW./dO3lreCcSK7pUYQ",
            "unknown PBKDF2 digest",
        ),
        (
            "$pbkdf2-sha256$i=1000,l=16$YWJj$s5HY4eKr8G/cGOmnuLRS2xIAtzPbnFodgA8Fe6LXang",
            "l=16",
        ),
        (
            "$bcrypt-sha256$v=3,t=2b,r=12$iemlx7FUg.aG1aZWzYCfau$80hvTOxZRUeOJjPu5x/FP1majrcjpfW",
            "settings",
        ),
        (
            "$bcrypt-sha256$v=2,t=2b,r=4$short$80hvTOxZRUeOJjPu5x/FP1majrcjpfW",
            "22-character",
        ),
        ("AgAAAAEAACcQAAAAEAAB", "no accepted format"),
        (
            "AQAAAAMAACcQAAAAEAABAgMEBQYHCAkKCwwNDg/lFQcOA1On2wE5YZhLh7q7ntzP9Krf9NCBoM//wxbovw==",
            "unknown PRF 3",
        ),
        (
            r#"{"secretData":{"value":"YQ==","salt":"YQ=="},"credentialData":{"hashIterations":1,"algorithm":"argon2"}}"#,
            "algorithm \"argon2\"",
        ),
        (
            r#"{"secretData":{"value":"YQ==","salt":"YQ=="}}"#,
            "no credentialData",
        ),
        ("{not json", "Keycloak credential"),
    ] {
        let err = normalize(input).expect_err(input);
        assert!(err.contains(reason), "{input}: {err}");
        assert!(!verify(input, PW).unwrap_or(false));
    }
}

#[test]
fn the_hasher_signs_in_with_each_format_and_upgrades_to_argon2id() {
    use crate::crypto::password::{PasswordCheck, PasswordHasher, importable_hash};
    use secrecy::SecretString;
    let hasher = PasswordHasher::new(1024, 1, 1, 1).unwrap();
    for input in all() {
        let stored = importable_hash(input).unwrap();
        match hasher
            .verify_blocking(&SecretString::from("correct horse"), Some(&stored))
            .unwrap()
        {
            PasswordCheck::Valid { upgrade: Some(new) } => {
                assert!(new.starts_with("$argon2id$"), "{new}")
            }
            other => panic!("{input}: expected an upgrade, got {other:?}"),
        }
        assert!(matches!(
            hasher
                .verify_blocking(&SecretString::from("correct horsE"), Some(&stored))
                .unwrap(),
            PasswordCheck::Invalid
        ));
        // Each is its own kind for the padding of failed sign-ins.
        assert_eq!(
            crate::crypto::timing::hash_kind(&stored),
            kind(&stored),
            "{stored}"
        );
    }
    assert!(importable_hash("plaintext").is_err());
}
