//! AFL++ target: a profile (and `--set` arguments) through the whole
//! in-process pipeline. See `kgen_fuzz::check`.

fn main() {
    afl::fuzz!(|data: &[u8]| {
        kgen_fuzz::check(data);
    });
}
