"""Where text is in an OpenAI body and how it is scanned: the walk and its vocabulary,
the canonical view, texts → chunks → documents → packed batches, and masking.
"""
