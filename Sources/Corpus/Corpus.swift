// Corpus module
