//! Instruction-set choice: the pure decision for every `KUBELSTM_SIMD` value, and the real
//! environment variable in a child process (the choice is cached once per process).

use kubelstm_kernels::dispatch::{choose_isa, parse_simd};
use kubelstm_kernels::simd::Kernels;
use kubelstm_kernels::{active_isa, Isa};

#[test]
fn choose_isa_honours_forced_values_and_falls_back() {
    let all = |_: Isa| true;
    let no_x86 = |isa: Isa| matches!(isa, Isa::Scalar | Isa::Wide);
    let avx2_only = |isa: Isa| isa != Isa::Avx512;
    for off in ["off", "OFF", "scalar", "0", "none", " off "] {
        assert_eq!(choose_isa(off, all), Isa::Scalar, "{off:?}");
    }
    assert_eq!(choose_isa("", all), Isa::Avx512);
    assert_eq!(choose_isa("auto", all), Isa::Avx512);
    assert_eq!(choose_isa("no-such-isa", all), Isa::Avx512);
    assert_eq!(choose_isa("wide", all), Isa::Wide);
    assert_eq!(choose_isa("avx2", all), Isa::Avx2Fma);
    assert_eq!(choose_isa("avx512", avx2_only), Isa::Avx2Fma, "unsupported forced set falls back to the best");
    assert_eq!(choose_isa("", avx2_only), Isa::Avx2Fma);
    assert_eq!(choose_isa("avx2", no_x86), Isa::Wide);
    assert_eq!(choose_isa("", no_x86), Isa::Wide);
    assert_eq!(choose_isa("off", no_x86), Isa::Scalar);
}

#[test]
fn parse_simd_accepts_the_documented_values_and_names_a_misspelt_one() {
    assert_eq!(parse_simd(" OFF "), Ok(Some(Isa::Scalar)));
    assert_eq!(parse_simd("scalar"), Ok(Some(Isa::Scalar)));
    assert_eq!(parse_simd("wide"), Ok(Some(Isa::Wide)));
    assert_eq!(parse_simd("avx2"), Ok(Some(Isa::Avx2Fma)));
    assert_eq!(parse_simd("AVX512"), Ok(Some(Isa::Avx512)));
    assert_eq!(parse_simd("auto"), Ok(None));
    assert_eq!(parse_simd(""), Ok(None));
    let message = parse_simd("avx3").unwrap_err();
    for part in ["KUBELSTM_SIMD", "\"avx3\"", "off", "wide", "avx2", "avx512", "auto"] {
        assert!(message.contains(part), "{part:?} missing from {message:?}");
    }
}

#[test]
fn kernels_exist_only_for_supported_sets() {
    for isa in Isa::ALL {
        assert_eq!(Kernels::new(isa).is_some(), isa.is_supported(), "{isa:?}");
    }
    assert!(Isa::Scalar.is_supported() && Isa::Wide.is_supported());
    assert!(Isa::Avx512.is_supported() <= Isa::Avx2Fma.is_supported(), "AVX-512F implies AVX2 and FMA");
    eprintln!(
        "SIMD paths on this CPU: {:?}",
        Kernels::all_supported().iter().map(|k| k.isa().name()).collect::<Vec<_>>()
    );
}

/// Runs in the child processes below (and passes trivially in the normal run): prints the
/// instruction set this process chose.
#[test]
fn child_reports_active_isa() {
    if std::env::var_os("KUBELSTM_KERNELS_TEST_CHILD").is_some() {
        println!("ACTIVE_ISA={}", active_isa().name());
        assert_eq!(Kernels::active().isa(), active_isa());
    }
}

/// The child's chosen instruction set and its stderr.
fn run_child(simd: &str) -> (String, String) {
    let exe = std::env::current_exe().expect("test binary path");
    let out = std::process::Command::new(exe)
        .args(["--exact", "dispatch::child_reports_active_isa", "--nocapture", "--test-threads=1"])
        .env("KUBELSTM_KERNELS_TEST_CHILD", "1")
        .env("KUBELSTM_SIMD", simd)
        .output()
        .expect("spawning the test binary");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "child failed: {stdout}\n{stderr}");
    let isa = stdout
        .lines()
        // libtest prints the test name on the same line, before the test's own output.
        .find_map(|l| l.split_once("ACTIVE_ISA=").map(|(_, isa)| isa.split_whitespace().next().unwrap_or("")))
        .unwrap_or_else(|| panic!("child printed no ACTIVE_ISA line: {stdout}"))
        .to_string();
    (isa, stderr)
}

fn isa_in_child(simd: &str) -> String {
    run_child(simd).0
}

#[test]
fn env_off_forces_scalar_in_a_fresh_process() {
    assert_eq!(isa_in_child("off"), "scalar");
    assert_eq!(isa_in_child("wide"), "wide");
    if Isa::Avx2Fma.is_supported() {
        assert_eq!(isa_in_child("avx2"), "avx2+fma");
    }
    let best = Isa::ALL.into_iter().rev().find(|i| i.is_supported()).unwrap();
    assert_eq!(isa_in_child("auto"), best.name());
}

#[test]
fn misspelt_env_warns_once_and_chooses_automatically() {
    let best = Isa::ALL.into_iter().rev().find(|i| i.is_supported()).unwrap();
    let (isa, stderr) = run_child("avx3");
    assert_eq!(isa, best.name());
    let warnings: Vec<&str> = stderr.lines().filter(|l| l.contains("KUBELSTM_SIMD")).collect();
    assert_eq!(warnings.len(), 1, "one warning expected: {stderr}");
    assert!(warnings[0].contains("\"avx3\"") && warnings[0].contains("avx512"), "{stderr}");
    let (_, stderr) = run_child("avx2");
    assert!(!stderr.contains("KUBELSTM_SIMD"), "a valid value warns: {stderr}");
}

/// `cpu_name` reads the CPU itself (CPUID); Linux's /proc/cpuinfo reports the same brand
/// string, family and model, so the two must agree where both exist.
#[test]
fn cpu_name_agrees_with_proc_cpuinfo() {
    let name = kubelstm_kernels::cpu_name();
    let Ok(info) = std::fs::read_to_string("/proc/cpuinfo") else { return };
    let field = |key: &str| {
        info.lines()
            .find(|l| l.split(':').next().map(str::trim) == Some(key))
            .and_then(|l| l.split_once(':'))
            .map(|(_, v)| v.trim().to_string())
    };
    if !cfg!(target_arch = "x86_64") {
        return;
    }
    let (Some(brand), Some(family), Some(model)) = (field("model name"), field("cpu family"), field("model")) else {
        return;
    };
    // The kernel collapses runs of spaces in the brand string; compare words.
    let words = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    assert_eq!(words(&name), words(&format!("{brand} (family {family}, model {model})")));
}
