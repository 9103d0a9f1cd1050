//! The config file's keys and the settings' ranges.

#[test]
fn every_setting_is_a_file_key() {
    let file: super::ConfigArgs = toml::from_str(
        "ephemeral = true\nport = 0\ntls = true\ntrusted_proxies = [\"10.0.0.0/8\"]\ndemo = false\nkeys_in_database = true\nverify_tenants = [\"*\"]\nclock_skew_seconds = 10\ntoken_status_refresh_seconds = 5\ndb_outage_grace_seconds = 7\nlockout_threshold = 5\nlog_format = \"json\"\nenv = \"production\"\nshutdown_grace = 3\nshutdown_delay = 2\nkeep_alive = 75\n[rate_limit]\nper_minute = 0",
    )
    .unwrap();
    let s = super::Settings::from_args(super::ConfigArgs::default().over(file)).unwrap();
    assert!(s.ephemeral && s.tls && !s.demo && s.keys_in_database && s.lockout.threshold == 5);
    assert_eq!(s.verify_tenants, super::VerifyTenants::Any);
    assert_eq!(
        (
            s.clock_skew_seconds,
            s.token_status_refresh_seconds,
            s.db_outage_grace_seconds
        ),
        (10, 5, 7)
    );
    assert_eq!(s.trusted_proxies.len(), 1);
    assert_eq!(s.rate_limit.per_minute, 0);
    assert_eq!(s.log_format, super::LogFormat::Json);
    assert_eq!((s.env, s.shutdown_grace), (super::RunEnv::Production, 3));
    assert_eq!((s.shutdown_delay, s.keep_alive), (2, 75));
    assert!(toml::from_str::<super::ConfigArgs>("nonsense = 1").is_err());
}

#[test]
fn keep_alive_defaults_to_five_seconds_and_is_bounded() {
    let with = |keep_alive| super::ConfigArgs {
        keep_alive,
        ..Default::default()
    };
    let s = super::Settings::from_args(with(None)).unwrap();
    assert_eq!(s.keep_alive, 5);
    assert_eq!(
        super::Settings::from_args(with(Some(0)))
            .unwrap()
            .keep_alive,
        0
    );
    for bad in [-1, 3601] {
        let e = super::Settings::from_args(with(Some(bad))).err().unwrap();
        assert!(e.to_string().contains("keep_alive"), "{e}");
    }
}
