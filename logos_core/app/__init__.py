"""The `logos` command: cli, the chat loop, bench. Imports memory and below, never lab."""
