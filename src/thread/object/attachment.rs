//! What the layer above keeps with each thread object: for the C face, the thread's handle.
//!
//! The C face needs one handle per thread object, the same for every caller (the `rt_thread *`
//! that `rt_current_thread` gives is the one `rt_thread_new` gave), for the object's whole life,
//! and it must not be a new way to fail: a call that hands out a thread object that exists
//! already (`rt_current_thread`, `rt_enumerate`) cannot be refused memory for its handle. So
//! the handle is made with the object, in [`Thread::alloc`], by the function the layer above
//! installed ([`set_attachment_maker`]; the C face installs its own when the library is
//! loaded): making a thread object fails with `RT_ENOMEM` if either allocation fails, and
//! nothing is left of it. The attachment is dropped with the object. This layer knows nothing
//! of what it holds.

use super::Thread;
use crate::memory::Arc;
use crate::status::Error;
use std::any::Any;
use std::sync::OnceLock;

/// What a thread object keeps for the layer above.
pub type Attachment = Box<dyn Any + Send + Sync>;

/// Makes the attachment of a new thread object, which is already in its `Arc`.
pub type AttachmentMaker = fn(&Arc<Thread>) -> Result<Attachment, Error>;

static MAKER: OnceLock<AttachmentMaker> = OnceLock::new();

/// Installs the maker of every thread object's attachment from now on; the first one installed
/// stays (there is one layer above). Objects made before have none until
/// [`Thread::attach_if_missing`].
pub fn set_attachment_maker(make: AttachmentMaker) {
    let _ = MAKER.set(make);
}

impl Thread {
    /// Puts a new thread object in its `Arc`, with its attachment if a maker is installed;
    /// `RT_ENOMEM` (and nothing made) if either allocation fails.
    pub(in crate::thread) fn alloc(t: Thread) -> Result<Arc<Thread>, Error> {
        let t = Arc::try_new(t)?;
        if let Some(make) = MAKER.get() {
            let a = make(&t)?;
            let _ = t.attached.set(a);
        }
        Ok(t)
    }

    /// The object's attachment, if it has one of type `T`.
    pub fn attachment<T: Any>(&self) -> Option<&T> {
        self.attached.get()?.downcast_ref()
    }

    /// Gives an object made before the maker was installed its attachment now (`RT_ENOMEM` if
    /// that fails: the object is unchanged). Nothing for an object that has one.
    pub fn attach_if_missing(this: &Arc<Thread>) -> Result<(), Error> {
        if this.attached.get().is_some() {
            return Ok(());
        }
        if let Some(make) = MAKER.get() {
            // A thread that loses a race to attach drops its copy (and may wait in std's futex
            // for the winner meanwhile: errno kept).
            let _errno = crate::status::KeepErrno::new();
            let _ = this.attached.set(make(this)?);
        }
        Ok(())
    }
}
