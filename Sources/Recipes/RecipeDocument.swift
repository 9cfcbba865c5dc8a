// Reading recipe files: JSON5 (comments, unquoted keys, trailing commas, single quotes, hex) decoded
// with Foundation's JSONDecoder (allowsJSON5) into a generic JSON tree, then `--set key.path=value`
// overrides applied to the tree, each value parsed as a JSON5 literal (a bare word is a string).
import Foundation
import TensorCore

/// Any JSON value, decodable by JSONDecoder; converted to `JSONValue` for the typed reader.
private struct AnyJSON: Decodable {
    let value: JSONValue

    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    init(from decoder: Decoder) throws {
        if let c = try? decoder.container(keyedBy: Key.self) {
            // Keep the file's key order where Foundation reports it.
            value = .object(try c.allKeys.map { ($0.stringValue, try c.decode(AnyJSON.self, forKey: $0).value) })
            return
        }
        if var a = try? decoder.unkeyedContainer() {
            var items: [JSONValue] = []
            while !a.isAtEnd { items.append(try a.decode(AnyJSON.self).value) }
            value = .array(items)
            return
        }
        let s = try decoder.singleValueContainer()
        if s.decodeNil() {
            value = .null
        } else if let b = try? s.decode(Bool.self) {
            value = .bool(b)
        } else if let i = try? s.decode(Int64.self) {
            value = .number(String(i))
        } else if let d = try? s.decode(Double.self) {
            value = .double(d)
        } else {
            value = .string(try s.decode(String.self))
        }
    }
}

public enum RecipeDocument {
    /// Parses JSON5 text.
    public static func parse(_ text: String, file: String) throws -> JSONValue {
        let decoder = JSONDecoder()
        decoder.allowsJSON5 = true
        do {
            // The trailing newline is not decoration: Foundation's JSON5 scanner hands a number to strtod
            // without a terminator, so a number that ends the text (`--set a.b=12345678901234567890`) is read
            // past the end of the buffer — a crash at a page boundary, else stray digits (found by
            // tools/fuzz.sh; Tests/Fixtures/fuzz/recipe/number-at-end.json5).
            return try decoder.decode(AnyJSON.self, from: Data((text + "\n").utf8)).value
        } catch let DecodingError.dataCorrupted(ctx) {
            let detail = (ctx.underlyingError.map { "\($0)" } ?? ctx.debugDescription)
            throw RecipeError(file: file, key: "", problem: "not valid JSON5: \(detail)")
        } catch {
            throw RecipeError(file: file, key: "", problem: "not valid JSON5: \(error)")
        }
    }

    /// Reads a recipe file.
    public static func load(_ path: String) throws -> JSONValue {
        let text: String
        do { text = try readTextFile(path, limit: FileLimits.json) } catch {
            throw RecipeError(file: path, key: "", problem: "cannot read the recipe: \(error)")
        }
        let v = try parse(text, file: path)
        guard v.objectMembers != nil else { throw RecipeError(file: path, key: "", problem: "the recipe must be an object, found a \(v.typeName)") }
        return v
    }

    /// Applies "key.path=value" overrides (value: a JSON5 literal, or a bare string).
    public static func applyOverrides(_ doc: JSONValue, _ overrides: [String], file: String) throws -> JSONValue {
        var d = doc
        for o in overrides {
            guard let eq = o.firstIndex(of: "=") else {
                throw RecipeError(file: file, key: o, problem: "--set expects key.path=value")
            }
            let path = o[..<eq].split(separator: ".").map(String.init)
            let text = String(o[o.index(after: eq)...])
            guard !path.isEmpty, path.allSatisfy({ !$0.isEmpty }) else {
                throw RecipeError(file: file, key: String(o[..<eq]), problem: "--set expects key.path=value")
            }
            let value = (try? parse(text, file: "--set")) ?? .string(text)
            d = try set(d, path[...], value, full: path.joined(separator: "."), file: file)
        }
        return d
    }

    private static func set(_ node: JSONValue, _ path: ArraySlice<String>, _ value: JSONValue, full: String, file: String) throws -> JSONValue {
        guard let key = path.first else { return value }
        var members: [(String, JSONValue)]
        if node.isNull {
            members = []
        } else if let m = node.objectMembers {
            members = m
        } else {
            throw RecipeError(file: file, key: full, problem: "cannot set a key inside a \(node.typeName)")
        }
        if let i = members.firstIndex(where: { $0.0 == key }) {
            members[i].1 = try set(members[i].1, path.dropFirst(), value, full: full, file: file)
        } else {
            members.append((key, try set(.null, path.dropFirst(), value, full: full, file: file)))
        }
        return .object(members)
    }
}
