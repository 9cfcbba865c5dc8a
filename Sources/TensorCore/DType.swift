// Float16 / bfloat16 <-> Float32 conversion. bf16 -> f32 is exact (the bf16 bits are the high half
// of the f32); f32 -> bf16 rounds to nearest, ties to even, and keeps NaN a (quiet) NaN.
// f16 uses the hardware conversion (F16C) through Swift's Float16.

/// Widens one bfloat16 bit pattern to Float.
@inline(__always) public func bf16ToFloat(_ u: UInt16) -> Float { Float(bitPattern: UInt32(u) &<< 16) }

/// Rounds a Float to bfloat16 bits, nearest-even; NaN stays NaN.
@inline(__always) public func floatToBF16(_ x: Float) -> UInt16 {
    let b = x.bitPattern
    if x.isNaN { return UInt16(truncatingIfNeeded: b >> 16) | 0x0040 }
    return UInt16(truncatingIfNeeded: (b &+ 0x7FFF &+ ((b >> 16) & 1)) >> 16)
}

/// Widens one IEEE binary16 bit pattern to Float (exact, subnormals/inf/NaN included).
@inline(__always) public func halfToFloat(_ u: UInt16) -> Float { Float(Float16(bitPattern: u)) }

/// Rounds a Float to IEEE binary16 bits, nearest-even.
@inline(__always) public func floatToHalf(_ x: Float) -> UInt16 { Float16(x).bitPattern }

/// Element encodings the conversion routines understand.
public enum FloatEncoding: String, Sendable, CaseIterable {
    case float32 = "F32", float16 = "F16", bfloat16 = "BF16", float64 = "F64"
    public var byteSize: Int {
        switch self {
        case .float32: 4
        case .float16, .bfloat16: 2
        case .float64: 8
        }
    }
}

public enum Convert {
    /// Widens `count` little-endian elements of `encoding` at `src` (any alignment) into `dst`.
    public static func toFloat32(_ src: UnsafeRawPointer, encoding: FloatEncoding,
                                 _ dst: UnsafeMutablePointer<Float>, count: Int) {
        switch encoding {
        case .float32:
            UnsafeMutableRawPointer(dst).copyMemory(from: src, byteCount: count * 4)
        case .bfloat16:
            var i = 0
            while i + 8 <= count {
                let v = src.loadUnaligned(fromByteOffset: i * 2, as: SIMD8<UInt16>.self)
                let w = SIMD8<UInt32>(truncatingIfNeeded: v) &<< 16
                UnsafeMutableRawPointer(dst + i).storeBytes(of: w, as: SIMD8<UInt32>.self)
                i += 8
            }
            while i < count {
                dst[i] = bf16ToFloat(src.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self))
                i += 1
            }
        case .float16:
            var i = 0
            while i + 8 <= count {
                let v = src.loadUnaligned(fromByteOffset: i * 2, as: SIMD8<UInt16>.self)
                let h = unsafeBitCast(v, to: SIMD8<Float16>.self)
                UnsafeMutableRawPointer(dst + i).storeBytes(of: SIMD8<Float>(h), as: SIMD8<Float>.self)
                i += 8
            }
            while i < count {
                dst[i] = halfToFloat(src.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self))
                i += 1
            }
        case .float64:
            for i in 0..<count {
                dst[i] = Float(src.loadUnaligned(fromByteOffset: i * 8, as: Double.self))
            }
        }
    }

    /// Narrows `count` floats into `encoding` at `dst` (any alignment), rounding to nearest-even.
    public static func fromFloat32(_ src: UnsafePointer<Float>, _ dst: UnsafeMutableRawPointer,
                                   encoding: FloatEncoding, count: Int) {
        switch encoding {
        case .float32:
            dst.copyMemory(from: src, byteCount: count * 4)
        case .bfloat16:
            for i in 0..<count { dst.storeBytes(of: floatToBF16(src[i]), toByteOffset: i * 2, as: UInt16.self) }
        case .float16:
            var i = 0
            while i + 8 <= count {
                let v = UnsafeRawPointer(src + i).loadUnaligned(as: SIMD8<Float>.self)
                let h = SIMD8<Float16>(v)
                dst.storeBytes(of: unsafeBitCast(h, to: SIMD8<UInt16>.self), toByteOffset: i * 2,
                               as: SIMD8<UInt16>.self)
                i += 8
            }
            while i < count { dst.storeBytes(of: floatToHalf(src[i]), toByteOffset: i * 2, as: UInt16.self); i += 1 }
        case .float64:
            for i in 0..<count { dst.storeBytes(of: Double(src[i]), toByteOffset: i * 8, as: Double.self) }
        }
    }

    /// Rounds every element of `t` to the precision of `encoding` in place (e.g. to emulate bf16 storage).
    public static func roundInPlace(_ t: Tensor, to encoding: FloatEncoding) {
        let p = t.pointer
        switch encoding {
        case .float32, .float64: return
        case .bfloat16: for i in 0..<t.count { p[i] = bf16ToFloat(floatToBF16(p[i])) }
        case .float16: for i in 0..<t.count { p[i] = Float(Float16(p[i])) }
        }
    }
}
