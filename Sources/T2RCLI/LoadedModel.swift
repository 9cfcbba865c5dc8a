// Opens any model path for the evaluation commands: a teacher (any source format) or a GSA student.
import Conversion
import Models
import TensorCore

struct LoadedModel {
    let model: CausalLanguageModel
    /// "teacher (mistral, GGUF)" etc.
    let kind: String
    let directory: String?
    /// The path the model was opened from (its tokenizer lives there).
    let modelPath: String

    static func open(_ path: String) throws -> LoadedModel {
        if StudentCheckpoint.isStudent(path) {
            let s = try StudentCheckpoint.open(path)
            let kind = s.config.hybrid.map { "GSA student, softmax layers \($0.layers)" } ?? "GSA student"
            return LoadedModel(model: try s.loadModel(), kind: kind, directory: s.directory, modelPath: path)
        }
        let ckpt = try TeacherCheckpoint.open(path)
        return LoadedModel(model: try ckpt.loadModel(), kind: "teacher, \(ckpt.config.family.rawValue), \(ckpt.format.rawValue)",
                           directory: ckpt.directory, modelPath: path)
    }

    /// Tokenizes a text file with the model's own tokenizer.
    func tokenize(path: String) throws -> [Int] {
        try LoadedTokenizer(path: modelPath).encodeFile(path)
    }
}
