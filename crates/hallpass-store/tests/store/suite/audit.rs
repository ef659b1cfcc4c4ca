//! The audit log and the health probe.

use hallpass_core::audit::{AuditEvent, AuditKind};
use hallpass_core::user::UserId;
use hallpass_store::{AuditQuery, Stores};
use time::Duration;
use uuid::Uuid;

use super::T0;

pub(crate) async fn audit_log_filters_and_pages(stores: &Stores) {
    let alice = UserId(Uuid::new_v4());
    let bob = UserId(Uuid::new_v4());
    for (i, (kind, actor)) in [
        (AuditKind::LoginSucceeded, alice),
        (AuditKind::LoginFailed, bob),
        (AuditKind::Logout, alice),
        (AuditKind::LoginSucceeded, bob),
    ]
    .into_iter()
    .enumerate()
    {
        let mut event = AuditEvent::new(kind, T0 + Duration::seconds(i as i64));
        event.actor = Some(actor);
        event.ip = Some("10.0.0.1".to_owned());
        event.detail = Some(format!("event {i}"));
        stores.audit.append(&event).await.unwrap();
    }
    let all = stores
        .audit
        .list_audit(&AuditQuery {
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(all.len(), 4);
    assert_eq!(
        all[0].event.detail.as_deref(),
        Some("event 3"),
        "newest first"
    );
    assert_eq!(all[0].event.at, T0 + Duration::seconds(3));
    let logins = AuditQuery {
        kind: Some(AuditKind::LoginSucceeded),
        limit: 10,
        ..Default::default()
    };
    assert_eq!(stores.audit.list_audit(&logins).await.unwrap().len(), 2);
    let alices = AuditQuery {
        user: Some(alice),
        limit: 10,
        ..Default::default()
    };
    let alices = stores.audit.list_audit(&alices).await.unwrap();
    assert!(alices.iter().all(|r| r.event.actor == Some(alice)) && alices.len() == 2);
    let page = AuditQuery {
        before: Some(all[1].id),
        limit: 1,
        ..Default::default()
    };
    let page = stores.audit.list_audit(&page).await.unwrap();
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].id, all[2].id);
}

pub(crate) async fn ping_answers(stores: &Stores) {
    stores.health.ping().await.unwrap();
}

pub(crate) async fn the_database_clock_is_readable(stores: &Stores) {
    let db = stores.health.database_time().await.unwrap();
    let here = time::OffsetDateTime::now_utc();
    // Same machine in the tests: the clocks agree closely.
    assert!(
        (db - here).abs() < time::Duration::seconds(5),
        "{db} vs {here}"
    );
}
