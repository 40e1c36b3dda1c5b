//! What each example in `examples/` must print. Thread interleavings vary from run to run, so
//! each check states the properties that hold in every run.

#![allow(dead_code)]

/// Checks the output of example `name`; an example without a check fails.
pub fn check(name: &str, out: &str) -> Result<(), String> {
    match name {
        "seed000_child_and_main" => child_and_main(out),
        "seed000_synchronized" => synchronized(out),
        "seed002_counters" => counters(out),
        "seed003_work_queue" => work_queue(out),
        "seed004_connection_pool" => connection_pool(out),
        "seed004_client_server_barrier" => client_server_barrier(out),
        "seed004_with_statement" => with_statement(out),
        "seed003_print_time" => print_time(out),
        "seed003_my_thread" => my_thread(out),
        "seed003_synchronized" => synchronized_threads(out),
        "seed004_module_functions" => exactly(out, MODULE_FUNCTIONS),
        "seed004_local_and_timer" => exactly(out, LOCAL_AND_TIMER),
        "exit_waits_for_threads" => exactly(out, EXIT_WAITS),
        "every_primitive" => exactly(out, EVERY_PRIMITIVE),
        "cpp_worker_pool" => cpp_worker_pool(out),
        "futures_fetch" => exactly(out, FUTURES_FETCH),
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

/// The output is exactly `want`.
/// The pool's example: one page cancelled, one failed, the 998 others' sizes summed.
const FUTURES_FETCH: &str = "page 500 cancelled before it started\n\
page 777 failed: connection reset by peer (code 104)\n\
998 pages fetched, 3035963 bytes; 1 failed, 1 cancelled\n";

fn exactly(out: &str, want: &str) -> Result<(), String> {
    ensure(out == want, || format!("expected:\n{want}\ngot:\n{out}"))
}

/// A time line "Thread-N: +X.XXXs" (or "Thread-N: i at +X.XXXs"): the thread and the offset.
fn time_line(line: &str) -> Option<(&str, Option<u32>, f64)> {
    let (name, rest) = line.split_once(": ")?;
    if !name.starts_with("Thread-") {
        return None;
    }
    let (count, offset) = match rest.split_once(" at ") {
        Some((c, o)) => (Some(c.parse().ok()?), o),
        None => (None, rest),
    };
    let secs = offset.strip_prefix('+')?.strip_suffix('s')?.parse().ok()?;
    Some((name, count, secs))
}

/// Each thread's time lines: in order, at least `delay` apart from the start, `n` of them.
fn check_times(
    lines: &[(&str, Option<u32>, f64)],
    name: &str,
    delay: f64,
    n: usize,
) -> Result<(), String> {
    let mine: Vec<_> = lines.iter().filter(|l| l.0 == name).collect();
    ensure(mine.len() == n, || {
        format!("{name} printed {} times, expected {n}", mine.len())
    })?;
    for (i, (_, count, secs)) in mine.iter().enumerate() {
        if let Some(c) = count {
            ensure(*c as usize == i + 1, || {
                format!("{name}'s line {} says {c}", i + 1)
            })?;
        }
        // Each line comes after i+1 sleeps of `delay` (printed to the millisecond).
        ensure(*secs >= (i + 1) as f64 * delay - 0.0015, || {
            format!(
                "{name}'s line {} at +{secs}s, before {} sleeps of {delay}s",
                i + 1,
                i + 1
            )
        })?;
    }
    Ok(())
}

/// Seed 003's functional threads: five lines each, counted 1..5, after 0.05 s and 0.1 s sleeps.
fn print_time(out: &str) -> Result<(), String> {
    let lines: Vec<&str> = out.lines().collect();
    ensure(lines.len() == 10, || {
        format!("expected 10 lines, got {lines:?}")
    })?;
    let parsed: Vec<_> = lines
        .iter()
        .map(|l| time_line(l).ok_or_else(|| format!("malformed line {l:?}")))
        .collect::<Result<_, _>>()?;
    ensure(parsed.iter().all(|p| p.1.is_some()), || {
        "a line without its count".into()
    })?;
    check_times(&parsed, "Thread-1", 0.05, 5)?;
    check_times(&parsed, "Thread-2", 0.1, 5)
}

/// The lines of one seed 003 thread object: "Thread Start: X", its times, "Thread Exit: X".
fn thread_block(
    lines: &[&str],
    name: &str,
    delay: f64,
    n: usize,
) -> Result<(usize, usize), String> {
    let start = format!("Thread Start: {name}");
    let exit = format!("Thread Exit: {name}");
    let s = lines
        .iter()
        .position(|l| *l == start)
        .ok_or(format!("no {start:?}"))?;
    let e = lines
        .iter()
        .position(|l| *l == exit)
        .ok_or(format!("no {exit:?}"))?;
    let times: Vec<_> = lines.iter().filter_map(|l| time_line(l)).collect();
    check_times(&times, name, delay, n)?;
    let prefix = format!("{name}: ");
    let first = lines
        .iter()
        .position(|l| l.starts_with(&prefix))
        .unwrap_or(0);
    let last = lines
        .iter()
        .rposition(|l| l.starts_with(&prefix))
        .unwrap_or(0);
    ensure(s < first && last < e, || {
        format!("{name}'s times are not between its start and exit")
    })?;
    Ok((first, last))
}

/// Seed 003's class-style threads: is_alive False, True (threads wait until main has looked),
/// then False after join; each thread's block whole; "exit" last.
fn my_thread(out: &str) -> Result<(), String> {
    let lines: Vec<&str> = out.lines().collect();
    ensure(lines.len() == 18, || {
        format!("expected 18 lines, got {lines:?}")
    })?;
    ensure(lines[0] == "Thread-1 is Alive? False", || {
        format!("first line {:?}", lines[0])
    })?;
    ensure(lines[16] == "Thread-1 is Alive? False", || {
        format!("line 17 {:?}", lines[16])
    })?;
    ensure(lines[17] == "exit", || format!("last line {:?}", lines[17]))?;
    let alive = lines
        .iter()
        .position(|l| *l == "Thread-1 is Alive? True")
        .ok_or("no \"Thread-1 is Alive? True\"")?;
    let (first1, _) = thread_block(&lines, "Thread-1", 0.05, 5)?;
    let (first2, _) = thread_block(&lines, "Thread-2", 0.1, 5)?;
    ensure(alive < first1 && alive < first2, || {
        "a thread printed its time before main checked is_alive".into()
    })
}

/// Seed 003's lock-synchronised threads: each one's three times are consecutive lines.
fn synchronized_threads(out: &str) -> Result<(), String> {
    let lines: Vec<&str> = out.lines().collect();
    ensure(lines.len() == 11, || {
        format!("expected 11 lines, got {lines:?}")
    })?;
    ensure(lines[10] == "exit", || format!("last line {:?}", lines[10]))?;
    for (name, delay) in [("Thread-1", 0.05), ("Thread-2", 0.1)] {
        let (first, last) = thread_block(&lines, name, delay, 3)?;
        ensure(last - first == 2, || {
            format!("{name}'s times were interleaved: {lines:?}")
        })?;
    }
    Ok(())
}

const MODULE_FUNCTIONS: &str = "\
active_count(): 1
[main] current_thread(): MainThread (started)
[main] get_ident() is current_thread().ident: yes
[main] current_thread() is main_thread(): yes
main_thread(): MainThread (started), ident is get_ident(): yes
-- start a daemon thread named SockThread
[SockThread] current_thread(): SockThread (started, daemon)
[SockThread] get_ident() is current_thread().ident: yes
[SockThread] current_thread() is main_thread(): no
active_count(): 2
enumerate(): 2 threads
  MainThread (started)
  SockThread (started, daemon)
-- after join
active_count(): 1
enumerate(): 1 threads
  MainThread (started)
stack_size(): 0
stack_size(65536) returned 0; stack_size(): 65536
stack_size(4096): size not valid: 4096 bytes; stack_size(): 65536
TIMEOUT_MAX: 9223372036.0
";

const LOCAL_AND_TIMER: &str = "\
main: mydata.x = 7
thread: mydata.x is not set
thread: mydata.x = 8
main: mydata.x = 7
Hello
cancelled timer: ended
";

const EXIT_WAITS: &str = "\
daemon: started
main: returning
worker: finished
";

/// Three workers start, main fills the queue, each of the five words is processed exactly once
/// by a worker that has started, every worker exits after the last word, and "exit" comes last.
fn work_queue(out: &str) -> Result<(), String> {
    const WORKERS: [&str; 3] = ["Thread-1", "Thread-2", "Thread-3"];
    const WORDS: [&str; 5] = ["One", "Two", "Three", "Four", "Five"];
    let lines: Vec<&str> = out.lines().collect();
    ensure(lines.len() == 14, || {
        format!("expected 14 lines, got {}: {lines:?}", lines.len())
    })?;
    ensure(lines[13] == "exit", || {
        format!("last line is {:?}", lines[13])
    })?;
    let find = |want: &str| -> Result<usize, String> {
        let at: Vec<usize> = (0..lines.len()).filter(|&i| lines[i] == want).collect();
        match at[..] {
            [i] => Ok(i),
            _ => Err(format!("{want:?} appears {} times", at.len())),
        }
    };
    let filling = find("Filling queue...")?;
    let filled = find("Queue filled.")?;
    ensure(filling < filled, || {
        "\"Queue filled.\" before \"Filling queue...\"".into()
    })?;
    let mut started = Vec::new();
    for w in WORKERS {
        started.push(find(&format!("Thread Start: {w}"))?);
    }
    let mut seen = Vec::new();
    let mut last_processing = 0;
    for (i, line) in lines.iter().enumerate() {
        let Some((who, word)) = line.split_once(" processing ") else {
            continue;
        };
        let w = WORKERS
            .iter()
            .position(|&n| n == who)
            .ok_or_else(|| format!("unknown worker in {line:?}"))?;
        ensure(i > started[w] && i > filling, || {
            format!("{line:?} comes before its worker started or the queue was filled")
        })?;
        seen.push(word);
        last_processing = i;
    }
    seen.sort();
    let mut want = WORDS.to_vec();
    want.sort();
    ensure(seen == want, || {
        format!("words processed: {seen:?}, expected each of {want:?} once")
    })?;
    for (w, name) in WORKERS.iter().enumerate() {
        let exit = find(&format!("Thread Exit: {name}"))?;
        ensure(
            exit > started[w] && exit > last_processing && exit > filled,
            || format!("{name} exits before its work is over"),
        )?;
    }
    Ok(())
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

const EVERY_PRIMITIVE: &str = "\
start_new_thread: ran
exit_thread: ended the thread early
Lock: counter = 4000
RLock: held 2 levels deep
Condition: got 42
Semaphore: value 3 after release(3)
BoundedSemaphore: at most two inside; Semaphore released too many times
Event: the waiter got RT_OK
interrupt: the waiter got RT_EINTR
Barrier: 2 cycles of 3 threads
Thread: worker ran and ended
current_thread: MainThread, the main thread
Timer: fired; the cancelled one did not
local: 2 per-thread values destroyed
Queue: the worker summed 55, then saw the shutdown
LifoQueue: 3 2 1
PriorityQueue: 1 2 3
SimpleQueue: 1 2 3
";

/// 20 lines "worker-K finished job J" (K in 1..=4, each J in 0..20 once, in any order), then
/// the summary lines.
fn cpp_worker_pool(out: &str) -> Result<(), String> {
    let lines: Vec<&str> = out.lines().collect();
    ensure(lines.len() == 23, || {
        format!("expected 23 lines, got {}:\n{out}", lines.len())
    })?;
    let mut seen = [false; 20];
    for line in &lines[..20] {
        let (worker, job) = line
            .strip_prefix("worker-")
            .and_then(|rest| rest.split_once(" finished job "))
            .ok_or_else(|| format!("unexpected line {line:?}"))?;
        ensure(matches!(worker, "1" | "2" | "3" | "4"), || {
            format!("no worker-{worker} in {line:?}")
        })?;
        let job: usize = job.parse().map_err(|_| format!("bad job in {line:?}"))?;
        ensure(job < 20 && !seen[job], || {
            format!("job {job} twice or out of range")
        })?;
        seen[job] = true;
    }
    ensure(
        lines[20..] == ["all 20 jobs done", "checksum: 5000", "workers stopped: 4"],
        || format!("summary lines are {:?}", &lines[20..]),
    )
}
