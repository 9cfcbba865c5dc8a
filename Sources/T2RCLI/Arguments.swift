// A small command-line parser in the manner of swift-argument-parser (which we cannot depend on):
// long options `--name value` / `--name=value`, boolean flags, repeatable options, positionals,
// `-h/--help` on every command, and usage errors (exit 64) that name the offending option and
// suggest the nearest valid one.
import Foundation
import TensorCore

struct OptionSpec {
    let name: String
    /// Placeholder of the value (e.g. "N"); nil for a boolean flag.
    let value: String?
    let help: String
    let defaultValue: String?
    let repeatable: Bool

    init(_ name: String, value: String? = nil, help: String, default defaultValue: String? = nil, repeatable: Bool = false) {
        self.name = name
        self.value = value
        self.help = help
        self.defaultValue = defaultValue
        self.repeatable = repeatable
    }
}

struct PositionalSpec {
    let name: String
    let help: String
    let optional: Bool
    let variadic: Bool
    init(_ name: String, help: String, optional: Bool = false, variadic: Bool = false) {
        self.name = name
        self.help = help
        self.optional = optional
        self.variadic = variadic
    }
}

struct CommandSpec {
    let name: String
    let abstract: String
    let positionals: [PositionalSpec]
    let options: [OptionSpec]
    let discussion: String

    init(name: String, abstract: String, positionals: [PositionalSpec] = [], options: [OptionSpec] = [], discussion: String = "") {
        self.name = name
        self.abstract = abstract
        self.positionals = positionals
        self.options = options + [OptionSpec("help", help: "Show this help.")]
        self.discussion = discussion
    }

    var usageLine: String {
        var parts = ["t2r", name]
        for p in positionals {
            var s = "<\(p.name)>" + (p.variadic ? "…" : "")
            if p.optional { s = "[\(s)]" }
            parts.append(s)
        }
        if options.count > 1 { parts.append("[options]") }
        return parts.joined(separator: " ")
    }

    var helpText: String {
        var out = "OVERVIEW: \(abstract)\n\nUSAGE: \(usageLine)\n"
        if !positionals.isEmpty {
            out += "\nARGUMENTS:\n"
            for p in positionals { out += "  " + pad("<\(p.name)>", 30) + p.help + "\n" }
        }
        out += "\nOPTIONS:\n"
        for o in options {
            let flag = "--\(o.name)" + (o.value.map { " <\($0)>" } ?? "")
            var line = "  " + pad(flag, 30) + o.help
            if let d = o.defaultValue { line += " (default: \(d))" }
            if o.repeatable { line += " (repeatable)" }
            out += line + "\n"
        }
        if !discussion.isEmpty { out += "\n" + discussion + "\n" }
        return out
    }
}

func pad(_ s: String, _ width: Int) -> String {
    s.count >= width ? s + "  " : s + String(repeating: " ", count: width - s.count)
}

/// A command-line mistake: exit code 64, with the command's usage line.
struct UsageError: T2RError {
    let message: String
    let command: String?
    var category: ErrorCategory { .usage }
    var description: String { message }
}

struct ParsedArguments {
    let command: String
    var values: [String: [String]] = [:]
    var flags: Set<String> = []
    var positionals: [String] = []

    func string(_ name: String) -> String? { values[name]?.last }
    func strings(_ name: String) -> [String] { values[name] ?? [] }
    func flag(_ name: String) -> Bool { flags.contains(name) }

    func int(_ name: String) throws -> Int? {
        guard let s = string(name) else { return nil }
        guard let v = Int(s) else { throw UsageError(message: "--\(name) expects an integer, got \"\(s)\"", command: command) }
        return v
    }
    func int(_ name: String, default d: Int, min lo: Int? = nil) throws -> Int {
        let v = try int(name) ?? d
        if let lo, v < lo { throw UsageError(message: "--\(name) must be at least \(lo), got \(v)", command: command) }
        return v
    }
    func double(_ name: String) throws -> Double? {
        guard let s = string(name) else { return nil }
        guard let v = Double(s), v.isFinite else { throw UsageError(message: "--\(name) expects a number, got \"\(s)\"", command: command) }
        return v
    }
    func required(_ name: String) throws -> String {
        guard let s = string(name) else { throw UsageError(message: "missing required option --\(name)", command: command) }
        return s
    }
}

enum ArgumentParser {
    static func parse(_ args: [String], spec: CommandSpec) throws -> ParsedArguments {
        var out = ParsedArguments(command: spec.name)
        let byName = Dictionary(spec.options.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        var i = 0
        var onlyPositionals = false
        while i < args.count {
            let a = args[i]
            i += 1
            if onlyPositionals || !a.hasPrefix("-") || a == "-" {
                out.positionals.append(a)
                continue
            }
            if a == "--" { onlyPositionals = true; continue }
            if a == "-h" { out.flags.insert("help"); continue }
            guard a.hasPrefix("--") else {
                throw UsageError(message: "unknown option '\(a)'", command: spec.name)
            }
            var name = String(a.dropFirst(2))
            var inline: String?
            if let eq = name.firstIndex(of: "=") {
                inline = String(name[name.index(after: eq)...])
                name = String(name[..<eq])
            }
            guard let opt = byName[name] else {
                var msg = "unknown option '--\(name)'"
                if let s = suggestion(name, spec.options.map(\.name)) { msg += "; did you mean '--\(s)'?" }
                throw UsageError(message: msg, command: spec.name)
            }
            if opt.value == nil {
                if inline != nil { throw UsageError(message: "--\(name) takes no value", command: spec.name) }
                out.flags.insert(name)
                continue
            }
            let v: String
            if let inline { v = inline } else {
                guard i < args.count else { throw UsageError(message: "--\(name) needs a value <\(opt.value!)>", command: spec.name) }
                v = args[i]
                i += 1
            }
            if !opt.repeatable, out.values[name] != nil {
                throw UsageError(message: "--\(name) given more than once", command: spec.name)
            }
            out.values[name, default: []].append(v)
        }
        if out.flag("help") { return out }
        let required = spec.positionals.filter { !$0.optional }.count
        let variadic = spec.positionals.contains { $0.variadic }
        if out.positionals.count < required {
            let missing = spec.positionals[out.positionals.count]
            throw UsageError(message: "missing argument <\(missing.name)>", command: spec.name)
        }
        if !variadic && out.positionals.count > spec.positionals.count {
            throw UsageError(message: "unexpected argument '\(out.positionals[spec.positionals.count])'", command: spec.name)
        }
        return out
    }

    /// The closest candidate by edit distance, if close enough to be a plausible typo.
    static func suggestion(_ word: String, _ candidates: [String]) -> String? {
        let scored = candidates.map { ($0, editDistance(word, $0)) }.min { $0.1 < $1.1 }
        guard let (best, d) = scored, d <= max(2, word.count / 3) else { return nil }
        return best
    }

    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        var prev = Array(0...b.count)
        for i in 1...a.count {
            var cur = [i] + Array(repeating: 0, count: b.count)
            for j in 1...max(b.count, 1) where j <= b.count {
                cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            prev = cur
        }
        return prev[b.count]
    }
}
