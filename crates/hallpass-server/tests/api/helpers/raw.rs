//! Speaking HTTP/1.1 by hand on a socket, for tests about connections themselves.

use std::time::Duration;

use tokio::{io::AsyncReadExt, net::TcpStream};

/// One response read from `stream` within `within`: its status, lower-cased head and body.
pub(crate) async fn read_response(
    stream: &mut TcpStream,
    within: Duration,
) -> (u16, String, String) {
    let mut response = Vec::new();
    let mut buf = [0_u8; 4096];
    let read = async {
        loop {
            let n = stream.read(&mut buf).await.unwrap();
            assert!(n > 0, "closed before the response was complete");
            response.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&response).into_owned();
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                let head = head.to_ascii_lowercase();
                let length = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .map_or(0, |v| v.trim().parse::<usize>().unwrap());
                if body.len() >= length {
                    return (head[9..12].parse().unwrap(), head, body.to_owned());
                }
            }
        }
    };
    tokio::time::timeout(within, read)
        .await
        .unwrap_or_else(|_| panic!("no answer within {within:?}"))
}
