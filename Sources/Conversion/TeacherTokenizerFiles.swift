// Where a teacher checkpoint's tokenizer lives, whatever its format: an HF directory's tokenizer.json
// and tokenizer.model, or a KerasHub preset's assets/tokenizer/vocabulary.spm (its tokenizer.json is a
// Keras layer config, not an HF tokenizers file, so it is not offered).
import TensorCore

/// The tokenizer files found beside a teacher checkpoint (paths that exist, or nil).
public struct TeacherTokenizerFiles: Sendable, Equatable {
    /// A SentencePiece model (`tokenizer.model`, or a KerasHub preset's `assets/tokenizer/vocabulary.spm`).
    public let sentencePieceModel: String?
    /// A Hugging Face tokenizers `tokenizer.json`.
    public let huggingFaceTokenizer: String?

    /// The files in checkpoint directory `directory` of format `format`.
    public init(directory: String?, format: CheckpointFormat) {
        func existing(_ name: String) -> String? {
            guard let directory else { return nil }
            let p = FileSystem.join(directory, name)
            return FileSystem.exists(p) ? p : nil
        }
        if format == .kerasHDF5 {
            sentencePieceModel = existing(KerasHubCheckpoint.sentencePieceAsset)
            huggingFaceTokenizer = nil
        } else {
            sentencePieceModel = existing("tokenizer.model")
            huggingFaceTokenizer = existing("tokenizer.json")
        }
    }
}

extension TeacherCheckpoint {
    /// The tokenizer files beside this checkpoint.
    public var tokenizerFiles: TeacherTokenizerFiles { TeacherTokenizerFiles(directory: directory, format: format) }
}
