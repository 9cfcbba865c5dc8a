// The GPT-2 pre-tokenizer regex, written out by hand over Unicode scalars:
//   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// with the leftmost-first alternation and backtracking of Oniguruma (Hugging Face `tokenizers`
// `pre_tokenizers/byte_level.rs` @ 3ba8ad0) and llama.cpp (`src/unicode.cpp`
// `unicode_regex_split_custom_gpt2`). Swift `Regex` is slow and its `\s`/`\p{…}` can differ; the
// character classes here are `ScalarClass`. The llama.cpp `smollm`/`starcoder` variant drops the final
// `|\s+`: it only matters for text no alternative matches, which stays its own piece, so the results are
// the same.

/// Splits text with the GPT-2 regex (and the digit-isolating Digits pre-tokenizer).
enum GPT2Split {
    /// Scratch space for one piece's decoded scalars.
    struct Scratch {
        var starts: [Int] = []
        var values: [UInt32] = []
        var classes: [ScalarClass] = []
    }

    /// Appends the regex matches of `p[range]` (valid UTF-8) to `out`, as byte ranges, in order; together
    /// they cover the range.
    static func split(_ p: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, into out: inout [Range<Int>], scratch: inout Scratch) {
        var starts = scratch.starts, values = scratch.values, classes = scratch.classes
        starts.removeAll(keepingCapacity: true)
        values.removeAll(keepingCapacity: true)
        classes.removeAll(keepingCapacity: true)
        defer {
            scratch.starts = starts
            scratch.values = values
            scratch.classes = classes
        }
        var b = range.lowerBound
        while b < range.upperBound {
            let (v, n) = UTF8Scan.decode(p, at: b)
            starts.append(b)
            values.append(v)
            classes.append(ScalarClass.of(value: v))
            b += n
        }
        starts.append(range.upperBound)
        let n = values.count
        var i = 0
        while i < n {
            let j = matchEnd(at: i, n: n, values: values, classes: classes)
            out.append(starts[i]..<starts[j])
            i = j
        }
    }

    /// End (exclusive scalar index) of the match starting at scalar `i`.
    @inline(__always)
    static func matchEnd(at i: Int, n: Int, values: [UInt32], classes: [ScalarClass]) -> Int {
        // 's|'t|'re|'ve|'m|'ll|'d
        if values[i] == 0x27 && i + 1 < n {
            switch values[i + 1] {
            case 0x73, 0x74, 0x6D, 0x64: return i + 2          // s t m d
            case 0x72, 0x76:                                      // re ve
                if i + 2 < n && values[i + 2] == 0x65 { return i + 3 }
            case 0x6C:                                            // ll
                if i + 2 < n && values[i + 2] == 0x6C { return i + 3 }
            default: break
            }
        }
        //  ?\p{L}+ |  ?\p{N}+ |  ?[^\s\p{L}\p{N}]+
        var k = i
        if values[i] == 0x20 && i + 1 < n && classes[i + 1] != .whitespace { k = i + 1 }
        let c = classes[k]
        if c != .whitespace {
            var j = k + 1
            while j < n && classes[j] == c { j += 1 }
            return j
        }
        // \s+(?!\S) | \s+
        var e = i + 1
        while e < n && classes[e] == .whitespace { e += 1 }
        if e == n || e - i == 1 { return e }
        return e - 1
    }

    /// Appends the pieces of `p[range]` with every `\p{N}` scalar isolated (`individual`) or every run of
    /// them isolated (HF `Digits(individual_digits)`; llama.cpp's `\p{N}` first regex).
    static func splitDigits(_ p: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, individual: Bool, into out: inout [Range<Int>]) {
        var pieceStart = range.lowerBound
        var inDigits = false
        var b = range.lowerBound
        while b < range.upperBound {
            let (v, n) = UTF8Scan.decode(p, at: b)
            let isDigit = ScalarClass.of(value: v) == .number
            if isDigit {
                if b > pieceStart && (individual || !inDigits) {
                    out.append(pieceStart..<b)
                    pieceStart = b
                }
            } else if inDigits && b > pieceStart {
                out.append(pieceStart..<b)
                pieceStart = b
            }
            inDigits = isDigit
            b += n
        }
        if range.upperBound > pieceStart { out.append(pieceStart..<range.upperBound) }
    }
}
