// Runs the built `t2r` binary (CLI tests exercise the real executable, as argument-parser's own
// tests do).
import Foundation
import TensorCore

public struct ProcessResult: Sendable {
    public let status: Int32
    public let stdout: String
    public let stderr: String
}

public enum T2RBinary {
    /// The `t2r` executable next to the test bundle (same build configuration).
    public static var path: String {
        let bundle = Bundle.main.bundleURL.deletingLastPathComponent().path
        for candidate in [FileSystem.join(bundle, "t2r"), FileSystem.join(Bundle.main.bundleURL.path, "t2r")]
        where FileSystem.exists(candidate) {
            return candidate
        }
        return FileSystem.join(Fixtures.repoRoot, ".build/debug/t2r")
    }

    /// Runs `t2r args…` and captures its output.
    public static func run(_ args: [String], environment: [String: String] = [:], currentDirectory: String? = nil) throws -> ProcessResult {
        try runProcess(path, args, environment: environment, currentDirectory: currentDirectory)
    }
}

/// Runs an executable and captures stdout/stderr (read concurrently, so large outputs cannot block).
public func runProcess(_ executable: String, _ args: [String], environment: [String: String] = [:],
                       currentDirectory: String? = nil) throws -> ProcessResult {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: executable)
    p.arguments = args
    if !environment.isEmpty { p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
    if let currentDirectory { p.currentDirectoryURL = URL(fileURLWithPath: currentDirectory) }
    let outPipe = Pipe(), errPipe = Pipe()
    p.standardOutput = outPipe
    p.standardError = errPipe
    try p.run()
    nonisolated(unsafe) var outData = Data()
    nonisolated(unsafe) var errData = Data()
    let group = DispatchGroup()
    group.enter()
    DispatchQueue.global().async { outData = outPipe.fileHandleForReading.readDataToEndOfFile(); group.leave() }
    group.enter()
    DispatchQueue.global().async { errData = errPipe.fileHandleForReading.readDataToEndOfFile(); group.leave() }
    p.waitUntilExit()
    group.wait()
    return ProcessResult(status: p.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                         stderr: String(decoding: errData, as: UTF8.self))
}
