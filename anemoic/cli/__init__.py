"""The command lines, ``anemoic`` (check, build, explain, diff, graph, data) and ``anemoi-runtime``
(exec, predict, evaluate): the only package that imports both the compiler and the runtime, each
lazily inside the handler that needs it, so ``anemoic check`` starts without torch."""
