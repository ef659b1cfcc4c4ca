//! Mail that cannot go, and mail that went: failures listed and counted, expiry, purging, and
//! bodies blanked once a mail is finished.

use hallpass_store::{NewMail, OutboxCounts, Stores};
use time::Duration;

use super::{
    T0,
    email::{claim_all, mail},
    outbox::{counts, ids, queue},
};
use crate::harness::Raw;

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
