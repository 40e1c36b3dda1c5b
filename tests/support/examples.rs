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
