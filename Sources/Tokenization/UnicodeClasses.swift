// The Unicode character classes of the GPT-2 pre-tokenizer regex as Oniguruma (Hugging Face
// `tokenizers`) and llama.cpp (`src/unicode.cpp`) define them, over Unicode scalars:
//   \p{L}  general category L* (Lu, Ll, Lt, Lm, Lo)
//   \p{N}  general category N* (Nd, Nl, No) — also Rust's `char::is_numeric`, used by the Digits pre-tokenizer
//   \s     U+0009–U+000D, U+0085 and categories Zs, Zl, Zp (Oniguruma's Unicode \s; the same set as White_Space)
// Everything else is "other" (punctuation, symbols, marks such as U+0301, controls, format characters).

/// The class of one Unicode scalar in the GPT-2 regex.
public enum ScalarClass: UInt8, Sendable {
    /// `\p{L}`
    case letter
    /// `\p{N}`
    case number
    /// `\s`
    case whitespace
    /// Anything else: `[^\s\p{L}\p{N}]`.
    case other

    /// Classes of the 128 ASCII scalars (a table, so the common case does no property lookup).
    static let ascii: [ScalarClass] = (0..<128).map { classify(Unicode.Scalar(UInt8($0))) }

    /// The class of `u`.
    @inline(__always)
    public static func of(_ u: Unicode.Scalar) -> ScalarClass {
        u.value < 128 ? ascii[Int(u.value)] : classify(u)
    }

    /// The class of the scalar with value `v` (a valid scalar value).
    @inline(__always)
    static func of(value v: UInt32) -> ScalarClass {
        if v < 128 { return ascii[Int(v)] }
        guard let u = Unicode.Scalar(v) else { return .other }
        return classify(u)
    }

    /// Classifies from the Unicode properties (no table).
    static func classify(_ u: Unicode.Scalar) -> ScalarClass {
        let v = u.value
        if (v >= 0x09 && v <= 0x0D) || v == 0x85 { return .whitespace }
        switch u.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return .letter
        case .decimalNumber, .letterNumber, .otherNumber: return .number
        case .spaceSeparator, .lineSeparator, .paragraphSeparator: return .whitespace
        default: return .other
        }
    }
}

/// Decoding UTF-8 one scalar at a time from a byte buffer known to hold valid UTF-8.
enum UTF8Scan {
    /// Byte length of the scalar whose first byte is `b` (1 for a stray continuation byte).
    @inline(__always)
    static func length(leadByte b: UInt8) -> Int {
        if b < 0x80 { return 1 }
        if b >= 0xF0 { return 4 }
        if b >= 0xE0 { return 3 }
        if b >= 0xC0 { return 2 }
        return 1
    }

    /// The scalar value starting at `p[i]` and its byte length; `p` must hold valid UTF-8.
    @inline(__always)
    static func decode(_ p: UnsafeBufferPointer<UInt8>, at i: Int) -> (value: UInt32, length: Int) {
        let b0 = p[i]
        if b0 < 0x80 { return (UInt32(b0), 1) }
        let n = min(length(leadByte: b0), p.count - i)
        var v: UInt32
        switch n {
        case 2: v = UInt32(b0 & 0x1F)
        case 3: v = UInt32(b0 & 0x0F)
        case 4: v = UInt32(b0 & 0x07)
        default: return (UInt32(b0), 1)
        }
        for k in 1..<n { v = (v << 6) | UInt32(p[i + k] & 0x3F) }
        return (v, n)
    }
}
