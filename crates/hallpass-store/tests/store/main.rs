//! The store conformance suite: one set of behaviours, instantiated for every backend.
//!
//! SQLite always runs, bare and behind the per-node session cache. PostgreSQL runs when `HALLPASS_TEST_POSTGRES_URL` is set, each test in a
//! schema of its own; with `HALLPASS_TEST_REQUIRE_BACKENDS=1` a missing URL fails instead of skipping.

#![expect(
    clippy::unwrap_used,
    reason = "helpers outside #[test] fns; a test should fail loudly"
)]

mod harness;
mod migration;
mod suite;

macro_rules! store_suite {
    ($($test:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $test() {
                    let backend = crate::harness::sqlite().await;
                    crate::suite::$test(&backend.stores).await;
                }
            )*
        }
        mod sqlite_behind_session_cache {
            $(
                #[tokio::test]
                async fn $test() {
                    let backend = crate::harness::sqlite_cached().await;
                    crate::suite::$test(&backend.stores).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $test() {
                    let Some(backend) = crate::harness::postgres().await else { return };
                    crate::suite::$test(&backend.stores).await;
                }
            )*
        }
    };
}

/// The same, for the behaviours a test checks in the database itself (what the traits do not
/// show): each gets the stores and a raw pool on their database.
macro_rules! raw_suite {
    ($($test:ident),* $(,)?) => {
        mod sqlite_raw {
            $(
                #[tokio::test]
                async fn $test() {
                    let backend = crate::harness::sqlite().await;
                    crate::suite::$test(&backend.stores, &backend.raw).await;
                }
            )*
        }
        mod sqlite_behind_session_cache_raw {
            $(
                #[tokio::test]
                async fn $test() {
                    let backend = crate::harness::sqlite_cached().await;
                    crate::suite::$test(&backend.stores, &backend.raw).await;
                }
            )*
        }
        mod postgres_raw {
            $(
                #[tokio::test]
                async fn $test() {
                    let Some(backend) = crate::harness::postgres().await else { return };
                    crate::suite::$test(&backend.stores, &backend.raw).await;
                }
            )*
        }
    };
}

raw_suite!(finished_mail_keeps_no_bodies);

store_suite!(
    users_are_found_by_their_exact_email,
    a_social_login_is_spent_once_until_its_mark_expires,
    users_round_trip,
    usernames_are_unique_case_insensitively,
    users_are_listed_searched_and_paged,
    users_are_updated,
    password_hashes_are_replaced,
    deleting_a_user_deletes_their_sessions,
    sessions_are_found_by_token_hash_only,
    touch_never_moves_backwards,
    session_lists_skip_revoked_and_expired,
    a_session_is_revoked_only_by_its_owner,
    all_sessions_but_one_are_revoked,
    limit_evicts_the_oldest,
    limit_rejects_new_and_changes_nothing,
    limit_ignores_idle_sessions,
    concurrent_logins_never_overshoot_the_limit,
    live_sessions_are_counted_and_dead_ones_purged,
    audit_log_filters_and_pages,
    ping_answers,
    the_database_clock_is_readable,
    the_refresh_read_is_fresh_and_timed_by_the_database,
    lookups_see_every_earlier_write,
    token_sessions_keep_their_refresh_family,
    rotation_is_a_compare_and_set,
    concurrent_rotations_have_one_winner,
    token_sessions_have_no_idle_expiry,
    revocation_history_is_kept,
    signing_keys_are_stored_listed_and_retired,
    nodes_starting_together_agree_on_one_first_key,
    posts_round_trip,
    posts_need_an_existing_author,
    posts_are_listed_newest_first_and_paged,
    posts_are_updated,
    posts_are_deleted,
    deleting_a_user_deletes_their_posts,
    post_text_round_trips_exactly,
    users_are_created_with_an_identity_and_found_by_it,
    an_identity_is_linked_only_once,
    a_taken_username_rolls_back_the_whole_creation,
    identities_are_listed_per_user_by_provider,
    unlinking_never_removes_the_last_way_to_log_in,
    concurrent_unlinks_keep_a_way_to_log_in,
    deleting_a_user_deletes_their_identities,
    identity_text_round_trips_exactly,
    the_last_enabled_admin_is_never_removed,
    concurrent_demotions_keep_an_admin,
    account_changes_raise_revocation_marks,
    email_tokens_are_issued_read_and_voided_by_a_newer_one,
    an_email_token_is_spent_once,
    email_codes_allow_few_attempts,
    a_password_reset_spends_its_token_and_queues_a_notice,
    a_new_password_voids_reset_links,
    a_verify_link_proves_the_address_it_was_sent_to,
    a_change_of_address_takes_effect_with_its_link,
    an_address_taken_meanwhile_refuses_the_change_and_spends_nothing,
    addresses_are_unique_under_the_ascii_fold,
    session_lookups_see_resets_and_confirmed_addresses,
    a_claim_holds_until_its_lease_lapses,
    claims_take_the_oldest_due_first_up_to_the_limit,
    a_retry_waits_until_it_is_due,
    sent_mail_is_never_claimed_again,
    failed_mail_is_listed_newest_first_and_counted,
    expired_mail_is_given_up_on,
    old_finished_mail_and_expired_tokens_are_purged,
    concurrent_claimers_claim_each_mail_once,
    a_factor_counts_once_confirmed,
    a_totp_step_is_accepted_once_and_never_an_older_one,
    concurrent_uses_of_one_code_accept_it_once,
    recovery_codes_are_single_use_and_replaced_as_a_set,
    deleting_one_of_two_factors_keeps_the_codes,
    a_login_challenge_is_spent_once_and_voided_by_wrong_codes,
    concurrent_completions_spend_a_challenge_once,
    a_factor_requirement_starts_once,
);
