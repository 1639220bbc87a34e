"""The detector seam (`detector.Detector`), coverage checks of what came back, the
Azure AI Language path (client, credentials, retry, hedging) and the embedded
detector's adapter (`local_detector`; the recognizer is `redaction.embedded`).
"""
