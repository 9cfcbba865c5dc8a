// Locations of test fixtures: the repository's own (Tests/Fixtures, checkpoints/) found from this
// file's path, and the shared data (../shared beside the repository), which tests skip with a
// visible reason when it is absent.
import Foundation
import TensorCore

public enum Fixtures {
    /// The repository root (two levels above Sources/TestSupport).
    public static let repoRoot: String = {
        var p = #filePath
        for _ in 0..<3 { p = FileSystem.directoryName(p) }
        return p
    }()

    /// Tests/Fixtures in the repository.
    public static func fixture(_ relative: String) -> String { FileSystem.join(repoRoot, "Tests/Fixtures", relative) }

    /// A path inside the repository.
    public static func repo(_ relative: String) -> String { FileSystem.join(repoRoot, relative) }

    /// ../shared beside the repository (or $T2R_SHARED).
    public static let sharedRoot: String = {
        if let env = getenvString("T2R_SHARED") { return env }
        return FileSystem.join(FileSystem.directoryName(repoRoot), "shared")
    }()

    /// True when ../shared holds the reference data.
    public static let sharedAvailable: Bool = FileSystem.isDirectory(FileSystem.join(sharedRoot, "checkpoints/tiny-mistral"))

    /// The reason tests that need ../shared give when it is absent.
    public static let sharedMissingReason = "needs the shared reference data at ../shared (absent here)"

    /// A path inside ../shared.
    public static func shared(_ relative: String) -> String { FileSystem.join(sharedRoot, relative) }

    /// The SmolLM2 GGUF fetched by `tools/fetch-smollm2.sh`, when present.
    public static let smollm2GGUF: String = repo("checkpoints/smollm2-135m/SmolLM2-135M-Instruct.Q4_1.gguf")
    public static var smollm2Available: Bool { FileSystem.exists(smollm2GGUF) }
    public static let smollm2MissingReason = "needs checkpoints/smollm2-135m (run tools/fetch-smollm2.sh)"

    /// A fresh empty temporary directory, inside this process's own directory under $TMPDIR (or /tmp),
    /// which is removed when the process exits.
    public static func temporaryDirectory(_ tag: String = "t2r-test") -> String {
        let p = FileSystem.join(processScratch, "\(tag)-\(UInt64.random(in: 0...UInt64.max))")
        try? FileSystem.createDirectory(p)
        return p
    }

    /// $TMPDIR/t2r-tests-PID, created on first use and deleted (with everything in it) at exit.
    static let processScratch: String = {
        let p = FileSystem.join(getenvString("TMPDIR") ?? "/tmp", "t2r-tests-\(getpid())")
        try? FileSystem.createDirectory(p)
        atexit { try? FileManager.default.removeItem(atPath: Fixtures.processScratch) }
        return p
    }()
}

import Glibc

func getenvString(_ name: String) -> String? {
    guard let v = getenv(name) else { return nil }
    let s = String(cString: v)
    return s.isEmpty ? nil : s
}
