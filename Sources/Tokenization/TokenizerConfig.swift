// The special-token settings that sit beside a tokenizer file: Hugging Face `tokenizer_config.json`
// (`add_bos_token`, `add_eos_token`, `bos_token`, `eos_token`, `legacy`, `add_prefix_space`, as
// transformers' `LlamaTokenizer(Fast)` reads them) and KerasHub's `preprocessor.json`
// (`add_start_token`, `add_end_token` of a `*CausalLMPreprocessor`) or layer-config `tokenizer.json`
// (`add_bos`, `add_eos`).
import TensorCore

/// Special-token settings of a checkpoint's tokenizer. Absent keys are nil.
public struct TokenizerConfig: Sendable, Equatable {
    /// Add the BOS token when encoding with special tokens.
    public var addBOS: Bool?
    /// Append the EOS token when encoding with special tokens.
    public var addEOS: Bool?
    /// The BOS token's text (e.g. `<s>`).
    public var bosToken: String?
    /// The EOS token's text (e.g. `</s>`).
    public var eosToken: String?
    /// transformers `legacy` for SentencePiece models (nil: transformers' default, legacy).
    public var legacy: Bool?
    /// transformers `add_prefix_space` for SentencePiece models (false disables the dummy prefix).
    public var addPrefixSpace: Bool?

    /// Empty settings.
    public init(addBOS: Bool? = nil, addEOS: Bool? = nil, bosToken: String? = nil, eosToken: String? = nil,
                legacy: Bool? = nil, addPrefixSpace: Bool? = nil) {
        self.addBOS = addBOS
        self.addEOS = addEOS
        self.bosToken = bosToken
        self.eosToken = eosToken
        self.legacy = legacy
        self.addPrefixSpace = addPrefixSpace
    }

    /// Reads a Hugging Face `tokenizer_config.json`.
    public static func loadHuggingFace(_ path: String) throws -> TokenizerConfig {
        let root = try readObject(path)
        let j = JSONReader(file: path)
        return TokenizerConfig(addBOS: try j.optionalBool(root["add_bos_token"], "add_bos_token"),
                               addEOS: try j.optionalBool(root["add_eos_token"], "add_eos_token"),
                               bosToken: try tokenText(root["bos_token"], "bos_token", j),
                               eosToken: try tokenText(root["eos_token"], "eos_token", j),
                               legacy: try j.optionalBool(root["legacy"], "legacy"),
                               addPrefixSpace: try j.optionalBool(root["add_prefix_space"], "add_prefix_space"))
    }

    /// Reads a KerasHub `preprocessor.json` (`config.add_start_token` / `add_end_token`) or layer-config
    /// `tokenizer.json` (`config.add_bos` / `add_eos`).
    public static func loadKerasHub(_ path: String) throws -> TokenizerConfig {
        let root = try readObject(path)
        let j = JSONReader(file: path)
        let config = try j.object(root["config"], "config")
        return TokenizerConfig(addBOS: try j.optionalBool(config["add_start_token"] ?? config["add_bos"], "config.add_start_token"),
                               addEOS: try j.optionalBool(config["add_end_token"] ?? config["add_eos"], "config.add_end_token"))
    }

    /// Whether `path` is a KerasHub layer config (`{"module", "class_name", "config"}`) rather than a
    /// Hugging Face tokenizers file (which has a `model`).
    public static func isKerasLayerConfig(_ path: String) throws -> Bool {
        let root = try readObject(path)
        return root["model"] == nil && root["class_name"] != nil && root["config"] != nil
    }

    static func readObject(_ path: String) throws -> JSONValue {
        let v: JSONValue
        do { v = try JSONParser.parse(try readTokenizerFile(path, limit: FileLimits.json)) } catch let e as JSONParseError {
            throw TokenizerError(.malformed, file: path, "not valid JSON: \(e)")
        }
        return try JSONReader(file: path).object(v, "")
    }

    /// A token given as a string or as an `AddedToken` object `{"content": …}`.
    static func tokenText(_ v: JSONValue?, _ field: String, _ j: JSONReader) throws -> String? {
        guard let v, !v.isNull else { return nil }
        if case .string(let s) = v { return s }
        return try j.string(try j.object(v, field)["content"], "\(field).content")
    }
}

extension BPETokenizer {
    /// The id of the token spelled `text`: an added token first, then the vocabulary (compared as bytes).
    public func id(ofToken text: String) -> Int? {
        let b = Array(text.utf8)
        if let t = addedTokens.first(where: { Array($0.content.utf8) == b }) { return t.id }
        for id in 0..<vocabularySize {
            if let s = token(for: id), s.utf8.elementsEqual(b) { return id }
        }
        return nil
    }

    /// This tokenizer with BOS/EOS handling from `config` (transformers `update_post_processor`: when
    /// `add_bos_token` or `add_eos_token` is set, the template becomes `[bos] $A [eos]` accordingly).
    /// - Parameter file: names the config in errors.
    public func applying(_ config: TokenizerConfig, file: String) throws -> BPETokenizer {
        func resolve(_ name: String?, _ key: String, _ current: Int?) throws -> Int? {
            guard let name else { return current }
            guard let id = id(ofToken: name) else {
                throw TokenizerError(.malformed, file: file, field: key, "token \(name.debugDescription) is not in the vocabulary")
            }
            return id
        }
        let bos = try resolve(config.bosToken, "bos_token", bosTokenId)
        let eos = try resolve(config.eosToken, "eos_token", eosTokenId)
        guard config.addBOS != nil || config.addEOS != nil else {
            return with(postProcessor: postProcessor, bosTokenId: bos, eosTokenId: eos)
        }
        let addBOS = config.addBOS ?? addsBOS
        let addEOS = config.addEOS ?? addsEOS
        if addBOS && bos == nil { throw TokenizerError(.malformed, file: file, field: "add_bos_token", "true but there is no bos_token") }
        if addEOS && eos == nil { throw TokenizerError(.malformed, file: file, field: "add_eos_token", "true but there is no eos_token") }
        let post = PostProcessor(prefix: addBOS ? bos.map { [$0] } ?? [] : [], suffix: addEOS ? eos.map { [$0] } ?? [] : [])
        return with(postProcessor: post, bosTokenId: bos, eosTokenId: eos)
    }
}
