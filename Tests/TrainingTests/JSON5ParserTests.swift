import Recipes
import TensorCore
import Testing

/// t2r's JSON5 reader (Sources/Recipes/JSON5Parser.swift) against the JSON5 spec's examples and its errors.
@Suite struct JSON5ParserTests {
    func parse(_ text: String) throws -> JSONValue { try RecipeDocument.parse(text, file: "r.json5") }

    @Test func readsTheSpecsFeatures() throws {
        let v = try parse("""
        // comments
        { unquoted: 'and you can quote me on that', singleQuotes: 'I can use "double quotes" here',
          lineBreaks: "Look, Mom! \\
        No \\\\n's!", hexadecimal: 0xdecaf, negHex: -0x10, leadingDecimalPoint: .8675309, andTrailing: 8675309.,
          positiveSign: +1, exp: 1e-3, big: 12345678901234567890, $dollar_1: null, "quoted key": [1, 2, 3,], /* block */
          escapes: "\\x41\\u00e9\\ud83d\\ude00\\'\\"\\t\\0", t: true, f: false, ü: 'unicode key', }
        """)
        #expect(v["unquoted"] == .string("and you can quote me on that"))
        #expect(v["singleQuotes"] == .string("I can use \"double quotes\" here"))
        #expect(v["lineBreaks"] == .string("Look, Mom! No \\n's!"))
        #expect(v["hexadecimal"]?.intValue == 0xdecaf)
        #expect(v["negHex"]?.intValue == -16)
        #expect(v["leadingDecimalPoint"]?.doubleValue == 0.8675309)
        #expect(v["andTrailing"]?.doubleValue == 8675309)
        #expect(v["positiveSign"]?.intValue == 1)
        #expect(v["exp"]?.doubleValue == 1e-3)
        #expect(v["big"]?.doubleValue == 12345678901234567890)
        #expect(v["$dollar_1"] == .null)
        #expect(v["quoted key"] == .array([.int(1), .int(2), .int(3)]))
        #expect(v["escapes"] == .string("Aé😀'\"\t\u{0}"))
        #expect(v["t"] == .bool(true) && v["f"] == .bool(false))
        #expect(v["ü"] == .string("unicode key"))
        #expect(v.objectMembers?.first?.0 == "unquoted", "keys keep the file's order")
    }

    @Test(arguments: [
        ("{ a: 0x101e-3 }", "line 1, column 12: unexpected character after a number"),
        ("{ a: 1, a: 2 }", "line 1, column 9: duplicate key `a`"),
        ("{ a: NaN }", "NaN is not a usable recipe value"),
        ("{ a: -Infinity }", "Infinity is not a usable recipe value"),
        ("{ a: 012 }", "cannot start with 0"),
        ("{ a: 'x\n' }", "a line break inside a string"),
        ("{ a: 1 \n b: 2 }", "line 2, column 2: expected ',' or '}' in an object"),
        ("{ a: [1, 2 }", "expected ',' or ']' in an array"),
        ("{ a: 1 } x", "unexpected text after the value"),
        ("{ a: 'abc", "unterminated string"),
        ("{ a: 1e }", "expected the exponent's digits"),
        ("{ a: 0x }", "expected hexadecimal digits after 0x"),
        ("{ a: 0x8000000000000000 }", "hexadecimal number too large"),
        ("{ a: 1e999 }", "number out of range"),
        ("{ a: '\\u12' }", "expected 4 hexadecimal digits"),
        ("{ 1a: 2 }", "expected a key"),
        ("/* never closed { a: 1 }", "expected a value"),
        ("", "expected a value, found the end of the text"),
    ])
    func errorsSayWhereAndWhat(_ text: String, _ fragment: String) {
        do {
            _ = try parse(text)
            Issue.record("accepted \(text)")
        } catch {
            #expect("\(error)".contains(fragment), "\(error)")
            #expect("\(error)".hasPrefix("r.json5"), "\(error)")
        }
    }

    @Test func deepNestingIsRefused() {
        let deep = String(repeating: "[", count: 300) + String(repeating: "]", count: 300)
        #expect(throws: RecipeError.self) { try parse(deep) }
        #expect(throws: Never.self) { try parse(String(repeating: "[", count: 100) + String(repeating: "]", count: 100)) }
    }
}
