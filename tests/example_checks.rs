//! The example output checks reject output that breaks their rules (so they can fail).

#[path = "support/examples.rs"]
mod examples;

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
}

#[test]
fn checks_accept_good_output() {
    let good =
        "main 1\nchild 1\nmain 2\nchild 2\nmain 3\nchild 3\nmain 4\nchild 4\nmain 5\nchild 5\n";
    assert_eq!(examples::check("seed000_child_and_main", good), Ok(()));
    let sync = "t2 has acquired lock\n**********\nt2 has released lock\nt1 has acquired lock\n**********\nt1 has released lock\n";
    assert_eq!(examples::check("seed000_synchronized", sync), Ok(()));
}
