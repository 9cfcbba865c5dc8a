// SentencePiece `tokenizer.model` files (a `ModelProto` protobuf, google/sentencepiece
// `src/sentencepiece_model.proto` @ 2734490) and their BPE encoding (`src/bpe_model.cc`
// `Model::SampleEncode`, `src/model_interface.cc`, `src/normalizer.cc`): the input is normalized
// (extra spaces removed, "▁" dummy prefix, spaces → "▁"), cut into characters, and the adjacent pair whose
// concatenation is the piece with the highest score is merged, leftmost first, until none is left; UNUSED
// pieces are split back, unknown characters become `<0xHH>` byte pieces (byte fallback) or `<unk>`.
// Special tokens and BOS/EOS follow Hugging Face `LlamaTokenizer(Fast)` (transformers
// `convert_slow_tokenizer.py` `LlamaConverter`): control and unknown pieces are special added tokens.
import TensorCore

/// The parsed content of a SentencePiece model file.
public struct SentencePieceModel: Sendable {
    /// `SentencePiece.Type`.
    public enum PieceType: Int, Sendable {
        case normal = 1, unknown = 2, control = 3, userDefined = 4, unused = 5, byte = 6
    }

    /// One vocabulary entry (its id is its index).
    public struct Piece: Sendable, Equatable {
        /// The piece text (spaces spelled `▁`).
        public var piece: String
        /// Its score (log probability for BPE: higher merges first).
        public var score: Float
        /// Its type.
        public var type: PieceType

        /// A piece.
        public init(piece: String, score: Float, type: PieceType) {
            self.piece = piece
            self.score = score
            self.type = type
        }
    }

    /// `TrainerSpec.ModelType`.
    public enum ModelType: Int, Sendable {
        case unigram = 1, bpe = 2, word = 3, char = 4
    }

    /// The pieces; id = index.
    public var pieces: [Piece] = []
    /// `trainer_spec.model_type` (default UNIGRAM, as in the proto).
    public var modelType: ModelType = .unigram
    /// `trainer_spec.byte_fallback`.
    public var byteFallback = false
    /// `trainer_spec.unk_id` / `bos_id` / `eos_id` / `pad_id` (-1: none).
    public var unkId = 0, bosId = 1, eosId = 2, padId = -1
    /// `trainer_spec.treat_whitespace_as_suffix`.
    public var treatWhitespaceAsSuffix = false
    /// `normalizer_spec.name`.
    public var normalizerName = ""
    /// `normalizer_spec.precompiled_charsmap` (empty for the identity normalizer).
    public var precompiledCharsmap: [UInt8] = []
    /// `normalizer_spec.add_dummy_prefix`.
    public var addDummyPrefix = true
    /// `normalizer_spec.remove_extra_whitespaces`.
    public var removeExtraWhitespaces = true
    /// `normalizer_spec.escape_whitespaces`.
    public var escapeWhitespaces = true

    /// Creates an empty model (proto defaults).
    public init() {}

    /// Reads and parses `path`.
    public static func load(_ path: String) throws -> SentencePieceModel {
        try parse(try readTokenizerFile(path), file: path)
    }

    /// Parses a serialized `ModelProto`; `file` names it in errors.
    public static func parse(_ bytes: [UInt8], file: String) throws -> SentencePieceModel {
        var m = SentencePieceModel()
        var r = ProtobufReader(bytes, file: file, path: "ModelProto")
        var sawTrainer = false
        while let (number, wt) = try r.nextField() {
            switch number {
            case 1:
                let field = "pieces[\(m.pieces.count)]"
                try r.expect(wt, .lengthDelimited, field)
                let range = try r.readLengthDelimited(field)
                m.pieces.append(try parsePiece(bytes, range, file: file, path: "ModelProto.\(field)"))
            case 2:
                try r.expect(wt, .lengthDelimited, "trainer_spec")
                try m.parseTrainerSpec(bytes, try r.readLengthDelimited("trainer_spec"), file: file)
                sawTrainer = true
            case 3:
                try r.expect(wt, .lengthDelimited, "normalizer_spec")
                try m.parseNormalizerSpec(bytes, try r.readLengthDelimited("normalizer_spec"), file: file)
            default:
                try r.skip(wt, "field \(number)")
            }
        }
        guard !m.pieces.isEmpty else { throw TokenizerError(.malformed, file: file, field: "ModelProto.pieces", "no pieces: not a SentencePiece model") }
        guard sawTrainer else { throw TokenizerError(.malformed, file: file, field: "ModelProto.trainer_spec", "missing") }
        var seen: [[UInt8]: Int] = [:]
        for (id, p) in m.pieces.enumerated() {
            if let other = seen.updateValue(id, forKey: Array(p.piece.utf8)) {
                throw TokenizerError(.malformed, file: file, field: "ModelProto.pieces[\(id)]",
                                     "piece \(p.piece.debugDescription) repeats piece \(other)")
            }
        }
        return m
    }

    static func parsePiece(_ bytes: [UInt8], _ range: Range<Int>, file: String, path: String) throws -> Piece {
        var r = ProtobufReader(bytes, range: range, file: file, path: path)
        var piece: String? = nil
        var score: Float = 0
        var type = PieceType.normal
        while let (number, wt) = try r.nextField() {
            switch number {
            case 1:
                try r.expect(wt, .lengthDelimited, "piece")
                piece = try r.readString("piece")
            case 2:
                try r.expect(wt, .fixed32, "score")
                score = Float(bitPattern: try r.readFixed32("score"))
            case 3:
                try r.expect(wt, .varint, "type")
                let v = try r.readVarint("type")
                guard let t = PieceType(rawValue: Int(truncatingIfNeeded: v)) else { throw r.error("type", "unknown piece type \(v)") }
                type = t
            default:
                try r.skip(wt, "field \(number)")
            }
        }
        guard let piece else { throw r.error("piece", "missing") }
        guard !piece.isEmpty else { throw r.error("piece", "empty piece") }
        return Piece(piece: piece, score: score, type: type)
    }

    mutating func parseTrainerSpec(_ bytes: [UInt8], _ range: Range<Int>, file: String) throws {
        var r = ProtobufReader(bytes, range: range, file: file, path: "ModelProto.trainer_spec")
        func int32(_ name: String, _ wt: ProtobufReader.WireType) throws -> Int {
            try r.expect(wt, .varint, name)
            return Int(Int32(truncatingIfNeeded: try r.readVarint(name)))
        }
        func bool(_ name: String, _ wt: ProtobufReader.WireType) throws -> Bool {
            try r.expect(wt, .varint, name)
            return try r.readVarint(name) != 0
        }
        while let (number, wt) = try r.nextField() {
            switch number {
            case 3:
                let v = try int32("model_type", wt)
                guard let t = ModelType(rawValue: v) else { throw r.error("model_type", "unknown model type \(v)") }
                modelType = t
            case 24: treatWhitespaceAsSuffix = try bool("treat_whitespace_as_suffix", wt)
            case 35: byteFallback = try bool("byte_fallback", wt)
            case 40: unkId = try int32("unk_id", wt)
            case 41: bosId = try int32("bos_id", wt)
            case 42: eosId = try int32("eos_id", wt)
            case 43: padId = try int32("pad_id", wt)
            default: try r.skip(wt, "field \(number)")
            }
        }
    }

    mutating func parseNormalizerSpec(_ bytes: [UInt8], _ range: Range<Int>, file: String) throws {
        var r = ProtobufReader(bytes, range: range, file: file, path: "ModelProto.normalizer_spec")
        while let (number, wt) = try r.nextField() {
            switch number {
            case 1:
                try r.expect(wt, .lengthDelimited, "name")
                normalizerName = try r.readString("name")
            case 2:
                try r.expect(wt, .lengthDelimited, "precompiled_charsmap")
                precompiledCharsmap = Array(bytes[try r.readLengthDelimited("precompiled_charsmap")])
            case 3:
                try r.expect(wt, .varint, "add_dummy_prefix")
                addDummyPrefix = try r.readVarint("add_dummy_prefix") != 0
            case 4:
                try r.expect(wt, .varint, "remove_extra_whitespaces")
                removeExtraWhitespaces = try r.readVarint("remove_extra_whitespaces") != 0
            case 5:
                try r.expect(wt, .varint, "escape_whitespaces")
                escapeWhitespaces = try r.readVarint("escape_whitespaces") != 0
            default:
                try r.skip(wt, "field \(number)")
            }
        }
    }

    // MARK: Building the tokenizer

    /// `unk_id`, `bos_id`, `eos_id`: nil where the model has none (-1); an id outside the pieces is an error
    /// naming the field.
    public func specialIds(file: String) throws -> (unk: Int?, bos: Int?, eos: Int?) {
        func checkId(_ id: Int, _ name: String) throws -> Int? {
            if id < 0 { return nil }
            guard id < pieces.count else {
                throw TokenizerError(.malformed, file: file, field: "ModelProto.trainer_spec.\(name)", "\(id) is not below the piece count \(pieces.count)")
            }
            return id
        }
        return (try checkId(unkId, "unk_id"), try checkId(bosId, "bos_id"), try checkId(eosId, "eos_id"))
    }

    /// The tokenizer this model defines.
    /// - Parameters:
    ///   - addBOS / addEOS: what `encode(…, addSpecialTokens: true, …)` adds (HF `add_bos_token` /
    ///     `add_eos_token`; Llama/Mistral default: BOS yes, EOS no).
    ///   - legacy: HF `legacy` (true: the dummy prefix is a normalizer, added to every text run, also after a
    ///     special token; false: Metaspace with `prepend_scheme: first`).
    ///   - file: names the model in errors.
    public func tokenizer(addBOS: Bool = true, addEOS: Bool = false, legacy: Bool = true, file: String) throws -> BPETokenizer {
        guard modelType == .bpe else {
            throw TokenizerError(.unsupported, file: file, field: "ModelProto.trainer_spec.model_type",
                                 "\(modelType) SentencePiece models (only BPE is implemented)")
        }
        guard precompiledCharsmap.isEmpty else {
            throw TokenizerError(.unsupported, file: file, field: "ModelProto.normalizer_spec.precompiled_charsmap",
                                 "normalization rule \"\(normalizerName)\" (\(precompiledCharsmap.count) bytes; only the identity normalizer is implemented)")
        }
        guard !treatWhitespaceAsSuffix else {
            throw TokenizerError(.unsupported, file: file, field: "ModelProto.trainer_spec.treat_whitespace_as_suffix", "true")
        }
        let n = pieces.count
        let (unk, bos, eos) = try specialIds(file: file)

        // Mergeable pieces (SentencePiece `pieces_`): NORMAL, USER_DEFINED, UNUSED; ids by UTF-8 bytes.
        var mergeable: [[UInt8]: Int32] = [:]
        var isSymbol = [Bool](repeating: false, count: n)
        for (id, p) in pieces.enumerated() {
            let b = Array(p.piece.utf8)
            if p.type == .normal || p.type == .userDefined || p.type == .unused {
                mergeable[b] = Int32(id)
                isSymbol[id] = true
            }
        }
        // Priorities: dense rank of the score, highest first (equal scores tie; position breaks ties).
        let distinctScores = Set(pieces.map(\.score)).sorted(by: >)
        var rankOfScore: [Float: UInt32] = [:]
        for (i, s) in distinctScores.enumerated() { rankOfScore[s] = UInt32(i) }
        // Pair table: every split of every mergeable piece into a left and a right symbol.
        var merges: [UInt64: UInt64] = [:]
        var pseudo: [UInt32: Int32] = [:]
        func symbol(_ b: ArraySlice<UInt8>) -> Int32? {
            if let id = mergeable[Array(b)] { return id }
            // A single character that is not a piece can still start a merge.
            let v = Array(b).withUnsafeBufferPointer { UTF8Scan.decode($0, at: 0) }
            guard v.length == b.count else { return nil }
            if let id = pseudo[v.value] { return id }
            let id = Int32(n + pseudo.count)
            pseudo[v.value] = id
            return id
        }
        for (id, p) in pieces.enumerated() where isSymbol[id] {
            let b = Array(p.piece.utf8)
            guard b.count > 1, let rank = rankOfScore[p.score] else { continue }
            var k = UTF8Scan.length(leadByte: b[0])
            while k < b.count {
                if let l = symbol(b[..<k]), let r = symbol(b[k...]) {
                    merges[BPEModel.pairKey(l, r)] = (UInt64(rank) << 32) | UInt64(UInt32(id))
                }
                k += UTF8Scan.length(leadByte: b[k])
            }
        }
        let unused = Set(pieces.indices.filter { pieces[$0].type == .unused }.map { Int32($0) })
        let model = BPEModel(alphabet: .unicodeScalars, tokenBytes: pieces.map { Array($0.piece.utf8) }, merges: merges,
                             pseudoSymbols: pseudo, isSymbol: isSymbol, byteFallback: byteFallback,
                             unkId: unk.map { Int32($0) }, fuseUnk: false, ignoreMerges: false, deferUnknown: true,
                             unusedIds: unused)

        // Normalizer / pre-tokenizer: legacy HF layout = SentencePiece's own normalizer.
        let space = "\u{2581}"
        var norm: [Normalizer] = []
        var pre: PreTokenizer? = nil
        if removeExtraWhitespaces { norm.append(.squeezeSpaces) }
        if legacy {
            if addDummyPrefix { norm.append(.prepend(space)) }
            if escapeWhitespaces { norm.append(.replace(pattern: " ", content: space)) }
        } else {
            pre = .metaspace(replacement: space, prependScheme: addDummyPrefix ? .first : .never, split: false)
        }
        var decoders: [TokenDecoder] = [.replace(pattern: space, content: " "), .byteFallback, .fuse]
        if addDummyPrefix { decoders.append(.strip(content: " ", start: 1, stop: 0)) }

        var added: [AddedToken] = []
        for (id, p) in pieces.enumerated() {
            switch p.type {
            case .control, .unknown: added.append(AddedToken(id: id, content: p.piece, special: true, normalized: false))
            case .userDefined: added.append(AddedToken(id: id, content: p.piece, special: false, normalized: false))
            default: break
            }
        }
        let post = PostProcessor(prefix: addBOS ? bos.map { [$0] } ?? [] : [], suffix: addEOS ? eos.map { [$0] } ?? [] : [])
        return BPETokenizer(model: model, tokenStrings: pieces.map(\.piece),
                            normalizer: norm.isEmpty ? nil : .sequence(norm), preTokenizer: pre, postProcessor: post,
                            decoder: .sequence(decoders), addedTokens: added, bosTokenId: bos, eosTokenId: eos)
    }
}
