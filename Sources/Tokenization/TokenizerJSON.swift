// Loads a Hugging Face `tokenizer.json` (tokenizers' serialization format, huggingface/tokenizers
// `tokenizers/src/tokenizer/serialization.rs`, `models/bpe/serialization.rs` @ 3ba8ad0) into a
// `BPETokenizer`. Supported: BPE models (merges as "a b" strings or [a, b] pairs, byte fallback, unk,
// fuse_unk, ignore_merges); normalizers Sequence/Prepend/Replace(String); pre-tokenizers
// Sequence/ByteLevel/Metaspace/Digits/Split(GPT-2 regex, Isolated); post-processors
// TemplateProcessing/ByteLevel/Roberta/Bert/Sequence; decoders Sequence/Replace/ByteFallback/Fuse/
// Strip/ByteLevel/Metaspace. Anything else is a `TokenizerError` naming the key and the type found.
import TensorCore

/// Reading `tokenizer.json`.
public enum TokenizerJSON {
    /// The GPT-2 pre-tokenizer pattern (HF `Split` patterns equal to it are implemented by `GPT2Split`).
    public static let gpt2Pattern = #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#

    /// Loads `path`.
    public static func load(_ path: String) throws -> BPETokenizer {
        try parse(try readTokenizerFile(path), file: path)
    }

    /// Parses the bytes of a tokenizer.json; `file` names it in errors.
    public static func parse(_ bytes: [UInt8], file: String) throws -> BPETokenizer {
        let root: JSONValue
        do { root = try JSONParser.parse(bytes) } catch {
            throw TokenizerError(.malformed, file: file, "not valid JSON: \(error)")
        }
        let j = JSONReader(file: file)
        _ = try j.object(root, "")
        guard let modelValue = root["model"] else { throw TokenizerError(.malformed, file: file, field: "model", "missing") }

        let added = try parseAddedTokens(root["added_tokens"], j)
        let normalizer = try parseNormalizer(root["normalizer"], "normalizer", j)
        let pre = try parsePreTokenizer(root["pre_tokenizer"], "pre_tokenizer", j)
        let alphabet: BPEModel.Alphabet = pre?.isByteLevel == true ? .bytes : .unicodeScalars
        let (model, strings) = try parseBPE(modelValue, alphabet: alphabet, j)
        var lookup: [[UInt8]: Int] = [:]
        for (i, s) in strings.enumerated() { if let s { lookup[Array(s.utf8)] = i } }
        for t in added { lookup[Array(t.content.utf8)] = t.id }
        let limit = idLimit(model.count + added.count)
        if let (i, t) = added.enumerated().first(where: { $0.1.id >= limit }) {
            throw TokenizerError(.malformed, file: j.file, field: "added_tokens[\(i)].id",
                                 "id \(t.id) is far beyond the vocabulary (\(model.count) tokens)")
        }
        let post = try parsePostProcessor(root["post_processor"], "post_processor", j, lookup: lookup)
        let size = max(model.count, (added.map(\.id).max() ?? -1) + 1)
        if let bad = (post.prefix + post.suffix).first(where: { $0 >= size }) {
            throw TokenizerError(.malformed, file: j.file, field: "post_processor", "special token id \(bad) is not below the vocabulary size \(size)")
        }
        let decoder = try parseDecoder(root["decoder"], "decoder", j)
        let bos = post.prefix.count == 1 ? post.prefix[0] : nil
        let eos = post.suffix.count == 1 ? post.suffix[0] : nil
        return BPETokenizer(model: model, tokenStrings: strings, normalizer: normalizer, preTokenizer: pre,
                            postProcessor: post, decoder: decoder, addedTokens: added, bosTokenId: bos, eosTokenId: eos)
    }

    /// Ids must stay below this for `n` tokens: holes are allowed, but a hostile id cannot make the id
    /// tables huge.
    static func idLimit(_ n: Int) -> Int { max(2 * n, n + 65536) }

    // MARK: Model

    static func parseBPE(_ v: JSONValue, alphabet: BPEModel.Alphabet, _ j: JSONReader) throws -> (BPEModel, [String?]) {
        let m = try j.object(v, "model")
        let type = try j.optionalString(m["type"], "model.type")
        if let type, type != "BPE" {
            throw TokenizerError(.unsupported, file: j.file, field: "model.type", "\"\(type)\" models (only BPE is implemented)")
        }
        if let d = m["dropout"], !d.isNull, (d.doubleValue ?? 1) != 0 {
            throw TokenizerError(.unsupported, file: j.file, field: "model.dropout", "BPE dropout \(d) (sampling is not implemented)")
        }
        for key in ["continuing_subword_prefix", "end_of_word_suffix"] {
            if let s = try j.optionalString(m[key], "model.\(key)"), !s.isEmpty {
                throw TokenizerError(.unsupported, file: j.file, field: "model.\(key)", "\"\(s)\" (only null is implemented)")
            }
        }
        let byteFallback = try j.optionalBool(m["byte_fallback"], "model.byte_fallback") ?? false
        let fuseUnk = try j.optionalBool(m["fuse_unk"], "model.fuse_unk") ?? false
        let ignoreMerges = try j.optionalBool(m["ignore_merges"], "model.ignore_merges") ?? false

        // Vocabulary: token → id, ids unique.
        guard let vocabValue = m["vocab"] else { throw TokenizerError(.malformed, file: j.file, field: "model.vocab", "missing") }
        guard case .object(let members) = vocabValue else {
            throw TokenizerError(.malformed, file: j.file, field: "model.vocab", "expected an object of token → id, found \(vocabValue.typeName)")
        }
        var maxId = -1
        var entries: [(String, Int)] = []
        entries.reserveCapacity(members.count)
        for (token, idValue) in members {
            guard let id = idValue.intValue, id >= 0, id < Int(Int32.max) else {
                throw TokenizerError(.malformed, file: j.file, field: "model.vocab[\(JSONValue.string(token))]",
                                     "expected a non-negative integer id, found \(idValue)")
            }
            entries.append((token, id))
            maxId = max(maxId, id)
        }
        guard maxId < idLimit(members.count) else {
            throw TokenizerError(.malformed, file: j.file, field: "model.vocab",
                                 "ids are too sparse: largest id \(maxId) for \(members.count) tokens")
        }
        var strings = [String?](repeating: nil, count: maxId + 1)
        var byBytes: [[UInt8]: Int32] = [:]
        byBytes.reserveCapacity(entries.count)
        for (token, id) in entries {
            if let other = strings[id] {
                throw TokenizerError(.malformed, file: j.file, field: "model.vocab",
                                     "id \(id) is given to both \(JSONValue.string(other)) and \(JSONValue.string(token))")
            }
            strings[id] = token
            byBytes[Array(token.utf8)] = Int32(id)
        }
        // Token bytes in the model's alphabet.
        let tokenBytes: [[UInt8]?] = strings.map { s in
            guard let s else { return nil }
            return alphabet == .bytes ? ByteLevelAlphabet.bytes(of: s) : Array(s.utf8)
        }

        // Merges: rank = index; a later duplicate wins.
        guard let mergesValue = m["merges"] else { throw TokenizerError(.malformed, file: j.file, field: "model.merges", "missing") }
        guard case .array(let list) = mergesValue else {
            throw TokenizerError(.malformed, file: j.file, field: "model.merges", "expected an array, found \(mergesValue.typeName)")
        }
        var merges: [UInt64: UInt64] = [:]
        merges.reserveCapacity(list.count)
        for (rank, item) in list.enumerated() {
            let field = "model.merges[\(rank)]"
            let a: String, b: String
            switch item {
            case .string(let s):
                if rank == 0 && s.hasPrefix("#version") { continue }
                // Split on U+0020 as scalars: as Characters, " " + a combining mark is one grapheme.
                let parts = s.unicodeScalars.split(separator: " ", omittingEmptySubsequences: false)
                guard parts.count == 2 else {
                    throw TokenizerError(.malformed, file: j.file, field: field, "expected \"left right\" (one space), found \(item)")
                }
                a = String(String.UnicodeScalarView(parts[0])); b = String(String.UnicodeScalarView(parts[1]))
            case .array(let pair):
                guard pair.count == 2, let x = pair[0].stringValue, let y = pair[1].stringValue else {
                    throw TokenizerError(.malformed, file: j.file, field: field, "expected a pair of strings, found \(item)")
                }
                a = x; b = y
            default:
                throw TokenizerError(.malformed, file: j.file, field: field, "expected a string or a pair, found \(item.typeName)")
            }
            guard let ia = byBytes[Array(a.utf8)] else {
                throw TokenizerError(.malformed, file: j.file, field: field, "token \(JSONValue.string(a)) is not in the vocabulary")
            }
            guard let ib = byBytes[Array(b.utf8)] else {
                throw TokenizerError(.malformed, file: j.file, field: field, "token \(JSONValue.string(b)) is not in the vocabulary")
            }
            guard let merged = byBytes[Array(a.utf8) + Array(b.utf8)] else {
                throw TokenizerError(.malformed, file: j.file, field: field, "merged token \(JSONValue.string(a + b)) is not in the vocabulary")
            }
            merges[BPEModel.pairKey(ia, ib)] = (UInt64(rank) << 32) | UInt64(UInt32(merged))
        }

        var unkId: Int32? = nil
        if let unk = try j.optionalString(m["unk_token"], "model.unk_token") {
            guard let id = byBytes[Array(unk.utf8)] else {
                throw TokenizerError(.malformed, file: j.file, field: "model.unk_token", "\(JSONValue.string(unk)) is not in the vocabulary")
            }
            unkId = id
        }
        let model = BPEModel(alphabet: alphabet, tokenBytes: tokenBytes, merges: merges, byteFallback: byteFallback,
                             unkId: unkId, fuseUnk: fuseUnk, ignoreMerges: ignoreMerges)
        return (model, strings)
    }

    // MARK: Added tokens

    static func parseAddedTokens(_ v: JSONValue?, _ j: JSONReader) throws -> [AddedToken] {
        guard let v, !v.isNull else { return [] }
        guard case .array(let list) = v else {
            throw TokenizerError(.malformed, file: j.file, field: "added_tokens", "expected an array, found \(v.typeName)")
        }
        return try list.enumerated().map { i, item in
            let f = "added_tokens[\(i)]"
            let o = try j.object(item, f)
            let id = try j.int(o["id"], "\(f).id")
            guard id >= 0 && id < Int(Int32.max) else { throw TokenizerError(.malformed, file: j.file, field: "\(f).id", "id \(id) out of range") }
            let content = try j.string(o["content"], "\(f).content")
            for flag in ["single_word", "lstrip", "rstrip"] where try j.optionalBool(o[flag], "\(f).\(flag)") == true {
                throw TokenizerError(.unsupported, file: j.file, field: "\(f).\(flag)",
                                     "added token \(JSONValue.string(content)) sets \(flag) (only false is implemented)")
            }
            return AddedToken(id: id, content: content,
                              special: try j.optionalBool(o["special"], "\(f).special") ?? false,
                              normalized: try j.optionalBool(o["normalized"], "\(f).normalized") ?? true)
        }
    }

    // MARK: Normalizers

    static func parseNormalizer(_ v: JSONValue?, _ field: String, _ j: JSONReader) throws -> Normalizer? {
        guard let (o, type) = try j.component(v, field) else { return nil }
        switch type {
        case "Sequence":
            let list = try j.array(o["normalizers"], "\(field).normalizers")
            return .sequence(try list.enumerated().compactMap { try parseNormalizer($1, "\(field).normalizers[\($0)]", j) })
        case "Prepend":
            return .prepend(try j.string(o["prepend"], "\(field).prepend"))
        case "Replace":
            let pattern = try stringPattern(o["pattern"], "\(field).pattern", j)
            return .replace(pattern: pattern, content: try j.string(o["content"], "\(field).content"))
        default:
            throw TokenizerError(.unsupported, file: j.file, field: "\(field).type", "normalizer \"\(type)\"")
        }
    }

    /// A `{"String": s}` pattern (a `{"Regex": r}` pattern is unsupported).
    static func stringPattern(_ v: JSONValue?, _ field: String, _ j: JSONReader) throws -> String {
        let o = try j.object(v, field)
        if let s = o["String"] { return try j.string(s, "\(field).String") }
        if let r = o["Regex"] {
            throw TokenizerError(.unsupported, file: j.file, field: "\(field).Regex", "regex pattern \(r) (only String patterns here)")
        }
        throw TokenizerError(.malformed, file: j.file, field: field, "expected {\"String\": …} or {\"Regex\": …}, found \(o)")
    }

    // MARK: Pre-tokenizers

    static func parsePreTokenizer(_ v: JSONValue?, _ field: String, _ j: JSONReader) throws -> PreTokenizer? {
        guard let (o, type) = try j.component(v, field) else { return nil }
        switch type {
        case "Sequence":
            let list = try j.array(o["pretokenizers"], "\(field).pretokenizers")
            return .sequence(try list.enumerated().compactMap { try parsePreTokenizer($1, "\(field).pretokenizers[\($0)]", j) })
        case "ByteLevel":
            return .byteLevel(addPrefixSpace: try j.optionalBool(o["add_prefix_space"], "\(field).add_prefix_space") ?? true,
                              useRegex: try j.optionalBool(o["use_regex"], "\(field).use_regex") ?? true)
        case "Digits":
            return .digits(individual: try j.optionalBool(o["individual_digits"], "\(field).individual_digits") ?? false)
        case "Metaspace":
            let (rep, scheme) = try metaspaceOptions(o, field, j)
            return .metaspace(replacement: String(rep), prependScheme: scheme,
                              split: try j.optionalBool(o["split"], "\(field).split") ?? true)
        case "Split":
            let p = try j.object(o["pattern"], "\(field).pattern")
            let pattern = try (p["Regex"] ?? p["String"]).map { try j.string($0, "\(field).pattern") } ?? ""
            let behavior = try j.string(o["behavior"], "\(field).behavior")
            let invert = try j.optionalBool(o["invert"], "\(field).invert") ?? false
            guard p["Regex"] != nil, pattern == gpt2Pattern, behavior == "Isolated", !invert else {
                throw TokenizerError(.unsupported, file: j.file, field: field,
                                     "Split with pattern \(JSONValue.string(pattern)), behavior \(behavior), invert \(invert) "
                                     + "(only the GPT-2 regex, Isolated, is implemented)")
            }
            return .gpt2Split
        default:
            throw TokenizerError(.unsupported, file: j.file, field: "\(field).type", "pre-tokenizer \"\(type)\"")
        }
    }

    /// Metaspace `replacement` and `prepend_scheme` (legacy `add_prefix_space: bool` → always / never).
    static func metaspaceOptions(_ o: JSONValue, _ field: String, _ j: JSONReader) throws -> (Unicode.Scalar, PrependScheme) {
        let repString = try j.optionalString(o["replacement"], "\(field).replacement") ?? "\u{2581}"
        guard repString.unicodeScalars.count == 1, let rep = repString.unicodeScalars.first else {
            throw TokenizerError(.malformed, file: j.file, field: "\(field).replacement", "expected one character, found \(JSONValue.string(repString))")
        }
        var scheme = PrependScheme.always
        if let s = try j.optionalString(o["prepend_scheme"], "\(field).prepend_scheme") {
            guard let p = PrependScheme(rawValue: s) else {
                throw TokenizerError(.malformed, file: j.file, field: "\(field).prepend_scheme", "expected always, first or never, found \"\(s)\"")
            }
            scheme = p
        } else if let add = try j.optionalBool(o["add_prefix_space"], "\(field).add_prefix_space") {
            scheme = add ? .always : .never
        }
        return (rep, scheme)
    }

    // MARK: Post-processors

    static func parsePostProcessor(_ v: JSONValue?, _ field: String, _ j: JSONReader, lookup: [[UInt8]: Int]) throws -> PostProcessor {
        guard let (o, type) = try j.component(v, field) else { return PostProcessor() }
        switch type {
        case "ByteLevel":
            return PostProcessor()
        case "Sequence":
            var out = PostProcessor()
            for (i, p) in try j.array(o["processors"], "\(field).processors").enumerated() {
                let sub = try parsePostProcessor(p, "\(field).processors[\(i)]", j, lookup: lookup)
                out.prefix += sub.prefix
                out.suffix = sub.suffix + out.suffix
            }
            return out
        case "RobertaProcessing", "BertProcessing":
            func tokenId(_ key: String) throws -> Int {
                let pair = try j.array(o[key], "\(field).\(key)")
                guard pair.count == 2, let id = pair[1].intValue, id >= 0 else {
                    throw TokenizerError(.malformed, file: j.file, field: "\(field).\(key)", "expected [token, id], found \(JSONValue.array(pair))")
                }
                return id
            }
            return PostProcessor(prefix: [try tokenId("cls")], suffix: [try tokenId("sep")])
        case "TemplateProcessing":
            let single = try j.array(o["single"], "\(field).single")
            let specials = o["special_tokens"]
            var out = PostProcessor()
            var seenSequence = false
            for (i, piece) in single.enumerated() {
                let pf = "\(field).single[\(i)]"
                let p = try j.object(piece, pf)
                if p["Sequence"] != nil {
                    seenSequence = true
                    continue
                }
                guard let st = p["SpecialToken"] else {
                    throw TokenizerError(.malformed, file: j.file, field: pf, "expected Sequence or SpecialToken, found \(piece)")
                }
                let name = try j.string(try j.object(st, "\(pf).SpecialToken")["id"], "\(pf).SpecialToken.id")
                var ids: [Int]
                if let entry = specials?[name] {
                    ids = try j.array(entry["ids"], "\(field).special_tokens.\(name).ids").enumerated().map { k, x in
                        guard let id = x.intValue, id >= 0 else {
                            throw TokenizerError(.malformed, file: j.file, field: "\(field).special_tokens.\(name).ids[\(k)]", "expected an id, found \(x)")
                        }
                        return id
                    }
                } else if let id = lookup[Array(name.utf8)] {
                    ids = [id]
                } else {
                    throw TokenizerError(.malformed, file: j.file, field: "\(pf).SpecialToken.id", "unknown special token \(JSONValue.string(name))")
                }
                if seenSequence { out.suffix += ids } else { out.prefix += ids }
            }
            guard seenSequence else {
                throw TokenizerError(.malformed, file: j.file, field: "\(field).single", "the template has no Sequence A")
            }
            return out
        default:
            throw TokenizerError(.unsupported, file: j.file, field: "\(field).type", "post-processor \"\(type)\"")
        }
    }

    // MARK: Decoders

    static func parseDecoder(_ v: JSONValue?, _ field: String, _ j: JSONReader) throws -> TokenDecoder? {
        guard let (o, type) = try j.component(v, field) else { return nil }
        switch type {
        case "Sequence":
            let list = try j.array(o["decoders"], "\(field).decoders")
            return .sequence(try list.enumerated().compactMap { try parseDecoder($1, "\(field).decoders[\($0)]", j) })
        case "Replace":
            return .replace(pattern: try stringPattern(o["pattern"], "\(field).pattern", j),
                            content: try j.string(o["content"], "\(field).content"))
        case "ByteFallback": return .byteFallback
        case "Fuse": return .fuse
        case "ByteLevel": return .byteLevel
        case "Strip":
            let c = try j.string(o["content"], "\(field).content")
            guard c.unicodeScalars.count == 1, let u = c.unicodeScalars.first else {
                throw TokenizerError(.malformed, file: j.file, field: "\(field).content", "expected one character, found \(JSONValue.string(c))")
            }
            let start = try j.int(o["start"], "\(field).start"), stop = try j.int(o["stop"], "\(field).stop")
            guard start >= 0, stop >= 0 else { throw TokenizerError(.malformed, file: j.file, field: field, "negative start/stop") }
            return .strip(content: u, start: start, stop: stop)
        case "Metaspace":
            let (rep, scheme) = try metaspaceOptions(o, field, j)
            return .metaspace(replacement: rep, prependScheme: scheme)
        default:
            throw TokenizerError(.unsupported, file: j.file, field: "\(field).type", "decoder \"\(type)\"")
        }
    }
}

/// Typed access to JSON values with errors that name the file and key path.
struct JSONReader {
    let file: String

    func object(_ v: JSONValue?, _ field: String) throws -> JSONValue {
        guard let v else { throw TokenizerError(.malformed, file: file, field: field, "missing") }
        guard case .object = v else { throw TokenizerError(.malformed, file: file, field: field, "expected an object, found \(v.typeName)") }
        return v
    }

    func array(_ v: JSONValue?, _ field: String) throws -> [JSONValue] {
        guard let v else { throw TokenizerError(.malformed, file: file, field: field, "missing") }
        guard case .array(let a) = v else { throw TokenizerError(.malformed, file: file, field: field, "expected an array, found \(v.typeName)") }
        return a
    }

    func string(_ v: JSONValue?, _ field: String) throws -> String {
        guard let v else { throw TokenizerError(.malformed, file: file, field: field, "missing") }
        guard case .string(let s) = v else { throw TokenizerError(.malformed, file: file, field: field, "expected a string, found \(v.typeName)") }
        return s
    }

    func int(_ v: JSONValue?, _ field: String) throws -> Int {
        guard let v else { throw TokenizerError(.malformed, file: file, field: field, "missing") }
        guard let i = v.intValue else { throw TokenizerError(.malformed, file: file, field: field, "expected an integer, found \(v)") }
        return i
    }

    /// A pipeline component `{"type": …, …}`: the object and its type, or nil for null / absent.
    func component(_ v: JSONValue?, _ field: String) throws -> (JSONValue, String)? {
        guard let v, !v.isNull else { return nil }
        let o = try object(v, field)
        return (o, try string(o["type"], "\(field).type"))
    }

    func optionalString(_ v: JSONValue?, _ field: String) throws -> String? {
        guard let v, !v.isNull else { return nil }
        return try string(v, field)
    }

    func optionalBool(_ v: JSONValue?, _ field: String) throws -> Bool? {
        guard let v, !v.isNull else { return nil }
        guard case .bool(let b) = v else { throw TokenizerError(.malformed, file: file, field: field, "expected true or false, found \(v)") }
        return b
    }
}
