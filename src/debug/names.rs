//! Object names (`rt_object_set_name`): a side table from a handle's address to its name.
//!
//! An object without a name costs nothing: no field in the object, no work at its creation;
//! freeing an object looks at the table only while some name is set at all ([`COUNT`], one
//! relaxed load). The table is a plain list under one internal lock: it is read by reports and
//! dumps, written when a name is set or a named object is freed, never on a fast path.
//! Thread objects keep their own name (`threading.Thread.name`); the C face sends theirs there.

use crate::memory::try_boxed_str;
use crate::status::Error;
use crate::wait::LockCell;
use std::sync::atomic::{AtomicUsize, Ordering};

#[cfg(not(loom))]
pub(super) static NAMES: LockCell<Vec<(usize, Box<str>)>> = LockCell::new(Vec::new());
#[cfg(loom)]
loom::lazy_static! {
    static ref NAMES: LockCell<Vec<(usize, Box<str>)>> = LockCell::new(Vec::new());
}

/// How many names are set (0: freeing an object need not look).
static COUNT: AtomicUsize = AtomicUsize::new(0);

/// Names the object at `addr` (`None` or an empty name removes its name). `RT_ENOMEM`, and the
/// old name kept, when the copy cannot be made.
pub fn set(addr: usize, name: Option<&str>) -> Result<(), Error> {
    let new = match name {
        Some(n) if !n.is_empty() => Some(try_boxed_str(n)?),
        _ => None,
    };
    super::ensure_fork_safe();
    let mut names = NAMES.lock();
    let at = names.iter().position(|(a, _)| *a == addr);
    let old = match (at, new) {
        (Some(i), Some(n)) => Some(std::mem::replace(&mut names[i].1, n)),
        (Some(i), None) => {
            let (_, n) = names.swap_remove(i);
            COUNT.fetch_sub(1, Ordering::Relaxed);
            Some(n)
        }
        (None, Some(n)) => {
            names.try_reserve(1).map_err(|_| Error::NO_MEMORY)?;
            names.push((addr, n));
            COUNT.fetch_add(1, Ordering::Relaxed);
            None
        }
        (None, None) => None,
    };
    drop(names);
    drop(old);
    Ok(())
}

/// Runs `f` with the name of the object at `addr` (`None`: it has none), under the table's
/// lock: `f` must not call user code nor take another internal lock.
pub fn with_name<R>(addr: usize, f: impl FnOnce(Option<&str>) -> R) -> R {
    if COUNT.load(Ordering::Relaxed) == 0 {
        return f(None);
    }
    let names = NAMES.lock();
    let n = names.iter().find(|(a, _)| *a == addr).map(|(_, n)| &**n);
    f(n)
}

/// Forgets the name of an object being freed (one relaxed load when no name is set).
#[inline]
pub fn forget(addr: usize) {
    if COUNT.load(Ordering::Relaxed) != 0 {
        forget_slow(addr);
    }
}

#[cold]
fn forget_slow(addr: usize) {
    let _ = set(addr, None);
}

/// Forgets every name (the child after fork keeps them: objects survive a fork). For tests.
#[cfg(test)]
fn count() -> usize {
    COUNT.load(Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_get_rename_forget() {
        let a = 0x1000_0008;
        set(a, Some("first")).unwrap();
        assert_eq!(with_name(a, |n| n.map(str::to_owned)), Some("first".into()));
        set(a, Some("second")).unwrap();
        assert_eq!(
            with_name(a, |n| n.map(str::to_owned)),
            Some("second".into())
        );
        assert!(count() >= 1);
        forget(a);
        assert_eq!(with_name(a, |n| n.map(str::to_owned)), None);
        set(a, Some("x")).unwrap();
        set(a, Some("")).unwrap();
        assert_eq!(with_name(a, |n| n.map(str::to_owned)), None);
    }
}
