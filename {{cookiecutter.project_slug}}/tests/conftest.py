"""Test settings: models are built by the tests, never downloaded from the Hugging Face Hub."""

import os

# Read by huggingface_hub when it is imported, so it is set before any test module runs.
os.environ["HF_HUB_OFFLINE"] = "1"
