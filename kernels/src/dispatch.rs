//! Run-time choice of the instruction set for the `f32` kernels.
//!
//! Detected once and cached. `KUBELSTM_SIMD` overrides the choice:
//! `off` or `scalar` (the scalar reference), `wide` (portable `wide` vectors, SSE2 on
//! x86-64), `avx2` (AVX2 + FMA), `avx512` (AVX-512F), `auto` or unset (the best the CPU has).
//! A forced instruction set the CPU lacks falls back to the best available one. Any other
//! value is a mistake, not a request for `auto`: [`simd_setting`] reports it (the CLI exits
//! with it) and the kernels, which cannot return an error, warn once on stderr.

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

/// The values `KUBELSTM_SIMD` accepts, for messages.
pub const SIMD_VALUES: &str = "off, scalar, wide, avx2, avx512, auto";

/// What a `KUBELSTM_SIMD` value (any case, surrounding spaces ignored) asks for: a forced
/// instruction set, `Ok(None)` for `auto` or empty (unset), or the message for a value it
/// does not accept (naming the variable, the value and the accepted values).
pub fn parse_simd(requested: &str) -> Result<Option<Isa>, String> {
    match requested.trim().to_ascii_lowercase().as_str() {
        "off" | "scalar" | "0" | "none" => Ok(Some(Isa::Scalar)),
        "wide" | "portable" => Ok(Some(Isa::Wide)),
        "avx2" => Ok(Some(Isa::Avx2Fma)),
        "avx512" => Ok(Some(Isa::Avx512)),
        "" | "auto" => Ok(None),
        _ => Err(format!("KUBELSTM_SIMD={requested:?} is not a known setting; use one of {SIMD_VALUES}")),
    }
}

/// The `KUBELSTM_SIMD` setting of this process, checked: what [`parse_simd`] says of it.
/// A value that is not Unicode is reported like any other unknown value.
pub fn simd_setting() -> Result<Option<Isa>, String> {
    match std::env::var("KUBELSTM_SIMD") {
        Ok(value) => parse_simd(&value),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(value)) => parse_simd(&value.to_string_lossy()),
    }
}

/// The instruction set for a `KUBELSTM_SIMD` value (`requested`, any case; empty = unset) on a
/// CPU that can run exactly the sets for which `supported` is true. The decision of
/// [`active_isa`] without the environment and the CPU, so it can be tested for every case.
/// An unknown value chooses as `auto` does; [`simd_setting`] is where it is reported.
pub fn choose_isa(requested: &str, supported: impl Fn(Isa) -> bool) -> Isa {
    match parse_simd(requested) {
        Ok(Some(isa)) if supported(isa) => isa,
        _ => [Isa::Avx512, Isa::Avx2Fma, Isa::Wide].into_iter().find(|&isa| supported(isa)).unwrap_or(Isa::Scalar),
    }
}

fn detect() -> Isa {
    // The kernels have no error path: a library user with a misspelt value gets one warning
    // per process (the CLI checks the setting first and exits instead).
    static WARN_ONCE: std::sync::Once = std::sync::Once::new();
    if let Err(message) = simd_setting() {
        WARN_ONCE.call_once(|| eprintln!("warning: {message}; choosing automatically"));
    }
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

/// The CPU's own name and x86 family/model, e.g. "AMD EPYC 7B12 (family 23, model 49)",
/// so that a speed figure can say which CPU it came from (`KUBELSTM_SIMD` can force a
/// narrower instruction set, but not another CPU's clocks, caches and ports).
pub fn cpu_name() -> String {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::__cpuid;
        // CPUID exists on every x86-64 CPU (a safe call); leaves above the reported maximum
        // are not queried.
        {
            let mut brand = Vec::with_capacity(48);
            if __cpuid(0x8000_0000).eax >= 0x8000_0004 {
                for leaf in 0x8000_0002u32..=0x8000_0004 {
                    let r = __cpuid(leaf);
                    for word in [r.eax, r.ebx, r.ecx, r.edx] {
                        brand.extend_from_slice(&word.to_le_bytes());
                    }
                }
            }
            let brand =
                String::from_utf8_lossy(&brand).trim_matches(|c: char| c == '\0' || c.is_whitespace()).to_string();
            // Leaf 1: family and model, with the extended fields added as Intel and AMD define.
            let eax = __cpuid(1).eax;
            let base_family = (eax >> 8) & 0xf;
            let family = if base_family == 0xf { base_family + ((eax >> 20) & 0xff) } else { base_family };
            let model = if base_family == 0x6 || base_family == 0xf {
                ((eax >> 12) & 0xf0) | ((eax >> 4) & 0xf)
            } else {
                (eax >> 4) & 0xf
            };
            let brand = if brand.is_empty() { "unknown x86-64 CPU".to_string() } else { brand };
            format!("{brand} (family {family}, model {model})")
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|info| {
                info.lines()
                    .find(|l| l.starts_with("model name") || l.starts_with("Model"))
                    .and_then(|l| l.split(':').nth(1))
                    .map(|s| s.trim().to_string())
            })
            .unwrap_or_else(|| format!("unknown {} CPU", std::env::consts::ARCH))
    }
}
