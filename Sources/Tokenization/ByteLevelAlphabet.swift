// GPT-2's byte ↔ character mapping used by byte-level BPE vocabularies (Hugging Face `tokenizers`
// `pre_tokenizers/byte_level.rs` `bytes_char`, OpenAI `encoder.py` `bytes_to_unicode`): bytes `!`..`~`,
// `¡`..`¬` and `®`..`ÿ` map to the same code point; the other 68 bytes, in increasing order, map to
// U+0100 + n (0x00 → U+0100, 0x0A → `Ċ` U+010A, 0x20 → `Ġ` U+0120, 0x7F → U+0121, 0xAD → U+0143).

/// The byte-level alphabet of GPT-2-style vocabularies.
public enum ByteLevelAlphabet {
    /// `scalarOfByte[b]`: the character that stands for byte `b` in vocabulary strings.
    public static let scalarOfByte: [UInt32] = {
        var table = [UInt32](repeating: 0, count: 256)
        var n: UInt32 = 0
        for b in 0..<256 {
            let printable = (0x21...0x7E).contains(b) || (0xA1...0xAC).contains(b) || (0xAE...0xFF).contains(b)
            if printable {
                table[b] = UInt32(b)
            } else {
                table[b] = 0x100 + n
                n += 1
            }
        }
        return table
    }()

    /// `byteOfScalar[v]` for v < 0x144: the byte that character v stands for, or -1.
    static let byteOfScalar: [Int16] = {
        var table = [Int16](repeating: -1, count: 0x144)
        for (b, v) in scalarOfByte.enumerated() { table[Int(v)] = Int16(b) }
        return table
    }()

    /// The byte character `u` stands for, or nil when `u` is not in the alphabet.
    @inline(__always)
    public static func byte(of u: Unicode.Scalar) -> UInt8? {
        let v = Int(u.value)
        guard v < byteOfScalar.count, byteOfScalar[v] >= 0 else { return nil }
        return UInt8(byteOfScalar[v])
    }

    /// The raw bytes a vocabulary string spells, or nil if it has a character outside the alphabet.
    public static func bytes(of token: String) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(token.unicodeScalars.count)
        for u in token.unicodeScalars {
            guard let b = byte(of: u) else { return nil }
            out.append(b)
        }
        return out
    }

    /// The vocabulary spelling of raw bytes (each byte as its alphabet character).
    public static func string(of bytes: some Sequence<UInt8>) -> String {
        var s = String.UnicodeScalarView()
        for b in bytes { s.append(Unicode.Scalar(scalarOfByte[Int(b)])!) }
        return String(s)
    }
}
