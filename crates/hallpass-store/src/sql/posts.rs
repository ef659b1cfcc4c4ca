//! Community board posts, written once for both backends.

/// Implements [`crate::PostStore`] for `$store`.
macro_rules! post_store {
    ($store:ident) => {
        const _: () = {
            use async_trait::async_trait;
            use hallpass_core::{
                clock::to_micros,
                post::{NewPost, Post, PostBody, PostId, PostTitle},
            };
            use time::OffsetDateTime;

            use crate::{
                PostQuery, PostStore, StoreError,
                sql::rows::{post, post_columns, returning_post_columns},
            };

            #[async_trait]
            impl PostStore for $store {
                async fn create_post(&self, new: &NewPost) -> Result<Post, StoreError> {
                    let sql = concat!(
                        "INSERT INTO posts (id, author_id, title, body, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)",
                        returning_post_columns!()
                    );
                    let row = sqlx::query(sql)
                        .bind(new.id.0)
                        .bind(new.author.0)
                        .bind(new.title.as_str())
                        .bind(new.body.as_str())
                        .bind(to_micros(new.created_at))
                        .fetch_one(&self.writer)
                        .await?;
                    post(&row)
                }

                async fn post_by_id(&self, id: PostId) -> Result<Option<Post>, StoreError> {
                    let sql = concat!(
                        "SELECT ",
                        post_columns!(),
                        " FROM posts p JOIN users u ON u.id = p.author_id WHERE p.id = $1"
                    );
                    let row = sqlx::query(sql)
                        .bind(id.0)
                        .fetch_optional(&self.pool)
                        .await?;
                    row.as_ref().map(post).transpose()
                }

                async fn list_posts(&self, query: &PostQuery) -> Result<Vec<Post>, StoreError> {
                    let sql = concat!(
                        "SELECT ",
                        post_columns!(),
                        " FROM posts p JOIN users u ON u.id = p.author_id
                         ORDER BY p.created_at DESC, p.id DESC LIMIT $1 OFFSET $2"
                    );
                    let rows = sqlx::query(sql)
                        .bind(i64::from(query.limit))
                        .bind(i64::from(query.offset))
                        .fetch_all(&self.pool)
                        .await?;
                    rows.iter().map(post).collect()
                }

                async fn update_post(
                    &self,
                    id: PostId,
                    title: &PostTitle,
                    body: &PostBody,
                    at: OffsetDateTime,
                ) -> Result<Option<Post>, StoreError> {
                    let sql = concat!(
                        "UPDATE posts SET title = $1, body = $2, updated_at = $3 WHERE id = $4",
                        returning_post_columns!()
                    );
                    let row = sqlx::query(sql)
                        .bind(title.as_str())
                        .bind(body.as_str())
                        .bind(to_micros(at))
                        .bind(id.0)
                        .fetch_optional(&self.writer)
                        .await?;
                    row.as_ref().map(post).transpose()
                }

                async fn delete_post(&self, id: PostId) -> Result<bool, StoreError> {
                    let done = sqlx::query("DELETE FROM posts WHERE id = $1")
                        .bind(id.0)
                        .execute(&self.writer)
                        .await?;
                    Ok(done.rows_affected() == 1)
                }

                async fn count_posts(&self) -> Result<u64, StoreError> {
                    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM posts")
                        .fetch_one(&self.pool)
                        .await?;
                    Ok(u64::try_from(count).unwrap_or(0))
                }
            }
        };
    };
}
pub(crate) use post_store;
