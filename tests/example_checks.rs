//! The example output checks reject output that breaks their rules (so they can fail).

#[path = "support/examples.rs"]
mod examples;

/// A run of seed003_work_queue: words processed while the queue fills, in any worker.
const WORK_QUEUE: &str = "Filling queue...\nThread Start: Thread-2\nThread Start: Thread-1\n\
Thread-2 processing One\nThread Start: Thread-3\nThread-1 processing Two\nQueue filled.\n\
Thread-3 processing Three\nThread-2 processing Five\nThread-1 processing Four\n\
Thread Exit: Thread-1\nThread Exit: Thread-3\nThread Exit: Thread-2\nexit\n";

#[test]
fn checks_reject_bad_output() {
    assert!(examples::check("seed000_child_and_main", "child 1\nmain 1\n").is_err());
    let swapped =
        "main 1\nmain 2\nmain 3\nmain 4\nmain 5\nchild 2\nchild 1\nchild 3\nchild 4\nchild 5\n";
    assert!(examples::check("seed000_child_and_main", swapped).is_err());
    let interleaved = "t1 has acquired lock\n*****\nt2 has acquired lock\n*****\nt1 has released lock\nt2 has released lock\n";
    assert!(examples::check("seed000_synchronized", interleaved).is_err());
    assert!(examples::check("seed002_counters", "[0] => 0\n").is_err());
    assert!(examples::check("no_such_example", "").is_err());
    let twice = WORK_QUEUE.replace("Thread-2 processing Five", "Thread-2 processing Four");
    assert!(examples::check("seed003_work_queue", &twice).is_err());
    let early_exit = WORK_QUEUE.replace(
        "Thread-1 processing Four\nThread Exit: Thread-1",
        "Thread Exit: Thread-1\nThread-1 processing Four",
    );
    assert!(examples::check("seed003_work_queue", &early_exit).is_err());
    let no_exit = WORK_QUEUE.replace("exit\n", "");
    assert!(examples::check("seed003_work_queue", &no_exit).is_err());
    // Seed 003: a line too early, a count out of order, an interleaved block, a missing line.
    let early = "Thread-1: 1 at +0.010s\n".to_string() + &"Thread-1: 2 at +0.100s\n".repeat(9);
    assert!(examples::check("seed003_print_time", &early).is_err());
    let mut lines: Vec<String> = (1..=5)
        .map(|i| format!("Thread-1: {i} at +{:.3}s", 0.05 * i as f64))
        .chain((1..=5).map(|i| format!("Thread-2: {i} at +{:.3}s", 0.1 * i as f64)))
        .collect();
    lines.swap(0, 1);
    assert!(examples::check("seed003_print_time", &(lines.join("\n") + "\n")).is_err());
    let mixed = "Thread Start: Thread-1\nThread Start: Thread-2\nThread-1: +0.050s\nThread-2: +0.100s\nThread-1: +0.100s\nThread-1: +0.150s\nThread Exit: Thread-1\nThread-2: +0.200s\nThread-2: +0.300s\nThread Exit: Thread-2\nexit\n";
    assert!(examples::check("seed003_synchronized", mixed).is_err());
    assert!(examples::check("seed004_module_functions", "active_count(): 1\n").is_err());
    let cut_short = "daemon: started\nmain: returning\n";
    assert!(examples::check("exit_waits_for_threads", cut_short).is_err());
}

#[test]
fn checks_accept_good_output() {
    let good =
        "main 1\nchild 1\nmain 2\nchild 2\nmain 3\nchild 3\nmain 4\nchild 4\nmain 5\nchild 5\n";
    assert_eq!(examples::check("seed000_child_and_main", good), Ok(()));
    let sync = "t2 has acquired lock\n**********\nt2 has released lock\nt1 has acquired lock\n**********\nt1 has released lock\n";
    assert_eq!(examples::check("seed000_synchronized", sync), Ok(()));
    assert_eq!(examples::check("seed003_work_queue", WORK_QUEUE), Ok(()));
    let lines: Vec<String> = (1..=5)
        .map(|i| format!("Thread-1: {i} at +{:.3}s", 0.05 * i as f64 + 0.001))
        .chain((1..=5).map(|i| format!("Thread-2: {i} at +{:.3}s", 0.1 * i as f64 + 0.001)))
        .collect();
    assert_eq!(
        examples::check("seed003_print_time", &(lines.join("\n") + "\n")),
        Ok(())
    );
    let sync3 = "Thread Start: Thread-1\nThread Start: Thread-2\nThread-1: +0.050s\nThread-1: +0.100s\nThread-1: +0.150s\nThread Exit: Thread-1\nThread-2: +0.250s\nThread-2: +0.350s\nThread-2: +0.450s\nThread Exit: Thread-2\nexit\n";
    assert_eq!(examples::check("seed003_synchronized", sync3), Ok(()));
}

#[test]
fn seed004_checks_reject_bad_output() {
    let mut pool = String::new();
    for w in 0..12 {
        for _ in 0..4 {
            pool.push_str(&format!(
                "worker {w}: connected (1 open)\nworker {w}: closed\n"
            ));
        }
    }
    let tail =
        "one release too many: RT_EOVERRELEASE: Semaphore released too many times\nvalue: 5\n";
    let good = format!("{pool}peak: 1 connections open at once (limit 5)\n{tail}");
    assert_eq!(examples::check("seed004_connection_pool", &good), Ok(()));
    // Six at once (with everything else right), a wrong running count, a wrong peak.
    let mut six = String::new();
    for w in 0..6 {
        six.push_str(&format!("worker {w}: connected ({} open)\n", w + 1));
    }
    for w in 0..6 {
        six.push_str(&format!("worker {w}: closed\n"));
    }
    for w in 0..12 {
        for _ in 0..(if w < 6 { 3 } else { 4 }) {
            six.push_str(&format!(
                "worker {w}: connected (1 open)\nworker {w}: closed\n"
            ));
        }
    }
    let six = format!("{six}peak: 6 connections open at once (limit 5)\n{tail}");
    let err = examples::check("seed004_connection_pool", &six).unwrap_err();
    assert!(err.contains("6 connections open at once"), "{err}");
    let miscounted = good.replacen("(1 open)", "(2 open)", 1);
    assert!(examples::check("seed004_connection_pool", &miscounted).is_err());
    let bad_peak = good.replace("peak: 1", "peak: 3");
    assert!(examples::check("seed004_connection_pool", &bad_peak).is_err());

    let barrier = "server: starting\nserver: listening\npassed the barrier\n\
        server: request 1 answered\nclient: reply 10 to request 1\n\
        server: request 2 answered\nclient: reply 20 to request 2\n\
        server: request 3 answered\nclient: reply 30 to request 3\ndone\n";
    assert_eq!(
        examples::check("seed004_client_server_barrier", barrier),
        Ok(())
    );
    let early = barrier.replace(
        "server: starting\nserver: listening\npassed the barrier\n",
        "passed the barrier\nserver: starting\nserver: listening\n",
    );
    assert!(examples::check("seed004_client_server_barrier", &early).is_err());
    let twice = barrier.replace("done\n", "passed the barrier\ndone\n");
    assert!(examples::check("seed004_client_server_barrier", &twice).is_err());

    assert!(examples::check("seed004_with_statement", "lock: balance 7\n").is_err());
}
