// Reading recipe files: JSON5 (comments, unquoted keys, trailing commas, single quotes, hex) parsed by
// JSON5Parser into a JSON tree, then `--set key.path=value`
// overrides applied to the tree, each value parsed as a JSON5 literal (a bare word is a string).
import TensorCore

public enum RecipeDocument {
    /// Parses JSON5 text (JSON5Parser).
    public static func parse(_ text: String, file: String) throws -> JSONValue {
        do { return try JSON5Parser.parse(text) } catch let e as JSON5Parser.Failure {
            throw RecipeError(file: file, key: "", problem: "not valid JSON5: \(e)")
        }
    }

    /// Reads a recipe file.
    public static func load(_ path: String) throws -> JSONValue {
        let text: String
        do { text = try readTextFile(path, limit: FileLimits.json) } catch {
            throw RecipeError(file: path, key: "", problem: "cannot read the recipe: \(error)")
        }
        let v = try parse(text, file: path)
        guard v.objectMembers != nil else { throw RecipeError(file: path, key: "", problem: "the recipe must be an object, found \(v.typeNameWithArticle)") }
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
            throw RecipeError(file: file, key: full, problem: "cannot set a key inside \(node.typeNameWithArticle)")
        }
        if let i = members.firstIndex(where: { $0.0 == key }) {
            members[i].1 = try set(members[i].1, path.dropFirst(), value, full: full, file: file)
        } else {
            members.append((key, try set(.null, path.dropFirst(), value, full: full, file: file)))
        }
        return .object(members)
    }
}
