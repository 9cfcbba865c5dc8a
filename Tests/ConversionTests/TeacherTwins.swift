import CheckpointIO
import Conversion
import Models
import TensorCore
import Testing

/// Expects every teacher tensor of `actual` to equal its twin's bit for bit (same names, shapes, Float32 bits).
func expectBitIdentical(_ actual: TeacherCheckpoint, _ twin: TeacherCheckpoint,
                        sourceLocation: SourceLocation = #_sourceLocation) throws {
    let expected = TeacherTensor.all(for: twin.config)
    #expect(Set(actual.store.tensorNames) == Set(expected.map(\.huggingFaceName)),
            "\(actual.path): tensor names differ from \(twin.path)", sourceLocation: sourceLocation)
    for t in expected {
        let a = try actual.store.loadFloat32(t.huggingFaceName)
        let e = try twin.store.loadFloat32(t.huggingFaceName)
        #expect(a.shape == e.shape, "\(t): shape \(a.shape) vs \(e.shape)", sourceLocation: sourceLocation)
        guard a.count == e.count else { continue }
        var differing = 0, first = -1
        for i in 0..<a.count where a.pointer[i].bitPattern != e.pointer[i].bitPattern {
            differing += 1
            if first < 0 { first = i }
        }
        #expect(differing == 0, "\(actual.path): \(t): \(differing) of \(a.count) values differ, first at [\(first)]",
                sourceLocation: sourceLocation)
    }
}

/// The problems of a `CheckpointError.tensorSetMismatch`, or an issue when `body` throws anything else.
func tensorSetProblems(_ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) -> (String, [String])? {
    do {
        try body()
        Issue.record("no error thrown", sourceLocation: sourceLocation)
    } catch let CheckpointError.tensorSetMismatch(path, problems) {
        return (path, problems.map(\.description))
    } catch {
        Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
    }
    return nil
}
