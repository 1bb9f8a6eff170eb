//! The binary's allocator: mimalloc for the many small and mid-sized blocks,
//! the system's for the few very large ones.
//!
//! Each tick's batches are allocated on one thread and freed on another;
//! glibc's arenas take a lock for that, mimalloc frees into the owning
//! page without one (the 1 M-citizen month 25–30 % faster). But to grow a
//! very large block mimalloc allocates the new one, copies and frees, so a
//! column doubling from 2 to 4 GiB holds 6 GiB for a moment; glibc maps
//! blocks this large on their own and grows them in place (`mremap`),
//! which keeps the peak of a full-size province's run where it was.

use std::alloc::{GlobalAlloc, Layout, System};

/// Blocks at least this large go to the system allocator. glibc maps every
/// block of 32 MiB or more on its own (its largest mmap threshold), so
/// they never share an arena and grow without a copy.
pub const LARGE: usize = 32 << 20;

pub struct Allocator;

fn large(size: usize) -> bool {
    size >= LARGE
}

// SAFETY: every block is freed and resized by the allocator that made it:
// which one is a function of the block's size, which the caller passes
// back with every call, and `realloc` moves a block whose size crosses
// `LARGE` to the other allocator.
unsafe impl GlobalAlloc for Allocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if large(layout.size()) {
            System.alloc(layout)
        } else {
            mimalloc::MiMalloc.alloc(layout)
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if large(layout.size()) {
            System.alloc_zeroed(layout)
        } else {
            mimalloc::MiMalloc.alloc_zeroed(layout)
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if large(layout.size()) {
            System.dealloc(ptr, layout)
        } else {
            mimalloc::MiMalloc.dealloc(ptr, layout)
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        match (large(layout.size()), large(new_size)) {
            (true, true) => System.realloc(ptr, layout, new_size),
            (false, false) => mimalloc::MiMalloc.realloc(ptr, layout, new_size),
            _ => {
                let new_layout = Layout::from_size_align_unchecked(new_size, layout.align());
                let new = self.alloc(new_layout);
                if !new.is_null() {
                    std::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                    self.dealloc(ptr, layout);
                }
                new
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A block keeps its bytes as it grows past `LARGE`, within it, and
    /// shrinks back below it, each step freed by the allocator that made it.
    #[test]
    fn a_block_keeps_its_contents_across_the_threshold() {
        let a = Allocator;
        unsafe {
            let layout = Layout::from_size_align(1000, 8).unwrap();
            let p = a.alloc(layout);
            assert!(!p.is_null());
            for i in 0..1000 {
                *p.add(i) = (i % 251) as u8;
            }
            let sizes = [LARGE + 4096, 3 * LARGE, 2000, 500];
            let (mut p, mut layout) = (p, layout);
            for size in sizes {
                p = a.realloc(p, layout, size);
                assert!(!p.is_null());
                layout = Layout::from_size_align(size, 8).unwrap();
                for i in 0..500 {
                    assert_eq!(
                        *p.add(i),
                        (i % 251) as u8,
                        "byte {i} after resizing to {size}"
                    );
                }
            }
            a.dealloc(p, layout);
            let big = Layout::from_size_align(LARGE, 64).unwrap();
            let z = a.alloc_zeroed(big);
            assert!(!z.is_null() && (z as usize).is_multiple_of(64));
            assert_eq!(*z.add(LARGE - 1), 0);
            a.dealloc(z, big);
        }
    }
}
