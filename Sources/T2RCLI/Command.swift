// The subcommand interface and the registry `main.swift` dispatches on.

protocol Command {
    static var spec: CommandSpec { get }
    /// Runs the command; returns the exit code (0, or 65 when it found problems in the input).
    static func run(_ args: ParsedArguments, _ console: Console) throws -> Int32
}

let t2rVersion = "0.1.0"

/// Subcommands in help order.
var registeredCommands: [CommandEntry] { [
    CommandEntry(InspectCommand.self),
    CommandEntry(TokenizeCommand.self),
    CommandEntry(ExportCommand.self),
    CommandEntry(ConvertCommand.self),
    CommandEntry(DistillCommand.self),
    CommandEntry(PerplexityCommand.self),
    CommandEntry(GenerateCommand.self),
    CommandEntry(LogitsCommand.self),
    CommandEntry(CompareCommand.self),
    CommandEntry(BenchCommand.self),
] }

/// A registered subcommand (a concrete value, so dispatch needs no existential metatypes).
struct CommandEntry {
    let spec: CommandSpec
    let run: (ParsedArguments, Console) throws -> Int32
    init<C: Command>(_ c: C.Type) {
        spec = c.spec
        run = c.run
    }
}
