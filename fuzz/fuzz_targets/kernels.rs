//! Decodes the input into one kernel's shapes and f32 values and checks every SIMD
//! instruction set the CPU supports against the scalar reference, within the kernel's
//! tolerance, plus the bit-reproducibility properties. The check is
//! `kubelstm_testkit::kernels::check`, the same one `kubelstm_testkit::corpus` replays the corpus through on stable.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    kubelstm_testkit::kernels::check(data);
});
