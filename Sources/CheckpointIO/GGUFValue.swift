// Typed GGUF metadata values (ggml-org/ggml `docs/gguf.md`, "gguf_metadata_value_type"): the
// thirteen scalar/string/array types, arrays of arrays nested. Convenience accessors give arrays as
// typed Swift arrays (`stringArray` for tokenizer.ggml.tokens) and convert between integer widths, since
// writers differ in which width they use for counts and ids.

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

    /// The string of a STRING value, or nil.
    public var stringValue: String? { if case .string(let s) = self { s } else { nil } }
    /// The value of a BOOL, or nil.
    public var boolValue: Bool? { if case .bool(let b) = self { b } else { nil } }
    /// The array of an ARRAY value, or nil.
    public var arrayValue: GGUFArray? { if case .array(let a) = self { a } else { nil } }

    /// An array of strings (`tokenizer.ggml.tokens`, `tokenizer.ggml.merges`), or nil.
    public var stringArray: [String]? { arrayValue?.strings }

    /// An array of any integer type as [Int] (`tokenizer.ggml.token_type`), or nil.
    public var integerArray: [Int]? { arrayValue?.integers }

    /// An array of FLOAT32/FLOAT64 values as [Float] (`tokenizer.ggml.scores`), or nil.
    public var floatArray: [Float]? { arrayValue?.floats }

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

/// A GGUF array: its element type and its elements (each of that type; arrays may nest, and each inner
/// array has its own element type).
public struct GGUFArray: Sendable, Equatable, CustomStringConvertible {
    /// The type of every element.
    public let elementType: GGUFValueType
    /// The elements.
    public let values: [GGUFValue]

    /// An array of `values`, all of type `elementType`.
    public init(elementType: GGUFValueType, values: [GGUFValue]) {
        precondition(values.allSatisfy { $0.type == elementType }, "GGUFArray: elements must all be \(elementType)")
        self.elementType = elementType
        self.values = values
    }

    /// Number of elements.
    public var count: Int { values.count }

    /// Element `i` (0 ≤ i < count).
    public subscript(i: Int) -> GGUFValue { values[i] }

    /// The elements of a STRING array, or nil.
    public var strings: [String]? { elementType == .string ? values.compactMap(\.stringValue) : nil }

    /// The elements of an integer array as [Int] (nil for other element types or a UINT64 above Int.max).
    public var integers: [Int]? {
        guard [.uint8, .int8, .uint16, .int16, .uint32, .int32, .uint64, .int64].contains(elementType) else { return nil }
        let ints = values.compactMap(\.intValue)
        return ints.count == values.count ? ints : nil
    }

    /// The elements of a FLOAT32/FLOAT64 array as [Float], or nil.
    public var floats: [Float]? {
        switch elementType {
        case .float32: values.compactMap { if case .float32(let v) = $0 { v } else { nil } }
        case .float64: values.compactMap { if case .float64(let v) = $0 { Float(v) } else { nil } }
        default: nil
        }
    }

    /// "[STRING × 49152]", with the elements of short arrays.
    public var description: String {
        if count <= 8, elementType != .array {
            return "[" + values.map { v -> String in
                if case .string(let s) = v { return "\"\(s)\"" }
                return v.description
            }.joined(separator: ", ") + "]"
        }
        return "[\(elementType) × \(count)]"
    }
}
