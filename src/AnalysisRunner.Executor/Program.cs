// Placeholder entry point; the executor is being built in its own change.
return 0;
