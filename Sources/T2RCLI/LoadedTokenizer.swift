// The tokenizer of a checkpoint, for commands that read text.
import Conversion
import TensorCore

struct LoadedTokenizer {
    let directory: String?

    init(directory: String?, teacher: TeacherCheckpoint? = nil) throws {
        self.directory = directory
    }

    func encodeFile(_ path: String) throws -> [Int] {
        throw CheckpointError.unsupported(path: path, reason: "reading text needs the model's tokenizer, which this build cannot load yet; give token files (.u16/.u32)")
    }
}
