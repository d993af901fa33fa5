"""The type checker: one module per kind of block, each turning values into plan parts."""
