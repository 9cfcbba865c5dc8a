// Refusing work that cannot fit in memory before allocating for it, with the estimate in the message,
// instead of being killed by the kernel's OOM killer part-way (or trapping in malloc). The figure is
// what Linux reports as available (MemAvailable in /proc/meminfo: free memory plus what can be reclaimed,
// such as page cache), lowered to the room left under a cgroup v2 memory limit (containers, systemd
// units). T2R_MEMORY_LIMIT overrides it: a size ("8G", "512M", "123456") or "off" to skip the checks.

/// A task needs more memory than the machine (or its cgroup) has available.
public struct InsufficientMemory: T2RError, Equatable {
    /// What was about to be allocated ("the teacher's weights (…)").
    public let what: String
    /// The estimate, in bytes.
    public let needed: Int
    /// What is available, in bytes.
    public let available: Int
    /// Where `available` comes from ("MemAvailable in /proc/meminfo", "T2R_MEMORY_LIMIT", …).
    public let source: String

    /// The error for `what`, estimated at `needed` bytes, against `available` bytes from `source`.
    public init(what: String, needed: Int, available: Int, source: String) {
        self.what = what
        self.needed = needed
        self.available = available
        self.source = source
    }

    /// Resource exhaustion, not bad input: `.failure`.
    public var category: ErrorCategory { .failure }

    /// What needs how much, what is available and where that figure comes from, and what to do.
    public var description: String {
        "\(what) needs about \(MemoryBudget.format(needed)) of memory, but only \(MemoryBudget.format(available)) is available "
            + "(\(source)); nothing was allocated. Free memory or make the task smaller (batch size, sequence length, model), "
            + "or set T2R_MEMORY_LIMIT=off to try anyway"
    }
}

/// Memory checks before large allocations.
public enum MemoryBudget {
    /// Requests below this size are not checked against the machine (reading /proc costs more than they do),
    /// unless T2R_MEMORY_LIMIT is set.
    public static let checkThreshold = 64 << 20

    /// The memory this process may still allocate, and where the figure comes from; nil when unknown
    /// (not Linux) or when T2R_MEMORY_LIMIT=off.
    public static func available() -> (bytes: Int, source: String)? {
        switch limitOverride() {
        case .off: return nil
        case .bytes(let b): return (b, "T2R_MEMORY_LIMIT")
        case .none: return measured()
        }
    }

    /// Throws `InsufficientMemory` when `bytes` (an estimate for `what`) exceeds what is available.
    public static func check(_ bytes: Int, for what: @autoclosure () -> String) throws {
        let override = limitOverride()
        if case .off = override { return }
        if case .none = override, bytes < checkThreshold { return }
        try check(bytes, for: what(), available: available())
    }

    /// Throws `InsufficientMemory` when `bytes` exceeds `available` (nil: unknown, no check).
    public static func check(_ bytes: Int, for what: @autoclosure () -> String, available: (bytes: Int, source: String)?) throws {
        guard let (avail, source) = available, bytes > avail else { return }
        throw InsufficientMemory(what: what(), needed: bytes, available: avail, source: source)
    }

    /// `count` float32 values, overflow-safe (Int.max on overflow, which no machine has).
    public static func floatBytes(_ count: Int) -> Int {
        let (b, o) = count.multipliedReportingOverflow(by: 4)
        return o ? Int.max : b
    }

    /// "1.5 GB", "12.0 MB", "512 bytes".
    public static func format(_ bytes: Int) -> String {
        if bytes == Int.max { return "more than 9 EB" }
        let units: [(Double, String)] = [(1e12, "TB"), (1e9, "GB"), (1e6, "MB"), (1e3, "kB")]
        for (scale, name) in units where Double(bytes) >= scale {
            let v = Double(bytes) / scale
            return "\(Double(Int(v * 10)) / 10) \(name)"
        }
        return "\(bytes) bytes"
    }

    // MARK: Sources

    enum Override: Equatable { case none, off, bytes(Int) }

    /// T2R_MEMORY_LIMIT: unset or empty → none; "off" → off; "8G" / "512M" / "64K" / digits → bytes.
    static func limitOverride() -> Override {
        guard let raw = environment("T2R_MEMORY_LIMIT")?.trimmingSpaces, !raw.isEmpty else { return .none }
        if raw.lowercased() == "off" { return .off }
        return parseSize(raw).map { .bytes($0) } ?? .none
    }

    /// "8G", "512M", "64K", "1024" (binary multiples) → bytes.
    public static func parseSize(_ s: String) -> Int? {
        var digits = s
        var scale = 1
        if let last = s.last?.uppercased(), let m = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40][last] {
            digits = String(s.dropLast())
            scale = m
        }
        guard let v = Int(digits), v >= 0 else { return nil }
        let (b, o) = v.multipliedReportingOverflow(by: scale)
        return o ? nil : b
    }

    /// MemAvailable, lowered to the room under a cgroup v2 limit when one applies.
    static func measured() -> (bytes: Int, source: String)? {
        var best: (Int, String)?
        if let text = try? readTextFile("/proc/meminfo") {
            for line in text.split(separator: "\n") where line.hasPrefix("MemAvailable:") {
                let parts = line.split(separator: " ")
                if parts.count >= 2, let kb = Int(parts[1]) { best = (kb * 1024, "MemAvailable in /proc/meminfo") }
            }
        }
        if let room = cgroupRoom(), room < (best?.0 ?? Int.max) { best = (room, "the cgroup's memory.max less its memory.current") }
        return best
    }

    /// memory.max − memory.current of this process's cgroup (v2), when it has a limit.
    static func cgroupRoom() -> Int? {
        guard let text = try? readTextFile("/proc/self/cgroup"),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("0::") }) else { return nil }
        let dir = "/sys/fs/cgroup" + String(line.dropFirst(3))
        guard let max = try? readTextFile(dir + "/memory.max").trimmingSpaces, max != "max", let limit = Int(max),
              let current = (try? readTextFile(dir + "/memory.current")).flatMap({ Int($0.trimmingSpaces) }) else { return nil }
        return Swift.max(0, limit - current)
    }
}

import Glibc

private func environment(_ name: String) -> String? {
    guard let v = getenv(name) else { return nil }
    return String(cString: v)
}

private extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while let c = s.first, c == " " || c == "\n" || c == "\t" { s = s.dropFirst() }
        while let c = s.last, c == " " || c == "\n" || c == "\t" { s = s.dropLast() }
        return String(s)
    }
}
