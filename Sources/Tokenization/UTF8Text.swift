// Text input for tokenizers: UTF-8 bytes validated strictly (a tokenizer must not silently replace
// invalid bytes with U+FFFD, which would change the ids), with the byte offset of the first bad sequence.

/// Strict UTF-8 decoding of tokenizer input.
public enum UTF8Text {
    /// `bytes` as a String; throws naming `file` and the offset of the first invalid UTF-8 sequence.
    public static func decode(_ bytes: [UInt8], file: String) throws -> String {
        if let s = String(validating: bytes, as: UTF8.self) { return s }
        var parser = Unicode.UTF8.ForwardParser()
        var it = bytes.makeIterator()
        var offset = 0
        while true {
            switch parser.parseScalar(from: &it) {
            case .valid(let encoded): offset += encoded.count
            case .error:
                throw TokenizerError(.badValue, file: file, "invalid UTF-8 at byte \(offset) (0x\(String(bytes[offset], radix: 16, uppercase: true)))")
            case .emptyInput:
                throw TokenizerError(.badValue, file: file, "invalid UTF-8")
            }
        }
    }
}
