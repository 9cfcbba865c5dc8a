// A JSON5 reader for recipes (https://spec.json5.org): // and /* */ comments, unquoted (identifier) keys,
// single- or double-quoted strings with JSON5's escapes and line continuations, trailing commas,
// hexadecimal integers, numbers with a leading "+" or a leading/trailing decimal point. t2r reads
// recipes with its own parser because Foundation's JSON5 scanner crashed on fuzzed input twice (a number
// ending the buffer read past it; a malformed hexadecimal number trapped in its integer path; both in
// Tests/Fixtures/fuzz/recipe/). Infinity and NaN, which JSON5 allows, are refused: no recipe value can
// use them. Duplicate keys are refused. Integers keep their exact text; other numbers become Double.
import TensorCore

struct JSON5Parser {
    struct Failure: Error, CustomStringConvertible {
        let line: Int, column: Int, message: String
        var description: String { "line \(line), column \(column): \(message)" }
    }

    private let b: [UInt8]
    private var i = 0
    private var depth = 0

    /// Parses one JSON5 value that makes up the whole text.
    static func parse(_ text: String) throws -> JSONValue {
        var p = JSON5Parser(b: Array(text.utf8))
        p.skipSpace()
        let v = try p.value()
        p.skipSpace()
        if p.i < p.b.count { throw p.fail("unexpected text after the value") }
        return v
    }

    private init(b: [UInt8]) { self.b = b }

    private func fail(_ message: String) -> Failure {
        var line = 1, column = 1
        for c in b[..<min(i, b.count)] {
            if c == 0x0A { line += 1; column = 1 } else if c & 0xC0 != 0x80 { column += 1 }
        }
        return Failure(line: line, column: column, message: message)
    }

    private var peek: UInt8? { i < b.count ? b[i] : nil }

    // MARK: Whitespace and comments

    private mutating func skipSpace() {
        while i < b.count {
            switch b[i] {
            case 0x20, 0x09, 0x0A, 0x0D, 0x0B, 0x0C: i += 1
            case 0xC2 where i + 1 < b.count && b[i + 1] == 0xA0: i += 2  // no-break space
            case 0xE2 where i + 2 < b.count && b[i + 1] == 0x80 && (b[i + 2] == 0xA8 || b[i + 2] == 0xA9): i += 3  // LS, PS
            case 0xEF where i + 2 < b.count && b[i + 1] == 0xBB && b[i + 2] == 0xBF: i += 3  // BOM
            case UInt8(ascii: "/") where i + 1 < b.count && b[i + 1] == UInt8(ascii: "/"):
                while i < b.count && b[i] != 0x0A && b[i] != 0x0D { i += 1 }
            case UInt8(ascii: "/") where i + 1 < b.count && b[i + 1] == UInt8(ascii: "*"):
                var j = i + 2
                while j + 1 < b.count && !(b[j] == UInt8(ascii: "*") && b[j + 1] == UInt8(ascii: "/")) { j += 1 }
                if j + 1 >= b.count { return }  // unterminated: the caller reports what it expected here
                i = j + 2
            default: return
            }
        }
    }

    // MARK: Values

    private mutating func value() throws -> JSONValue {
        guard let c = peek else { throw fail("expected a value, found the end of the text") }
        switch c {
        case UInt8(ascii: "{"): return try object()
        case UInt8(ascii: "["): return try array()
        case UInt8(ascii: "\""), UInt8(ascii: "'"): return .string(try string())
        case UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "."), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
        default:
            let start = i
            let word = identifier()
            switch word {
            case "true": return .bool(true)
            case "false": return .bool(false)
            case "null": return .null
            case "Infinity", "NaN": i = start; throw fail("\(word) is not a usable recipe value")
            default: i = start; throw fail("expected a value")
            }
        }
    }

    private mutating func nested<R>(_ body: (inout JSON5Parser) throws -> R) throws -> R {
        depth += 1
        defer { depth -= 1 }
        if depth > JSONParser.maxDepth { throw fail("nested deeper than \(JSONParser.maxDepth) levels") }
        return try body(&self)
    }

    private mutating func object() throws -> JSONValue {
        try nested { p in
            p.i += 1
            var members: [(String, JSONValue)] = []
            while true {
                p.skipSpace()
                guard let c = p.peek else { throw p.fail("unterminated object: expected a key or '}'") }
                if c == UInt8(ascii: "}") { p.i += 1; return .object(members) }
                let keyStart = p.i
                let key: String
                if c == UInt8(ascii: "\"") || c == UInt8(ascii: "'") {
                    key = try p.string()
                } else {
                    key = p.identifier()
                    if key.isEmpty { throw p.fail("expected a key (a name or a quoted string) or '}'") }
                }
                if members.contains(where: { $0.0 == key }) { p.i = keyStart; throw p.fail("duplicate key `\(key)`") }
                p.skipSpace()
                guard p.peek == UInt8(ascii: ":") else { throw p.fail("expected ':' after the key `\(key)`") }
                p.i += 1
                p.skipSpace()
                members.append((key, try p.value()))
                p.skipSpace()
                if p.peek == UInt8(ascii: ",") { p.i += 1; continue }
                if p.peek == UInt8(ascii: "}") { p.i += 1; return .object(members) }
                throw p.fail("expected ',' or '}' in an object")
            }
        }
    }

    private mutating func array() throws -> JSONValue {
        try nested { p in
            p.i += 1
            var items: [JSONValue] = []
            while true {
                p.skipSpace()
                guard let c = p.peek else { throw p.fail("unterminated array: expected a value or ']'") }
                if c == UInt8(ascii: "]") { p.i += 1; return .array(items) }
                items.append(try p.value())
                p.skipSpace()
                if p.peek == UInt8(ascii: ",") { p.i += 1; continue }
                if p.peek == UInt8(ascii: "]") { p.i += 1; return .array(items) }
                throw p.fail("expected ',' or ']' in an array")
            }
        }
    }

    /// An unquoted key: ASCII letters, digits, '_' and '$' (not starting with a digit), or any non-ASCII
    /// UTF-8 sequence (JSON5 allows Unicode letters). Empty when none starts here.
    private mutating func identifier() -> String {
        let start = i
        while i < b.count {
            let c = b[i]
            let letter = (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == UInt8(ascii: "_") || c == UInt8(ascii: "$") || c >= 0x80
            let digit = c >= 0x30 && c <= 0x39
            if letter || (digit && i > start) { i += 1 } else { break }
        }
        return String(decoding: b[start..<i], as: UTF8.self)
    }

    private mutating func string() throws -> String {
        let quote = b[i]
        i += 1
        var out: [UInt8] = []
        while true {
            guard i < b.count else { throw fail("unterminated string") }
            let c = b[i]
            if c == quote { i += 1; break }
            if c == 0x0A || c == 0x0D { throw fail("a line break inside a string (escape it as \\n)") }
            if c != UInt8(ascii: "\\") { out.append(c); i += 1; continue }
            i += 1
            guard i < b.count else { throw fail("unterminated string") }
            let e = b[i]
            i += 1
            switch e {
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "v"): out.append(0x0B)
            case UInt8(ascii: "0"):
                if let d = peek, d >= 0x30 && d <= 0x39 { throw fail("\\0 followed by a digit") }
                out.append(0)
            case 0x0A: break  // line continuation
            case 0x0D: if peek == 0x0A { i += 1 }
            case UInt8(ascii: "x"):
                out.append(contentsOf: Array(String(Character(Unicode.Scalar(UInt8(try hex(2))))).utf8))
            case UInt8(ascii: "u"):
                var code = try hex(4)
                if (0xD800..<0xDC00).contains(code), i + 1 < b.count, b[i] == UInt8(ascii: "\\"), b[i + 1] == UInt8(ascii: "u") {
                    i += 2
                    let low = try hex(4)
                    guard (0xDC00..<0xE000).contains(low) else { throw fail("an unpaired surrogate in \\u escapes") }
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                }
                guard let scalar = UnicodeScalar(code) else { throw fail("an unpaired surrogate in \\u escapes") }
                out.append(contentsOf: Array(String(scalar).utf8))
            case UInt8(ascii: "1")...UInt8(ascii: "9"): throw fail("a digit cannot be escaped")
            default: out.append(e)  // \" \' \\ \/ and any other character stand for themselves
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private mutating func hex(_ n: Int) throws -> UInt32 {
        var v: UInt32 = 0
        for _ in 0..<n {
            guard let c = peek, let d = hexDigit(c) else { throw fail("expected \(n) hexadecimal digits") }
            v = v * 16 + UInt32(d)
            i += 1
        }
        return v
    }

    private func hexDigit(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: c - 0x30
        case 0x41...0x46: c - 0x41 + 10
        case 0x61...0x66: c - 0x61 + 10
        default: nil
        }
    }

    private mutating func number() throws -> JSONValue {
        let start = i
        var negative = false
        if b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") { negative = b[i] == UInt8(ascii: "-"); i += 1 }
        if i + 1 < b.count, b[i] == UInt8(ascii: "0"), b[i + 1] | 0x20 == UInt8(ascii: "x") {
            i += 2
            var magnitude: UInt64 = 0
            let digitsStart = i
            while let c = peek, let d = hexDigit(c) {
                let (m, o1) = magnitude.multipliedReportingOverflow(by: 16)
                let (s, o2) = m.addingReportingOverflow(UInt64(d))
                if o1 || o2 { i = start; throw fail("hexadecimal number too large") }
                magnitude = s
                i += 1
            }
            if i == digitsStart { throw fail("expected hexadecimal digits after 0x") }
            try endOfNumber()
            guard magnitude <= UInt64(Int64.max) else { i = start; throw fail("hexadecimal number too large") }
            return .number(String(negative ? -Int64(magnitude) : Int64(magnitude)))
        }
        if peek == UInt8(ascii: "I") || peek == UInt8(ascii: "N") {
            let word = identifier()
            i = start
            throw fail(word == "Infinity" || word == "NaN" ? "\(word) is not a usable recipe value" : "expected a number")
        }
        var intDigits = 0, fracDigits = 0, integer = true
        while let c = peek, c >= 0x30 && c <= 0x39 { intDigits += 1; i += 1 }
        if intDigits > 1 && b[i - intDigits] == UInt8(ascii: "0") { i = start; throw fail("a number cannot start with 0 (use 0x for hexadecimal)") }
        if peek == UInt8(ascii: ".") {
            integer = false
            i += 1
            while let c = peek, c >= 0x30 && c <= 0x39 { fracDigits += 1; i += 1 }
        }
        if intDigits + fracDigits == 0 { i = start; throw fail("expected a number") }
        if let c = peek, c | 0x20 == UInt8(ascii: "e") {
            integer = false
            i += 1
            if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { i += 1 }
            var expDigits = 0
            while let c = peek, c >= 0x30 && c <= 0x39 { expDigits += 1; i += 1 }
            if expDigits == 0 { throw fail("expected the exponent's digits") }
        }
        try endOfNumber()
        var text = String(decoding: b[start..<i], as: UTF8.self)
        if text.hasPrefix("+") { text.removeFirst() }
        if integer, Int64(text) != nil { return .number(text) }
        guard let d = Double(text), d.isFinite else { i = start; throw fail("number out of range") }
        return .double(d)
    }

    /// A number must be followed by a delimiter, not glued to a name or another number.
    private func endOfNumber() throws {
        guard let c = peek else { return }
        let glued = (c >= 0x30 && c <= 0x39) || (c | 0x20 >= 0x61 && c | 0x20 <= 0x7A) || c == UInt8(ascii: "_") || c == UInt8(ascii: "$")
            || c == UInt8(ascii: ".") || c == UInt8(ascii: "+") || c == UInt8(ascii: "-")
        if glued { throw fail("unexpected character after a number") }
    }
}
