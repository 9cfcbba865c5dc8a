// Typed, strict reading of one recipe object: every key read is recorded, and `finish()` rejects the
// keys nobody read (with a "did you mean"). Values are type- and range-checked with the key path in
// every error.
import TensorCore

final class RecipeReader {
    let file: String
    let path: String
    let node: JSONValue
    private var known: [String] = []

    init(_ node: JSONValue, file: String, path: String) throws {
        self.file = file
        self.path = path
        if node.isNull {
            self.node = .object([])
        } else {
            guard node.objectMembers != nil else {
                throw RecipeError(file: file, key: path, problem: "expected an object, found \(node.typeNameWithArticle)")
            }
            self.node = node
        }
    }

    func keyPath(_ k: String) -> String { path.isEmpty ? k : "\(path).\(k)" }
    func fail(_ k: String, _ p: String) -> RecipeError { RecipeError(file: file, key: keyPath(k), problem: p) }

    private func raw(_ k: String) -> JSONValue? {
        known.append(k)
        guard let v = node[k], !v.isNull else { return nil }
        return v
    }

    func has(_ k: String) -> Bool { node[k].map { !$0.isNull } ?? false }

    func string(_ k: String) throws -> String? {
        guard let v = raw(k) else { return nil }
        guard let s = v.stringValue else { throw fail(k, "expected a string, found \(v)") }
        return s
    }

    func requiredString(_ k: String) throws -> String {
        guard let s = try string(k) else { throw fail(k, "missing (required)") }
        return s
    }

    func strings(_ k: String) throws -> [String]? {
        guard let v = raw(k) else { return nil }
        if let s = v.stringValue { return [s] }
        guard let a = v.arrayValue, a.allSatisfy({ $0.stringValue != nil }) else { throw fail(k, "expected a list of strings, found \(v)") }
        return a.compactMap(\.stringValue)
    }

    func int(_ k: String, min lo: Int? = nil, max hi: Int? = nil) throws -> Int? {
        guard let v = raw(k) else { return nil }
        guard let i = v.intValue else { throw fail(k, "expected an integer, found \(v)") }
        if let lo, i < lo { throw fail(k, "must be at least \(lo), found \(i)") }
        if let hi, i > hi { throw fail(k, "must be at most \(hi), found \(i)") }
        return i
    }

    func ints(_ k: String) throws -> [Int]? {
        guard let v = raw(k) else { return nil }
        guard let a = v.arrayValue, a.allSatisfy({ $0.intValue != nil }) else { throw fail(k, "expected a list of integers, found \(v)") }
        return a.compactMap(\.intValue)
    }

    func uint64(_ k: String) throws -> UInt64? {
        guard let v = raw(k) else { return nil }
        guard let u = v.uint64Value ?? v.intValue.flatMap({ $0 >= 0 ? UInt64($0) : nil }) else {
            throw fail(k, "expected a non-negative integer, found \(v)")
        }
        return u
    }

    func double(_ k: String, min lo: Double? = nil, max hi: Double? = nil, exclusiveMin: Bool = false) throws -> Double? {
        guard let v = raw(k) else { return nil }
        guard let d = v.doubleValue, d.isFinite else { throw fail(k, "expected a number, found \(v)") }
        if let lo, exclusiveMin ? d <= lo : d < lo { throw fail(k, "must be \(exclusiveMin ? "greater than" : "at least") \(lo), found \(d)") }
        if let hi, d > hi { throw fail(k, "must be at most \(hi), found \(d)") }
        return d
    }

    func bool(_ k: String) throws -> Bool? {
        guard let v = raw(k) else { return nil }
        guard let b = v.boolValue else { throw fail(k, "expected true or false, found \(v)") }
        return b
    }

    func choice<E: RawRepresentable & CaseIterable>(_ k: String, _: E.Type) throws -> E? where E.RawValue == String {
        guard let s = try string(k) else { return nil }
        guard let e = E(rawValue: s) else {
            throw fail(k, "\"\(s)\" is not one of \(E.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", "))")
        }
        return e
    }

    func object(_ k: String) throws -> RecipeReader {
        known.append(k)
        return try RecipeReader(node[k] ?? .null, file: file, path: keyPath(k))
    }

    /// Rejects keys that were never read.
    func finish() throws {
        for (k, _) in node.objectMembers ?? [] where !known.contains(k) {
            var msg = "unknown key"
            if let s = suggestion(k, known) { msg += "; did you mean `\(keyPath(s))`?" }
            msg += " (known: \(known.joined(separator: ", ")))"
            throw fail(k, msg)
        }
    }

    private func suggestion(_ w: String, _ candidates: [String]) -> String? {
        func dist(_ a: String, _ b: String) -> Int {
            let a = Array(a), b = Array(b)
            if a.isEmpty || b.isEmpty { return max(a.count, b.count) }
            var prev = Array(0...b.count)
            for i in 1...a.count {
                var cur = [i] + Array(repeating: 0, count: b.count)
                for j in 1...b.count { cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)) }
                prev = cur
            }
            return prev[b.count]
        }
        guard let best = candidates.min(by: { dist(w, $0) < dist(w, $1) }), dist(w, best) <= max(2, w.count / 3) else { return nil }
        return best
    }
}
