//! The real binary as a server process.

use std::{
    io::{BufRead, BufReader},
    net::SocketAddr,
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex, mpsc},
    time::Duration,
};

use super::bin;

/// `clavis serve` (the real binary, a process of its own) on a database; every line it writes
/// to stderr lands in `log`.
pub struct Server {
    child: Child,
    log: Arc<Mutex<Vec<String>>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    pub fn start(db_url: &str) -> (Self, SocketAddr) {
        Self::start_with(db_url, &[])
    }

    pub fn start_with(db_url: &str, env: &[(&str, &str)]) -> (Self, SocketAddr) {
        let mut child = Command::new(bin())
            .arg("serve")
            .envs(env.iter().copied())
            .env("DATABASE_URL", db_url)
            .env("LEPTOS_SITE_ADDR", "127.0.0.1:0")
            .env_remove("RUST_LOG")
            .env_remove("CLAVIS_ISSUER")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run clavis serve");
        let stderr = child.stderr.take().expect("stderr");
        let log = Arc::new(Mutex::new(Vec::new()));
        let (addr_tx, addr_rx) = mpsc::channel();
        let lines = log.clone();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if line.contains("Clavis is listening") {
                    // Text (`addr=…`) or JSON (`"addr":"…"`).
                    let addr = line
                        .split([' ', ','])
                        .find_map(|w| w.strip_prefix("addr=").or_else(|| w.strip_prefix("\"addr\":")))
                        .map(|a| a.trim_matches(['"', '}']));
                    let _ = addr_tx.send(addr.and_then(|a| a.parse::<SocketAddr>().ok()));
                }
                lines.lock().unwrap().push(line);
            }
        });
        let addr =
            addr_rx.recv_timeout(Duration::from_secs(30)).ok().flatten().unwrap_or_else(|| {
                panic!("no 'Clavis is listening addr=...' line: {:?}", log.lock().unwrap())
            });
        (Self { child, log, reader: Some(reader) }, addr)
    }

    /// Kills the server at once (SIGKILL: no shutdown, nothing flushed) and waits for it to go.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Stops the server as a service manager does (SIGTERM: it finishes and writes out the
    /// request lines it holds) and returns everything it logged.
    pub fn stop(mut self) -> String {
        let pid = self.child.id().to_string();
        let asked = Command::new("kill").args(["-TERM", &pid]).status().is_ok_and(|s| s.success());
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while asked && std::time::Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(r) = self.reader.take() {
            r.join().unwrap();
        }
        self.log.lock().unwrap().join("\n")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}
