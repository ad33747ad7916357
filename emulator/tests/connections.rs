//! Connections that send nothing useful are closed (issue #11): silent ones, slow headers,
//! slow bodies, idle keep-alive; and a cap on connections at once. Raw TCP, so that the
//! client does exactly what a slow or malicious one does.

mod common;

use std::time::{Duration, Instant};

use common::start_with;
use singing_cloning_emulator::Config;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Short limits, so that the tests are quick; closing must happen well within `CLOSED`.
fn config() -> Config {
    Config { header_timeout_ms: 300, body_timeout_ms: 300, idle_timeout_ms: 300, ..common::config(20) }
}

const CLOSED: Duration = Duration::from_secs(3);

/// Reads until the server closes the connection; returns what it sent and how long it took.
/// Panics if it is still open after `CLOSED`.
async fn read_until_closed(stream: &mut TcpStream) -> (String, Duration) {
    let started = Instant::now();
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        match tokio::time::timeout_at((started + CLOSED).into(), stream.read(&mut buffer)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return (String::from_utf8_lossy(&received).into_owned(), started.elapsed()),
            Ok(Ok(n)) => received.extend_from_slice(&buffer[..n]),
            Err(_) => {
                panic!("the connection is still open after {CLOSED:?}; received {received:?}")
            }
        }
    }
}

async fn connect(h: &common::Harness) -> TcpStream {
    TcpStream::connect(h.emulator.addr()).await.unwrap()
}

#[tokio::test]
async fn a_silent_connection_is_closed() {
    let h = start_with(config()).await;
    let mut stream = connect(&h).await;
    let (received, took) = read_until_closed(&mut stream).await;
    assert!(received.is_empty() && took >= Duration::from_millis(250), "{received:?} after {took:?}");
    h.stop().await;
}

#[tokio::test]
async fn headers_that_trickle_in_are_cut_off() {
    let h = start_with(config()).await;
    let mut stream = connect(&h).await;
    stream.write_all(b"GET /admin/health HTTP/1.1\r\n").await.unwrap();
    // A header byte every 50 ms: never silent, never done.
    let trickle = async {
        for _ in 0..100 {
            tokio::time::sleep(Duration::from_millis(50)).await;
            if stream.write_all(b"x").await.is_err() {
                return;
            }
        }
    };
    let started = Instant::now();
    trickle.await;
    assert!(started.elapsed() < CLOSED, "the server still read headers after {:?}", started.elapsed());
    h.stop().await;
}

#[tokio::test]
async fn a_body_that_stalls_gets_408_and_the_connection_closes() {
    let h = start_with(config()).await;
    let mut stream = connect(&h).await;
    let head = "POST /release/job HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: 100\r\n\r\n";
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(b"{\"action\":").await.unwrap();
    let (received, _) = read_until_closed(&mut stream).await;
    assert!(received.starts_with("HTTP/1.1 408"), "{received}");
    assert!(received.contains("RequestTimeout"), "{received}");
    h.stop().await;
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_but_a_slow_answer_is_not() {
    let h = start_with(config()).await;
    let mut stream = connect(&h).await;
    // The answer takes longer than the idle timeout (a delay fault): it still comes.
    let body = common::envelope("ListJobs", serde_json::json!({"customId": "x"})).to_string();
    let request = format!(
        "POST /release/job HTTP/1.1\r\nhost: 127.0.0.1\r\nx-emulator-fault: delay=700\r\n\
         content-length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let (received, took) = read_until_closed(&mut stream).await;
    assert!(received.starts_with("HTTP/1.1 200"), "{received}");
    assert!(received.contains("listJobsResponse"), "{received}");
    assert!(took >= Duration::from_millis(700 + 250), "closed {took:?} after the request, before the idle timeout");
    h.stop().await;
}

#[tokio::test]
async fn connections_past_the_cap_wait_for_a_free_one() {
    let h =
        start_with(Config { max_connections: 2, idle_timeout_ms: 60_000, header_timeout_ms: 60_000, ..config() }).await;
    let idle_a = connect(&h).await;
    let _idle_b = connect(&h).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut third = connect(&h).await; // in the listen backlog
    third.write_all(b"GET /admin/health HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n").await.unwrap();
    let mut buffer = [0u8; 1024];
    let early = tokio::time::timeout(Duration::from_millis(400), third.read(&mut buffer)).await;
    assert!(early.is_err(), "a third connection was served past the cap of 2");
    drop(idle_a);
    let (received, _) = read_until_closed(&mut third).await;
    assert!(received.starts_with("HTTP/1.1 200"), "{received}");
    h.stop().await;
}
