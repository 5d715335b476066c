//! Facts about the machine a run needs more than once, and how the run asks the kernel
//! for memory.

/// How many threads can run at once: the machine's cores (or the process's share of
/// them). Read once per process: the answer takes several system calls and files.
pub fn cores() -> usize {
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// Whether this process asked for huge pages ([`use_huge_pages`]): the threads a run
/// starts then ask for them too ([`huge_pages_for_this_thread`]).
static HUGE_PAGES: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// glibc's arenas other than the main one are regions of this size, aligned to it
/// (`HEAP_MAX_SIZE` of glibc's malloc/arena.c on 64-bit targets, default settings).
#[cfg(all(target_os = "linux", target_env = "gnu", target_pointer_width = "64"))]
const ARENA_HEAP: usize = 64 << 20;

/// Back the allocator's heaps with transparent huge pages when the kernel grants them on
/// request (`madvise` or `always` mode); otherwise only [`grow_heaps_in_large_steps`]. A
/// large site makes tens of megabytes of small allocations: with 4 KiB pages that is
/// about ten thousand page faults, on which the run spent more time than on any one of
/// its parts, and as many pages to free at exit. Each heap reserves 64 MiB of address
/// space at a time (pages cost memory only once touched), large allocations come from the
/// heaps too, and each heap is advised once.
///
/// Call it before any other thread starts: glibc's `mallopt` is not thread-safe.
#[cfg(all(target_os = "linux", target_env = "gnu", target_pointer_width = "64"))]
pub fn use_huge_pages() {
    let enabled = std::fs::read_to_string("/sys/kernel/mm/transparent_hugepage/enabled")
        .is_ok_and(|mode| mode.contains("[always]") || mode.contains("[madvise]"));
    if !enabled {
        grow_heaps_in_large_steps();
        return;
    }
    // SAFETY: `mallopt` only changes tuning parameters of glibc's allocator, with values
    // it accepts; the caller has not started other threads yet.
    unsafe {
        libc::mallopt(libc::M_TOP_PAD, ARENA_HEAP as libc::c_int);
        libc::mallopt(libc::M_MMAP_THRESHOLD, (ARENA_HEAP / 2) as libc::c_int);
    }
    // One allocation larger than what the heap has left grows it by the pad now.
    drop(std::hint::black_box(Vec::<u8>::with_capacity(1 << 20)));
    HUGE_PAGES.store(true, std::sync::atomic::Ordering::Relaxed);
    let _ = huge_pages_for_this_thread();
}

/// Elsewhere, only [`grow_heaps_in_large_steps`].
#[cfg(not(all(target_os = "linux", target_env = "gnu", target_pointer_width = "64")))]
pub fn use_huge_pages() {
    grow_heaps_in_large_steps();
}

/// glibc grows the heap of each thread other than the main one by the few pages each
/// allocation lacks, one `mprotect` call at a time: reading a large site on a second
/// thread made thousands of them. A top pad makes every growth (and the main heap's)
/// reserve 16 MiB of address space at once; pages still cost memory only when touched.
///
/// Call it before any other thread starts: glibc's `mallopt` is not thread-safe.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn grow_heaps_in_large_steps() {
    // SAFETY: `mallopt` only changes a tuning parameter of glibc's allocator, with a
    // value it accepts; the caller has not started other threads yet.
    unsafe {
        libc::mallopt(libc::M_TOP_PAD, 16 << 20);
    }
}

/// Without glibc on Linux, nothing to do.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn grow_heaps_in_large_steps() {}

/// Advise huge pages for the heap this thread allocates from, when [`use_huge_pages`]
/// took effect; true when this call advised it (a heap already advised is not advised
/// again). Any failure leaves the heap as it was: the advice is only a hint.
#[cfg(all(target_os = "linux", target_env = "gnu", target_pointer_width = "64"))]
pub fn huge_pages_for_this_thread() -> bool {
    if !HUGE_PAGES.load(std::sync::atomic::Ordering::Relaxed) {
        return false;
    }
    let probe = std::hint::black_box(Box::new(0u64));
    let Some((addr, len)) = heap_of(&*probe as *const u64 as usize) else {
        return false;
    };
    // Threads that take over an arena another thread left find it advised already.
    static ADVISED: std::sync::Mutex<Vec<usize>> = std::sync::Mutex::new(Vec::new());
    let Ok(mut advised) = ADVISED.lock() else {
        return false;
    };
    if advised.contains(&addr) {
        return false;
    }
    advised.push(addr);
    // SAFETY: MADV_HUGEPAGE changes no content and no protection: it only marks the
    // anonymous mappings of this range (one heap of glibc's) as eligible for huge pages.
    unsafe { libc::madvise(addr as *mut libc::c_void, len, libc::MADV_HUGEPAGE) == 0 }
}

/// Elsewhere, nothing to do.
#[cfg(not(all(target_os = "linux", target_env = "gnu", target_pointer_width = "64")))]
pub fn huge_pages_for_this_thread() -> bool {
    false
}

/// The heap that holds address `at`, as (start, length): the `[heap]` mapping (glibc's
/// main arena), or the [`ARENA_HEAP`]-aligned region around `at` when anonymous mappings
/// cover exactly that region (another arena). `None` for anything else, so that no other
/// mapping is ever advised.
#[cfg(all(target_os = "linux", target_env = "gnu", target_pointer_width = "64"))]
fn heap_of(at: usize) -> Option<(usize, usize)> {
    let maps = std::fs::read_to_string("/proc/self/maps").ok()?;
    let mappings: Vec<(usize, usize, &str)> = maps
        .lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let (start, end) = fields.next()?.split_once('-')?;
            let start = usize::from_str_radix(start, 16).ok()?;
            let end = usize::from_str_radix(end, 16).ok()?;
            Some((start, end, fields.nth(4).unwrap_or("")))
        })
        .collect();
    let &(start, end, name) = mappings.iter().find(|(s, e, _)| (*s..*e).contains(&at))?;
    if name == "[heap]" {
        return Some((start, end - start));
    }
    if !name.is_empty() {
        return None;
    }
    // Anonymous mappings, one after the other, from the aligned base to its end.
    let base = at & !(ARENA_HEAP - 1);
    let limit = base + ARENA_HEAP;
    let mut next = base;
    for &(s, e, n) in mappings.iter().filter(|(s, e, _)| *e > base && *s < limit) {
        if s != next || !n.is_empty() || e > limit {
            return None;
        }
        next = e;
    }
    (next == limit).then_some((base, ARENA_HEAP))
}

#[cfg(all(
    test,
    target_os = "linux",
    target_env = "gnu",
    target_pointer_width = "64"
))]
mod tests {
    use super::*;

    /// The `VmFlags` of the mapping that holds `addr`, from /proc/self/smaps.
    fn flags_at(addr: usize) -> String {
        let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap();
        let mut inside = false;
        for line in smaps.lines() {
            let range = line.split_once(' ').and_then(|(r, _)| r.split_once('-'));
            if let Some((s, e)) = range {
                if let (Ok(s), Ok(e)) = (usize::from_str_radix(s, 16), usize::from_str_radix(e, 16))
                {
                    inside = (s..e).contains(&addr);
                    continue;
                }
            }
            if let (true, Some(flags)) = (inside, line.strip_prefix("VmFlags:")) {
                return flags.to_string();
            }
        }
        String::new()
    }

    #[test]
    fn a_threads_heap_is_found_and_advised_once_asked() {
        // Before `use_huge_pages` took effect, a thread asks nothing (other commands).
        assert!(!std::thread::spawn(huge_pages_for_this_thread)
            .join()
            .unwrap());
        // The tuning itself (`mallopt`) is for a process that has no other thread yet:
        // this test only turns the advice on.
        HUGE_PAGES.store(true, std::sync::atomic::Ordering::Relaxed);
        let (advised, found, flags) = std::thread::spawn(|| {
            let advised = huge_pages_for_this_thread();
            let probe = std::hint::black_box(Box::new(0u64));
            let at = &*probe as *const u64 as usize;
            (advised, heap_of(at), flags_at(at))
        })
        .join()
        .unwrap();
        HUGE_PAGES.store(false, std::sync::atomic::Ordering::Relaxed);
        // A thread's heap is a whole aligned region of glibc's, or the main heap.
        let (start, len) = found.expect("the heap of a thread");
        if len == ARENA_HEAP {
            assert_eq!(start % ARENA_HEAP, 0);
        } else {
            let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
            let main = format!("{start:x}-");
            assert!(maps
                .lines()
                .any(|l| l.starts_with(&main) && l.ends_with("[heap]")));
        }
        // A kernel without transparent huge pages refuses the advice: nothing to check.
        if advised {
            assert!(flags.split_whitespace().any(|f| f == "hg"), "{flags}");
        }
        // A mapping that is no heap (this function's code) is never taken for one.
        assert_eq!(heap_of(flags_at as fn(usize) -> String as usize), None);
        assert!(cores() >= 1);
    }
}
