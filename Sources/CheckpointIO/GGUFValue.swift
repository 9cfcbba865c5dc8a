// Typed GGUF metadata values (ggml-org/ggml `docs/gguf.md`, "gguf_metadata_value_type"): the
// thirteen scalar/string/array types, arrays kept as typed Swift arrays (a 49,152-entry token list is
// one `[String]`, not 49,152 enum values), arrays of arrays nested. Convenience accessors convert
// between integer widths, since writers differ in which width they use for counts and ids.

/// The value type ids of GGUF metadata.
public enum GGUFValueType: UInt32, Sendable, CaseIterable, CustomStringConvertible {
    case uint8 = 0, int8 = 1, uint16 = 2, int16 = 3, uint32 = 4, int32 = 5, float32 = 6, bool = 7
    case string = 8, array = 9, uint64 = 10, int64 = 11, float64 = 12

    public var description: String {
        switch self {
        case .uint8: "UINT8"
        case .int8: "INT8"
        case .uint16: "UINT16"
        case .int16: "INT16"
        case .uint32: "UINT32"
        case .int32: "INT32"
        case .float32: "FLOAT32"
        case .bool: "BOOL"
        case .string: "STRING"
        case .array: "ARRAY"
        case .uint64: "UINT64"
        case .int64: "INT64"
        case .float64: "FLOAT64"
        }
    }

    /// Bytes one value occupies in the file (strings and arrays: their smallest possible encoding).
    var minimumEncodedSize: Int {
        switch self {
        case .uint8, .int8, .bool: 1
        case .uint16, .int16: 2
        case .uint32, .int32, .float32: 4
        case .uint64, .int64, .float64: 8
        case .string: 8  // u64 length
        case .array: 12  // u32 element type + u64 count
        }
    }
}

/// One metadata value.
public enum GGUFValue: Sendable, Equatable, CustomStringConvertible {
    case uint8(UInt8)
    case int8(Int8)
    case uint16(UInt16)
    case int16(Int16)
    case uint32(UInt32)
    case int32(Int32)
    case float32(Float)
    case bool(Bool)
    case string(String)
    case array(GGUFArray)
    case uint64(UInt64)
    case int64(Int64)
    case float64(Double)

    /// The value's type id.
    public var type: GGUFValueType {
        switch self {
        case .uint8: .uint8
        case .int8: .int8
        case .uint16: .uint16
        case .int16: .int16
        case .uint32: .uint32
        case .int32: .int32
        case .float32: .float32
        case .bool: .bool
        case .string: .string
        case .array: .array
        case .uint64: .uint64
        case .int64: .int64
        case .float64: .float64
        }
    }

    /// "UINT32", or "ARRAY[STRING]" for arrays (for messages).
    public var typeName: String {
        if case .array(let a) = self { return "ARRAY[\(a.elementType)]" }
        return type.description
    }

    /// Any integer type as Int (nil for non-integers and for UINT64 values above Int.max).
    public var intValue: Int? {
        switch self {
        case .uint8(let v): Int(v)
        case .int8(let v): Int(v)
        case .uint16(let v): Int(v)
        case .int16(let v): Int(v)
        case .uint32(let v): Int(v)
        case .int32(let v): Int(v)
        case .uint64(let v): v <= UInt64(Int.max) ? Int(v) : nil
        case .int64(let v): Int(v)
        default: nil
        }
    }

    /// FLOAT32 or FLOAT64 (or an integer) as Double. FLOAT32 values are converted through their
    /// shortest decimal text, so `1e-5f` reads as 1e-05, not 9.999999747378752e-06: the same Float.
    public var doubleValue: Double? {
        switch self {
        case .float32(let v): Double(String(describing: v)) ?? Double(v)
        case .float64(let v): v
        default: intValue.map(Double.init)
        }
    }

    public var stringValue: String? { if case .string(let s) = self { s } else { nil } }
    public var boolValue: Bool? { if case .bool(let b) = self { b } else { nil } }
    public var arrayValue: GGUFArray? { if case .array(let a) = self { a } else { nil } }

    /// An array of strings (`tokenizer.ggml.tokens`, `tokenizer.ggml.merges`), or nil.
    public var stringArray: [String]? {
        if case .array(let a) = self, case .string(let s) = a.storage { return s }
        return nil
    }

    /// An array of any integer type as [Int] (`tokenizer.ggml.token_type`), or nil.
    public var integerArray: [Int]? { arrayValue?.integers }

    /// An array of FLOAT32/FLOAT64 values as [Float] (`tokenizer.ggml.scores`), or nil.
    public var floatArray: [Float]? {
        guard case .array(let a) = self else { return nil }
        switch a.storage {
        case .float32(let v): return v
        case .float64(let v): return v.map { Float($0) }
        default: return nil
        }
    }

    /// A short rendering: scalars in full, long strings cut at 200 characters, arrays summarised.
    public var description: String {
        switch self {
        case .uint8(let v): "\(v)"
        case .int8(let v): "\(v)"
        case .uint16(let v): "\(v)"
        case .int16(let v): "\(v)"
        case .uint32(let v): "\(v)"
        case .int32(let v): "\(v)"
        case .uint64(let v): "\(v)"
        case .int64(let v): "\(v)"
        case .float32(let v): "\(v)"
        case .float64(let v): "\(v)"
        case .bool(let v): "\(v)"
        case .string(let s): s.count > 200 ? String(s.prefix(200)) + "…" : s
        case .array(let a): a.description
        }
    }
}

/// A GGUF array: its element type and the elements as one typed Swift array.
public struct GGUFArray: Sendable, Equatable, CustomStringConvertible {
    /// The elements, by element type.
    public enum Storage: Sendable, Equatable {
        case uint8([UInt8])
        case int8([Int8])
        case uint16([UInt16])
        case int16([Int16])
        case uint32([UInt32])
        case int32([Int32])
        case float32([Float])
        case bool([Bool])
        case string([String])
        case uint64([UInt64])
        case int64([Int64])
        case float64([Double])
        /// Arrays of arrays; each inner array has its own element type.
        case array([GGUFArray])
    }

    public let storage: Storage

    public init(_ storage: Storage) { self.storage = storage }

    /// The element type id.
    public var elementType: GGUFValueType {
        switch storage {
        case .uint8: .uint8
        case .int8: .int8
        case .uint16: .uint16
        case .int16: .int16
        case .uint32: .uint32
        case .int32: .int32
        case .float32: .float32
        case .bool: .bool
        case .string: .string
        case .uint64: .uint64
        case .int64: .int64
        case .float64: .float64
        case .array: .array
        }
    }

    public var count: Int {
        switch storage {
        case .uint8(let a): a.count
        case .int8(let a): a.count
        case .uint16(let a): a.count
        case .int16(let a): a.count
        case .uint32(let a): a.count
        case .int32(let a): a.count
        case .float32(let a): a.count
        case .bool(let a): a.count
        case .string(let a): a.count
        case .uint64(let a): a.count
        case .int64(let a): a.count
        case .float64(let a): a.count
        case .array(let a): a.count
        }
    }

    /// Element `i` as a value (0 ≤ i < count).
    public subscript(i: Int) -> GGUFValue {
        switch storage {
        case .uint8(let a): .uint8(a[i])
        case .int8(let a): .int8(a[i])
        case .uint16(let a): .uint16(a[i])
        case .int16(let a): .int16(a[i])
        case .uint32(let a): .uint32(a[i])
        case .int32(let a): .int32(a[i])
        case .float32(let a): .float32(a[i])
        case .bool(let a): .bool(a[i])
        case .string(let a): .string(a[i])
        case .uint64(let a): .uint64(a[i])
        case .int64(let a): .int64(a[i])
        case .float64(let a): .float64(a[i])
        case .array(let a): .array(a[i])
        }
    }

    /// Every element as a value (slow for large arrays; prefer the typed accessors).
    public var values: [GGUFValue] { (0..<count).map { self[$0] } }

    /// The elements of an integer array as [Int] (nil for other element types or a UINT64 above Int.max).
    public var integers: [Int]? {
        switch storage {
        case .uint8(let a): return a.map(Int.init)
        case .int8(let a): return a.map(Int.init)
        case .uint16(let a): return a.map(Int.init)
        case .int16(let a): return a.map(Int.init)
        case .uint32(let a): return a.map(Int.init)
        case .int32(let a): return a.map(Int.init)
        case .int64(let a): return a.map(Int.init)
        case .uint64(let a):
            guard a.allSatisfy({ $0 <= UInt64(Int.max) }) else { return nil }
            return a.map(Int.init)
        default: return nil
        }
    }

    /// "[STRING × 49152]", with the first elements of short arrays.
    public var description: String {
        let n = count
        if n <= 8, elementType != .array {
            return "[" + (0..<n).map { i -> String in
                if case .string(let s) = self[i] { return "\"\(s)\"" }
                return self[i].description
            }.joined(separator: ", ") + "]"
        }
        return "[\(elementType) × \(n)]"
    }
}
