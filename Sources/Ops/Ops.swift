// Ops module
