//! The runtime library's version, for a program that checks it was loaded with the library it
//! was built against (the header's `RTHREAD_VERSION_*` macros give the build-time version).

use std::ffi::c_char;

/// The version of the loaded library as one number: `major * 10000 + minor * 100 + patch`
/// (0.1.0 is 100), the same encoding as the header's `RTHREAD_VERSION_NUMBER`. A program built
/// against version X may run with any library whose version is at least X and has the same
/// major version (the same minor version while the major version is 0); see docs/abi.md.
/// Never fails.
#[unsafe(no_mangle)]
pub extern "C" fn rt_version() -> u32 {
    version_number()
}

/// The version of the loaded library as a static string, "major.minor.patch" ("0.1.0").
/// Never NULL; the caller must not free it.
#[unsafe(no_mangle)]
pub extern "C" fn rt_version_str() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

const fn parse(s: &str) -> u32 {
    let b = s.as_bytes();
    let mut i = 0;
    let mut n = 0;
    while i < b.len() {
        n = n * 10 + (b[i] - b'0') as u32;
        i += 1;
    }
    n
}

/// `major * 10000 + minor * 100 + patch`, from Cargo.toml's version.
pub const fn version_number() -> u32 {
    parse(env!("CARGO_PKG_VERSION_MAJOR")) * 10000
        + parse(env!("CARGO_PKG_VERSION_MINOR")) * 100
        + parse(env!("CARGO_PKG_VERSION_PATCH"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_matches_cargo_toml() {
        let s = unsafe { std::ffi::CStr::from_ptr(rt_version_str()) };
        assert_eq!(s.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
        let parts: Vec<u32> = env!("CARGO_PKG_VERSION")
            .split('.')
            .map(|p| p.parse().unwrap())
            .collect();
        assert_eq!(rt_version(), parts[0] * 10000 + parts[1] * 100 + parts[2]);
    }
}
