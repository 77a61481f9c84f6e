//! A real resolver for RPZ tests: Debian's unbound twice on loopback — a
//! tiny authoritative server for `test.` and a recursive resolver that
//! applies the policy zone (see ../shared/RPZ-TEST.md for why two).

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Resolver {
    children: Vec<Child>,
    pub port: u16,
}

impl Drop for Resolver {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn free_port() -> u16 {
    // A UDP and TCP port free at this moment.
    loop {
        let udp = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind udp");
        let port = udp.local_addr().expect("addr").port();
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

fn start(config: &Path) -> Child {
    let check = Command::new("unbound-checkconf")
        .arg(config)
        .output()
        .expect("run unbound-checkconf");
    assert!(
        check.status.success(),
        "unbound-checkconf: {}",
        String::from_utf8_lossy(&check.stdout)
    );
    Command::new("unbound")
        .arg("-d")
        .arg("-c")
        .arg(config)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start unbound")
}

impl Resolver {
    /// Serves `names` (name, IPv4) authoritatively and resolves through the
    /// policy zone in `zone_file` (owner names relative to `rpz.isx.`).
    pub fn start(dir: &Path, zone_file: &Path, names: &[(&str, &str)]) -> Resolver {
        let auth_port = free_port();
        let port = free_port();
        let d = dir.display();
        let data: String = names
            .iter()
            .map(|(n, ip)| format!("  local-data: \"{n}. A {ip}\"\n"))
            .collect();
        let auth = format!(
            "server:\n  interface: 127.0.0.1\n  port: {auth_port}\n  do-daemonize: no\n  username: \"\"\n  chroot: \"\"\n  directory: \"{d}\"\n  pidfile: \"{d}/auth.pid\"\n  use-syslog: no\n  local-zone: \"test.\" static\n{data}remote-control:\n  control-enable: no\n"
        );
        let resolver = format!(
            "server:\n  interface: 127.0.0.1\n  port: {port}\n  do-daemonize: no\n  username: \"\"\n  chroot: \"\"\n  directory: \"{d}\"\n  pidfile: \"{d}/unbound.pid\"\n  use-syslog: no\n  module-config: \"respip iterator\"\n  do-not-query-localhost: no\n  domain-insecure: \"test.\"\n  local-zone: \"test.\" nodefault\nstub-zone:\n  name: \"test.\"\n  stub-addr: 127.0.0.1@{auth_port}\nrpz:\n  name: \"rpz.isx.\"\n  zonefile: \"{}\"\nremote-control:\n  control-enable: no\n",
            zone_file.display()
        );
        std::fs::write(dir.join("auth.conf"), auth).expect("write auth.conf");
        std::fs::write(dir.join("resolver.conf"), resolver).expect("write resolver.conf");
        let children = vec![
            start(&dir.join("auth.conf")),
            start(&dir.join("resolver.conf")),
        ];
        let r = Resolver { children, port };
        // Ready when it answers at all.
        let started = Instant::now();
        while r.status("ready.probe.test").is_none() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "unbound did not start"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        r
    }

    /// The response code (`NOERROR`, `NXDOMAIN`, …) and the A records.
    pub fn status(&self, name: &str) -> Option<(String, Vec<String>)> {
        let out = Command::new("dig")
            .args([
                "@127.0.0.1",
                "-p",
                &self.port.to_string(),
                name,
                "A",
                "+time=1",
                "+tries=2",
            ])
            .output()
            .ok()?;
        let text = String::from_utf8_lossy(&out.stdout);
        let status = text
            .lines()
            .find_map(|l| l.split("status: ").nth(1))?
            .split(',')
            .next()?
            .to_owned();
        let answers = text
            .lines()
            .filter(|l| !l.starts_with(';') && l.contains("\tA\t"))
            .filter_map(|l| l.split_whitespace().last().map(str::to_owned))
            .collect();
        Some((status, answers))
    }
}
