// The tokenizer files a derived checkpoint (an export, a converted student) gets from its teacher:
// HF tokenizer files copied as they are, a KerasHub SentencePiece vocabulary copied as
// tokenizer.model, or, for a GGUF teacher, tokenizer.json / tokenizer_config.json rebuilt from the
// GGUF vocabulary (GGUFTokenizerExport).
import CheckpointIO
import TensorCore

public enum TokenizerFiles {
    /// HF tokenizer files, in the order they are copied.
    public static let huggingFaceNames = ["tokenizer.json", "tokenizer.model", "tokenizer_config.json", "special_tokens_map.json"]

    /// Writes the teacher's tokenizer files into `directory`; returns the names written and notes on what
    /// could not be written.
    public static func write(from teacher: TeacherCheckpoint, into directory: String) throws -> (files: [String], notes: [String]) {
        var files: [String] = [], notes: [String] = []
        if let g = teacher.store as? GGUFTeacherStore {
            let (tokFiles, reason) = try GGUFTokenizerExport.files(g.gguf, contextLength: teacher.config.maxPositionEmbeddings)
            for (name, json) in tokFiles ?? [] {
                try writeFileAtomically(FileSystem.join(directory, name), text: json.serialized(indent: 2) + "\n")
                files.append(name)
            }
            if let reason { notes.append("no tokenizer files written: \(reason)") }
            return (files, notes)
        }
        guard let src = teacher.directory else { return (files, notes) }
        let sources = huggingFaceNames.map { ($0, $0) } + [("assets/tokenizer/vocabulary.spm", "tokenizer.model")]
        for (from, to) in sources where !files.contains(to) {
            let p = FileSystem.join(src, from)
            if FileSystem.exists(p) && !FileSystem.isDirectory(p) {
                try writeFileAtomically(FileSystem.join(directory, to), bytes: try readFile(p))
                files.append(to)
            }
        }
        if files.isEmpty { notes.append("no tokenizer files written: \(src) has none of \(huggingFaceNames.joined(separator: ", "))") }
        return (files, notes)
    }
}
