//! Community board posts.

use hallpass_core::{
    post::{NewPost, Post, PostBody, PostId, PostTitle},
    user::UserId,
};
use hallpass_store::{PostQuery, Stores};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::{T0, user};

fn new_post(author: UserId, title: &str, body: &str, at: OffsetDateTime) -> NewPost {
    NewPost {
        id: PostId(Uuid::new_v4()),
        author,
        title: PostTitle::parse(title).unwrap(),
        body: PostBody::parse(body).unwrap(),
        created_at: at,
    }
}

async fn post(stores: &Stores, author: UserId, title: &str, at: OffsetDateTime) -> Post {
    let new = new_post(author, title, "body", at);
    stores.posts.create_post(&new).await.unwrap()
}

async fn listed(stores: &Stores, limit: u32, offset: u32) -> Vec<PostId> {
    let query = PostQuery { limit, offset };
    let posts = stores.posts.list_posts(&query).await.unwrap();
    posts.into_iter().map(|p| p.id).collect()
}

pub(crate) async fn posts_round_trip(stores: &Stores) {
    let alice = user(stores, "Alice").await;
    let new = new_post(alice, "Hello", "First post.\nTwo lines.", T0);
    let created = stores.posts.create_post(&new).await.unwrap();
    assert_eq!(created.id, new.id);
    assert_eq!(created.author, alice);
    assert_eq!(created.author_name, "Alice");
    assert_eq!(created.title, "Hello");
    assert_eq!(created.body, "First post.\nTwo lines.");
    assert_eq!(created.created_at, T0);
    assert_eq!(created.updated_at, T0);

    let read = stores.posts.post_by_id(new.id).await.unwrap().unwrap();
    assert_eq!(read, created);
    assert!(
        stores
            .posts
            .post_by_id(PostId(Uuid::new_v4()))
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(stores.posts.count_posts().await.unwrap(), 1);
}

pub(crate) async fn posts_need_an_existing_author(stores: &Stores) {
    let ghost = UserId(Uuid::new_v4());
    let new = new_post(ghost, "Boo", "nobody wrote this", T0);
    assert!(stores.posts.create_post(&new).await.is_err());
    assert!(stores.posts.post_by_id(new.id).await.unwrap().is_none());
    assert_eq!(stores.posts.count_posts().await.unwrap(), 0);
}

pub(crate) async fn posts_are_listed_newest_first_and_paged(stores: &Stores) {
    assert!(listed(stores, 10, 0).await.is_empty());
    let alice = user(stores, "alice").await;
    let bob = user(stores, "bob").await;
    let oldest = post(stores, alice, "oldest", T0).await;
    let newest = post(stores, bob, "newest", T0 + Duration::hours(2)).await;
    // Posted in the same microsecond: the larger id comes first, on every backend.
    let tied_a = post(stores, alice, "tied a", T0 + Duration::hours(1)).await;
    let tied_b = post(stores, bob, "tied b", T0 + Duration::hours(1)).await;
    let (tied_first, tied_second) = if tied_a.id > tied_b.id {
        (tied_a.id, tied_b.id)
    } else {
        (tied_b.id, tied_a.id)
    };
    let expected = [newest.id, tied_first, tied_second, oldest.id];

    assert_eq!(listed(stores, 10, 0).await, expected);
    assert_eq!(listed(stores, 2, 0).await, expected[..2]);
    assert_eq!(listed(stores, 2, 2).await, expected[2..]);
    assert_eq!(listed(stores, 2, 3).await, expected[3..]);
    assert!(listed(stores, 2, 4).await.is_empty());
    assert!(listed(stores, 0, 0).await.is_empty());
    assert_eq!(stores.posts.count_posts().await.unwrap(), 4);

    let all = stores
        .posts
        .list_posts(&PostQuery {
            limit: 10,
            offset: 0,
        })
        .await
        .unwrap();
    let authors: Vec<_> = all.iter().map(|p| p.author_name.as_str()).collect();
    assert_eq!(authors[0], "bob");
    assert_eq!(authors[3], "alice");
    assert_eq!(all[0], newest, "listed posts read the same as created ones");
}

pub(crate) async fn posts_are_updated(stores: &Stores) {
    let alice = user(stores, "alice").await;
    let created = post(stores, alice, "Draft", T0).await;
    let other = post(stores, alice, "Other", T0).await;
    let later = T0 + Duration::minutes(5) + Duration::microseconds(7);
    let title = PostTitle::parse("Final").unwrap();
    let body = PostBody::parse("Edited\nbody").unwrap();

    let updated = stores
        .posts
        .update_post(created.id, &title, &body, later)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(updated.id, created.id);
    assert_eq!(updated.title, "Final");
    assert_eq!(updated.body, "Edited\nbody");
    assert_eq!(updated.updated_at, later);
    assert_eq!(updated.author, alice);
    assert_eq!(updated.author_name, "alice");
    assert_eq!(updated.created_at, T0);
    assert_eq!(
        stores.posts.post_by_id(created.id).await.unwrap().unwrap(),
        updated
    );
    assert_eq!(
        stores.posts.post_by_id(other.id).await.unwrap().unwrap(),
        other,
        "only the one post changes"
    );

    assert!(
        stores
            .posts
            .update_post(PostId(Uuid::new_v4()), &title, &body, later)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(stores.posts.count_posts().await.unwrap(), 2);
}

pub(crate) async fn posts_are_deleted(stores: &Stores) {
    let alice = user(stores, "alice").await;
    let doomed = post(stores, alice, "Doomed", T0).await;
    let kept = post(stores, alice, "Kept", T0).await;
    assert!(stores.posts.delete_post(doomed.id).await.unwrap());
    assert!(stores.posts.post_by_id(doomed.id).await.unwrap().is_none());
    assert!(!stores.posts.delete_post(doomed.id).await.unwrap());
    assert!(
        !stores
            .posts
            .delete_post(PostId(Uuid::new_v4()))
            .await
            .unwrap()
    );
    assert_eq!(listed(stores, 10, 0).await, [kept.id]);
    assert_eq!(stores.posts.count_posts().await.unwrap(), 1);
}

pub(crate) async fn deleting_a_user_deletes_their_posts(stores: &Stores) {
    let alice = user(stores, "alice").await;
    let bob = user(stores, "bob").await;
    let mine = post(stores, alice, "Alice's", T0).await;
    let also_mine = post(stores, alice, "Alice's too", T0 + Duration::seconds(1)).await;
    let theirs = post(stores, bob, "Bob's", T0 + Duration::seconds(2)).await;

    assert!(stores.users.delete_user(alice, T0).await.unwrap());
    assert!(stores.posts.post_by_id(mine.id).await.unwrap().is_none());
    assert!(
        stores
            .posts
            .post_by_id(also_mine.id)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(listed(stores, 10, 0).await, [theirs.id]);
    assert_eq!(stores.posts.count_posts().await.unwrap(), 1);
}

pub(crate) async fn post_text_round_trips_exactly(stores: &Stores) {
    let alice = user(stores, "alice").await;
    let samples = [
        (
            "<script>alert('x')</script>",
            "<script>document.cookie</script>\n<img src=x onerror=\"alert(1)\">",
        ),
        (
            "Ünïcödé — 日本語 🦀 עברית",
            "e\u{301} (combining) and é (precomposed)\nzero\u{200b}width, \u{202e}reversed\u{202c}\n😀👍🏽",
        ),
        (
            "\"double\" and 'single' quotes, `backticks`",
            "  indented first line\n\nback\\slash \\n not a newline\n'); DROP TABLE posts; --\n100% _like_ %s {} $1 ?",
        ),
    ];
    for (i, (title, body)) in samples.into_iter().enumerate() {
        let new = new_post(alice, title, body, T0 + Duration::seconds(i as i64));
        // The parsers keep all of these as typed, so the store is what is tested here.
        assert_eq!((new.title.as_str(), new.body.as_str()), (title, body));
        let created = stores.posts.create_post(&new).await.unwrap();
        assert_eq!(
            (created.title.as_str(), created.body.as_str()),
            (title, body)
        );
        let read = stores.posts.post_by_id(new.id).await.unwrap().unwrap();
        assert_eq!((read.title.as_str(), read.body.as_str()), (title, body));
    }

    let target = post(stores, alice, "plain", T0).await;
    let (title, body) = samples[1];
    let updated = stores
        .posts
        .update_post(
            target.id,
            &PostTitle::parse(title).unwrap(),
            &PostBody::parse(body).unwrap(),
            T0 + Duration::hours(1),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (updated.title.as_str(), updated.body.as_str()),
        (title, body)
    );
    let read = stores.posts.post_by_id(target.id).await.unwrap().unwrap();
    assert_eq!((read.title.as_str(), read.body.as_str()), (title, body));
    let listed = stores
        .posts
        .list_posts(&PostQuery {
            limit: 10,
            offset: 0,
        })
        .await
        .unwrap();
    assert_eq!(listed.len(), 4);
    assert!(
        listed
            .iter()
            .any(|p| p.title == samples[0].0 && p.body == samples[0].1)
    );
}
