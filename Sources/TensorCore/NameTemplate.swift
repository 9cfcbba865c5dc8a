// Tensor-name templates with a "{}" layer placeholder ("model.layers.{}.mlp.up_proj.weight"), filled without
// Foundation: the name tables are expanded for every layer of every checkpoint that is opened (and the
// tensor-set check runs for every fuzz input), where Foundation's replacingOccurrences dominated.

extension String {
    /// The template with its first "{}" replaced by `layer` (unchanged when it has none).
    public func fillingLayer(_ layer: Int) -> String {
        let u = utf8
        var i = u.startIndex
        while i != u.endIndex {
            let j = u.index(after: i)
            if u[i] == UInt8(ascii: "{"), j != u.endIndex, u[j] == UInt8(ascii: "}") {
                return String(self[..<i]) + String(layer) + String(self[u.index(after: j)...])
            }
            i = j
        }
        return self
    }
}
