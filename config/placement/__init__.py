"""Pre-flight placement: will each model's pods schedule, and will they start?

`checks.py` runs the rules over per-model records (`records.PlacedModel`) that config/validation.py
builds once per stack; each rule module holds one concern. Errors name the config path, the
numbers behind them and a fix computed from the catalogs.
"""
