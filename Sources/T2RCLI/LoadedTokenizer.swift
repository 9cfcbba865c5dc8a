// The tokenizer of a checkpoint, for commands that read text: text files are read as strict UTF-8 and
// encoded as one sequence with the tokenizer's special-token policy (BOS for Mistral/Llama-2 style
// tokenizers, none for SmolLM2), special-token text not parsed — as llama-perplexity tokenizes.
import Conversion
import TensorCore
import Tokenization

struct LoadedTokenizer {
    let tokenizer: BPETokenizer

    /// The tokenizer of the checkpoint at `path` (a directory or a GGUF file).
    init(path: String) throws {
        tokenizer = try CheckpointTokenizer.load(path)
    }

    func encodeFile(_ path: String) throws -> [Int] {
        try TokenIDFile.checkTextFits(path)
        let bytes: [UInt8]
        do { bytes = try readFile(path) } catch {
            throw TokenizerError(.notFound, file: path, "cannot read the text: \(error)")
        }
        return tokenizer.encode(try UTF8Text.decode(bytes, file: path), addSpecialTokens: true, parseSpecial: false)
    }
}
