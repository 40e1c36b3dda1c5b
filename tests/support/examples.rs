//! What each example in `examples/` must print. Thread interleavings vary from run to run, so
//! each check states the properties that hold in every run.

#![allow(dead_code)]

/// Checks the output of example `name`; an example without a check fails.
pub fn check(name: &str, out: &str) -> Result<(), String> {
    match name {
        "seed000_child_and_main" => child_and_main(out),
        "seed000_synchronized" => synchronized(out),
        "seed002_counters" => counters(out),
        "seed004_connection_pool" => connection_pool(out),
        "seed004_client_server_barrier" => client_server_barrier(out),
        "seed004_with_statement" => with_statement(out),
        _ => Err(format!(
            "no output check for example {name}: add one to tests/support/examples.rs"
        )),
    }
}

fn ensure(cond: bool, what: impl FnOnce() -> String) -> Result<(), String> {
    if cond { Ok(()) } else { Err(what()) }
}

/// "child 1".."child 5" and "main 1".."main 5", each in order, interleaved in any way.
fn child_and_main(out: &str) -> Result<(), String> {
    let lines: Vec<&str> = out.lines().collect();
    ensure(lines.len() == 10, || {
        format!("expected 10 lines, got {}", lines.len())
    })?;
    for who in ["child", "main"] {
        let seq: Vec<&str> = lines
            .iter()
            .copied()
            .filter(|l| l.starts_with(&format!("{who} ")))
            .collect();
        let want: Vec<String> = (1..6).map(|i| format!("{who} {i}")).collect();
        ensure(seq == want, || {
            format!("{who}'s lines are {seq:?}, expected {want:?}")
        })?;
    }
    Ok(())
}

/// Each thread's block (acquired, ten stars, released) is whole, and each appears once.
fn synchronized(out: &str) -> Result<(), String> {
    let lines: Vec<&str> = out.lines().collect();
    ensure(lines.len() == 6, || {
        format!("expected 6 lines, got {lines:?}")
    })?;
    let mut seen = Vec::new();
    for block in lines.chunks(3) {
        let name = block[0]
            .strip_suffix(" has acquired lock")
            .ok_or_else(|| format!("block starts with {:?}", block[0]))?;
        ensure(block[1] == "**********", || {
            format!("stars line is {:?}", block[1])
        })?;
        ensure(block[2] == format!("{name} has released lock"), || {
            format!("{name}'s block ends with {:?}", block[2])
        })?;
        seen.push(name.to_string());
    }
    seen.sort();
    ensure(seen == ["t1", "t2"], || format!("threads seen: {seen:?}"))
}

/// 25 whole lines "[tid] => i", each thread's in order 0..4, then the exit line.
fn counters(out: &str) -> Result<(), String> {
    let lines: Vec<&str> = out.lines().collect();
    ensure(lines.len() == 26, || {
        format!("expected 26 lines, got {}", lines.len())
    })?;
    ensure(lines[25] == "Main thread exiting...", || {
        format!("last line is {:?}", lines[25])
    })?;
    let mut next = [0u32; 5];
    for line in &lines[..25] {
        let parsed = line
            .strip_prefix('[')
            .and_then(|r| r.split_once("] => "))
            .and_then(|(t, i)| Some((t.parse::<usize>().ok()?, i.parse::<u32>().ok()?)));
        let (tid, i) = parsed.ok_or_else(|| format!("mixed or malformed line {line:?}"))?;
        ensure(tid < 5, || format!("unknown thread in {line:?}"))?;
        ensure(next[tid] == i, || {
            format!("thread {tid} printed {i}, expected {}", next[tid])
        })?;
        next[tid] += 1;
    }
    ensure(next == [5; 5], || format!("counts per thread: {next:?}"))
}

/// Twelve workers, four connections each, never more than five open at once: every
/// "connected (K open)" line has K equal to the count so far and at most 5, every worker closes
/// what it opened; then the peak, and the refused extra release.
fn connection_pool(out: &str) -> Result<(), String> {
    const WORKERS: usize = 12;
    const QUERIES: usize = 4;
    const LIMIT: usize = 5;
    let lines: Vec<&str> = out.lines().collect();
    let events = WORKERS * QUERIES * 2;
    ensure(lines.len() == events + 3, || {
        format!("expected {} lines, got {}", events + 3, lines.len())
    })?;
    let (mut open, mut peak) = (0usize, 0usize);
    let mut holding = [false; WORKERS];
    let mut connects = [0usize; WORKERS];
    for line in &lines[..events] {
        let rest = line
            .strip_prefix("worker ")
            .ok_or_else(|| format!("unexpected line {line:?}"))?;
        let (w, what) = rest
            .split_once(": ")
            .ok_or_else(|| format!("malformed line {line:?}"))?;
        let w: usize = w.parse().map_err(|_| format!("bad worker in {line:?}"))?;
        ensure(w < WORKERS, || format!("unknown worker in {line:?}"))?;
        if what == "closed" {
            ensure(holding[w] && open > 0, || {
                format!("{line:?} without an open connection")
            })?;
            holding[w] = false;
            open -= 1;
            continue;
        }
        let k: usize = what
            .strip_prefix("connected (")
            .and_then(|r| r.strip_suffix(" open)"))
            .and_then(|k| k.parse().ok())
            .ok_or_else(|| format!("malformed line {line:?}"))?;
        ensure(!holding[w], || {
            format!("worker {w} connected twice at once")
        })?;
        open += 1;
        holding[w] = true;
        connects[w] += 1;
        peak = peak.max(open);
        ensure(k == open, || format!("{line:?}, but {open} are open"))?;
        ensure(k <= LIMIT, || format!("{k} connections open at once"))?;
    }
    ensure(open == 0, || format!("{open} connections left open"))?;
    ensure(connects == [QUERIES; WORKERS], || {
        format!("connections per worker: {connects:?}")
    })?;
    let want_peak = format!("peak: {peak} connections open at once (limit {LIMIT})");
    ensure(lines[events] == want_peak, || {
        format!("peak line {:?}, expected {want_peak:?}", lines[events])
    })?;
    let tail = &lines[events + 1..];
    let want = [
        "one release too many: RT_EOVERRELEASE: Semaphore released too many times",
        "value: 5",
    ];
    ensure(tail == want, || {
        format!("last lines {tail:?}, expected {want:?}")
    })
}

/// The server listens before the client passes the barrier; "passed the barrier" is printed
/// once, by the thread that got index 0, after that; then three requests, each answered before
/// its reply is read.
fn client_server_barrier(out: &str) -> Result<(), String> {
    let lines: Vec<&str> = out.lines().collect();
    let passed: Vec<usize> = (0..lines.len())
        .filter(|&i| lines[i] == "passed the barrier")
        .collect();
    ensure(passed.len() == 1, || {
        format!("\"passed the barrier\" printed {} times", passed.len())
    })?;
    ensure(passed[0] >= 2, || {
        "\"passed the barrier\" before the server listened".to_string()
    })?;
    let rest: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| *l != "passed the barrier")
        .collect();
    let want = [
        "server: starting",
        "server: listening",
        "server: request 1 answered",
        "client: reply 10 to request 1",
        "server: request 2 answered",
        "client: reply 20 to request 2",
        "server: request 3 answered",
        "client: reply 30 to request 3",
        "done",
    ];
    ensure(rest == want, || format!("got {rest:?}, expected {want:?}"))
}

/// Each primitive free again after its block, early exits included.
fn with_statement(out: &str) -> Result<(), String> {
    let lines: Vec<&str> = out.lines().collect();
    let want = [
        "lock: balance 7, free after both blocks",
        "rlock: level 2 in the nested block, 0 after it",
        "condition: got item 42 with the lock held, released after the block",
        "semaphore: value 1 in the block, 2 after it",
        "bounded semaphore: value 1 after the block; a second release: Semaphore released too \
         many times",
    ];
    ensure(lines == want, || {
        format!("got {lines:?}, expected {want:?}")
    })
}
