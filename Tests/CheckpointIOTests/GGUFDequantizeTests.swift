import CheckpointIO
import Foundation
import TensorCore
import TestSupport
import Testing

/// Bit patterns, so NaN and -0 compare exactly.
private func bits(_ t: Tensor) -> [UInt32] { t.toArray().map(\.bitPattern) }

@Suite struct GGUFDequantizeTests {
    static let decodable = ["f32", "f16", "bf16", "f64", "q4_0", "q4_1", "q5_0", "q5_1", "q8_0", "q4_k", "q5_k", "q6_k"]

    /// Every decodable type equals gguf-py's `gguf.quants.dequantize` bit for bit.
    @Test(arguments: decodable)
    func equalsGGUFPy(_ name: String) throws {
        let f = try GGUFFile(path: Fixtures.fixture("gguf/quant_types.gguf"))
        let expected = try SafetensorsFile(path: Fixtures.fixture("gguf/quant_types.expected.safetensors"))
        let got = try f.loadFloat32(name)
        let want = try expected.loadFloat32(name)
        #expect(got.shape == want.shape)
        let g = bits(got), w = bits(want)
        let firstDiff = zip(g, w).enumerated().first { $0.element.0 != $0.element.1 }
        #expect(g == w, "\(name): first difference at \(firstDiff?.offset ?? -1): \(got.toArray()[firstDiff?.offset ?? 0]) vs \(want.toArray()[firstDiff?.offset ?? 0])")
    }

    @Test func typesNameTheirLayout() throws {
        let f = try GGUFFile(path: Fixtures.fixture("gguf/quant_types.gguf"))
        #expect(f.tensors.map(\.type.name) == ["F32", "F16", "BF16", "F64", "Q4_0", "Q5_0", "Q5_1", "Q4_1", "Q8_0", "Q4_K", "Q5_K", "Q6_K", "IQ2_XXS"])
        #expect(GGMLType.byID(12) == .q4_K)
        #expect(GGMLType.named("Q6_K")?.typeSize == 210)
        #expect(GGMLType.byID(4) == nil && GGMLType.removed[4] == "Q4_2")
    }

    @Test func unsupportedTypeIsRefusedWithItsName() throws {
        let f = try GGUFFile(path: Fixtures.fixture("gguf/quant_types.gguf"))
        #expect(f.info("iq2_xxs")?.storageType == "IQ2_XXS")
        #expect(throws: GGUFError.unsupportedTensorType(file: f.path, tensor: "iq2_xxs", type: "IQ2_XXS")) {
            try f.loadFloat32("iq2_xxs")
        }
    }

    /// Row ranges decode the same values as the whole tensor.
    @Test func rowRanges() throws {
        let f = try GGUFFile(path: Fixtures.fixture("gguf/quant_types.gguf"))
        for name in Self.decodable {
            let full = try f.loadFloat32(name)
            let n = full.shape[0]
            let tail = try f.loadRows(name, 1..<n)
            #expect(bits(tail) == bits(full.rows(1..<n).reshaped([n - 1, full.shape[1]])), "\(name)")
        }
    }

    /// The parallel row split (several tasks over the workers) gives the serial result, for every type.
    @Test(arguments: [GGMLType.q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q4_K, .q5_K, .q6_K, .f16, .bf16])
    func parallelRowsEqualSerialBlocks(_ type: GGMLType) {
        let rows = 300, rowLength = 512  // 153,600 weights: 3 tasks of 128 rows
        let byteCount = rows * rowLength / type.blockSize * type.typeSize
        var rng = SeededRNG(seed: UInt64(type.id))
        var bytes = (0..<byteCount).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        // Keep every f16 scale finite and small: clear the top exponent bits of each 16-bit word, which also
        // makes F16/BF16 payloads finite.
        for i in stride(from: 1, to: byteCount, by: 2) { bytes[i] &= 0x3B }
        var parallel = [Float](repeating: 0, count: rows * rowLength)
        var serial = parallel
        bytes.withUnsafeBytes { src in
            parallel.withUnsafeMutableBufferPointer {
                GGUFDequantize.rows(type, src.baseAddress!, $0.baseAddress!, rowLength: rowLength, rowCount: rows)
            }
            serial.withUnsafeMutableBufferPointer {
                GGUFDequantize.blocks(type, src.baseAddress!, $0.baseAddress!, count: rows * rowLength)
            }
        }
        #expect(parallel.map(\.bitPattern) == serial.map(\.bitPattern), "\(type)")
        let finite = serial.allSatisfy { $0.isFinite }
        #expect(finite, "\(type)")
    }

    /// A few real SmolLM2 rows equal gguf-py's dequantisation (recorded by the fixture generator).
    @Test(.enabled(if: Fixtures.smollm2Available, Comment(rawValue: Fixtures.smollm2MissingReason)))
    func smollm2RowsEqualGGUFPy() throws {
        let f = try GGUFFile(path: Fixtures.smollm2GGUF)
        let expected = try SafetensorsFile(path: Fixtures.fixture("gguf/smollm2_rows.safetensors"))
        var checked = 0
        for e in expected.entries where !e.name.hasSuffix(".rows") && !e.name.hasPrefix("model.") {
            let rows = try expected.loadIntegers(e.name + ".rows")
            let want = try expected.loadFloat32(e.name)
            for (i, r) in rows.enumerated() {
                let got = try f.loadRows(e.name, r..<(r + 1))
                #expect(bits(got) == bits(want[i].reshaped([1, want.shape[1]])), "\(e.name) row \(r)")
                checked += 1
            }
        }
        #expect(checked == 18)
    }
}
