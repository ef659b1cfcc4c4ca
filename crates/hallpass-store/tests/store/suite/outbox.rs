//! The mail outbox: claims and their leases, retries, sent mail, and concurrent claimers. What
//! becomes of mail that cannot go (failures, expiry, purging) is in `outbox_outcomes.rs`.

use std::collections::HashSet;

use hallpass_store::{NewMail, OutboxCounts, Stores};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::{
    T0,
    email::{claim_all, mail},
};

pub(super) async fn queue(stores: &Stores, at: OffsetDateTime) -> NewMail {
    let mail = mail("someone@example.com", at);
    stores.outbox.queue_mail(&mail).await.unwrap();
    mail
}

pub(super) fn ids(claimed: &[hallpass_store::ClaimedMail]) -> Vec<Uuid> {
    claimed.iter().map(|c| c.mail.id).collect()
}

pub(super) async fn counts(stores: &Stores) -> OutboxCounts {
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
