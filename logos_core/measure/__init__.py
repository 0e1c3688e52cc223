"""The data every experiment shares (facts; the field's benchmarks read as requests: requests) and the
measuring stick (evaluate): greedy recall in raw completion and chat, locality, bleed, perplexity
drift; beside it the field's teacher-forced scores (scores). Imports only base."""
