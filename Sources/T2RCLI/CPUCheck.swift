// The release build uses AVX2, FMA and F16C (Package.swift, `-target-cpu haswell`). Refuse to run
// with a clear message on a CPU that lacks them instead of dying with SIGILL in the first kernel.
// This check runs before any kernel, but the Swift runtime's own startup code is compiled for the
// baseline, so it is safe.
import Foundation

enum CPUCheck {
    static func missingFeatures() -> String? {
        #if arch(x86_64) && T2R_X86_64_V3
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let flagsLine = text.split(separator: "\n").first(where: { $0.hasPrefix("flags") })
        else { return nil }
        let flags = Set(flagsLine.split(separator: " ").map(String.init))
        let missing = ["avx2", "fma", "f16c"].filter { !flags.contains($0) }
        if missing.isEmpty { return nil }
        return "this CPU lacks \(missing.joined(separator: ", ")), which this build of t2r needs; "
            + "rebuild with `T2R_PORTABLE=1 swift build -c release` for a portable binary"
        #else
        return nil
        #endif
    }
}
