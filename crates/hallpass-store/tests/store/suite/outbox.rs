//! The mail outbox: claims and their leases, retries, deliveries, failures, expiry, purging,
//! and concurrent claimers.

use std::collections::HashSet;

use hallpass_store::{NewMail, OutboxCounts, Stores};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::{
    T0,
    email::{claim_all, mail},
};
use crate::harness::Raw;

async fn queue(stores: &Stores, at: OffsetDateTime) -> NewMail {
    let mail = mail("someone@example.com", at);
    stores.outbox.queue_mail(&mail).await.unwrap();
    mail
}

fn ids(claimed: &[hallpass_store::ClaimedMail]) -> Vec<Uuid> {
    claimed.iter().map(|c| c.mail.id).collect()
}

async fn counts(stores: &Stores) -> OutboxCounts {
    stores.outbox.outbox_counts().await.unwrap()
}

pub(crate) async fn a_claim_holds_until_its_lease_lapses(stores: &Stores) {
    let mail = queue(stores, T0).await;
    let lease = Duration::minutes(5);
    let claim = |now: OffsetDateTime| async move {
        stores
            .outbox
            .claim_mail(now, now + lease, 10)
            .await
            .unwrap()
    };
    assert!(
        claim(T0 - Duration::seconds(1)).await.is_empty(),
        "not due before it was queued"
    );
    let first = claim(T0).await;
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].mail, mail, "the mail as queued");
    assert_eq!(first[0].attempts, 1);
    // Held by its claimer (say, another node) while the lease lasts.
    assert!(claim(T0).await.is_empty());
    assert!(claim(T0 + lease - Duration::seconds(1)).await.is_empty());
    // A claimer that died leaves it to the next once the lease lapses; each claim counts.
    let second = claim(T0 + lease).await;
    assert_eq!(ids(&second), vec![mail.id]);
    assert_eq!(second[0].attempts, 2);
    assert_eq!(second[0].mail, mail);
    let third = claim(T0 + lease * 3).await;
    assert_eq!(third[0].attempts, 3);
    assert_eq!(
        counts(stores).await,
        OutboxCounts {
            pending: 1,
            sent: 0,
            failed: 0
        },
        "claimed is still pending"
    );
}

pub(crate) async fn claims_take_the_oldest_due_first_up_to_the_limit(stores: &Stores) {
    let mut queued = Vec::new();
    for minute in [3, 1, 2, 0] {
        queued.push(queue(stores, T0 + Duration::minutes(minute)).await);
    }
    // Due while the claims below still hold.
    let later = queue(stores, T0 + Duration::seconds(630)).await;
    let now = T0 + Duration::minutes(10);
    let first = stores
        .outbox
        .claim_mail(now, now + Duration::minutes(1), 2)
        .await
        .unwrap();
    assert_eq!(ids(&first), vec![queued[3].id, queued[1].id]);
    let rest = claim_all(stores, now).await;
    assert_eq!(ids(&rest), vec![queued[2].id, queued[0].id]);
    assert!(
        claim_all(stores, now).await.is_empty(),
        "the later one is not due"
    );
    assert_eq!(
        ids(&claim_all(stores, later.created_at).await),
        vec![later.id]
    );
}

pub(crate) async fn a_retry_waits_until_it_is_due(stores: &Stores) {
    let mail = queue(stores, T0).await;
    assert_eq!(claim_all(stores, T0).await.len(), 1);
    let retry_at = T0 + Duration::minutes(10);
    stores
        .outbox
        .mail_retry(mail.id, retry_at, "421 4.7.0 try again later")
        .await
        .unwrap();
    // The claim is released, but the mail is not due before retry_at.
    assert!(
        claim_all(stores, T0 + Duration::minutes(2))
            .await
            .is_empty()
    );
    assert!(
        claim_all(stores, retry_at - Duration::seconds(1))
            .await
            .is_empty()
    );
    let again = claim_all(stores, retry_at).await;
    assert_eq!(ids(&again), vec![mail.id]);
    assert_eq!(again[0].attempts, 2);
    assert_eq!(again[0].mail, mail);
}

pub(crate) async fn sent_mail_is_never_claimed_again(stores: &Stores) {
    let sent = queue(stores, T0).await;
    let other = queue(stores, T0).await;
    assert_eq!(claim_all(stores, T0).await.len(), 2);
    stores
        .outbox
        .mail_sent(sent.id, T0 + Duration::seconds(5))
        .await
        .unwrap();
    // A late retry or failure report for it changes nothing.
    stores.outbox.mail_retry(sent.id, T0, "late").await.unwrap();
    stores
        .outbox
        .mail_failed(sent.id, T0, "late")
        .await
        .unwrap();
    let later = T0 + Duration::hours(1);
    assert_eq!(ids(&claim_all(stores, later).await), vec![other.id]);
    assert_eq!(
        counts(stores).await,
        OutboxCounts {
            pending: 1,
            sent: 1,
            failed: 0
        }
    );
    assert!(stores.outbox.failed_mails(10).await.unwrap().is_empty());
}

pub(crate) async fn failed_mail_is_listed_newest_first_and_counted(stores: &Stores) {
    let first = queue(stores, T0).await;
    let second = queue(stores, T0).await;
    let delivered = queue(stores, T0).await;
    claim_all(stores, T0).await;
    stores.outbox.mail_sent(delivered.id, T0).await.unwrap();
    stores
        .outbox
        .mail_failed(
            first.id,
            T0 + Duration::minutes(2),
            "550 5.1.1 no such user",
        )
        .await
        .unwrap();
    // The second fails only on its second attempt.
    let retry_at = T0 + Duration::minutes(1);
    stores
        .outbox
        .mail_retry(second.id, retry_at, "421 busy")
        .await
        .unwrap();
    assert_eq!(ids(&claim_all(stores, retry_at).await), vec![second.id]);
    stores
        .outbox
        .mail_failed(second.id, T0 + Duration::minutes(3), "552 mailbox full")
        .await
        .unwrap();
    queue(stores, T0).await;

    let failed = stores.outbox.failed_mails(10).await.unwrap();
    assert_eq!(
        failed.iter().map(|f| f.id).collect::<Vec<_>>(),
        vec![second.id, first.id]
    );
    assert_eq!(failed[0].to, "someone@example.com");
    assert_eq!(failed[0].subject, second.subject);
    assert_eq!(failed[0].attempts, 2);
    assert_eq!(failed[0].failed_at, T0 + Duration::minutes(3));
    assert_eq!(failed[0].error, "552 mailbox full");
    assert_eq!(failed[1].attempts, 1);
    assert_eq!(failed[1].error, "550 5.1.1 no such user");
    assert_eq!(stores.outbox.failed_mails(1).await.unwrap().len(), 1);
    assert_eq!(
        counts(stores).await,
        OutboxCounts {
            pending: 1,
            sent: 1,
            failed: 2
        }
    );
    // Given up on: never claimed again.
    let later = T0 + Duration::hours(2);
    assert_eq!(claim_all(stores, later).await.len(), 1, "only the new one");
}

pub(crate) async fn expired_mail_is_given_up_on(stores: &Stores) {
    let expiring = NewMail {
        expires_at: Some(T0 + Duration::minutes(10)),
        ..mail("someone@example.com", T0)
    };
    stores.outbox.queue_mail(&expiring).await.unwrap();
    let sent_in_time = NewMail {
        expires_at: Some(T0 + Duration::minutes(5)),
        ..mail("someone@example.com", T0)
    };
    stores.outbox.queue_mail(&sent_in_time).await.unwrap();
    let forever = queue(stores, T0).await;
    let claimed = claim_all(stores, T0).await;
    assert_eq!(claimed.len(), 3);
    assert_eq!(
        claimed
            .iter()
            .find(|c| c.mail.id == expiring.id)
            .unwrap()
            .mail,
        expiring,
        "its expiry round-trips"
    );
    stores.outbox.mail_sent(sent_in_time.id, T0).await.unwrap();
    for mail in [&expiring, &forever] {
        stores
            .outbox
            .mail_retry(mail.id, T0 + Duration::minutes(1), "421 busy")
            .await
            .unwrap();
    }
    assert_eq!(
        stores
            .outbox
            .expire_mail(T0 + Duration::minutes(9))
            .await
            .unwrap(),
        0
    );
    // Past its expiry a mail is not worth sending: not claimed, then given up on.
    let expired_at = T0 + Duration::minutes(10);
    assert_eq!(ids(&claim_all(stores, expired_at).await), vec![forever.id]);
    assert_eq!(stores.outbox.expire_mail(expired_at).await.unwrap(), 1);
    assert_eq!(stores.outbox.expire_mail(expired_at).await.unwrap(), 0);
    let failed = stores.outbox.failed_mails(10).await.unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].id, expiring.id);
    assert_eq!(failed[0].error, "expired");
    assert_eq!(failed[0].failed_at, expired_at);
    assert_eq!(
        counts(stores).await,
        OutboxCounts {
            pending: 1,
            sent: 1,
            failed: 1
        }
    );
    // The mail without an expiry never expires.
    let far = T0 + Duration::days(365);
    assert_eq!(stores.outbox.expire_mail(far).await.unwrap(), 0);
}

pub(crate) async fn old_finished_mail_and_expired_tokens_are_purged(stores: &Stores) {
    use hallpass_core::email::EmailPurpose;
    use hallpass_store::NewEmailToken;

    let alice = super::user(stores, "alice").await;
    let sent = queue(stores, T0).await;
    let failed = queue(stores, T0).await;
    let pending = queue(stores, T0).await;
    let hash = super::email::link();
    let token = NewEmailToken {
        hash,
        code_hash: None,
        user: alice,
        purpose: EmailPurpose::Verify,
        email: super::email::email("alice@example.com"),
        created_at: T0,
        expires_at: T0 + Duration::hours(1),
    };
    let token_mail = mail("alice@example.com", T0);
    stores
        .email
        .issue_email_token(&token, &token_mail)
        .await
        .unwrap();
    claim_all(stores, T0).await;
    stores
        .outbox
        .mail_sent(sent.id, T0 + Duration::minutes(1))
        .await
        .unwrap();
    stores
        .outbox
        .mail_sent(token_mail.id, T0 + Duration::minutes(1))
        .await
        .unwrap();
    stores
        .outbox
        .mail_failed(failed.id, T0 + Duration::minutes(2), "550 no")
        .await
        .unwrap();

    // Nothing finished before T0 + 1 minute.
    assert_eq!(
        stores
            .outbox
            .purge_mail(T0 + Duration::minutes(1))
            .await
            .unwrap(),
        0
    );
    // The two sent mails; the failed one is newer, the token has not expired.
    assert_eq!(
        stores
            .outbox
            .purge_mail(T0 + Duration::minutes(2))
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        counts(stores).await,
        OutboxCounts {
            pending: 1,
            sent: 0,
            failed: 1
        }
    );
    let live = |now| stores.email.email_token(&hash, EmailPurpose::Verify, now);
    assert!(live(T0).await.unwrap().is_some());
    // The failed mail and the expired token; the pending mail stays, however old.
    let much_later = T0 + Duration::days(30);
    assert_eq!(stores.outbox.purge_mail(much_later).await.unwrap(), 1);
    assert_eq!(
        stores.email.purge_email_tokens(much_later).await.unwrap(),
        1
    );
    assert!(stores.outbox.failed_mails(10).await.unwrap().is_empty());
    assert!(live(T0).await.unwrap().is_none(), "the row is gone");
    assert_eq!(ids(&claim_all(stores, much_later).await), vec![pending.id]);
    assert_eq!(stores.outbox.purge_mail(much_later).await.unwrap(), 0);
    assert_eq!(
        stores.email.purge_email_tokens(much_later).await.unwrap(),
        0
    );
}

pub(crate) async fn concurrent_claimers_claim_each_mail_once(stores: &Stores) {
    let mut queued = HashSet::new();
    for i in 0..50 {
        queued.insert(queue(stores, T0 + Duration::milliseconds(i)).await.id);
    }
    let now = T0 + Duration::seconds(1);
    let claimers: Vec<_> = (0..8)
        .map(|_| {
            let stores = stores.clone();
            tokio::spawn(async move {
                let mut mine = Vec::new();
                loop {
                    let batch = stores
                        .outbox
                        .claim_mail(now, now + Duration::minutes(5), 5)
                        .await
                        .unwrap();
                    if batch.is_empty() {
                        return mine;
                    }
                    assert!(batch.len() <= 5);
                    assert!(batch.iter().all(|c| c.attempts == 1), "claimed once");
                    mine.extend(batch.into_iter().map(|c| c.mail.id));
                }
            })
        })
        .collect();
    let mut claimed = Vec::new();
    for claimer in claimers {
        claimed.extend(claimer.await.unwrap());
    }
    assert_eq!(claimed.len(), 50, "no mail claimed twice");
    assert_eq!(claimed.into_iter().collect::<HashSet<_>>(), queued);
    assert!(claim_all(stores, now).await.is_empty());
}

pub(crate) async fn finished_mail_keeps_no_bodies(stores: &Stores, raw: &Raw) {
    let sent = queue(stores, T0).await;
    let failed = queue(stores, T0).await;
    let expired = NewMail {
        expires_at: Some(T0 + Duration::minutes(1)),
        ..mail("someone@example.com", T0)
    };
    stores.outbox.queue_mail(&expired).await.unwrap();
    let retried = queue(stores, T0).await;
    let pending = queue(stores, T0).await;
    claim_all(stores, T0).await;
    stores.outbox.mail_sent(sent.id, T0).await.unwrap();
    stores
        .outbox
        .mail_failed(failed.id, T0, "550")
        .await
        .unwrap();
    stores
        .outbox
        .mail_retry(retried.id, T0, "421")
        .await
        .unwrap();
    stores
        .outbox
        .expire_mail(T0 + Duration::minutes(1))
        .await
        .unwrap();
    let bodies = |id| raw.two_texts("SELECT text_body, html_body FROM outbox WHERE id = $1", id);
    for done in [&sent, &failed, &expired] {
        assert_eq!(bodies(done.id).await, (String::new(), String::new()));
    }
    // Mail still to send keeps what it carries.
    for waiting in [&retried, &pending] {
        assert_eq!(
            bodies(waiting.id).await,
            (waiting.text.clone(), waiting.html.clone())
        );
    }
}
