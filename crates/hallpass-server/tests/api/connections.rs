//! Connection limits over real sockets on loopback: header-read and keep-alive timeouts, the
//! total and per-address caps, and the shutdown delay (issue 11).

use std::{
    net::SocketAddr,
    sync::Arc,
    time::{Duration, Instant},
};

use hallpass_core::clock::ManualClock;
use hallpass_server::{
    config::{ConfigDuration, Settings},
    startup::Application,
};
use time::OffsetDateTime;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpSocket, TcpStream},
};

use crate::helpers::{Backend, METRICS_TOKEN, read_response, spawn_app_with, test_settings};

/// A connection to `addr` from the loopback address `from` (all of 127/8 is on lo).
async fn connect_from(from: &str, addr: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket
        .bind(SocketAddr::new(from.parse().unwrap(), 0))
        .unwrap();
    socket.connect(addr).await.unwrap()
}

/// Whether the server closes `stream` within `within` (whatever it sends before that).
async fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    let mut buf = [0_u8; 4096];
    tokio::time::timeout(within, async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await
    .is_ok()
}

/// Sends `GET path` on a kept-alive connection and returns the status code, within 1 s.
async fn get(stream: &mut TcpStream, path: &str) -> u16 {
    request(stream, path).await.0
}

/// Sends `GET path` on a kept-alive connection and returns the status and body, within 1 s.
async fn request(stream: &mut TcpStream, path: &str) -> (u16, String) {
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: hallpass.test\r\nAuthorization: Bearer {METRICS_TOKEN}\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let (status, _, body) = read_response(stream, Duration::from_secs(1)).await;
    (status, body)
}

#[tokio::test]
async fn slow_or_silent_clients_are_closed_after_the_header_read_timeout() {
    let app = spawn_app_with(Backend::Sqlite, |s| {
        s.header_read_timeout = ConfigDuration::seconds(1);
        s.keep_alive_timeout = ConfigDuration::seconds(0);
    })
    .await;
    let started = Instant::now();
    let mut slowloris = connect_from("127.0.0.1", app.addr).await;
    slowloris
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: hall")
        .await
        .unwrap();
    let mut silent = connect_from("127.0.0.1", app.addr).await;
    assert!(closed_within(&mut slowloris, Duration::from_secs(4)).await);
    assert!(closed_within(&mut silent, Duration::from_secs(1)).await);
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "closed before the timeout"
    );
    // A prompt client is unaffected.
    let mut prompt = connect_from("127.0.0.1", app.addr).await;
    assert_eq!(get(&mut prompt, "/healthz").await, 200);
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_by_the_header_read_timeout() {
    // hyper restarts the header timer when a kept-alive connection goes idle.
    let app = spawn_app_with(Backend::Sqlite, |s| {
        s.header_read_timeout = ConfigDuration::seconds(1);
        s.keep_alive_timeout = ConfigDuration::seconds(0);
    })
    .await;
    let mut stream = connect_from("127.0.0.1", app.addr).await;
    assert_eq!(get(&mut stream, "/healthz").await, 200);
    let idle = Instant::now();
    assert!(closed_within(&mut stream, Duration::from_secs(4)).await);
    assert!(idle.elapsed() >= Duration::from_millis(900));
}

#[tokio::test]
async fn a_connection_idle_for_the_keep_alive_timeout_is_closed_and_a_busy_one_is_not() {
    let app = spawn_app_with(Backend::Sqlite, |s| {
        s.header_read_timeout = ConfigDuration::seconds(0);
        s.keep_alive_timeout = ConfigDuration::seconds(1);
    })
    .await;
    let mut stream = connect_from("127.0.0.1", app.addr).await;
    // Requests every 400 ms for longer than the timeout: it measures idleness, not age.
    for _ in 0..4 {
        assert_eq!(get(&mut stream, "/healthz").await, 200);
        tokio::time::sleep(Duration::from_millis(400)).await;
    }
    assert_eq!(get(&mut stream, "/healthz").await, 200);
    let idle = Instant::now();
    assert!(closed_within(&mut stream, Duration::from_secs(4)).await);
    assert!(idle.elapsed() >= Duration::from_millis(900));
}

/// Opens `count` sockets from `from` and returns those the server left open after a moment,
/// and how many it closed.
async fn open_many(from: &str, addr: SocketAddr, count: usize) -> (Vec<TcpStream>, usize) {
    let mut streams = Vec::new();
    for _ in 0..count {
        streams.push(connect_from(from, addr).await);
    }
    let checks = streams.into_iter().map(|mut stream| async move {
        let closed = closed_within(&mut stream, Duration::from_millis(700)).await;
        (!closed).then_some(stream)
    });
    let open: Vec<TcpStream> = futures_util::future::join_all(checks)
        .await
        .into_iter()
        .flatten()
        .collect();
    let closed = count - open.len();
    (open, closed)
}

#[tokio::test]
async fn one_address_past_its_cap_is_closed_while_another_is_answered() {
    let app = spawn_app_with(Backend::Sqlite, |s| {
        s.max_connections_per_ip = 20;
    })
    .await;
    let (mut open, closed) = open_many("127.0.0.1", app.addr, 50).await;
    assert_eq!((open.len(), closed), (20, 30));
    let started = Instant::now();
    let mut other = connect_from("127.0.0.2", app.addr).await;
    assert_eq!(get(&mut other, "/healthz").await, 200);
    assert!(started.elapsed() < Duration::from_secs(1));
    // The admitted ones are served as usual.
    assert_eq!(get(&mut open[0], "/healthz").await, 200);
    // (From the other address: this one is at its cap.)
    let (_, metrics) = request(&mut other, "/metrics").await;
    assert!(
        metrics
            .contains("hallpass_refused_connections_total{reason=\"max_connections_per_ip\"} 30"),
        "{metrics}"
    );
}

#[tokio::test]
async fn connections_past_the_total_cap_are_closed_until_one_leaves() {
    let app = spawn_app_with(Backend::Sqlite, |s| {
        s.max_connections = Some(10);
        s.max_connections_per_ip = 0;
    })
    .await;
    let (mut open, closed) = open_many("127.0.0.1", app.addr, 10).await;
    assert_eq!((open.len(), closed), (10, 0));
    let (_, closed) = open_many("127.0.0.2", app.addr, 5).await;
    assert_eq!(closed, 5);
    drop(open.pop());
    // The freed place goes to the next client once the server has seen the close.
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let mut next = connect_from("127.0.0.2", app.addr).await;
        if !closed_within(&mut next, Duration::from_millis(200)).await {
            assert_eq!(get(&mut next, "/healthz").await, 200);
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the freed place was never given out"
        );
    }
}

#[tokio::test]
async fn after_the_signal_readyz_fails_and_requests_are_served_until_the_delay_ends() {
    let dir = tempfile::tempdir().unwrap();
    let settings = Settings {
        shutdown_delay: ConfigDuration::seconds(1),
        ..test_settings(&dir)
    };
    let clock = Arc::new(ManualClock::new(OffsetDateTime::now_utc()));
    let app = Application::build(&settings, clock).await.unwrap();
    let addr = app.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async {
        let _ = stopped.await;
    }));
    let mut kept = connect_from("127.0.0.1", addr).await;
    assert_eq!(get(&mut kept, "/readyz").await, 200);
    let signalled = Instant::now();
    stop.send(()).unwrap();
    // Readiness fails as soon as the server has seen the signal, long before the delay ends.
    let mut ready = get(&mut kept, "/readyz").await;
    while ready == 200 && signalled.elapsed() < Duration::from_millis(300) {
        tokio::time::sleep(Duration::from_millis(10)).await;
        ready = get(&mut kept, "/readyz").await;
    }
    assert_eq!(ready, 503);
    // New connections are still accepted and answered during the delay.
    let mut fresh = connect_from("127.0.0.1", addr).await;
    assert_eq!(get(&mut fresh, "/healthz").await, 200);
    // Then the listener closes and the server ends.
    tokio::time::timeout(Duration::from_secs(4), server)
        .await
        .expect("the server did not stop")
        .unwrap()
        .unwrap();
    assert!(signalled.elapsed() >= Duration::from_millis(900));
    assert!(TcpStream::connect(addr).await.is_err(), "still listening");
    assert!(closed_within(&mut kept, Duration::from_secs(1)).await);
}
