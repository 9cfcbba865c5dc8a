// A Hugging Face `tokenizer.json` built from a SentencePiece BPE model (`tokenizer.model`, a KerasHub
// preset's `vocabulary.spm`), as transformers' slow→fast conversion (`convert_slow_tokenizer.py`
// `LlamaConverter`, legacy layout) writes it for Llama / Mistral: model BPE with byte fallback over the
// pieces by id; merges = every split of a piece into two pieces, ordered as transformers'
// `generate_merges` orders them (score of the merged piece, then the left and the right part's length,
// all descending; ties keep piece order, then the parts' ids); normalizer Prepend("▁") + Replace(" ",
// "▁"); decoder Replace("▁", " "), ByteFallback, Fuse, Strip(1, 0); BOS / EOS by TemplateProcessing.
// On Mistral v1's tokenizer.model this gives Mistral's own tokenizer.json (ConversionTests).
import TensorCore
import Tokenization

/// Builds HF tokenizer files from a SentencePiece model.
public enum SentencePieceTokenizerExport {
    /// `tokenizer.json` for `model` (read from `file`, named in errors), adding BOS / EOS when encoding
    /// with special tokens as `addBOS` / `addEOS` say; nil with the reason when the model uses what the
    /// legacy Llama layout cannot express.
    public static func tokenizerJSON(_ model: SentencePieceModel, addBOS: Bool, addEOS: Bool,
                                     file: String) throws -> (json: JSONValue?, reason: String?) {
        guard model.modelType == .bpe else {
            return (nil, "\(file) is a \(model.modelType) SentencePiece model (only BPE models are exported)")
        }
        guard model.precompiledCharsmap.isEmpty, !model.removeExtraWhitespaces, model.escapeWhitespaces,
              !model.treatWhitespaceAsSuffix else {
            return (nil, "\(file) normalizes text (normalizer \"\(model.normalizerName)\", remove_extra_whitespaces "
                + "\(model.removeExtraWhitespaces), escape_whitespaces \(model.escapeWhitespaces)) in a way the Llama layout does not")
        }
        let (unk, bos, eos) = try model.specialIds(file: file)
        let pieces = model.pieces.map(\.piece)
        // LlamaConverter scores unk/bos/eos (ids 0, 1, 2) as 0.
        let scores = model.pieces.enumerated().map { $0 < 3 ? 0 : Double($1.score) }
        var ids: [String: Int] = [:]
        for (i, p) in pieces.enumerated() where ids[p] == nil { ids[p] = i }

        struct Merge { var left: String, right: String, score: Double, leftLength: Int, rightLength: Int, order: Int }
        var merges: [Merge] = []
        for (i, p) in pieces.enumerated() {
            let chars = Array(p.unicodeScalars)
            guard chars.count > 1 else { continue }
            var local: [(l: String, r: String, lid: Int, rid: Int, ll: Int, rl: Int)] = []
            for k in 1..<chars.count {
                var l = String.UnicodeScalarView(), r = String.UnicodeScalarView()
                l.append(contentsOf: chars[..<k])
                r.append(contentsOf: chars[k...])
                let ls = String(l), rs = String(r)
                if let lid = ids[ls], let rid = ids[rs] { local.append((ls, rs, lid, rid, k, chars.count - k)) }
            }
            local.sort { ($0.lid, $0.rid) < ($1.lid, $1.rid) }
            for m in local {
                merges.append(Merge(left: m.l, right: m.r, score: scores[i], leftLength: m.ll, rightLength: m.rl,
                                    order: merges.count))
            }
        }
        merges.sort { a, b in
            if a.score != b.score { return a.score > b.score }
            if a.leftLength != b.leftLength { return a.leftLength > b.leftLength }
            if a.rightLength != b.rightLength { return a.rightLength > b.rightLength }
            return a.order < b.order
        }

        // Control and unknown pieces are special added tokens, user-defined ones plain added tokens.
        let added: [JSONValue] = model.pieces.enumerated().compactMap { id, p in
            guard p.type == .control || p.type == .unknown || p.type == .userDefined else { return nil }
            return .object([("id", .int(id)), ("content", .string(p.piece)), ("single_word", .bool(false)),
                            ("lstrip", .bool(false)), ("rstrip", .bool(false)), ("normalized", .bool(false)),
                            ("special", .bool(p.type != .userDefined))])
        }
        let space = "\u{2581}"
        var normalizers: [JSONValue] = []
        if model.addDummyPrefix { normalizers.append(.object([("type", .string("Prepend")), ("prepend", .string(space))])) }
        normalizers.append(.object([("type", .string("Replace")), ("pattern", .object([("String", .string(" "))])),
                                    ("content", .string(space))]))
        var decoders: [JSONValue] = [
            .object([("type", .string("Replace")), ("pattern", .object([("String", .string(space))])), ("content", .string(" "))]),
            .object([("type", .string("ByteFallback"))]),
            .object([("type", .string("Fuse"))]),
        ]
        if model.addDummyPrefix {
            decoders.append(.object([("type", .string("Strip")), ("content", .string(" ")), ("start", .int(1)), ("stop", .int(0))]))
        }
        let json = JSONValue.object([
            ("version", .string("1.0")),
            ("truncation", .null),
            ("padding", .null),
            ("added_tokens", .array(added)),
            ("normalizer", .object([("type", .string("Sequence")), ("normalizers", .array(normalizers))])),
            ("pre_tokenizer", .null),
            ("post_processor", GGUFTokenizerExport.postProcessor(pieces, bos: addBOS ? bos : nil, eos: addEOS ? eos : nil,
                                                                 secondTypeId: 1)),
            ("decoder", .object([("type", .string("Sequence")), ("decoders", .array(decoders))])),
            ("model", .object([
                ("type", .string("BPE")),
                ("dropout", .null),
                ("unk_token", unk.map { .string(pieces[$0]) } ?? .null),
                ("continuing_subword_prefix", .null),
                ("end_of_word_suffix", .null),
                ("fuse_unk", .bool(true)),
                ("byte_fallback", .bool(model.byteFallback)),
                ("ignore_merges", .bool(false)),
                ("vocab", .object(pieces.enumerated().map { ($1, .int($0)) })),
                ("merges", .array(merges.map { .array([.string($0.left), .string($0.right)]) })),
            ])),
        ])
        return (json, nil)
    }
}
