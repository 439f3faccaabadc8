//! What the bench reads from /proc: CPU time (utime + stime) and peak RSS (VmHWM) of the
//! server, and the CPU time of the PostgreSQL processes that serve its database.

use std::path::Path;

/// CPU time of one process, in clock ticks, with its command name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcStat {
    pub comm: String,
    pub utime: u64,
    pub stime: u64,
}

impl ProcStat {
    pub fn ticks(&self) -> u64 {
        self.utime + self.stime
    }
}

/// Parses `/proc/<pid>/stat`. The command name sits in parentheses and may itself hold
/// spaces and parentheses, so the fields are counted from the last `)`: after it come
/// field 3 (`state`) onwards, utime being field 14 and stime field 15 (proc(5)).
pub fn parse_stat(line: &str) -> Option<ProcStat> {
    let open = line.find('(')?;
    let close = line.rfind(')')?;
    if close < open {
        return None;
    }
    let comm = line[open + 1..close].to_owned();
    let rest: Vec<&str> = line[close + 1..].split_whitespace().collect();
    let utime = rest.get(11)?.parse().ok()?;
    let stime = rest.get(12)?.parse().ok()?;
    Some(ProcStat { comm, utime, stime })
}

/// The `VmHWM` (peak resident set) of `/proc/<pid>/status`, in KiB.
pub fn parse_vm_hwm(status: &str) -> Option<u64> {
    status.lines().find_map(|l| {
        let v = l.strip_prefix("VmHWM:")?;
        v.split_whitespace().next()?.parse().ok()
    })
}

pub fn read_stat(pid: u32) -> Option<ProcStat> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat(&s)
}

pub fn read_vm_hwm_kib(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    parse_vm_hwm(&s)
}

/// Clock ticks per second (`sysconf(_SC_CLK_TCK)`), and whether it was read (100, the
/// Linux value on every common architecture, when it could not be).
pub fn clock_ticks() -> (u64, bool) {
    match nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK) {
        Ok(Some(t)) if t > 0 => (t.unsigned_abs(), true),
        _ => (100, false),
    }
}

/// True when the process title of a PostgreSQL process (its `/proc/<pid>/cmdline`, NULs as
/// spaces) counts towards the database server's CPU for `database`: the postmaster and the
/// background processes of the cluster (checkpointer, WAL writer, …) always, a client
/// backend only when it is connected to `database`. Backends of other databases (other
/// people's tests on the same cluster) are left out.
pub fn postgres_process_counts(title: &str, database: &str) -> bool {
    let words: Vec<&str> = title.split_whitespace().collect();
    let backend = words.iter().any(|w| is_client_address(w));
    !backend || words.contains(&database)
}

/// `127.0.0.1(53422)`, `[local]`, `::1(40000)`: how a backend's title names its client.
fn is_client_address(word: &str) -> bool {
    if word == "[local]" {
        return true;
    }
    let Some(open) = word.find('(') else {
        return false;
    };
    let Some(port) = word[open + 1..].strip_suffix(')') else {
        return false;
    };
    open > 0 && !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit())
}

/// Sum of utime + stime (ticks) over the `postgres` processes serving `database`, and how
/// many processes were counted.
pub fn postgres_ticks(database: &str) -> (u64, usize) {
    let mut total = 0;
    let mut n = 0;
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return (0, 0);
    };
    for entry in dir.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        let Some(stat) = read_stat(pid) else {
            continue;
        };
        if stat.comm != "postgres" {
            continue;
        }
        let title = std::fs::read(Path::new("/proc").join(pid.to_string()).join("cmdline"))
            .map(|b| String::from_utf8_lossy(&b).replace('\0', " "))
            .unwrap_or_default();
        if postgres_process_counts(&title, database) {
            total += stat.ticks();
            n += 1;
        }
    }
    (total, n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_counted_from_the_last_parenthesis() {
        let line = "4242 (ryoritsu) S 1 4242 4242 0 -1 4194560 2715 0 0 0 153 47 0 0 20 0 9 0 \
                    1234 123456789 4321 18446744073709551615 1 1 0 0 0 0 0 4096 17642 0 0 0 17 1 0 0 0 0 0";
        let s = parse_stat(line).unwrap();
        assert_eq!(s.comm, "ryoritsu");
        assert_eq!((s.utime, s.stime), (153, 47));
        assert_eq!(s.ticks(), 200);
        let odd = "7 (tokio (rt) 2) R 1 7 7 0 -1 0 0 0 0 0 11 22 0 0 20 0 1 0 5 6 7";
        let s = parse_stat(odd).unwrap();
        assert_eq!(s.comm, "tokio (rt) 2");
        assert_eq!((s.utime, s.stime), (11, 22));
        assert!(parse_stat("garbage").is_none());
        assert!(parse_stat("1 (short) S 1 2").is_none());
    }

    #[test]
    fn peak_rss_is_read_from_vm_hwm() {
        let status = "Name:\tryoritsu\nVmPeak:\t  812345 kB\nVmSize:\t  800000 kB\nVmHWM:\t   61234 kB\nVmRSS:\t   60000 kB\n";
        assert_eq!(parse_vm_hwm(status), Some(61234));
        assert_eq!(parse_vm_hwm("Name:\tx\n"), None);
    }

    #[test]
    fn only_this_databases_backends_and_the_clusters_own_processes_count() {
        let db = "ryoritsu_bench";
        assert!(postgres_process_counts(
            "/usr/lib/postgresql/17/bin/postgres -D /var/lib/postgresql/17/main -c config_file=/etc/postgresql/17/main/postgresql.conf",
            db
        ));
        assert!(postgres_process_counts(
            "postgres: 17/main: checkpointer ",
            db
        ));
        assert!(postgres_process_counts("postgres: 17/main: walwriter ", db));
        assert!(postgres_process_counts(
            "postgres: 17/main: postgres ryoritsu_bench 127.0.0.1(53422) idle",
            db
        ));
        assert!(!postgres_process_counts(
            "postgres: 17/main: postgres ryoritsu_it_99_3 127.0.0.1(53500) idle",
            db
        ));
        assert!(!postgres_process_counts(
            "postgres: 17/main: postgres other [local] idle",
            db
        ));
        assert!(is_client_address("::1(40000)"));
        assert!(!is_client_address("(40000)"));
        assert!(!is_client_address("17/main:"));
    }
}
