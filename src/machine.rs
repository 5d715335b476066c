//! Facts about the machine a run needs more than once.

/// How many threads can run at once: the machine's cores (or the process's share of
/// them). Read once per process: the answer takes several system calls and files.
pub fn cores() -> usize {
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}
