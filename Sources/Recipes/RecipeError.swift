// Recipe errors: every one names the file, the key path and what was expected (allowed values, a
// "did you mean" for unknown keys).
import TensorCore

/// A bad, missing or unknown recipe key.
public typealias RecipeError = KeyedInputError
