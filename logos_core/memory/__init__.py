"""The machine a person talks to: its settings (config), facts from sentences (extract), wake / ask /
sleep (machine) and the state folder on disk (state). Imports every layer below."""
