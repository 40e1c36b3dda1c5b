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
}

#[test]
fn checks_accept_good_output() {
    let good =
        "main 1\nchild 1\nmain 2\nchild 2\nmain 3\nchild 3\nmain 4\nchild 4\nmain 5\nchild 5\n";
    assert_eq!(examples::check("seed000_child_and_main", good), Ok(()));
    let sync = "t2 has acquired lock\n**********\nt2 has released lock\nt1 has acquired lock\n**********\nt1 has released lock\n";
    assert_eq!(examples::check("seed000_synchronized", sync), Ok(()));
    assert_eq!(examples::check("seed003_work_queue", WORK_QUEUE), Ok(()));
}
