// Errors from reading model configurations (HF config.json, GGUF metadata, KerasHub config).
import TensorCore

/// A bad or missing configuration value, naming the file and the key.
public typealias ConfigError = KeyedInputError

/// The JSON of the configuration file at `path` (read whole, at most `FileLimits.json` bytes); text that is
/// not JSON is a `ConfigError` naming the file.
func readConfigJSON(_ path: String) throws -> JSONValue {
    do { return try JSONParser.parse(try readFile(path, limit: FileLimits.json)) } catch let e as JSONParseError {
        throw ConfigError(file: path, key: "", problem: "not valid JSON: \(e)")
    }
}
