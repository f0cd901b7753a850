use super::*;

/// Where the listener's `TCP_NODELAY` is relied on, an accepted connection has it
/// without setting it.
#[test]
fn accepted_connections_have_nodelay() {
    let options = ListenOptions { port: 0, host: Some("127.0.0.1".into()), backlog: 8, reuse_port: false };
    let listener = tcp_listener(bind_tcp("127.0.0.1:0".parse().unwrap(), &options).unwrap());
    let addr = listener.listener.local_addr().unwrap();
    assert_eq!(listener.inherits_nodelay, NODELAY_INHERITED);
    let _client = std::net::TcpStream::connect(addr).unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    let stream = loop {
        match listener.listener.accept() {
            Ok((s, _)) => break s,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock && std::time::Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(1));
            }
            Err(e) => panic!("accept: {e}"),
        }
    };
    assert_eq!(stream.nodelay().unwrap(), listener.inherits_nodelay);
}
