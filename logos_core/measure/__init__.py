"""The data every experiment shares (facts) and the measuring stick (evaluate): greedy recall in raw
completion and chat, locality, bleed, perplexity drift. Imports only base."""
