//! A TCP proxy the test controls, in front of PostgreSQL: `cut` drops every open
//! connection and closes each new one as it arrives (the server sees the database
//! vanish), `restore` lets connections through again. It runs on a thread and runtime
//! of its own, so a test that blocks (starting a process) cannot stall it.

use std::net::SocketAddr;

use tokio::io::copy_bidirectional;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Open,
    Cut,
    Closed,
}

pub struct CutProxy {
    pub port: u16,
    mode: watch::Sender<Mode>,
}

impl CutProxy {
    /// A proxy on a free local port to `upstream`.
    pub fn start(upstream: SocketAddr) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let (mode, watcher) = watch::channel(Mode::Open);
        std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
                .block_on(serve(listener, upstream, watcher));
        });
        CutProxy { port, mode }
    }

    /// Drops every connection and refuses new ones (accepted, then closed at once).
    pub fn cut(&self) {
        self.mode.send_replace(Mode::Cut);
    }

    /// Lets new connections through again.
    pub fn restore(&self) {
        self.mode.send_replace(Mode::Open);
    }

    /// A PostgreSQL URL (`postgres://user@host:port/db?...`) with its host and port
    /// replaced by the proxy's; and the upstream address it named.
    pub fn route(url: &str) -> (SocketAddr, Box<dyn Fn(u16) -> String>) {
        let (scheme, rest) = url.split_once("://").expect("a URL");
        let end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(end);
        let (user, host_port) = match authority.rsplit_once('@') {
            Some((user, hp)) => (format!("{user}@"), hp),
            None => (String::new(), authority),
        };
        let host_port = if host_port.contains(':') {
            host_port.to_owned()
        } else {
            format!("{host_port}:5432")
        };
        let host_port = host_port.replace("localhost", "127.0.0.1");
        let upstream: SocketAddr = host_port
            .parse()
            .unwrap_or_else(|_| panic!("the test database must be at an IP address: {url}"));
        let (scheme, tail) = (scheme.to_owned(), tail.to_owned());
        (
            upstream,
            Box::new(move |port| format!("{scheme}://{user}127.0.0.1:{port}{tail}")),
        )
    }
}

impl Drop for CutProxy {
    fn drop(&mut self) {
        self.mode.send_replace(Mode::Closed);
    }
}

async fn serve(
    listener: std::net::TcpListener,
    upstream: SocketAddr,
    mut mode: watch::Receiver<Mode>,
) {
    let listener = TcpListener::from_std(listener).unwrap();
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = mode.wait_for(|m| *m == Mode::Closed) => return,
        };
        let Ok((mut client, _)) = accepted else {
            continue;
        };
        if *mode.borrow() != Mode::Open {
            continue;
        }
        let mut watcher = mode.clone();
        tokio::spawn(async move {
            let Ok(mut server) = TcpStream::connect(upstream).await else {
                return;
            };
            // Either side closing ends it; so does a cut: both sockets are dropped.
            tokio::select! {
                _ = copy_bidirectional(&mut client, &mut server) => {}
                _ = watcher.wait_for(|m| *m != Mode::Open) => {}
            }
        });
    }
}
