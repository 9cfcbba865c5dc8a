// The ggml tensor types a GGUF file can name, as data: id, name, weights per block and bytes per
// block (ggml-org/llama.cpp `ggml/src/ggml-common.h`; gguf-py `gguf/constants.py`
// GGML_QUANT_SIZES, gguf 0.19.0), and which of them t2r decodes (GGUFDequantize.swift).

/// One ggml tensor type.
public struct GGMLType: Sendable, Hashable, CustomStringConvertible {
    /// The type id stored in the tensor info.
    public let id: UInt32
    /// The ggml name ("Q4_K").
    public let name: String
    /// Weights per block (1 for plain float and integer types).
    public let blockSize: Int
    /// Bytes per block.
    public let typeSize: Int

    public var description: String { name }

    /// True when `GGUFDequantize` can decode the type to Float32.
    public var isDecodable: Bool { GGMLType.decodableIDs.contains(id) }

    /// Every type ggml defines today, by id.
    public static let all: [GGMLType] = [
        GGMLType(id: 0, name: "F32", blockSize: 1, typeSize: 4),
        GGMLType(id: 1, name: "F16", blockSize: 1, typeSize: 2),
        GGMLType(id: 2, name: "Q4_0", blockSize: 32, typeSize: 18),
        GGMLType(id: 3, name: "Q4_1", blockSize: 32, typeSize: 20),
        GGMLType(id: 6, name: "Q5_0", blockSize: 32, typeSize: 22),
        GGMLType(id: 7, name: "Q5_1", blockSize: 32, typeSize: 24),
        GGMLType(id: 8, name: "Q8_0", blockSize: 32, typeSize: 34),
        GGMLType(id: 9, name: "Q8_1", blockSize: 32, typeSize: 40),
        GGMLType(id: 10, name: "Q2_K", blockSize: 256, typeSize: 84),
        GGMLType(id: 11, name: "Q3_K", blockSize: 256, typeSize: 110),
        GGMLType(id: 12, name: "Q4_K", blockSize: 256, typeSize: 144),
        GGMLType(id: 13, name: "Q5_K", blockSize: 256, typeSize: 176),
        GGMLType(id: 14, name: "Q6_K", blockSize: 256, typeSize: 210),
        GGMLType(id: 15, name: "Q8_K", blockSize: 256, typeSize: 292),
        GGMLType(id: 16, name: "IQ2_XXS", blockSize: 256, typeSize: 66),
        GGMLType(id: 17, name: "IQ2_XS", blockSize: 256, typeSize: 74),
        GGMLType(id: 18, name: "IQ3_XXS", blockSize: 256, typeSize: 98),
        GGMLType(id: 19, name: "IQ1_S", blockSize: 256, typeSize: 50),
        GGMLType(id: 20, name: "IQ4_NL", blockSize: 32, typeSize: 18),
        GGMLType(id: 21, name: "IQ3_S", blockSize: 256, typeSize: 110),
        GGMLType(id: 22, name: "IQ2_S", blockSize: 256, typeSize: 82),
        GGMLType(id: 23, name: "IQ4_XS", blockSize: 256, typeSize: 136),
        GGMLType(id: 24, name: "I8", blockSize: 1, typeSize: 1),
        GGMLType(id: 25, name: "I16", blockSize: 1, typeSize: 2),
        GGMLType(id: 26, name: "I32", blockSize: 1, typeSize: 4),
        GGMLType(id: 27, name: "I64", blockSize: 1, typeSize: 8),
        GGMLType(id: 28, name: "F64", blockSize: 1, typeSize: 8),
        GGMLType(id: 29, name: "IQ1_M", blockSize: 256, typeSize: 56),
        GGMLType(id: 30, name: "BF16", blockSize: 1, typeSize: 2),
        GGMLType(id: 34, name: "TQ1_0", blockSize: 256, typeSize: 54),
        GGMLType(id: 35, name: "TQ2_0", blockSize: 256, typeSize: 66),
        GGMLType(id: 39, name: "MXFP4", blockSize: 32, typeSize: 17),
        GGMLType(id: 40, name: "NVFP4", blockSize: 64, typeSize: 36),
        GGMLType(id: 41, name: "Q1_0", blockSize: 128, typeSize: 18),
    ]

    /// Ids ggml used once and removed; files holding them cannot be read.
    public static let removed: [UInt32: String] = [
        4: "Q4_2", 5: "Q4_3", 31: "Q4_0_4_4", 32: "Q4_0_4_8", 33: "Q4_0_8_8",
        36: "IQ4_NL_4_4", 37: "IQ4_NL_4_8", 38: "IQ4_NL_8_8",
    ]

    /// The type with id `id`, or nil.
    public static func byID(_ id: UInt32) -> GGMLType? {
        guard id < 64 else { return nil }
        return table[Int(id)]
    }

    /// The type named `name` ("Q4_K"), or nil.
    public static func named(_ name: String) -> GGMLType? { all.first { $0.name == name } }

    /// The types t2r decodes, in id order.
    public static var decodable: [GGMLType] { all.filter(\.isDecodable) }

    static let decodableIDs: Set<UInt32> = [0, 1, 2, 3, 6, 7, 8, 12, 13, 14, 28, 30]

    private static let table: [GGMLType?] = {
        var t = [GGMLType?](repeating: nil, count: 64)
        for ty in all { t[Int(ty.id)] = ty }
        return t
    }()

    /// ggml type 0.
    public static let f32 = byID(0)!
    /// ggml type 1.
    public static let f16 = byID(1)!
    /// ggml type 2.
    public static let q4_0 = byID(2)!
    /// ggml type 3.
    public static let q4_1 = byID(3)!
    /// ggml type 6.
    public static let q5_0 = byID(6)!
    /// ggml type 7.
    public static let q5_1 = byID(7)!
    /// ggml type 8.
    public static let q8_0 = byID(8)!
    /// ggml type 12.
    public static let q4_K = byID(12)!
    /// ggml type 13.
    public static let q5_K = byID(13)!
    /// ggml type 14.
    public static let q6_K = byID(14)!
    /// ggml type 28.
    public static let f64 = byID(28)!
    /// ggml type 30.
    public static let bf16 = byID(30)!
}
