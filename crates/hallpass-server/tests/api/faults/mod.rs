//! Fault tests: the server against real failures of what it depends on — its own PostgreSQL and
//! Redis on other ports (started, stopped and restarted here; the shared ones are never touched)
//! and a small tmpfs that fills up. They need root (initdb runs as `postgres`, tmpfs needs
//! mount) and run when `HALLPASS_TEST_FAULTS=1`, as `.ci/run` sets; otherwise they skip.

mod disk_full;
mod outage;

use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    process::Command,
    time::{Duration, Instant},
};

use tempfile::TempDir;

/// Whether fault tests run here.
pub(crate) fn faults_enabled() -> bool {
    if std::env::var("HALLPASS_TEST_FAULTS").as_deref() == Ok("1") {
        return true;
    }
    eprintln!("skipping: fault tests run with HALLPASS_TEST_FAULTS=1 (root needed)");
    false
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn run(command: &mut Command) {
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{command:?} failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Runs a PostgreSQL binary as the `postgres` user.
fn as_postgres(binary: &Path) -> Command {
    let mut command = Command::new("runuser");
    command.args(["-u", "postgres", "--"]).arg(binary);
    command
}

fn postgres_bin() -> PathBuf {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL server binaries in /usr/lib/postgresql")
        .map(|e| e.unwrap().path().join("bin"))
        .filter(|p| p.join("pg_ctl").exists())
        .collect();
    versions.sort();
    versions.pop().expect("a PostgreSQL version with pg_ctl")
}

/// A PostgreSQL server of this test's own, in a temporary directory, on a free port.
pub(crate) struct PrivatePostgres {
    bin: PathBuf,
    dir: TempDir,
    port: u16,
}

impl PrivatePostgres {
    pub(crate) fn start() -> Self {
        let bin = postgres_bin();
        let dir = tempfile::tempdir().unwrap();
        run(Command::new("chown")
            .arg("postgres:postgres")
            .arg(dir.path()));
        run(as_postgres(&bin.join("initdb"))
            .arg("-D")
            .arg(dir.path().join("data"))
            .args(["-U", "postgres", "--auth=trust", "--no-sync"]));
        let postgres = Self {
            bin,
            dir,
            port: free_port(),
        };
        postgres.up();
        postgres
    }

    pub(crate) fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    fn pg_ctl(&self, args: &[&str]) -> Command {
        let mut command = as_postgres(&self.bin.join("pg_ctl"));
        command
            .arg("-D")
            .arg(self.dir.path().join("data"))
            .arg("-l")
            .arg(self.dir.path().join("postgres.log"))
            .args(args);
        command
    }

    /// Starts (or restarts after [`Self::down`]) the server and waits until it accepts.
    pub(crate) fn up(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        run(&mut self.pg_ctl(&["-w", "-t", "30", "-o", &options, "start"]));
    }

    /// Stops the server (fast shutdown: open connections are cut).
    pub(crate) fn down(&self) {
        run(&mut self.pg_ctl(&["-w", "-m", "fast", "stop"]));
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let _ = self.pg_ctl(&["-m", "immediate", "stop"]).output();
    }
}

/// A Redis server of this test's own on a free port.
pub(crate) struct PrivateRedis {
    child: Option<std::process::Child>,
    port: u16,
}

impl PrivateRedis {
    pub(crate) fn start() -> Self {
        let mut redis = Self {
            child: None,
            port: free_port(),
        };
        redis.up();
        redis
    }

    pub(crate) fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    pub(crate) fn up(&mut self) {
        let child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .args(["--port", &self.port.to_string()])
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("redis-server");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub(crate) fn down(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.down();
    }
}

/// A small tmpfs, unmounted on drop.
pub(crate) struct SmallDisk {
    dir: TempDir,
}

impl SmallDisk {
    pub(crate) fn mount(size: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        run(Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path()));
        Self { dir }
    }

    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Fills the disk with one file; returns its path (remove it to free the space).
    pub(crate) fn fill(&self) -> PathBuf {
        let path = self.dir.path().join("ballast");
        std::fs::File::create(&path).unwrap();
        self.fill_more(&path);
        path
    }

    /// Appends to `ballast` until the disk is full again.
    pub(crate) fn fill_more(&self, ballast: &Path) {
        use std::io::Write;
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(ballast)
            .unwrap();
        let chunk = vec![0u8; 64 * 1024];
        while file.write_all(&chunk).is_ok() {}
        // Whatever fits in less than a chunk.
        while file.write_all(&[0u8; 512]).is_ok() {}
        let _ = file.sync_all();
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).output();
    }
}
