import TensorCore
import Testing

@Suite struct JSONTests {
    @Test func parsesValuesAndKeepsOrder() throws {
        let v = try JSONParser.parse(#" {"b": [1, -2.5e3, true, null], "a": "x\u00e9\ud83d\ude00\n", "big": 18446744073709551615} "#)
        #expect(v.objectMembers!.map(\.0) == ["b", "a", "big"])
        #expect(v["b"]!.arrayValue![1].doubleValue == -2500)
        #expect(v["a"]!.stringValue == "xé😀\n")
        #expect(v["big"]!.uint64Value == UInt64.max)
        #expect(v["b"]!.arrayValue![0].intValue == 1)
    }

    @Test func rejectsDuplicatesAndGarbage() {
        #expect(throws: JSONParseError.self) { try JSONParser.parse(#"{"a":1,"a":2}"#) }
        do { _ = try JSONParser.parse(#"{"a":1,"a":2}"#) } catch { #expect(error.duplicateKey == "a") }
        for bad in ["{", "[1,]", "01", "1.", "\"\u{01}\"", "{} x", "\"\\ud800\"", "tru", "-", "[1 2]"] {
            #expect(throws: JSONParseError.self, "\(bad)") { try JSONParser.parse(bad) }
        }
        let deep = String(repeating: "[", count: 10000) + String(repeating: "]", count: 10000)
        #expect(throws: JSONParseError.self) { try JSONParser.parse(deep) }
    }

    @Test func serializesAndReparses() throws {
        let v = JSONValue.object([("k", .array([.int(1), .double(0.5), .string("q\"\\\u{1}"), .null, .bool(false)]))])
        #expect(try JSONParser.parse(v.serialized()) == v)
        #expect(try JSONParser.parse(v.serialized(indent: 2)) == v)
    }
}
