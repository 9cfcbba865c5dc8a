// `t2r inspect PATH`: what a checkpoint holds (architecture, tensors, totals) and every problem found.
import CheckpointIO
import Conversion
import Foundation
import Models
import TensorCore

enum InspectCommand: Command {
    static let spec = CommandSpec(
        name: "inspect",
        abstract: "Show a checkpoint's configuration and tensors, and validate them.",
        positionals: [PositionalSpec("path", help: "A checkpoint directory or a weights file (.safetensors, .safetensors.index.json, .h5, .gguf).")],
        options: [
            OptionSpec("json", help: "Print one JSON object instead of tables."),
        ],
        discussion: "Exit status: 0 when the checkpoint is complete and consistent, 65 when a file is malformed or tensors\nare missing, unexpected or mis-shaped for the configuration.")

    static func run(_ args: ParsedArguments, _ console: Console) throws -> Int32 {
        let path = args.positionals[0]
        let report = try CheckpointInspection.inspect(path)
        if args.flag("json") {
            console.out(report.json.serialized(indent: 2))
        } else {
            console.out(render(report))
        }
        return report.problems.isEmpty ? 0 : 65
    }

    static func render(_ r: CheckpointInspection) -> String {
        var lines: [String] = []
        lines.append("checkpoint    \(r.path)")
        lines.append("format        \(r.format.rawValue)\(r.fileCount > 1 ? ", \(r.fileCount) files" : "")")
        lines.append("config        \(r.configSource ?? "none")")
        lines.append(contentsOf: r.summary.map { "  " + $0 })
        lines.append("")
        var table = TextTable(header: ["tensor", "dtype", "shape", "bytes"], rightAligned: [3])
        for t in r.tensors.sorted(by: { naturalLess($0.name, $1.name) }) {
            table.rows.append([t.name, t.storageType.name, Shape.describe(t.shape), Format.grouped(t.byteCount)])
        }
        lines.append(table.render())
        lines.append("")
        lines.append("total         \(r.tensors.count) tensors, \(Format.grouped(r.parameterCount)) parameters, "
            + "\(Format.grouped(r.byteCount)) bytes (\(Format.bytes(r.byteCount)))")
        for w in r.warnings { lines.append("warning       \(w)") }
        if r.problems.isEmpty {
            lines.append("problems      none")
        } else {
            lines.append("problems      \(r.problems.count):")
            lines.append(contentsOf: r.problems.map { "  - \($0)" })
        }
        return lines.joined(separator: "\n")
    }
}
