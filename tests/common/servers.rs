//! Servers the tests start on 127.0.0.1 (moto's S3, HTTP servers).

use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::Child;
use std::time::{Duration, Instant};

use super::spawn_quiet;

/// A server process, killed when dropped.
pub struct Server {
    pub child: Child,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

pub fn start(program: &Path, args: &[&str], port: u16) -> Server {
    let server = Server {
        child: spawn_quiet(program, args),
    };
    wait_for_port(program, port);
    server
}

fn wait_for_port(program: &Path, port: u16) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "{} did not start", program.display());
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// [`start`] with extra environment variables for the server.
pub fn start_with_env(program: &Path, args: &[&str], env: &[(&str, &str)], port: u16) -> Server {
    let child = std::process::Command::new(program)
        .args(args)
        .envs(env.iter().copied())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    let server = Server { child };
    wait_for_port(program, port);
    server
}
