//! Run-time choice of the instruction set for the `f32` kernels.
//!
//! Detected once and cached. `KUBELSTM_SIMD` overrides the choice:
//! `off` or `scalar` (the scalar reference), `wide` (portable `wide` vectors, SSE2 on
//! x86-64), `avx2` (AVX2 + FMA), `avx512` (AVX-512F), `auto` or unset (the best the CPU has).
//! A forced instruction set the CPU lacks falls back to the best available one.

use std::sync::atomic::{AtomicU8, Ordering};

/// An instruction set the `f32` kernels are compiled for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Isa {
    Scalar = 1,
    Wide = 2,
    Avx2Fma = 3,
    Avx512 = 4,
}

impl Isa {
    /// Every instruction set, from the reference to the widest.
    pub const ALL: [Isa; 4] = [Isa::Scalar, Isa::Wide, Isa::Avx2Fma, Isa::Avx512];

    pub fn name(self) -> &'static str {
        match self {
            Isa::Scalar => "scalar",
            Isa::Wide => "wide",
            Isa::Avx2Fma => "avx2+fma",
            Isa::Avx512 => "avx512",
        }
    }
    fn from_u8(v: u8) -> Option<Isa> {
        match v {
            1 => Some(Isa::Scalar),
            2 => Some(Isa::Wide),
            3 => Some(Isa::Avx2Fma),
            4 => Some(Isa::Avx512),
            _ => None,
        }
    }
    /// Whether this CPU can run kernels compiled for `self`.
    pub fn is_supported(self) -> bool {
        match self {
            Isa::Scalar | Isa::Wide => true,
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2Fma => std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma"),
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => std::is_x86_feature_detected!("avx512f"),
            #[cfg(not(target_arch = "x86_64"))]
            Isa::Avx2Fma | Isa::Avx512 => false,
        }
    }
}

static ACTIVE: AtomicU8 = AtomicU8::new(0);

/// The instruction set for a `KUBELSTM_SIMD` value (`requested`, any case; empty = unset) on a
/// CPU that can run exactly the sets for which `supported` is true. The decision of
/// [`active_isa`] without the environment and the CPU, so it can be tested for every case.
pub fn choose_isa(requested: &str, supported: impl Fn(Isa) -> bool) -> Isa {
    let forced = match requested.trim().to_ascii_lowercase().as_str() {
        "off" | "scalar" | "0" | "none" => Some(Isa::Scalar),
        "wide" | "portable" => Some(Isa::Wide),
        "avx2" => Some(Isa::Avx2Fma),
        "avx512" => Some(Isa::Avx512),
        _ => None,
    };
    match forced {
        Some(isa) if supported(isa) => isa,
        _ => [Isa::Avx512, Isa::Avx2Fma, Isa::Wide].into_iter().find(|&isa| supported(isa)).unwrap_or(Isa::Scalar),
    }
}

fn detect() -> Isa {
    let requested = std::env::var("KUBELSTM_SIMD").unwrap_or_default();
    choose_isa(&requested, Isa::is_supported)
}

/// The instruction set the `f32` kernels use in this process.
#[inline]
pub fn active_isa() -> Isa {
    match Isa::from_u8(ACTIVE.load(Ordering::Relaxed)) {
        Some(isa) => isa,
        None => {
            let isa = detect();
            ACTIVE.store(isa as u8, Ordering::Relaxed);
            isa
        }
    }
}
