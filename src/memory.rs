//! Allocation that reports failure instead of aborting.
//!
//! Rust's `Box::new`, `Arc::new`, `Vec::push` and `String` abort the process when the allocator
//! refuses. rthread promises `RT_ENOMEM` instead (CPython's `MemoryError`), so every allocation
//! on a path of the C face goes through this module, `Vec::try_reserve`, or `Obj::alloc`.
//!
//! [`Arc`] is the reference-counted box for thread objects and wait records: the standard one
//! has no stable fallible constructor. Its count sits after the value, so the pointer that
//! [`Arc::into_raw`] gives (the C handle of a thread) is the allocation itself.

use crate::status::Error;
use std::alloc::Layout;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicUsize, Ordering, fence};

/// `Box::new(v)`, or `RT_ENOMEM` (and `v` dropped) when the allocator refuses.
pub fn try_box<T>(v: T) -> Result<Box<T>, Error> {
    let layout = Layout::new::<T>();
    if layout.size() == 0 {
        // A zero-sized box allocates nothing.
        return Ok(Box::new(v));
    }
    // SAFETY: the layout has a non-zero size.
    let p = unsafe { std::alloc::alloc(layout) } as *mut T;
    if p.is_null() {
        return Err(Error::NO_MEMORY);
    }
    // SAFETY: `p` is fresh, aligned and large enough for a T; a Box may own memory that the
    // global allocator gave for `Layout::new::<T>()`.
    unsafe {
        p.write(v);
        Ok(Box::from_raw(p))
    }
}

/// A copy of `s` on the heap, or `RT_ENOMEM`.
pub fn try_boxed_str(s: &str) -> Result<Box<str>, Error> {
    let mut v = String::new();
    v.try_reserve_exact(s.len()).map_err(|_| Error::NO_MEMORY)?;
    v.push_str(s);
    // The capacity is exactly the length, so this does not reallocate.
    Ok(v.into_boxed_str())
}

#[repr(C)]
struct Inner<T> {
    /// First, so that a pointer to the value is a pointer to the allocation.
    value: T,
    strong: AtomicUsize,
}

/// A thread-safe reference-counted pointer whose allocation can fail ([`Arc::try_new`]). No
/// weak references.
pub struct Arc<T> {
    ptr: NonNull<Inner<T>>,
}

// SAFETY: as std's Arc: the value is shared between threads, and dropped by the last holder.
unsafe impl<T: Send + Sync> Send for Arc<T> {}
// SAFETY: as above.
unsafe impl<T: Send + Sync> Sync for Arc<T> {}

impl<T> Arc<T> {
    /// A new pointer holding `value`, or `RT_ENOMEM` (and `value` dropped).
    pub fn try_new(value: T) -> Result<Arc<T>, Error> {
        let b = try_box(Inner {
            value,
            strong: AtomicUsize::new(1),
        })?;
        Ok(Arc {
            // SAFETY: Box::into_raw is never NULL.
            ptr: unsafe { NonNull::new_unchecked(Box::into_raw(b)) },
        })
    }

    fn inner(&self) -> &Inner<T> {
        // SAFETY: this reference keeps the allocation alive.
        unsafe { self.ptr.as_ref() }
    }

    /// The value's address (which is also the allocation's).
    pub fn as_ptr(this: &Arc<T>) -> *const T {
        this.ptr.as_ptr() as *const T
    }

    /// Whether two pointers share one allocation.
    pub fn ptr_eq(a: &Arc<T>, b: &Arc<T>) -> bool {
        a.ptr == b.ptr
    }

    /// Gives up the reference without dropping it; [`Arc::from_raw`] takes it back.
    pub fn into_raw(this: Arc<T>) -> *const T {
        let p = Arc::as_ptr(&this);
        std::mem::forget(this);
        p
    }

    /// Takes back a reference given up by [`Arc::into_raw`].
    ///
    /// # Safety
    /// `p` must come from `Arc::<T>::into_raw`, and that reference must not have been taken
    /// back already.
    pub unsafe fn from_raw(p: *const T) -> Arc<T> {
        Arc {
            // SAFETY: the value is at the start of the allocation (repr(C)), and non-NULL.
            ptr: unsafe { NonNull::new_unchecked(p as *mut Inner<T>) },
        }
    }

    /// Adds one reference to the allocation behind `p`.
    ///
    /// # Safety
    /// `p` must come from `Arc::<T>::into_raw` or `as_ptr`, and the allocation must be alive.
    pub unsafe fn increment_strong_count(p: *const T) {
        // SAFETY: forwarded contract.
        unsafe {
            (*(p as *const Inner<T>))
                .strong
                .fetch_add(1, Ordering::Relaxed)
        };
    }
}

impl<T> Clone for Arc<T> {
    fn clone(&self) -> Arc<T> {
        self.inner().strong.fetch_add(1, Ordering::Relaxed);
        Arc { ptr: self.ptr }
    }
}

impl<T> Drop for Arc<T> {
    fn drop(&mut self) {
        if self.inner().strong.fetch_sub(1, Ordering::Release) != 1 {
            return;
        }
        fence(Ordering::Acquire);
        // SAFETY: this was the last reference; the allocation came from `try_box`.
        drop(unsafe { Box::from_raw(self.ptr.as_ptr()) });
    }
}

impl<T> std::ops::Deref for Arc<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.inner().value
    }
}

impl<T: std::fmt::Debug> std::fmt::Debug for Arc<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        (**self).fmt(f)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn the_value_lives_until_the_last_reference_goes() {
        struct Counted<'a>(&'a AtomicUsize);
        impl Drop for Counted<'_> {
            fn drop(&mut self) {
                self.0.fetch_add(1, Ordering::SeqCst);
            }
        }
        let drops = AtomicUsize::new(0);
        let a = Arc::try_new(Counted(&drops)).unwrap();
        let b = a.clone();
        assert!(Arc::ptr_eq(&a, &b));
        let raw = Arc::into_raw(b);
        assert_eq!(raw, Arc::as_ptr(&a));
        // SAFETY: `raw` is alive (held by `a` and by the raw reference).
        unsafe { Arc::increment_strong_count(raw) };
        // SAFETY: two raw references were given up: take both back.
        let (c, d) = unsafe { (Arc::from_raw(raw), Arc::from_raw(raw)) };
        drop((a, c));
        assert_eq!(drops.load(Ordering::SeqCst), 0);
        drop(d);
        assert_eq!(drops.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn boxes_and_strings_copy_their_input() {
        assert_eq!(*try_box(7u64).unwrap(), 7);
        assert_eq!(*try_box(()).unwrap(), ());
        assert_eq!(&*try_boxed_str("héllo").unwrap(), "héllo");
    }
}
