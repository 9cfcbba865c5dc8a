// Token embedding lookup: out[n] = table[ids[n]].
import TensorCore

/// out: [N, D] = table: [Vocab, D] rows selected by `ids` (N ids, each in 0..<Vocab).
public func embeddingForward(_ out: Tensor, ids: [Int], table: Tensor) {
    let d = table.lastDim, vocab = table.rowCount
    precondition(out.rowCount == ids.count && out.lastDim == d,
                 "embeddingForward: out \(Shape.describe(out.shape)) for \(ids.count) ids × D \(d)")
    let o = out.pointer, t = table.pointer
    for (n, id) in ids.enumerated() {
        precondition(id >= 0 && id < vocab, "embeddingForward: token id \(id) outside the vocabulary 0..<\(vocab)")
        (o + n * d).update(from: t + id * d, count: d)
    }
}

/// Backward of `embeddingForward`; accumulates: dTable[ids[n]] += dOut[n].
public func embeddingBackward(dTable: Tensor, dOut: Tensor, ids: [Int]) {
    let d = dTable.lastDim
    precondition(dOut.rowCount == ids.count && dOut.lastDim == d, "embeddingBackward: shapes")
    let t = dTable.pointer, g = dOut.pointer
    for (n, id) in ids.enumerated() {
        let row = t + id * d, src = g + n * d
        for i in 0..<d { row[i] += src[i] }
    }
}
