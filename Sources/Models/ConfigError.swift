// Errors from reading model configurations (HF config.json, GGUF metadata, KerasHub config).
import TensorCore

/// A bad or missing configuration value, naming the file and the key.
public typealias ConfigError = KeyedInputError
