//! Unit tests of [`super`]: hashing, checks, upgrades, the queue's bound.

use super::*;

fn hasher() -> PasswordHasher {
    // Small parameters keep unit tests fast; the upgrade path is what is tested.
    PasswordHasher::new(1024, 1, 2, 8).unwrap()
}

#[test]
fn argon2_round_trip() {
    let h = hasher();
    let pw = SecretString::from("correct horse");
    let stored = h.hash_blocking(&pw).unwrap();
    assert!(stored.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"));
    assert!(matches!(
        h.verify_blocking(&pw, Some(&stored)).unwrap(),
        PasswordCheck::Valid { upgrade: None }
    ));
    assert!(matches!(
        h.verify_blocking(&SecretString::from("wrong"), Some(&stored))
            .unwrap(),
        PasswordCheck::Invalid
    ));
}

#[test]
fn our_phc_strings_are_standard_argon2() {
    let h = hasher();
    let pw = SecretString::from("correct horse");
    let ours = h.hash_blocking(&pw).unwrap();
    // The argon2 crate's own verifier accepts what we write...
    let parsed = PasswordHash::new(&ours).unwrap();
    assert!(
        h.argon2()
            .verify_password(b"correct horse", &parsed)
            .is_ok()
    );
    assert!(h.argon2().verify_password(b"wrong", &parsed).is_err());
    // ...and we accept what it writes.
    use argon2::password_hash::PasswordHasher as _;
    let theirs = h
        .argon2()
        .hash_password(b"correct horse")
        .unwrap()
        .to_string();
    assert!(matches!(
        h.verify_blocking(&pw, Some(&theirs)).unwrap(),
        PasswordCheck::Valid { upgrade: None }
    ));
    assert!(matches!(
        h.verify_blocking(&SecretString::from("x"), Some(&theirs))
            .unwrap(),
        PasswordCheck::Invalid
    ));
}

#[test]
fn bcrypt_verifies_and_asks_for_upgrade() {
    let h = hasher();
    let stored = bcrypt::hash("s3cret", 4).unwrap();
    let stored_2y = stored.replacen("$2b$", "$2y$", 1);
    for s in [&stored, &stored_2y] {
        match h
            .verify_blocking(&SecretString::from("s3cret"), Some(s))
            .unwrap()
        {
            PasswordCheck::Valid { upgrade: Some(new) } => {
                assert!(new.starts_with("$argon2id$"))
            }
            other => panic!("expected an upgrade, got {other:?}"),
        }
    }
    assert!(matches!(
        h.verify_blocking(&SecretString::from("nope"), Some(&stored))
            .unwrap(),
        PasswordCheck::Invalid
    ));
}

#[test]
fn other_parameters_ask_for_upgrade() {
    let old = PasswordHasher::new(2048, 1, 1, 1).unwrap();
    let stored = old.hash_blocking(&SecretString::from("pw")).unwrap();
    assert!(matches!(
        hasher()
            .verify_blocking(&SecretString::from("pw"), Some(&stored))
            .unwrap(),
        PasswordCheck::Valid { upgrade: Some(_) }
    ));
}

#[test]
fn missing_or_garbage_hash_never_verifies() {
    let h = hasher();
    let pw = SecretString::from("pw");
    assert!(matches!(
        h.verify_blocking(&pw, None).unwrap(),
        PasswordCheck::Invalid
    ));
    assert!(matches!(
        h.verify_blocking(&pw, Some("plaintext")).unwrap(),
        PasswordCheck::Invalid
    ));
    assert!(matches!(
        h.verify_blocking(&pw, Some("$2b$04$short")).unwrap(),
        PasswordCheck::Invalid
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_queue_answers_busy_instead_of_growing() {
    // One slow hashing thread and room for one waiting job.
    let h = PasswordHasher::new(65_536, 3, 1, 1).unwrap();
    let stored = h.hash_blocking(&SecretString::from("pw")).unwrap();
    let attempts: Vec<_> = (0..8)
        .map(|_| {
            let h = h.clone();
            let stored = stored.clone();
            tokio::spawn(async move { h.verify(SecretString::from("pw"), Some(stored)).await })
        })
        .collect();
    let mut valid = 0;
    let mut busy = 0;
    for a in attempts {
        match a.await.unwrap() {
            Ok(PasswordCheck::Valid { .. }) => valid += 1,
            Err(HashError::Busy) => busy += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(valid >= 1, "at least the running job completes");
    assert!(busy >= 1, "the rest are refused, not queued without bound");
    assert_eq!(valid + busy, 8);
}

#[test]
fn importable_hashes() {
    assert!(is_importable_hash(&bcrypt::hash("x", 4).unwrap()));
    assert!(is_importable_hash(
        &hasher().hash_blocking(&SecretString::from("x")).unwrap()
    ));
    assert!(!is_importable_hash("$1$abc"));
    assert!(!is_importable_hash("plain"));
}

#[test]
fn imported_hashes_costlier_than_a_sign_in_may_take_are_refused() {
    let cheap = bcrypt::hash("x", 4).unwrap();
    assert_eq!(importable_hash(&cheap).unwrap(), cheap);
    let at_limit = cheap.replacen("$04$", "$14$", 1);
    assert!(importable_hash(&at_limit).is_ok());
    let err = importable_hash(&cheap.replacen("$04$", "$15$", 1)).unwrap_err();
    assert!(err.contains("bcrypt cost 15"), "{err}");
    let argon = |params: &str| {
        format!(
            "$argon2id$v=19${params}$c29tZXNhbHRzYWx0${}",
            "A".repeat(43)
        )
    };
    assert!(importable_hash(&argon("m=65536,t=4,p=1")).is_ok());
    assert!(importable_hash(&argon("m=131072,t=4,p=4")).is_ok());
    for too_much in [
        "m=4194304,t=1,p=1",
        "m=131072,t=5,p=1",
        "m=1024,t=100,p=1",
        "m=65536,t=2,p=64",
    ] {
        let err = importable_hash(&argon(too_much)).unwrap_err();
        assert!(err.contains("argon2 cost"), "{too_much}: {err}");
    }
    let sha256_20 =
        "$bcrypt-sha256$v=2,t=2b,r=20$n79VH.0Q2TMWmt3Oqt9uku$Kq4Noyk3094Y2QlB8NdRT8SvGiI4ft2";
    let err = importable_hash(sha256_20).unwrap_err();
    assert!(err.contains("bcrypt cost 20"), "{err}");
    let pbkdf2 = |i: u32| {
        format!(
            "$pbkdf2-sha256$i={i},l=32$c2FsdHNhbHRzYWx0c2FsdA${}",
            "A".repeat(43)
        )
    };
    assert!(importable_hash(&pbkdf2(5_000_000)).is_ok());
    let err = importable_hash(&pbkdf2(6_000_000)).unwrap_err();
    assert!(err.contains("PBKDF2 iteration count 6000000"), "{err}");
    // Hashes stored before the import caps still verify at sign-in (read, not refused).
    for stored in [sha256_20.to_owned(), pbkdf2(6_000_000)] {
        assert!(
            crate::crypto::hash_formats::kind(&stored).is_some(),
            "{stored}"
        );
    }
}

#[test]
fn only_an_ephemeral_hasher_seeds_and_accepts_fixture_hashes() {
    let pw = SecretString::from("fixture pw");
    let ephemeral = PasswordHasher::new_ephemeral(1024, 1, 2, 8).unwrap();
    assert!(ephemeral.accepts_fixture_hashes());
    // Only the seed's hashes are fixture hashes; everything else stays argon2id.
    assert!(
        ephemeral
            .hash_blocking(&pw)
            .unwrap()
            .starts_with("$argon2id$")
    );
    let fixture = ephemeral.for_seed().hash_blocking(&pw).unwrap();
    assert!(fixture.starts_with("$localidp-fixture$v=1$"), "{fixture}");
    assert!(matches!(
        ephemeral.verify_blocking(&pw, Some(&fixture)).unwrap(),
        PasswordCheck::Valid { upgrade: None }
    ));
    assert!(matches!(
        ephemeral
            .verify_blocking(&SecretString::from("wrong"), Some(&fixture))
            .unwrap(),
        PasswordCheck::Invalid
    ));
    // A persistent server's hasher neither makes nor accepts them.
    let persistent = hasher();
    assert!(!persistent.accepts_fixture_hashes());
    let seeded = persistent.for_seed().hash_blocking(&pw).unwrap();
    assert!(seeded.starts_with("$argon2id$"), "{seeded}");
    assert!(matches!(
        persistent.verify_blocking(&pw, Some(&fixture)).unwrap(),
        PasswordCheck::Invalid
    ));
    assert!(!is_importable_hash(&fixture));
}
