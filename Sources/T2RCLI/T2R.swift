// t2r: Transformer → Gated Slot Attention conversion and distillation on the CPU.
// Dispatches subcommands and maps errors to exit codes: 0 ok, 64 usage error, 65 bad input data,
// 1 any other failure. The only module that prints or exits.
import CheckpointIO
import Foundation
import TensorCore

@main
struct T2R {
    static let console = Console()

    /// Every subcommand, in the order `t2r --help` lists them.
    static var commands: [CommandEntry] { registeredCommands }

    static func main() {
        exit(runMain())
    }

    static func topLevelHelp() -> String {
        var s = """
        OVERVIEW: t2r turns a pretrained Mistral/Llama-style Transformer into a Gated Slot Attention (GSA)
        recurrent model and distils the teacher into it, on the CPU.

        USAGE: t2r <command> [options]

        COMMANDS:

        """
        for c in commands { s += "  " + pad(c.spec.name, 14) + c.spec.abstract + "\n" }
        s += "\n  See 't2r <command> --help' for the options of each command."
        return s
    }

    static func exitCode(for error: Error) -> Int32 {
        if let e = error as? T2RError {
            switch e.category {
            case .usage: return 64
            case .badInput: return 65
            case .failure: return 1
            }
        }
        return 1
    }

    static func runMain() -> Int32 {
        var args = Array(CommandLine.arguments.dropFirst())
        // The HDF5 reader process t2r starts for itself (CheckpointIO/HDF5Sandbox.swift); not a user command.
        if args.first == "hdf5-reader" {
            guard args.count == 2, !["--help", "-h"].contains(args[1]) else {
                let help = """
                    USAGE: t2r hdf5-reader FILE
                    The HDF5 reader process t2r starts for itself: it opens FILE with libhdf5 and answers t2r's requests
                    on the socket it inherits (Sources/CheckpointIO/HDF5Sandbox.swift). Not a command to run by hand.
                    """
                if args.count == 2 { console.out(help); return 0 }
                console.err(help)
                return 64
            }
            return HDF5File.serveReader(path: args[1])
        }
        guard let first = args.first else {
            console.err(topLevelHelp())
            return 64
        }
        if first == "--help" || first == "-h" || first == "help" {
            if first == "help", args.count > 1, let c = commands.first(where: { $0.spec.name == args[1] }) {
                console.out(c.spec.helpText)
            } else {
                console.out(topLevelHelp())
            }
            return 0
        }
        if first == "--version" {
            console.out("t2r \(t2rVersion)")
            return 0
        }
        args.removeFirst()
        guard let command = commands.first(where: { $0.spec.name == first }) else {
            var msg = "Error: unknown command '\(first)'"
            if let s = ArgumentParser.suggestion(first, commands.map(\.spec.name)) { msg += "; did you mean '\(s)'?" }
            console.err(msg + "\n  See 't2r --help'.")
            return 64
        }
        if let problem = CPUCheck.missingFeatures() {
            console.err("Error: \(problem)")
            return 1
        }
        do {
            let parsed = try ArgumentParser.parse(args, spec: command.spec)
            if parsed.flag("help") {
                console.out(command.spec.helpText)
                return 0
            }
            return try command.run(parsed, console)
        } catch let e as UsageError {
            console.err("Error: \(e.message)\nUsage: \(command.spec.usageLine)\n  See 't2r \(command.spec.name) --help'.")
            return 64
        } catch {
            console.err("Error: \(error)")
            return exitCode(for: error)
        }
    }
}
