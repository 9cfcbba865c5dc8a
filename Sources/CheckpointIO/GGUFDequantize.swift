// Dequantisation of ggml blocks to Float32 (ggml-org/llama.cpp `ggml/src/ggml-quants.c`
// `dequantize_row_*`; block layouts in `ggml/src/ggml-common.h`). Results are bit-identical to gguf-py's
// `gguf.quants.dequantize` (gguf 0.19.0, `gguf/quants.py`): every product and sum is rounded to Float32
// in the same order (Swift never fuses a*b+c), which Tests/CheckpointIOTests checks on every type.
// Kernels are SIMD16 loops on raw pointers; `rows` splits a tensor over the `parallelFor` workers.
//
// Block layouts (all scales IEEE f16 unless noted; j is the weight index inside the block):
//   Q4_0 (32 w, 18 B): d, qs[16]                 w[j] = d·(lo(qs[j]) − 8), w[j+16] = d·(hi(qs[j]) − 8)
//   Q4_1 (32 w, 20 B): d, m, qs[16]              w[j] = d·lo(qs[j]) + m,   w[j+16] = d·hi(qs[j]) + m
//   Q5_0 (32 w, 22 B): d, qh (u32), qs[16]       5th bit of weight j is bit j of qh; q − 16
//   Q5_1 (32 w, 24 B): d, m, qh (u32), qs[16]    as Q5_0 without the −16, plus m
//   Q8_0 (32 w, 34 B): d, qs[32] (i8)            w[j] = d·qs[j]
//   Q4_K (256 w, 144 B): d, dmin, scales[12], qs[128]: 8 sub-blocks of 32 with 6-bit scale/min
//   Q5_K (256 w, 176 B): d, dmin, scales[12], qh[32], qs[128]: Q4_K plus bit b of qh[l] for sub-block b
//   Q6_K (256 w, 210 B): ql[128], qh[64], scales[16] (i8), d: 16 sub-blocks of 16, q − 32
import TensorCore

/// Decoders from ggml block types to Float32.
public enum GGUFDequantize {
    /// Weights per parallel task (at least): large enough that thread wake-up is negligible.
    static let weightsPerTask = 1 << 16

    /// Decodes `rowCount` rows of `rowLength` weights of `type` stored contiguously at `src` into
    /// `dst: [rowCount, rowLength]`, spreading rows over the `parallelFor` workers.
    /// `rowLength` must be a multiple of `type.blockSize` and `type.isDecodable` must hold.
    public static func rows(_ type: GGMLType, _ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>,
                            rowLength: Int, rowCount: Int) {
        precondition(type.isDecodable && rowLength % type.blockSize == 0,
                     "GGUFDequantize.rows: \(type.name) with row length \(rowLength)")
        let rowBytes = rowLength / type.blockSize * type.typeSize
        let rowsPerTask = max(1, weightsPerTask / max(rowLength, 1))
        let tasks = (rowCount + rowsPerTask - 1) / rowsPerTask
        parallelFor(tasks) { task in
            let r0 = task * rowsPerTask, r1 = min(rowCount, r0 + rowsPerTask)
            blocks(type, src + r0 * rowBytes, dst + r0 * rowLength, count: (r1 - r0) * rowLength)
        }
    }

    /// Decodes `count` weights (a whole number of blocks) of `type` at `src` into `dst`, on this thread.
    public static func blocks(_ type: GGMLType, _ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, count: Int) {
        let n = count / type.blockSize
        switch type.id {
        case GGMLType.f32.id: Convert.toFloat32(src, encoding: .float32, dst, count: count)
        case GGMLType.f16.id: Convert.toFloat32(src, encoding: .float16, dst, count: count)
        case GGMLType.bf16.id: Convert.toFloat32(src, encoding: .bfloat16, dst, count: count)
        case GGMLType.f64.id: Convert.toFloat32(src, encoding: .float64, dst, count: count)
        case GGMLType.q4_0.id: q4_0(src, dst, blocks: n)
        case GGMLType.q4_1.id: q4_1(src, dst, blocks: n)
        case GGMLType.q5_0.id: q5_0(src, dst, blocks: n)
        case GGMLType.q5_1.id: q5_1(src, dst, blocks: n)
        case GGMLType.q8_0.id: q8_0(src, dst, blocks: n)
        case GGMLType.q4_K.id: q4_K(src, dst, blocks: n)
        case GGMLType.q5_K.id: q5_K(src, dst, blocks: n)
        case GGMLType.q6_K.id: q6_K(src, dst, blocks: n)
        default: preconditionFailure("GGUFDequantize: \(type.name) is not decodable")
        }
    }

    // MARK: 32-weight blocks

    static func q4_0(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, blocks: Int) {
        for b in 0..<blocks {
            let p = src + b * 18, o = UnsafeMutableRawPointer(dst + b * 32)
            let d = half(p, 0)
            let q = p.loadUnaligned(fromByteOffset: 2, as: U8x16.self)
            o.storeBytes(of: d * (float(q & 0x0F) - 8), as: F32x16.self)
            o.storeBytes(of: d * (float(q &>> 4) - 8), toByteOffset: 64, as: F32x16.self)
        }
    }

    static func q4_1(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, blocks: Int) {
        for b in 0..<blocks {
            let p = src + b * 20, o = UnsafeMutableRawPointer(dst + b * 32)
            let d = half(p, 0), m = half(p, 2)
            let q = p.loadUnaligned(fromByteOffset: 4, as: U8x16.self)
            o.storeBytes(of: d * float(q & 0x0F) + m, as: F32x16.self)
            o.storeBytes(of: d * float(q &>> 4) + m, toByteOffset: 64, as: F32x16.self)
        }
    }

    /// The 5th bits of weights 0…15 (`hi` false) or 16…31 of a Q5 block, shifted to bit 4.
    @inline(__always) static func fifthBits(_ qh: UInt32, high: Bool) -> SIMD16<Int32> {
        let shifts = SIMD16<UInt32>(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15) &+ (high ? 16 : 0)
        let bits = (SIMD16<UInt32>(repeating: qh) &>> shifts) & 1
        return SIMD16<Int32>(truncatingIfNeeded: bits &<< 4)
    }

    static func q5_0(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, blocks: Int) {
        for b in 0..<blocks {
            let p = src + b * 22, o = UnsafeMutableRawPointer(dst + b * 32)
            let d = half(p, 0)
            let qh = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 2, as: UInt32.self))
            let q = p.loadUnaligned(fromByteOffset: 6, as: U8x16.self)
            let lo = SIMD16<Int32>(truncatingIfNeeded: q & 0x0F) | fifthBits(qh, high: false)
            let hi = SIMD16<Int32>(truncatingIfNeeded: q &>> 4) | fifthBits(qh, high: true)
            o.storeBytes(of: d * F32x16(lo &- 16), as: F32x16.self)
            o.storeBytes(of: d * F32x16(hi &- 16), toByteOffset: 64, as: F32x16.self)
        }
    }

    static func q5_1(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, blocks: Int) {
        for b in 0..<blocks {
            let p = src + b * 24, o = UnsafeMutableRawPointer(dst + b * 32)
            let d = half(p, 0), m = half(p, 2)
            let qh = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
            let q = p.loadUnaligned(fromByteOffset: 8, as: U8x16.self)
            let lo = SIMD16<Int32>(truncatingIfNeeded: q & 0x0F) | fifthBits(qh, high: false)
            let hi = SIMD16<Int32>(truncatingIfNeeded: q &>> 4) | fifthBits(qh, high: true)
            o.storeBytes(of: d * F32x16(lo) + m, as: F32x16.self)
            o.storeBytes(of: d * F32x16(hi) + m, toByteOffset: 64, as: F32x16.self)
        }
    }

    static func q8_0(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, blocks: Int) {
        for b in 0..<blocks {
            let p = src + b * 34, o = UnsafeMutableRawPointer(dst + b * 32)
            let d = half(p, 0)
            let q0 = p.loadUnaligned(fromByteOffset: 2, as: SIMD16<Int8>.self)
            let q1 = p.loadUnaligned(fromByteOffset: 18, as: SIMD16<Int8>.self)
            o.storeBytes(of: float(q0) * d, as: F32x16.self)
            o.storeBytes(of: float(q1) * d, toByteOffset: 64, as: F32x16.self)
        }
    }

    // MARK: 256-weight K-quant blocks

    /// The 6-bit scale and min of sub-block `j` (0…7) from the 12 packed bytes at `s`
    /// (ggml-quants.c `get_scale_min_k4`).
    @inline(__always) static func scaleMin(_ s: UnsafeRawPointer, _ j: Int) -> (scale: Float, min: Float) {
        @inline(__always) func at(_ i: Int) -> UInt8 { s.load(fromByteOffset: i, as: UInt8.self) }
        if j < 4 { return (Float(at(j) & 63), Float(at(j + 4) & 63)) }
        let sc = (at(j + 4) & 0x0F) | ((at(j - 4) >> 6) << 4)
        let mn = (at(j + 4) >> 4) | ((at(j) >> 6) << 4)
        return (Float(sc), Float(mn))
    }

    static func q4_K(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, blocks: Int) {
        for b in 0..<blocks {
            let p = src + b * 144, o = UnsafeMutableRawPointer(dst + b * 256)
            let d = half(p, 0), dmin = half(p, 2)
            let scales = p + 4, qs = p + 16
            for g in 0..<4 {  // 64 weights per group: sub-block 2g from low nibbles, 2g+1 from high nibbles
                let (s0, m0) = scaleMin(scales, 2 * g), (s1, m1) = scaleMin(scales, 2 * g + 1)
                let d0 = d * s0, dm0 = dmin * m0, d1 = d * s1, dm1 = dmin * m1
                for h in 0..<2 {
                    let q = qs.loadUnaligned(fromByteOffset: 32 * g + 16 * h, as: U8x16.self)
                    o.storeBytes(of: d0 * float(q & 0x0F) - dm0, toByteOffset: (64 * g + 16 * h) * 4, as: F32x16.self)
                    o.storeBytes(of: d1 * float(q &>> 4) - dm1, toByteOffset: (64 * g + 32 + 16 * h) * 4, as: F32x16.self)
                }
            }
        }
    }

    static func q5_K(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, blocks: Int) {
        for b in 0..<blocks {
            let p = src + b * 176, o = UnsafeMutableRawPointer(dst + b * 256)
            let d = half(p, 0), dmin = half(p, 2)
            let scales = p + 4, qh = p + 16, qs = p + 48
            for g in 0..<4 {
                let (s0, m0) = scaleMin(scales, 2 * g), (s1, m1) = scaleMin(scales, 2 * g + 1)
                let d0 = d * s0, dm0 = dmin * m0, d1 = d * s1, dm1 = dmin * m1
                let bit0 = U8x16(repeating: UInt8(2 * g)), bit1 = U8x16(repeating: UInt8(2 * g + 1))
                for h in 0..<2 {
                    let q = qs.loadUnaligned(fromByteOffset: 32 * g + 16 * h, as: U8x16.self)
                    let hb = qh.loadUnaligned(fromByteOffset: 16 * h, as: U8x16.self)
                    let lo = (q & 0x0F) | (((hb &>> bit0) & 1) &<< 4)
                    let hi = (q &>> 4) | (((hb &>> bit1) & 1) &<< 4)
                    o.storeBytes(of: d0 * float(lo) - dm0, toByteOffset: (64 * g + 16 * h) * 4, as: F32x16.self)
                    o.storeBytes(of: d1 * float(hi) - dm1, toByteOffset: (64 * g + 32 + 16 * h) * 4, as: F32x16.self)
                }
            }
        }
    }

    static func q6_K(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, blocks: Int) {
        for b in 0..<blocks {
            let p = src + b * 210, o = UnsafeMutableRawPointer(dst + b * 256)
            let d = half(p, 208)
            let scales = p + 192
            for h in 0..<2 {  // halves of 128 weights
                let ql = p + 64 * h, qh = p + 128 + 32 * h
                for l in stride(from: 0, to: 32, by: 16) {
                    let a = ql.loadUnaligned(fromByteOffset: l, as: U8x16.self)
                    let c = ql.loadUnaligned(fromByteOffset: l + 32, as: U8x16.self)
                    let hb = qh.loadUnaligned(fromByteOffset: l, as: U8x16.self)
                    let q: (U8x16, U8x16, U8x16, U8x16) = (
                        (a & 0x0F) | ((hb & 3) &<< 4),
                        (c & 0x0F) | (((hb &>> 2) & 3) &<< 4),
                        (a &>> 4) | (((hb &>> 4) & 3) &<< 4),
                        (c &>> 4) | (((hb &>> 6) & 3) &<< 4))
                    @inline(__always) func put(_ k: Int, _ qk: U8x16) {
                        let i = 128 * h + l + 32 * k  // 16 weights sharing scale i / 16
                        let ds = d * Float(scales.load(fromByteOffset: i / 16, as: Int8.self))
                        o.storeBytes(of: ds * (float(qk) - 32), toByteOffset: i * 4, as: F32x16.self)
                    }
                    put(0, q.0)
                    put(1, q.1)
                    put(2, q.2)
                    put(3, q.3)
                }
            }
        }
    }

    // MARK: Helpers

    typealias U8x16 = SIMD16<UInt8>
    typealias F32x16 = SIMD16<Float>

    /// The little-endian f16 at byte `offset` of `p`, widened.
    @inline(__always) static func half(_ p: UnsafeRawPointer, _ offset: Int) -> Float {
        halfToFloat(UInt16(littleEndian: p.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
    }

    @inline(__always) static func float(_ v: U8x16) -> F32x16 { F32x16(SIMD16<Int32>(truncatingIfNeeded: v)) }
    @inline(__always) static func float(_ v: SIMD16<Int8>) -> F32x16 { F32x16(SIMD16<Int32>(truncatingIfNeeded: v)) }
}
