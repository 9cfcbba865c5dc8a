// Tokenization module
