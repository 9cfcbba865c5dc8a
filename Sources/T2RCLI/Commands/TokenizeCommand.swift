// `t2r tokenize --model SRC --text FILE --out FILE.u32`: the token ids of a UTF-8 text file with a
// checkpoint's tokenizer, as little-endian uint32 (.u32) or uint16 (.u16, when every id fits).
import Conversion
import Foundation
import TensorCore
import Tokenization

enum TokenizeCommand: Command {
    static let spec = CommandSpec(
        name: "tokenize",
        abstract: "Tokenize a text file with a checkpoint's tokenizer and write the ids.",
        options: [
            OptionSpec("model", value: "SRC", help: "Checkpoint directory, .gguf file, tokenizer.json or SentencePiece .model/.spm."),
            OptionSpec("text", value: "FILE", help: "UTF-8 text to tokenize (the whole file is one sequence)."),
            OptionSpec("out", value: "FILE", help: "Output ids: .u32 (little-endian uint32) or .u16 (uint16; every id must fit)."),
            OptionSpec("no-special", help: "Do not add BOS/EOS (by default they are added as the tokenizer config says)."),
            OptionSpec("parse-special", help: "Match special-token text such as </s> in the input as those tokens."),
        ],
        discussion: """
        The tokenizer is found as transformers would: tokenizer.json, else tokenizer.model (+ tokenizer_config.json
        for add_bos_token/add_eos_token), else a KerasHub assets/tokenizer/vocabulary.spm (+ preprocessor.json), else
        the tokenizer.ggml.* arrays of a GGUF file. Special-token text in the input is plain text unless
        --parse-special is given (as llama.cpp's llama-perplexity tokenizes).
        """)

    static func run(_ args: ParsedArguments, _ console: Console) throws -> Int32 {
        let model = try args.required("model"), textPath = try args.required("text"), out = try args.required("out")
        guard TokenIDFile.Width(path: out) != nil else {
            throw UsageError(message: "--out must end in .u32 or .u16, got \"\(out)\"", command: spec.name)
        }
        let tokenizer = try CheckpointTokenizer.load(model)
        try TokenIDFile.checkTextFits(textPath)
        let bytes: [UInt8]
        do { bytes = try readFile(textPath) } catch {
            throw TokenizerError(.notFound, file: textPath, "cannot read the text: \(error)")
        }
        let text = try UTF8Text.decode(bytes, file: textPath)
        let addSpecial = !args.flag("no-special")
        let ids = tokenizer.encode(text, addSpecialTokens: addSpecial, parseSpecial: args.flag("parse-special"))
        try TokenIDFile.write(ids, to: out)
        let width = TokenIDFile.Width(path: out) == .u16 ? "uint16" : "uint32"
        var added: [String] = []
        if addSpecial && tokenizer.addsBOS { added.append("BOS") }
        if addSpecial && tokenizer.addsEOS { added.append("EOS") }
        console.out("\(out): \(Format.grouped(ids.count)) ids (\(width)) from \(Format.grouped(bytes.count)) bytes of \(textPath); "
            + "vocabulary \(Format.grouped(tokenizer.vocabularySize)); \(added.isEmpty ? "no special tokens added" : added.joined(separator: " and ") + " added")")
        return 0
    }
}
