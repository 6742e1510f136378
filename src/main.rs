// A render is thousands of small, short-lived allocations; mimalloc serves
// them with fewer instructions than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    kgen::run()
}
